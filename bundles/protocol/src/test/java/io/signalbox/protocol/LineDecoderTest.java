package io.signalbox.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import io.signalbox.api.DropReason;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;

class LineDecoderTest {
    private static final String EVENT = "{\"v\":1,\"src\":\"billing\",\"ts\":1700000000123,\"type\":\"event\","
            + "\"tid\":\"t-1\",\"ctx\":{\"job_id\":\"j-9\",\"host\":\"h1\"},"
            + "\"data\":{\"level\":\"error\",\"msg\":\"charge failed \\u00e9 ü\",\"extra\":[1,{\"a\":null}]}}";

    private final LineDecoder decoder = new LineDecoder();

    private DecodeResult decode(String line) {
        return decoder.decode(line.getBytes(StandardCharsets.UTF_8));
    }

    private Message message(String line) {
        DecodeResult r = decode(line);
        assertThat(r.isMessage()).as("%s", r).isTrue();
        return r.message();
    }

    private void assertRejected(String line, DropReason reason, String detailPart) {
        DecodeResult r = decode(line);
        assertThat(r.isRejected()).as("%s", r).isTrue();
        assertThat(r.reason()).as("%s", r).isEqualTo(reason);
        assertThat(r.detail()).contains(detailPart);
        assertThat(r.message()).isNull();
    }

    @Test
    void shortFormEventDecodesEnvelopeAndKeepsTheLineBytesIdentical() {
        byte[] bytes = EVENT.getBytes(StandardCharsets.UTF_8);
        DecodeResult r = decoder.decode(bytes);

        Message m = r.message();
        assertThat(m.source()).isEqualTo("billing");
        assertThat(m.timestamp()).isEqualTo(1_700_000_000_123L);
        assertThat(m.type()).isEqualTo(MessageType.EVENT);
        assertThat(m.traceId()).isEqualTo("t-1");
        assertThat(m.spanId()).isNull();
        assertThat(m.parentSpanId()).isNull();
        assertThat(m.level()).isEqualTo("error");
        assertThat(m.isCritical()).isTrue();
        assertThat(m.span()).isNull();
        assertThat(m.line()).isEqualTo(bytes).isNotSameAs(bytes);
    }

