package io.signalbox.protocol;

import java.nio.charset.StandardCharsets;

import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.protocol.AuthStats.Reason;

/**
 * One connection's line processing, shared by the stream transports: frames the bytes it is given,
 * authenticates the connection with its first line when secrets are configured, decodes every
 * line and offers the messages to {@link io.signalbox.api.Ingest}. Not thread-safe: the
 * connection's reader calls it.
 *
 * <p>With secrets, the first line that is not blank must be a {@code hello} carrying an accepted
 * secret in {@code data.token} (docs/protocol.md): it is consumed, not delivered; anything else
 * ends the connection: {@link #receive} returns {@link #CLOSE} and the transport writes
 * {@link #errorLine()} and closes. After that, messages whose {@code src} the secret may not send
 * as are dropped and counted. A {@code hello} that carries a token is never delivered, with or
 * without authentication: a credential does not belong in a backend.
 */
public final class LineSession implements LineFramer.Sink {
    /** The pipeline reported it is above its high-water mark: suspend reading until it has room. */
    public static final int FULL = 1;
    /** Write {@link #errorLine()} and close the connection; read nothing more from it. */
    public static final int CLOSE = 2;
    private static final int DELIVERED = 4;

    private final LineIngest owner;
    private final Object peer;
    private final LineFramer framer;
    /** The connection's own decoder: scratch state reused from line to line, the last {@code src} remembered. */
    private final ConnectionDecoder decoder;
    private final SharedSecrets secrets;
    /** The sources this connection may send as; {@code null} until it has authenticated. */
    private SourceGlob allowed;
    private String grant;
    private byte[] error;
    private int delivered;
    private String lastSource;
    /** Whether a non-blank line has been seen (an HTTP request line is looked for in the first only). */
    private boolean sawLine;
    /** {@link System#currentTimeMillis()} of the last read that delivered a message, or of the open. */
    private volatile long lastProgress = System.currentTimeMillis();

    LineSession(LineIngest owner, Object peer, LineFramer framer, SharedSecrets secrets) {
        this.owner = owner;
        this.peer = peer;
        this.framer = framer;
        this.decoder = owner.decoder.forConnection();
        this.secrets = secrets;
        this.allowed = secrets.enabled() ? null : SourceGlob.ANY;
    }

    /**
     * Frames and processes {@code buf[from .. to)}.
     *
     * @return {@link #FULL} and/or {@link #CLOSE}, or 0
     */
    public int receive(byte[] buf, int from, int to) {
        if (error != null) {
            return CLOSE;
        }
        delivered = 0;
        int r = framer.frame(buf, from, to, this);
        return done(r);
    }

    /** The stream ended: a last line without {@code '\n'} is processed. */
    public int finish() {
        if (error != null) {
            return CLOSE;
        }
        delivered = 0;
        return done(framer.finish(this));
    }

    private int done(int r) {
        if (delivered > 0) {
            owner.received.add(delivered);
            lastProgress = System.currentTimeMillis();
        }
        return (r & FULL) | (error != null ? CLOSE : 0);
    }

    /** Whether the connection may send messages (it authenticated, or no secret is configured). */
    public boolean authenticated() {
        return allowed != null;
    }

    /** Whether secrets were required when this connection opened. */
    public boolean authRequired() {
        return secrets.enabled();
    }

    /** The label of the secret the connection authenticated with, {@code null} if none. */
    public String grant() {
        return grant;
    }

    /** The line to write before closing after {@link #CLOSE}, {@code null} before. */
    public byte[] errorLine() {
        return error;
    }

    /** Bytes held for an incomplete line (bounded by the maximum line length + 1). */
    public int carryLength() {
        return framer.carryLength();
    }

    /** The size the carry-over buffer has grown to. */
    public int carryCapacity() {
        return framer.carryCapacity();
    }

    /**
     * When this connection last delivered a message ({@link System#currentTimeMillis()}), or when it
     * opened: an idle or slow connection (one byte per second never completes a line) is the one
     * with the oldest value, and the first to be closed when the connection limit is reached.
     */
    public long lastProgress() {
        return lastProgress;
    }

    /** The {@code src} of the last message delivered, {@code null} before the first. */
    public String lastSource() {
        return lastSource;
    }

    public Object peer() {
        return peer;
    }

    @Override
    public void tooLong() {
        if (allowed == null) {
            fail(Reason.NO_HELLO, "the first line is longer than max.line.length=" + framer.maxLineLength() + " bytes");
            return;
        }
        owner.rejects.record(io.signalbox.api.DropReason.TOO_LONG,
                "line longer than max.line.length=" + framer.maxLineLength() + " bytes", peer);
    }

