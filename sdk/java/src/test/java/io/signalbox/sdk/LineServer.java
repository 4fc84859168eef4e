package io.signalbox.sdk;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The in-test equivalent of {@code sdk/conformance/fake_sidecar.py}: accepts connections on
 * 127.0.0.1, records every line, and with {@code dropAfter > 0} closes a connection after its
 * N-th line (hello and heartbeat count). {@link #stop()} closes listener and connections;
 * {@link #start()} binds the same port again.
 */
final class LineServer implements FakeSidecar {
    private volatile int dropAfter;
    private final List<String> lines = new ArrayList<>();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Set<Thread> threads = ConcurrentHashMap.newKeySet();
    private volatile ServerSocket listener;
    private int port;
    private int connections;

    LineServer(int dropAfter) {
        this.dropAfter = dropAfter;
    }

    @Override
    public void dropAfter(int lines) {
        dropAfter = lines;
    }

    @Override
    public synchronized LineServer start() throws IOException {
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
        port = s.getLocalPort();
        listener = s;
        Thread t = new Thread(() -> accept(s), "line-server-accept");
        t.setDaemon(true);
        threads.add(t);
        t.start();
        return this;
    }

    @Override
    public int port() {
        return port;
    }

    synchronized int connections() {
        return connections;
    }

    @Override
    public synchronized List<String> lines() {
        return new ArrayList<>(lines);
    }

    @Override
    public void stop() throws IOException {
        ServerSocket s = listener;
        listener = null;
        if (s != null) {
            s.close();
        }
        for (Socket c : open) {
            c.close();
        }
        // a socket closed while another thread blocks on it is released when that thread returns:
        // wait for them, so that the port is free for the next start
        for (Thread t : threads) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            threads.remove(t);
        }
    }

    @Override
    public void close() throws IOException {
        stop();
    }

    private void accept(ServerSocket s) {
        while (!s.isClosed()) {
            Socket c;
            try {
                c = s.accept();
            } catch (IOException closed) {
                return;
            }
            synchronized (this) {
                connections++;
            }
            open.add(c);
            Thread t = new Thread(() -> serve(c), "line-server-conn");
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    private void serve(Socket c) {
        int count = 0;
        int drop = dropAfter;
        try (c; BufferedReader r = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                synchronized (this) {
                    lines.add(line);
                }
                if (drop > 0 && ++count >= drop) {
                    return; // what the client wrote after this line is lost, as in a crash
                }
            }
        } catch (SocketException closedByStop) {
            // stop() closed it: the test asked for this
            open.remove(c);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            open.remove(c);
        }
    }
}
