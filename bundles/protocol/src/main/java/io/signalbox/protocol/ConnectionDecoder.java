package io.signalbox.protocol;

import io.signalbox.api.Message;

/**
 * {@link LineDecoder} for the lines of one connection, read by one thread at a time (made by
 * {@link LineDecoder#forConnection()}): it decodes exactly as its {@link LineDecoder} does, and
 * reuses the scanner's scratch state from line to line instead of making it per line. It also
 * remembers the last {@code src} it read: a line whose {@code src} has the same bytes gets the
 * same {@code String}, so a connection that sends as one source allocates no string for it.
 *
 * <p>Not thread-safe. It holds no reference to a line's buffer after a decode returns.
 */
public final class ConnectionDecoder {
    private final LineDecoder decoder;
    /** {@code null} if every line of the decoder's factory goes to the Jackson reference. */
    private final ShortFormScan scan;
    /** See {@link #rejection()}. */
    private DecodeResult rejection;

    ConnectionDecoder(LineDecoder decoder, ShortFormScan scan) {
        this.decoder = decoder;
        this.scan = scan;
    }

    /** Decodes the whole array as one line. */
    public DecodeResult decode(byte[] line) {
        return decode(line, 0, line.length);
    }

    /**
     * Decodes one line, as {@link LineDecoder#decode(byte[], int, int)}.
     *
     * @param buf bytes, UTF-8; not retained (a message gets its own copy)
     * @param off start of the line
     * @param len length of the line without its {@code '\n'} (a trailing {@code '\r'} is tolerated)
     * @return a message, a rejection, or {@link DecodeResult#empty()} for a blank line; never {@code null}
     */
    public DecodeResult decode(byte[] buf, int off, int len) {
        return decoder.decode(buf, off, len, scan);
    }

    /**
     * Decodes one line as {@link #decode(byte[], int, int)} does, without the {@link DecodeResult}
     * of a message: for a reader that handles line after line (what the stream transports do).
     *
     * @return the message, or {@code null} if the line is not one: {@link #rejection()} says why
     */
    public Message decodeMessage(byte[] buf, int off, int len) {
        Object r = decoder.decodeLine(buf, off, len, scan);
        if (r instanceof Message m) {
            rejection = null;
            return m;
        }
        DecodeResult result = (DecodeResult) r;
        Message m = result.message(); // a long-form line's, from the reference
        rejection = m == null ? result : null;
        return m;
    }

    /**
     * Why the last {@link #decodeMessage} returned {@code null}: a rejection, or
     * {@link DecodeResult#empty()} for a blank line; {@code null} if it returned a message.
     */
    public DecodeResult rejection() {
        return rejection;
    }
}