    @Override
    public int line(byte[] buf, int off, int len) {
        if (error != null) {
            return LineFramer.STOP;
        }
        if (!sawLine && len > 0) {
            sawLine = true;
            if (buf[off] >= 'A' && buf[off] <= 'Z') {
                String[] request = httpRequestLine(buf, off, len);
                if (request != null) {
                    error = owner.httpAnswer(request[0], request[1]);
                    return LineFramer.STOP;
                }
            }
        }
        Message m;
        try {
            m = decoder.decodeMessage(buf, off, len); // no DecodeResult per message
        } catch (RuntimeException e) {
            // a decoder bug must cost one line, never the connection or the I/O thread
            owner.decoderFailed(peer, e);
            return 0;
        }
        DecodeResult r = m == null ? decoder.rejection() : null;
        if (allowed == null) {
            return authenticate(r, m, buf, off, len);
        }
        if (m == null) {
            if (r.isRejected()) {
                owner.rejects.record(r.reason(), r.detail(), peer);
            }
            return 0;
        }
        if (m.type() == MessageType.HELLO && Hello.parse(buf, off, len).token() != null) {
            return 0; // a credential: never stored
        }
        if (!allowed.matches(m.source())) {
            owner.auth.record(Reason.SOURCE_NOT_ALLOWED, peer,
                    "message dropped: " + grant + " may not send as " + LineIngest.quote(m.source()));
            return 0;
        }
        lastSource = m.source();
        try {
            delivered++;
            return owner.ingest.offer(m) ? DELIVERED : DELIVERED | FULL;
        } catch (RuntimeException e) {
            delivered--;
            owner.ingestFailed(peer, e);
            return 0;
        }
    }

    /** The first line of a connection that needs a {@code hello}: {@code r} is {@code null} if {@code m} is not. */
    private int authenticate(DecodeResult r, Message m, byte[] buf, int off, int len) {
        if (m == null && !r.isRejected()) {
            return 0; // a blank line
        }
        if (m == null || m.type() != MessageType.HELLO) {
            return fail(Reason.NO_HELLO, "the first line must be a hello carrying the secret (docs/protocol.md)");
        }
        Hello h = Hello.parse(buf, off, len);
        if (h.version() != Hello.VERSION) {
            return fail(Reason.UNSUPPORTED_VERSION, "unsupported data.auth (supported: " + Hello.VERSION + ")");
        }
        if (h.token() == null) {
            return fail(Reason.NO_SECRET, "the hello carries no data.token");
        }
        SharedSecrets.Grant g = secrets.match(h.token());
        if (g == null) {
            return fail(Reason.BAD_SECRET, "secret not accepted");
        }
        if (!g.sources().matches(m.source())) {
            return fail(Reason.SOURCE_NOT_ALLOWED, "this secret may not send as " + LineIngest.quote(m.source()));
        }
        allowed = g.sources();
        grant = g.label();
        return 0; // the hello is consumed: it carries the secret
    }

    /**
     * {@code [method, path]} of an HTTP/1.x request line ({@code GET /v1/health HTTP/1.1}, an optional
     * trailing CR), or {@code null}.
     */
    static String[] httpRequestLine(byte[] buf, int off, int len) {
        int end = off + len;
        if (end > off && buf[end - 1] == '\r') {
            end--;
        }
        if (end - off > 2048) {
            return null;
        }
        String line = new String(buf, off, end - off, StandardCharsets.ISO_8859_1);
        int sp1 = line.indexOf(' ');
        int sp2 = line.lastIndexOf(' ');
        if (sp1 < 3 || sp1 > 7 || sp2 <= sp1 + 1 || !line.startsWith("HTTP/1.", sp2 + 1) || line.length() != sp2 + 9) {
            return null;
        }
        for (int i = 0; i < sp1; i++) {
            if (line.charAt(i) < 'A' || line.charAt(i) > 'Z') {
                return null;
            }
        }
        String path = line.substring(sp1 + 1, sp2);
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c <= ' ' || c >= 0x7f) {
                return null;
            }
        }
        return path.startsWith("/") ? new String[] { line.substring(0, sp1), path } : null;
    }

    private int fail(Reason reason, String detail) {
        owner.auth.record(reason, peer, detail);
        error = LineIngest.errorLine("unauthorized", reason.label(), detail);
        return LineFramer.STOP;
    }
}
