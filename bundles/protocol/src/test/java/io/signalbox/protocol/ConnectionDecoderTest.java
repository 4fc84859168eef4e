package io.signalbox.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;

import io.signalbox.api.DropReason;
import io.signalbox.api.Message;

/**
 * {@link ConnectionDecoder}: one connection's lines through one reused scanner, which remembers
 * the last {@code src} — and must never give a line a {@code src} it does not have.
 */
class ConnectionDecoderTest {
    private final LineDecoder shared = new LineDecoder();
    private final ConnectionDecoder connection = shared.forConnection();

    private static String line(String src, String type, String data) {
        return "{\"v\":1,\"src\":" + src + ",\"ts\":1700000000123,\"type\":\"" + type + "\",\"data\":" + data + "}";
    }

    private static String event(String src) {
        return line(src, "event", "{\"level\":\"info\",\"msg\":\"m\"}");
    }

    private Message message(String line) {
        DecodeResult r = connection.decode(line.getBytes(StandardCharsets.UTF_8));
        assertThat(r.isMessage()).as("%s", r).isTrue();
        return r.message();
    }

    @Test
    void theSameSourceBytesGiveTheSameStringAndOtherBytesTheirOwn() {
        Message first = message(event("\"billing-worker\""));
        Message second = message(event("\"billing-worker\""));
        assertThat(second.source()).isEqualTo("billing-worker").isSameAs(first.source());

        assertThat(message(event("\"billing-workeR\"")).source()).isEqualTo("billing-workeR");
        assertThat(message(event("\"billing-worke\"")).source()).isEqualTo("billing-worke");
        assertThat(message(event("\"billing-w\\u006frker\"")).source()).isEqualTo("billing-worker");
        assertThat(message(event("\"billing-worker\"")).source()).isEqualTo("billing-worker");
        assertThat(message(event("\"\u00e9\"")).source()).isEqualTo("\u00e9");
        assertThat(message(event("\"\\u00e9\"")).source()).isEqualTo("\u00e9");
        assertThat(message(event("\"\\u00e8\"")).source()).isEqualTo("\u00e8");
    }

    @Test
    void keptTextsAreMadeFromTheirOwnLineWhateverTheirForm() {
        // the scanner notes ids, levels, span names and statuses as bounds and makes the Strings last
        String ids = "{\"v\":1,\"src\":\"s\",\"ts\":1,\"type\":\"span\",\"tid\":%s,\"sid\":%s,\"pid\":%s,"
                + "\"data\":{\"name\":%s,\"status\":%s,\"start\":1,\"end\":2}}";
        Message plain = message(String.format(ids, "\"t-1\"", "42", "\"p\"", "\"render\"", "\"ok\""));
        assertThat(plain.traceId()).isEqualTo("t-1");
        assertThat(plain.spanId()).isEqualTo("42");
        assertThat(plain.parentSpanId()).isEqualTo("p");
        assertThat(plain.span().name()).isEqualTo("render");
        assertThat(plain.span().status()).isSameAs(message(String.format(ids, "1", "2", "3", "\"n\"", "\"ok\"")).span().status());
        Message escaped = message(String.format(ids, "\"t\\u002d1\"", "-7", "\"\u00e9t\u00e9\"", "\"a\\\"b\"", "\"fa\\u0069led\""));
        assertThat(escaped.traceId()).isEqualTo("t-1");
        assertThat(escaped.spanId()).isEqualTo("-7");
        assertThat(escaped.parentSpanId()).isEqualTo("\u00e9t\u00e9");
        assertThat(escaped.span().name()).isEqualTo("a\"b");
        assertThat(escaped.span().status()).isEqualTo("failed");
        Message absent = message(String.format(ids, "\"\"", "null", "\"\"", "\"n\"", "null"));
        assertThat(absent.traceId()).isNull();
        assertThat(absent.spanId()).isNull();
        assertThat(absent.parentSpanId()).isNull();
        assertThat(absent.span().status()).isNull();
        assertThat(message(line("\"s\"", "event", "{\"level\":\"w\\u0061rn\",\"msg\":\"m\"}")).level()).isEqualTo("warn");
        assertThat(message(line("\"s\"", "event", "{\"level\":\"notice\",\"msg\":\"m\"}")).level()).isEqualTo("notice");
        assertThat(message(event("\"s\"")).level()).isSameAs(message(event("\"t\"")).level()).isEqualTo("info");
    }

