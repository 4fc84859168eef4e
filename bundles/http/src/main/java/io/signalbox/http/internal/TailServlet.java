package io.signalbox.http.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Batch;
import io.signalbox.api.BatchListener;
import io.signalbox.api.ConfigCheck;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import jakarta.servlet.Servlet;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code GET /api/tail?source=&type=}: a live stream of the messages as they are routed, one
 * received line per line ({@code application/x-ndjson}, chunked), until the client goes away.
 *
 * <p>It sees every routed batch as a {@link BatchListener}; with no client connected that costs
 * one volatile read per batch. Each client has a bounded queue ({@code queue.messages}); what does
 * not fit is dropped, counted, and reported in the stream as a line
 * {@code {"signalbox_tail_dropped":N}} (N: the total for this stream so far) after the lines that
 * did fit, so the routing thread never waits for a slow client. When nothing was routed for
 * {@code keepalive.seconds} an empty line is written, which is how a client that went away is
 * noticed (and keeps idle connections from timing out).
 */
@Component(name = TailServlet.PID, configurationPid = TailServlet.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, service = { Servlet.class, BatchListener.class })
@Designate(ocd = TailServlet.Config.class)
@HttpWhiteboardServletPattern(TailServlet.PATH)
public final class TailServlet extends HttpServlet implements BatchListener {
    /** Configuration PID (stable). */
    public static final String PID = "io.signalbox.http.tail";
    static final String PATH = "/api/tail";
    static final String CONTENT_TYPE = "application/x-ndjson";

    @ObjectClassDefinition(id = PID, name = "Signalbox HTTP live tail",
            description = "GET /api/tail?source=&type=: the messages as they are routed.")
    public @interface Config {
        @AttributeDefinition(description = "Clients streaming at the same time; more are refused with 503.")
        int max_clients() default 8;

        @AttributeDefinition(description = "Messages that may wait for one client; beyond, they are dropped and counted.")
        int queue_messages() default 10000;

        @AttributeDefinition(description = "Seconds without a routed message after which an empty line is written.")
        int keepalive_seconds() default 5;
    }

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(TailServlet.class);
    private static final TailServletClient[] NONE = new TailServletClient[0];
    private static final byte[] NEWLINE = { '\n' };

    /** Copy-on-write under {@code this}: the routing thread only reads the array. */
    private transient volatile TailServletClient[] clients = NONE;
    private transient volatile Config config;
    private transient volatile boolean stopped;

    /** Rejects (ERROR, does not start) a configuration with unknown keys, wrong types or values out of range. */
    @Activate
    public TailServlet(Config config, Map<String, Object> properties) {
        String problem = problems(config, properties);
        if (problem != null) {
            String message = ConfigCheck.rejection(PID, properties, problem);
            LOG.error("{}", message);
            throw new ConfigCheck.Rejected(message);
        }
        this.config = config;
        LOG.info("Live tail on {}: {}", PATH, describe(config));
    }

    /** Applies a changed configuration to new clients, or logs why it is rejected and keeps the one in force. */
    @Modified
    void modified(Config c, Map<String, Object> properties) {
        String problem = problems(c, properties);
        if (problem != null) {
            LOG.error("{}; the previous configuration stays in force ({})",
                    ConfigCheck.rejection(PID, properties, problem), describe(config));
            return;
        }
        this.config = c;
        LOG.info("Live tail reconfigured: {}", describe(c));
    }

    /** Ends every stream (each gets its final drop report if it dropped anything). */
    @Deactivate
    void deactivate() {
        TailServletClient[] open;
        synchronized (this) {
            stopped = true;
            open = clients;
            clients = NONE;
        }
        for (TailServletClient c : open) {
            c.close();
        }
        if (open.length > 0) {
            LOG.info("Live tail stopped: {} stream(s) ended", open.length);
        }
    }

    /** Everything wrong with a configuration, or {@code null}. */
    static String problems(Config c, Map<String, ?> properties) {
        String keys = ConfigCheck.keysAndTypes(Config.class, c, TraceServletJson.ownKeys(properties));
        if (keys != null) {
            return keys;
        }
        List<String> out = new ArrayList<>();
        if (c.max_clients() < 1) {
            out.add("max.clients must be >= 1, is " + c.max_clients());
        }
        if (c.queue_messages() < 1) {
            out.add("queue.messages must be >= 1, is " + c.queue_messages());
        }
        if (c.keepalive_seconds() < 1) {
            out.add("keepalive.seconds must be >= 1, is " + c.keepalive_seconds());
        }
        return out.isEmpty() ? null : String.join("; ", out);
    }

    private static String describe(Config c) {
        return "max.clients=" + c.max_clients() + ", queue.messages=" + c.queue_messages() + ", keepalive.seconds="
                + c.keepalive_seconds();
    }

    // ------------------------------------------------------------ BatchListener (routing thread)

    @Override
    public void routed(Batch batch, List<String> backends) {
        TailServletClient[] cs = clients;
        for (TailServletClient c : cs) {
            c.offer(batch);
        }
    }