    @Test
    void lineInsideALargerBufferIsDecodedFromItsOffsetAndCopiedExactly() {
        byte[] buf = ("garbage\n" + EVENT + "\nmore").getBytes(StandardCharsets.UTF_8);
        int off = "garbage\n".length();
        int len = EVENT.getBytes(StandardCharsets.UTF_8).length;

        Message m = decoder.decode(buf, off, len).message();

        assertThat(m.line()).isEqualTo(EVENT.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void crLfTerminatorAndSurroundingBlanksAreTrimmedFromTheLine() {
        Message m = message("  " + EVENT + " \r");
        assertThat(m.line()).isEqualTo(EVENT.getBytes(StandardCharsets.UTF_8));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "\r", " \t \r"})
    void blankLineIsIgnoredNotRejected(String line) {
        DecodeResult r = decode(line);
        assertThat(r.isEmpty()).isTrue();
        assertThat(r.isRejected()).isFalse();
        assertThat(r.reason()).isNull();
    }

    @Test
    void metricSpanAndOtherTypesDecode() {
        Message metric = message("{\"v\":1,\"src\":\"q\",\"ts\":5,\"type\":\"metric\","
                + "\"data\":{\"name\":\"depth\",\"value\":4.5,\"unit\":\"items\",\"tags\":{\"q\":\"a\"}}}");
        assertThat(metric.type()).isEqualTo(MessageType.METRIC);
        assertThat(metric.level()).isNull();

        Message span = message("{\"v\":1,\"src\":\"web\",\"ts\":1900,\"type\":\"span\",\"tid\":\"t\",\"sid\":\"s2\","
                + "\"pid\":\"s1\",\"data\":{\"name\":\"render\",\"status\":\"ok\",\"start\":1000,\"end\":1900}}");
        assertThat(span.span().name()).isEqualTo("render");
        assertThat(span.span().status()).isEqualTo("ok");
        assertThat(span.span().start()).isEqualTo(1000);
        assertThat(span.span().end()).isEqualTo(1900);
        assertThat(span.spanId()).isEqualTo("s2");
        assertThat(span.parentSpanId()).isEqualTo("s1");

        Message dur = message("{\"v\":1,\"src\":\"web\",\"ts\":1,\"type\":\"span\",\"data\":{\"dur_ms\":250,\"start\":1000,\"name\":\"x\"}}");
        assertThat(dur.span().end()).isEqualTo(1250);

        for (String type : new String[] {"progress", "resource", "heartbeat", "hello", "goodbye"}) {
            Message m = message("{\"v\":1,\"src\":\"s\",\"ts\":1,\"type\":\"" + type + "\",\"data\":{}}");
            assertThat(m.type().wireName()).isEqualTo(type);
        }
    }

    @Test
    void typeAfterDataIsStillValidated() {
        Message m = message("{\"data\":{\"msg\":\"m\",\"level\":\"warn\"},\"v\":1,\"src\":\"s\",\"ts\":1,\"type\":\"event\"}");
        assertThat(m.level()).isEqualTo("warn");
        assertRejected("{\"data\":{\"level\":\"warn\"},\"v\":1,\"src\":\"s\",\"ts\":1,\"type\":\"event\"}",
                DropReason.MISSING_FIELD, "data.msg");
    }

    @Test
    void integerTraceSpanAndParentIdsBecomeStringsAndTheLineIsUnchanged() {
        String line = "{\"v\":1,\"src\":\"s\",\"ts\":1,\"type\":\"event\",\"tid\":12345678901234,\"sid\":7,\"pid\":0,"
                + "\"data\":{\"level\":\"info\",\"msg\":\"m\"}}";
        Message m = message(line);
        assertThat(m.traceId()).isEqualTo("12345678901234");
        assertThat(m.spanId()).isEqualTo("7");
        assertThat(m.parentSpanId()).isEqualTo("0");
        assertThat(new String(m.line(), StandardCharsets.UTF_8)).isEqualTo(line);
    }

    @Test
    void nullOrEmptyIdsMeanAbsent() {
        Message m = message("{\"v\":1,\"src\":\"s\",\"ts\":1,\"type\":\"heartbeat\",\"tid\":null,\"sid\":\"\",\"data\":{}}");
        assertThat(m.traceId()).isNull();
        assertThat(m.spanId()).isNull();
    }

    @Test
    void longFormIsNormalisedToTheShortFormWithIsoTimestampAsEpochMillis() {
        String line = "{\"source\":\"legacy\",\"timestamp\":\"2024-03-01T12:00:00.250+01:00\",\"type\":\"event\","
                + "\"trace_id\":\"t-9\",\"span_id\":42,\"parent_span_id\":\"p\",\"ctx\":{\"k\":\"v\"},"
                + "\"data\":{\"level\":\"info\",\"msg\":\"hi \\\"there\\\"\"}}";
        Message m = message(line);

        long expectedTs = Instant.parse("2024-03-01T11:00:00.250Z").toEpochMilli();
        assertThat(m.source()).isEqualTo("legacy");
        assertThat(m.timestamp()).isEqualTo(expectedTs);
        assertThat(m.traceId()).isEqualTo("t-9");
        assertThat(m.spanId()).isEqualTo("42");
        assertThat(m.parentSpanId()).isEqualTo("p");
        assertThat(new String(m.line(), StandardCharsets.UTF_8)).isEqualTo(
                "{\"v\":1,\"src\":\"legacy\",\"ts\":" + expectedTs + ",\"type\":\"event\",\"tid\":\"t-9\",\"sid\":42,"
                + "\"pid\":\"p\",\"ctx\":{\"k\":\"v\"},\"data\":{\"level\":\"info\",\"msg\":\"hi \\\"there\\\"\"}}");
        // the normalised line is itself a valid short-form line that decodes to the same envelope
        Message again = decoder.decode(m.line()).message();
        assertThat(again.timestamp()).isEqualTo(expectedTs);
        assertThat(again.line()).isEqualTo(m.line());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
        {"v":1,"source":"a","timestamp":"1970-01-01T00:00:01Z","type":"hello","data":{}} | 1000 | {"v":1,"src":"a","ts":1000,"type":"hello","data":{}}
        {"source":"a","timestamp":1234,"type":"hello","data":{}}                         | 1234 | {"v":1,"src":"a","ts":1234,"type":"hello","data":{}}
        """)
    void longFormTimestampIsIsoOrEpochMillisAndAnExplicitVersionIsKept(String line, long ts, String normalised) {
        Message m = message(line);
        assertThat(m.timestamp()).isEqualTo(ts);
        assertThat(new String(m.line(), StandardCharsets.UTF_8)).isEqualTo(normalised);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
        not json at all                                                | not a JSON object
        [1,2]                                                          | not a JSON object
        {"v":1,"src":"s"                                               |
        {"v":1} {"v":1}                                                | trailing content
        {"v":1,"src":"a","src":"b","ts":1,"type":"hello","data":{}}    | duplicate field 'src'
        {"v":1,"src":"a","source":"b","ts":1,"type":"hello","data":{}} | duplicate field 'source'
        """)
    void malformedLinesAreRejected(String line, String detail) {
        assertRejected(line.strip(), DropReason.MALFORMED, detail == null ? "" : detail);
    }

    @Test
    void invalidUtf8IsMalformed() {
        byte[] head = "{\"v\":1,\"src\":\"".getBytes(StandardCharsets.UTF_8);
        byte[] tail = "\",\"ts\":1,\"type\":\"hello\",\"data\":{}}".getBytes(StandardCharsets.UTF_8);
        byte[] line = new byte[head.length + 2 + tail.length];
        System.arraycopy(head, 0, line, 0, head.length);
        line[head.length] = (byte) 0xC3;
        line[head.length + 1] = (byte) 0x28; // not a continuation byte
        System.arraycopy(tail, 0, line, head.length + 2, tail.length);

        DecodeResult r = decoder.decode(line);

        assertThat(r.reason()).isEqualTo(DropReason.MALFORMED);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
        {"src":"s","ts":1,"type":"hello","data":{}}                          | 'v'
        {"v":1,"ts":1,"type":"hello","data":{}}                              | 'src'
        {"v":1,"src":"s","type":"hello","data":{}}                           | 'ts'
        {"v":1,"src":"s","ts":1,"data":{}}                                   | 'type'
        {"v":1,"src":"s","ts":1,"type":"hello"}                              | 'data'
        {"v":1,"src":"s","ts":1,"type":"event","data":{"msg":"m"}}           | 'data.level'
        {"v":1,"src":"s","ts":1,"type":"metric","data":{"name":"n"}}         | 'data.value'
        {"v":1,"src":"s","ts":1,"type":"span","data":{"name":"n","start":1}} | 'data.end' or 'data.dur_ms'
        """)
    void missingRequiredFieldsAreRejected(String line, String field) {
        assertRejected(line.strip(), DropReason.MISSING_FIELD, field);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
        {"v":"1","src":"s","ts":1,"type":"hello","data":{}}                                             | 'v'
        {"v":1,"src":7,"ts":1,"type":"hello","data":{}}                                                 | 'src'
        {"v":1,"src":"","ts":1,"type":"hello","data":{}}                                                | 'src'
        {"v":1,"src":"s","ts":"1","type":"hello","data":{}}                                             | 'ts'
        {"v":1,"src":"s","ts":-1,"type":"hello","data":{}}                                              | 'ts'
        {"v":1,"src":"s","ts":1.5,"type":"hello","data":{}}                                             | 'ts'
        {"v":1,"src":"s","ts":1,"type":3,"data":{}}                                                     | 'type'
        {"v":1,"src":"s","ts":1,"type":"hello","data":[]}                                               | 'data'
        {"v":1,"src":"s","ts":1,"type":"hello","tid":{},"data":{}}                                      | 'tid'
        {"v":1,"src":"s","ts":1,"type":"hello","ctx":5,"data":{}}                                       | 'ctx'
        {"v":1,"src":"s","ts":1,"type":"event","data":{"level":3,"msg":"m"}}                            | 'data.level'
        {"v":1,"src":"s","ts":1,"type":"metric","data":{"name":"n","value":"4"}}                        | 'data.value'
        {"v":1,"src":"s","ts":1,"type":"span","data":{"name":"n","start":"1","end":2}}                  | 'data.start'
        {"v":1,"src":"s","ts":1,"type":"span","data":{"name":"n","start":1,"end":99999999999999999999}} | 'data.end'
        {"v":1,"src":"s","ts":1,"type":"span","data":{"name":"n","start":1,"dur_ms":null}}              | 'data.dur_ms'
        {"v":1,"src":"s","ts":1,"type":"span","data":{"name":"n","start":1,"end":2,"status":5}}         | 'data.status'
        {"source":"s","timestamp":"yesterday","type":"hello","data":{}}                                 | 'timestamp'
        {"source":"s","timestamp":"2024-03-01T12:00:00","type":"hello","data":{}}                       | 'timestamp'
        """)
    void wrongTypesAreRejected(String line, String field) {
        assertRejected(line.strip(), DropReason.BAD_TYPE, field);
    }

    @Test
    void unknownTypeIsRejected() {
        assertRejected("{\"v\":1,\"src\":\"s\",\"ts\":1,\"type\":\"log\",\"data\":{}}", DropReason.UNKNOWN_TYPE, "'log'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"2", "0", "99999999999"})
    void otherProtocolVersionsAreUnsupported(String v) {
        assertRejected("{\"v\":" + v + ",\"src\":\"s\",\"ts\":1,\"type\":\"hello\",\"data\":{}}",
                DropReason.UNSUPPORTED_VERSION, "version");
    }

    @Test
    void tooLongIsTheTransportsReasonNotTheDecoders() {
        // framing enforces max.line.length; the decoder accepts any length it is given
        String big = "{\"v\":1,\"src\":\"s\",\"ts\":1,\"type\":\"event\",\"data\":{\"level\":\"info\",\"msg\":\""
                + "x".repeat(200_000) + "\"}}";
        assertThat(decode(big).isMessage()).isTrue();
    }

    @Test
    void typeNamesAreMatchedWithoutAllocating() {
        char[] chars = "xxspanyy".toCharArray();
        assertThat(LineScan.typeOf(chars, 2, 4)).isEqualTo(MessageType.SPAN);
        assertThat(LineScan.typeOf(chars, 2, 3)).isNull();
    }

    /** Invalid UTF-8 inside a string Jackson only skips or copies was accepted and written as-is. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"c0af", "e080af", "f08080af", "eda080", "f4908080", "80", "ff"})
    void invalidUtf8AnywhereInTheLineIsMalformed(String hex) {
        byte[] bad = java.util.HexFormat.of().parseHex(hex);
        byte[] head = ("{\"v\":1,\"src\":\"demo\",\"ts\":1763900000000,\"type\":\"event\","
                + "\"data\":{\"level\":\"info\",\"msg\":\"").getBytes(StandardCharsets.UTF_8);
        byte[] tail = "\"}}".getBytes(StandardCharsets.UTF_8);
        byte[] line = new byte[head.length + bad.length + tail.length];
        System.arraycopy(head, 0, line, 0, head.length);
        System.arraycopy(bad, 0, line, head.length, bad.length);
        System.arraycopy(tail, 0, line, head.length + bad.length, tail.length);
        DecodeResult r = new LineDecoder().decode(line);
        assertThat(r.reason()).as("%s", r).isEqualTo(DropReason.MALFORMED);
        assertThat(r.detail()).isEqualTo("invalid UTF-8 at byte " + head.length);
    }

    @Test
    void validMultiByteUtf8IsKeptByteForByte() {
        byte[] line = ("{\"v\":1,\"src\":\"démo\",\"ts\":1763900000000,\"type\":\"event\","
                + "\"data\":{\"level\":\"info\",\"msg\":\"€ 😀 \uDBFF\uDFFF\"}}").getBytes(StandardCharsets.UTF_8);
        DecodeResult r = new LineDecoder().decode(line);
        assertThat(r.isMessage()).as("%s", r).isTrue();
        assertThat(r.message().line()).isEqualTo(line);
        assertThat(r.message().source()).isEqualTo("démo");
    }
}
