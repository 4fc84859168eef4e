#!/usr/bin/env python3
"""A fake Signalbox sidecar for SDK tests: accepts TCP connections, records every line it
receives, and can drop each connection after N lines.

Command line (each SDK's tests may run it as a process):

    python3 fake_sidecar.py --port 0 --out lines.ldjson [--drop-after N] [--port-file F]
                            [--unix PATH] [--tls-cert F --tls-key F] [--secret S]

* ``--host`` (default 127.0.0.1) and ``--port`` (default 0 = any free port). The bound port is
  printed on stdout as ``LISTENING <host> <port>`` (one line, flushed) and, with
  ``--port-file F``, written to F (written to a temp file and renamed, so a reader never sees
  half of it).
* ``--out F``: every line received (without its ``\\n``; a trailing ``\\r`` is kept as sent) is
  appended to F and flushed at once, in arrival order; lines of concurrent connections are
  interleaved per line, never within one. Without ``--out`` lines go to stdout.
* ``--drop-after N``: after the N-th line of a connection (hello and heartbeat lines count) the
  server closes that connection at once. Whatever the client wrote after that line and the
  server had not yet recorded is lost, exactly as when a real sidecar crashes. The next
  connection starts counting from 0 again. 0 (default) never drops.
* ``--unix PATH``: listens on a Unix domain socket at PATH instead of TCP (a stale file there
  is replaced); ``LISTENING unix <path>`` is printed, and the port file holds 0.
* ``--tls-cert F --tls-key F`` (PEM): TLS 1.2+ on the TCP listener, as a TLS-terminating
  sidecar would have. A client whose handshake fails is recorded nowhere (the failure is counted
  in ``tls_failures``).
* ``--secret S``: the hello handshake of docs/protocol.md ("Authentication", version 1): the
  first line must be a ``hello`` whose ``data.token`` is S (``data.auth`` absent or 1); else the
  server answers one ``{"error":"unauthorized","reason":…}`` line and closes the connection,
  and records none of its lines (the refused hello is not recorded either: it may carry a
  secret). An accepted hello is recorded with its token replaced by ``"***"``.
* SIGTERM / SIGINT: closes the listener and every connection and exits 0.

Standard library only. Importable as a module too: ``FakeSidecar(port=0, drop_after=0,
out=path).start()`` then ``.port``, ``.lines()``, ``.stop()``; a stopped instance can be
started again on the same port (the listener uses SO_REUSEADDR), which is how tests simulate a
sidecar that is down for a while.
"""
import argparse
import hmac
import json
import os
import signal
import socket
import ssl
import stat
import sys
import threading

__all__ = ["FakeSidecar", "main"]