    // ------------------------------------------------------------ HTTP

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        if (!"GET".equals(req.getMethod())) {
            resp.setHeader("Allow", "GET");
            error(resp, HttpServletResponse.SC_METHOD_NOT_ALLOWED, "method not allowed; allowed: GET");
            return;
        }
        String source = blankToNull(req.getParameter("source"));
        String typeName = blankToNull(req.getParameter("type"));
        MessageType type = null;
        if (typeName != null) {
            type = MessageType.fromWireName(typeName);
            if (type == null) {
                error(resp, HttpServletResponse.SC_BAD_REQUEST, "type must be one of " + wireNames() + ", is '"
                        + typeName + "'");
                return;
            }
        }
        Config c = config;
        TailServletClient client = new TailServletClient(source, type, c.queue_messages());
        if (!register(client, c.max_clients())) {
            resp.setHeader("Retry-After", "5");
            error(resp, HttpServletResponse.SC_SERVICE_UNAVAILABLE, stopped ? "the live tail is stopping"
                    : "too many live tail clients (max.clients=" + c.max_clients() + ")");
            return;
        }
        LOG.info("Live tail client {} connected (source={}, type={})", req.getRemoteAddr(),
                source == null ? "*" : source, typeName == null ? "*" : typeName);
        try {
            resp.setStatus(HttpServletResponse.SC_OK);
            resp.setContentType(CONTENT_TYPE);
            resp.setHeader("Cache-Control", "no-store");
            ServletOutputStream out = resp.getOutputStream();
            resp.flushBuffer(); // headers now: the client knows it is connected before the first line
            stream(client, out, TimeUnit.SECONDS.toMillis(c.keepalive_seconds()));
            LOG.info("Live tail client {} ended by the server ({} messages dropped)", req.getRemoteAddr(),
                    client.dropped());
        } catch (IOException gone) {
            LOG.info("Live tail client {} went away ({}; {} messages dropped)", req.getRemoteAddr(), gone.toString(),
                    client.dropped());
        } catch (InterruptedException e) {
            LOG.info("Live tail client {} interrupted", req.getRemoteAddr());
            Thread.currentThread().interrupt();
        } finally {
            unregister(client);
        }
    }

    /**
     * Writes what is routed for {@code client} until it is closed; throws when the client has gone.
     * After each burst of lines, the drop count if it grew, then one flush.
     */
    static void stream(TailServletClient client, OutputStream out, long keepaliveMillis)
            throws IOException, InterruptedException {
        long reported = 0;
        while (!client.isClosed()) {
            Batch b = client.poll(keepaliveMillis);
            if (b == null) {
                if (!client.isClosed()) {
                    out.write(NEWLINE);
                    out.flush();
                }
                continue;
            }
            do {
                for (Message m : b.messages()) {
                    if (client.accepts(m)) {
                        out.write(m.line());
                        out.write(NEWLINE);
                    }
                }
                b = client.poll(0);
            } while (b != null);
            reported = reportDrops(client, out, reported);
            out.flush();
        }
        reportDrops(client, out, reported);
        out.flush();
    }

    private static long reportDrops(TailServletClient client, OutputStream out, long reported) throws IOException {
        long dropped = client.dropped();
        if (dropped != reported) {
            byte[] line = TraceServletJson.render(g -> {
                g.writeStartObject();
                g.writeNumberField("signalbox_tail_dropped", dropped);
                g.writeEndObject();
            });
            out.write(line);
            out.write(NEWLINE);
        }
        return dropped;
    }

    private synchronized boolean register(TailServletClient client, int max) {
        if (stopped || clients.length >= max) {
            return false;
        }
        TailServletClient[] more = Arrays.copyOf(clients, clients.length + 1);
        more[more.length - 1] = client;
        clients = more;
        return true;
    }

    private synchronized void unregister(TailServletClient client) {
        client.close();
        TailServletClient[] cs = clients;
        for (int i = 0; i < cs.length; i++) {
            if (cs[i] == client) {
                TailServletClient[] fewer = new TailServletClient[cs.length - 1];
                System.arraycopy(cs, 0, fewer, 0, i);
                System.arraycopy(cs, i + 1, fewer, i, cs.length - i - 1);
                clients = fewer;
                return;
            }
        }
    }

    /** Clients streaming now. */
    int clientCount() {
        return clients.length;
    }

    private static void error(HttpServletResponse resp, int status, String message) throws IOException {
        byte[] body = TraceServletJson.error(message);
        resp.setStatus(status);
        resp.setContentType(TraceServletJson.CONTENT_TYPE);
        resp.setHeader("Cache-Control", "no-store");
        resp.setContentLength(body.length);
        resp.getOutputStream().write(body);
    }

    private static String wireNames() {
        StringBuilder sb = new StringBuilder();
        for (MessageType t : MessageType.values()) {
            sb.append(sb.length() == 0 ? "" : ", ").append(t.wireName());
        }
        return sb.toString();
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }
}
