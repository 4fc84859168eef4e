package io.signalbox.load.jmh;

import java.nio.charset.StandardCharsets;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Setup;

import com.fasterxml.jackson.core.JsonFactory;

import io.signalbox.api.Message;
import io.signalbox.protocol.ConnectionDecoder;
import io.signalbox.protocol.DecodeResult;
import io.signalbox.protocol.LineDecoder;

/**
 * {@link LineDecoder#decode(byte[], int, int)} of one line, single thread: what the TCP
 * transport's I/O thread spends per line before {@code Ingest.offer}. Lines are decoded from the
 * middle of a larger buffer, as the transport does from MINA's read buffer. Short-form lines are
 * read by the decoder's single-pass scanner; the long form of the earlier design still goes
 * through Jackson, twice (the check, then the rewrite into the short form). {@code malformed} is
 * the event line with a bad escape near its end: what a stream of rejected lines costs. The
 * {@code *Connection} benchmarks decode with {@link LineDecoder#forConnection()}'s
 * {@link ConnectionDecoder#decodeMessage}, as the stream transports' {@code LineSession} does: the
 * scanner's state reused, the last {@code src} remembered (every line here has the same {@code src},
 * as on a connection that sends as one source), no {@code DecodeResult} for a message.
 *
 * <p>Run: {@code java -jar load/target/benchmarks.jar ProtocolDecodeBenchmark -f 1 -wi 3 -w 2 -i 5 -r 2}
 * (add {@code -prof gc} for the bytes allocated per line)
 */
public class ProtocolDecodeBenchmark extends ThroughputBenchmark {
    /** 168 bytes, like the load generator's events. */
    static final String EVENT = "{\"v\":1,\"src\":\"billing-worker\",\"ts\":1700000000123,\"type\":\"event\","
            + "\"tid\":\"job-48213\",\"ctx\":{\"job_id\":\"job-48213\"},"
            + "\"data\":{\"level\":\"info\",\"msg\":\"invoice 99120 charged ok\"}}";
    static final String METRIC = "{\"v\":1,\"src\":\"queue-runner\",\"ts\":1700000000456,\"type\":\"metric\","
            + "\"data\":{\"name\":\"queue.depth\",\"value\":42.5,\"unit\":\"items\",\"tags\":{\"queue\":\"mail\"}}}";
    static final String SPAN = "{\"v\":1,\"src\":\"web\",\"ts\":1700000001900,\"type\":\"span\",\"tid\":\"job-48213\","
            + "\"sid\":\"s-17\",\"pid\":\"s-3\",\"data\":{\"name\":\"render invoice\",\"status\":\"ok\","
            + "\"start\":1700000001000,\"end\":1700000001900,\"attrs\":{\"pages\":3}}}";
    static final String LONG_FORM = "{\"source\":\"billing-worker\",\"timestamp\":\"2023-11-14T22:13:20.123Z\","
            + "\"type\":\"event\",\"trace_id\":\"job-48213\",\"span_id\":\"s-17\",\"ctx\":{\"job_id\":\"job-48213\"},"
            + "\"data\":{\"level\":\"info\",\"msg\":\"charged customer 1842 for invoice 99120\"}}";

    /** What the TCP transport uses (its own UTF-8 factory serves only the long form). */
    private final LineDecoder decoder = new LineDecoder();
    /**
     * The same decoder over a stock JsonFactory, for comparison: the scanner reads its lines too
     * (it only checks the second byte, where the factory would sniff UTF-16 or UTF-32).
     */
    private final LineDecoder stockFactoryDecoder = new LineDecoder(new JsonFactory());
    /** One connection's decoder, as the TCP and Unix-socket transports use per connection. */
    private final ConnectionDecoder connection = decoder.forConnection();
    private Line event;
    private Line metric;
    private Line span;
    private Line longForm;
    private Line malformed;

    /** A line inside a read buffer: some bytes before it, its newline after it. */
    static final class Line {
        final byte[] buf;
        final int off;
        final int len;

        Line(String text) {
            byte[] line = text.getBytes(StandardCharsets.UTF_8);
            buf = new byte[line.length + 64];
            off = 31;
            len = line.length;
            System.arraycopy(line, 0, buf, off, len);
            buf[off + len] = '\n';
        }
    }

    @Setup
    public void setup() {
        event = check(new Line(EVENT));
        metric = check(new Line(METRIC));
        span = check(new Line(SPAN));
        longForm = check(new Line(LONG_FORM));
        malformed = new Line(EVENT.replace("charged ok", "charged \\x ok"));
        if (decoder.decode(malformed.buf, malformed.off, malformed.len).isMessage()) {
            throw new IllegalStateException("the malformed line decodes");
        }
    }

    private Line check(Line line) {
        DecodeResult r = decoder.decode(line.buf, line.off, line.len);
        if (!r.isMessage()) {
            throw new IllegalStateException("benchmark line does not decode: " + r);
        }
        return line;
    }

    @Benchmark
    public DecodeResult event() {
        return decoder.decode(event.buf, event.off, event.len);
    }

    @Benchmark
    public DecodeResult metric() {
        return decoder.decode(metric.buf, metric.off, metric.len);
    }

    @Benchmark
    public DecodeResult span() {
        return decoder.decode(span.buf, span.off, span.len);
    }

    @Benchmark
    public DecodeResult longForm() {
        return decoder.decode(longForm.buf, longForm.off, longForm.len);
    }

    @Benchmark
    public DecodeResult malformed() {
        return decoder.decode(malformed.buf, malformed.off, malformed.len);
    }

    @Benchmark
    public Message eventConnection() {
        return connection.decodeMessage(event.buf, event.off, event.len);
    }

    @Benchmark
    public Message metricConnection() {
        return connection.decodeMessage(metric.buf, metric.off, metric.len);
    }

    @Benchmark
    public Message spanConnection() {
        return connection.decodeMessage(span.buf, span.off, span.len);
    }

    @Benchmark
    public Message malformedConnection() {
        return connection.decodeMessage(malformed.buf, malformed.off, malformed.len);
    }

    @Benchmark
    public DecodeResult eventStockFactory() {
        return stockFactoryDecoder.decode(event.buf, event.off, event.len);
    }
}