class FakeSidecar:
    def __init__(self, host="127.0.0.1", port=0, drop_after=0, out=None, unix=None, tls_cert=None,
                 tls_key=None, secret=None):
        self.host = host
        self.port = port
        self.drop_after = drop_after
        self.unix = unix
        self.secret = secret
        self._tls = None
        if tls_cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(tls_cert, tls_key)
            self._tls = ctx
        self.tls_failures = 0
        self.refused = []  # the reason of every connection refused by the hello check
        self._out_path = out
        self._out = None
        self._lock = threading.Lock()
        self._lines = []
        self._listener = None
        self._conns = set()
        self._threads = []
        self._running = False
        self.connections = 0

    # -- lifecycle -------------------------------------------------------------------------
    def start(self):
        """Binds (the same port again after a stop) and starts accepting; returns self."""
        if self._running:
            return self
        if self.unix:
            try:
                if stat.S_ISSOCK(os.lstat(self.unix).st_mode):
                    os.unlink(self.unix)  # stale, from a previous start
            except FileNotFoundError:
                pass
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(self.unix)
            s.listen(64)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((self.host, self.port))
            s.listen(64)
            self.port = s.getsockname()[1]
        self._listener = s
        if self._out_path is not None and self._out is None:
            self._out = open(self._out_path, "a", encoding="utf-8", newline="\n")
        self._running = True
        t = threading.Thread(target=self._accept_loop, args=(s,), name="fake-sidecar-accept", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self):
        """Closes the listener and every open connection, and waits for the threads."""
        with self._lock:
            self._running = False
            listener, self._listener = self._listener, None
            conns = list(self._conns)
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # not connected: closing below is enough
            listener.close()
        for c in conns:
            _close_hard(c)
        threads, self._threads = self._threads, []
        for t in threads:
            t.join(5)
        if self.unix and listener is not None:
            try:
                os.unlink(self.unix)
            except FileNotFoundError:
                pass

    def close(self):
        """Stops and closes the output file."""
        self.stop()
        with self._lock:
            if self._out is not None:
                self._out.close()
                self._out = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # -- recorded data -----------------------------------------------------------------------
    def lines(self):
        """A copy of every line received so far (all connections, arrival order)."""
        with self._lock:
            return list(self._lines)

    # -- internals ---------------------------------------------------------------------------
    def _accept_loop(self, listener):
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return  # listener closed by stop()
            with self._lock:
                if not self._running:
                    conn.close()
                    return
                self._conns.add(conn)
                self.connections += 1
                t = threading.Thread(target=self._serve, args=(conn,), name="fake-sidecar-conn", daemon=True)
                self._threads.append(t)
            t.start()

    def _record(self, line):
        with self._lock:
            self._lines.append(line)
            if self._out is not None:
                self._out.write(line + "\n")
                self._out.flush()
            elif self._out_path is None and _STDOUT_ECHO[0]:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()

    def _handshake(self, conn):
        """TLS server handshake (when configured); None when it failed."""
        if self._tls is None:
            return conn
        try:
            conn.settimeout(10)
            tls = self._tls.wrap_socket(conn, server_side=True)
            tls.settimeout(None)
            return tls
        except (OSError, ssl.SSLError):
            with self._lock:
                self.tls_failures += 1
            return None

    def _check_hello(self, line):
        """None when the first line is an acceptable hello; else the refusal reason."""
        try:
            msg = json.loads(line)
        except ValueError:
            return "no_hello"
        if not isinstance(msg, dict) or msg.get("type") != "hello" or not isinstance(msg.get("data"), dict):
            return "no_hello"
        data = msg["data"]
        if data.get("auth", 1) != 1:
            return "unsupported_version"
        token = data.get("token")
        if not isinstance(token, str):
            return "no_secret"
        if not hmac.compare_digest(token.encode("utf-8"), self.secret.encode("utf-8")):
            return "bad_secret"
        return None

    def _serve(self, conn):
        count = 0
        pending = b""
        raw = conn
        conn = self._handshake(conn)
        if conn is None:
            with self._lock:
                self._conns.discard(raw)
            _close_hard(raw)
            return
        with self._lock:
            self._conns.discard(raw)
            self._conns.add(conn)
        authed = self.secret is None
        try:
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    return
                if not chunk:
                    if pending:
                        self._record(pending.decode("utf-8", "replace"))
                    return
                pending += chunk
                while True:
                    nl = pending.find(b"\n")
                    if nl < 0:
                        break
                    line, pending = pending[:nl], pending[nl + 1:]
                    text = line.decode("utf-8", "replace")
                    if not authed:
                        if not text.strip():
                            continue
                        reason = self._check_hello(text)
                        if reason is not None:
                            with self._lock:
                                self.refused.append(reason)
                            conn.sendall(json.dumps({"error": "unauthorized", "reason": reason,
                                                     "detail": "secret not accepted"}).encode() + b"\n")
                            return
                        authed = True
                        msg = json.loads(text)
                        msg["data"]["token"] = "***"
                        text = json.dumps(msg, separators=(",", ":"))
                    self._record(text)
                    count += 1
                    if self.drop_after and count >= self.drop_after:
                        return  # the rest of what the client sent is lost, as in a crash
        finally:
            with self._lock:
                self._conns.discard(conn)
            _close_hard(conn)


_STDOUT_ECHO = [False]


def _close_hard(conn):
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by the peer: close() below still releases it
    conn.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--drop-after", type=int, default=0)
    ap.add_argument("--out")
    ap.add_argument("--port-file")
    ap.add_argument("--unix")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--secret")
    args = ap.parse_args(argv)
    _STDOUT_ECHO[0] = args.out is None
    server = FakeSidecar(args.host, args.port, args.drop_after, args.out, unix=args.unix,
                         tls_cert=args.tls_cert, tls_key=args.tls_key, secret=args.secret).start()
    done = threading.Event()

    def on_signal(signum, frame):
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % server.port)
        os.replace(tmp, args.port_file)
    if args.unix:
        sys.stdout.write("LISTENING unix %s\n" % args.unix)
    else:
        sys.stdout.write("LISTENING %s %d\n" % (args.host, server.port))
    sys.stdout.flush()
    while not done.wait(0.5):
        pass
    server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