    @Test
    void keptTextsAreHeldToTheStringLimitWhenTheyAreRead() {
        JsonFactory small = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(4).build()).build();
        ConnectionDecoder c = new LineDecoder(small).forConnection();
        String ok = "{\"v\":1,\"src\":\"s\",\"ts\":1,\"type\":\"event\",\"tid\":%s,\"data\":{\"level\":\"info\",\"msg\":\"m\"}}";
        assertThat(c.decode(String.format(ok, "\"abcd\"").getBytes(StandardCharsets.UTF_8)).message().traceId()).isEqualTo("abcd");
        for (String tooLong : new String[] {"\"abcde\"", "\"ab\\u0063de\"", "12345"}) {
            DecodeResult r = c.decode(String.format(ok, tooLong).getBytes(StandardCharsets.UTF_8));
            assertThat(r.reason()).as(tooLong).isEqualTo(DropReason.MALFORMED);
            assertThat(r.detail()).as(tooLong).contains("longer than 4 characters")
                    .isEqualTo(new LineDecoder(small).decode(String.format(ok, tooLong).getBytes(StandardCharsets.UTF_8)).detail());
        }
    }

    @Test
    void aSourceIsReadFromTheLineNotFromABufferSeenBefore() {
        // the transport reuses its read buffer: the same offsets now hold another source
        byte[] buf = new byte[256];
        byte[] a = event("\"worker-a\"").getBytes(StandardCharsets.UTF_8);
        byte[] b = event("\"worker-b\"").getBytes(StandardCharsets.UTF_8);
        System.arraycopy(a, 0, buf, 10, a.length);
        assertThat(connection.decode(buf, 10, a.length).message().source()).isEqualTo("worker-a");
        System.arraycopy(b, 0, buf, 10, b.length);
        assertThat(connection.decode(buf, 10, b.length).message().source()).isEqualTo("worker-b");
        System.arraycopy(a, 0, buf, 10, a.length);
        assertThat(connection.decode(buf, 10, a.length).message().source()).isEqualTo("worker-a");
    }

    @Test
    void rejectedLinesInBetweenChangeNothing() {
        message(event("\"s1\""));
        assertThat(connection.decode(event("\"s2\"").replace("\"m\"", "\"\\x\"").getBytes(StandardCharsets.UTF_8))
                .reason()).isEqualTo(DropReason.MALFORMED);
        assertThat(connection.decode(line("\"s1\"", "event", "{\"level\":\"info\"}").getBytes(StandardCharsets.UTF_8))
                .reason()).isEqualTo(DropReason.MISSING_FIELD);
        assertThat(connection.decode("{\"v\":1,\"src\":\"s1\",\"src\":\"s2\"}".getBytes(StandardCharsets.UTF_8))
                .reason()).isEqualTo(DropReason.MALFORMED);
        assertThat(message(event("\"s2\"")).source()).isEqualTo("s2");
        assertThat(message(event("\"s1\"")).source()).isEqualTo("s1");
        // a span after an event: nothing of the event's payload is left over
        Message span = message(line("\"s1\"", "span", "{\"name\":\"n\",\"start\":5,\"dur_ms\":2}"));
        assertThat(span.level()).isNull();
        assertThat(span.span().status()).isNull();
        assertThat(span.span().end()).isEqualTo(7);
        assertThat(connection.decode(line("\"s1\"", "span", "{\"name\":\"n\",\"start\":5}").getBytes(StandardCharsets.UTF_8))
                .reason()).isEqualTo(DropReason.MISSING_FIELD);
    }

    @Test
    void aSourceOverTheStringLimitIsRejectedEveryTime() {
        JsonFactory factory = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(4).build()).build();
        ConnectionDecoder tight = new LineDecoder(factory).forConnection();
        byte[] tooLong = event("\"abcde\"").getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 3; i++) {
            assertThat(tight.decode(tooLong).reason()).isEqualTo(DropReason.MALFORMED);
            assertThat(tight.decode(event("\"abcd\"").getBytes(StandardCharsets.UTF_8)).message().source())
                    .isEqualTo("abcd");
        }
    }

    @Test
    void manySourcesInTurnShareOneStringPerSourceAcrossConnections() {
        // 10,000 sources round-robin: the last src never matches, the shared table does
        ConnectionDecoder other = shared.forConnection();
        String[] first = new String[100];
        for (int i = 0; i < first.length; i++) {
            first[i] = message(event("\"many-sources-" + i + "\"")).source();
            assertThat(first[i]).isEqualTo("many-sources-" + i);
        }
        for (int i = 0; i < first.length; i++) {
            DecodeResult r = other.decode(event("\"many-sources-" + i + "\"").getBytes(StandardCharsets.UTF_8));
            assertThat(r.message().source()).isSameAs(first[i]);
            assertThat(shared.decode(event("\"many-sources-" + i + "\"").getBytes(StandardCharsets.UTF_8))
                    .message().source()).isSameAs(first[i]);
        }
        // an escaped form has other bytes: its own entry, the same text
        assertThat(message(event("\"many-sources-\\u0031\"")).source()).isEqualTo("many-sources-1");
    }

    @Test
    void aSharedSourceIsStillCheckedAgainstThisDecodersLimit() {
        assertThat(message(event("\"limit-checked\"")).source()).isEqualTo("limit-checked");
        JsonFactory factory = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(5).build()).build();
        LineDecoder tight = new LineDecoder(factory);
        byte[] line = event("\"limit-checked\"").getBytes(StandardCharsets.UTF_8);
        assertThat(tight.forConnection().decode(line).reason()).isEqualTo(DropReason.MALFORMED);
        assertThat(tight.decode(line).reason()).isEqualTo(DropReason.MALFORMED);
    }

    @Test
    void spansOfOneNameShareTheName() {
        String span = "{\"v\":1,\"src\":%s,\"ts\":1,\"type\":\"span\",\"tid\":\"t\",\"sid\":\"%s\","
                + "\"data\":{\"name\":%s,\"start\":1,\"end\":2}}";
        Message a = message(String.format(span, "\"a\"", "1", "\"handle request\""));
        Message b = shared.forConnection().decode(String.format(span, "\"b\"", "2", "\"handle request\"")
                .getBytes(StandardCharsets.UTF_8)).message();
        assertThat(b.span().name()).isEqualTo("handle request").isSameAs(a.span().name());
        assertThat(message(String.format(span, "\"a\"", "3", "\"handle\\u0020request\"")).span().name())
                .isEqualTo("handle request");
        assertThat(message(String.format(span, "\"a\"", "4", "\"handle requests\"")).span().name())
                .isEqualTo("handle requests");
    }

    @Test
    void longSourcesAreNotRememberedButDecoded() {
        String longSource = "s".repeat(ShortFormScan.SOURCE_CACHE_MAX + 1);
        assertThat(message(event("\"" + longSource + "\"")).source()).isEqualTo(longSource);
        assertThat(message(event("\"" + longSource + "\"")).source()).isEqualTo(longSource);
        assertThat(message(event("\"s\"")).source()).isEqualTo("s");
    }

    @Test
    void decodeMessageGivesTheMessageOrSaysWhyNot() {
        byte[] line = event("\"s\"").getBytes(StandardCharsets.UTF_8);
        byte[] buf = new byte[line.length + 10];
        System.arraycopy(line, 0, buf, 5, line.length);
        Message m = connection.decodeMessage(buf, 5, line.length);
        assertThat(m.source()).isEqualTo("s");
        assertThat(m.line()).isEqualTo(line);
        assertThat(connection.rejection()).isNull();

        byte[] bad = event("\"s\"").replace("\"m\"", "\"\\x\"").getBytes(StandardCharsets.UTF_8);
        assertThat(connection.decodeMessage(bad, 0, bad.length)).isNull();
        assertThat(connection.rejection().reason()).isEqualTo(DropReason.MALFORMED);

        byte[] blank = " \r".getBytes(StandardCharsets.UTF_8);
        assertThat(connection.decodeMessage(blank, 0, blank.length)).isNull();
        assertThat(connection.rejection().isEmpty()).isTrue();

        // the long form goes to the Jackson decoder, and comes back as a message all the same
        byte[] longForm = ("{\"source\":\"legacy\",\"timestamp\":\"2023-11-14T22:13:20.123Z\",\"type\":\"event\","
                + "\"data\":{\"level\":\"info\",\"msg\":\"m\"}}").getBytes(StandardCharsets.UTF_8);
        assertThat(connection.decodeMessage(longForm, 0, longForm.length).source()).isEqualTo("legacy");
        assertThat(connection.rejection()).isNull();
    }

    @Test
    void aFactoryTheScannerDoesNotModelStillDecodes() {
        ConnectionDecoder lenient = new LineDecoder(new JsonFactory().enable(
                com.fasterxml.jackson.core.JsonParser.Feature.ALLOW_COMMENTS)).forConnection();
        assertThat(lenient.decode(event("/* c */ \"s\"").getBytes(StandardCharsets.UTF_8)).message().source())
                .isEqualTo("s");
    }
}
