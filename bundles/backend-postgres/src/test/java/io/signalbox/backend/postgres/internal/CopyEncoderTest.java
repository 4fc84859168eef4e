package io.signalbox.backend.postgres.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.core.JsonFactory;

import io.signalbox.api.Message;
import io.signalbox.api.MessageType;

class CopyEncoderTest {
    private static final DateTimeFormatter ISO = DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss.SSS'+00'")
            .withZone(ZoneOffset.UTC);

    @Test
    void timestampsMatchJavaTimeAcrossTheSupportedRange() {
        SplittableRandom r = new SplittableRandom(42);
        long min = Instant.parse("0001-01-01T00:00:00Z").toEpochMilli();
        long max = Instant.parse("9999-12-31T23:59:59.999Z").toEpochMilli();
        for (int i = 0; i < 100_000; i++) {
            long ms = i < 4 ? new long[] {0, -1, min, max}[i] : r.nextLong(min, max + 1);
            ByteBuf b = new ByteBuf(8);
            CopyEncoder.timestamp(b, ms);
            assertThat(b.toString()).as("%d", ms).isEqualTo(ISO.format(Instant.ofEpochMilli(ms)));
        }
    }

    @Test
    void timestampsOutsideYears1To9999BecomeInfinity() {
        ByteBuf b = new ByteBuf(8);
        CopyEncoder.timestamp(b, Long.MIN_VALUE);
        b.put((byte) ' ');
        CopyEncoder.timestamp(b, Long.MAX_VALUE);
        assertThat(b.toString()).isEqualTo("-infinity infinity");
    }

    @Test
    void textColumnsEscapeBackslashTabNewlineAndReplaceNulAndLoneSurrogates() {
        ByteBuf b = new ByteBuf(1);
        CopyEncoder.text(b, "a\\b\tc\nd\re\0f\uD800g€😀");
        assertThat(b.toString()).isEqualTo("a\\\\b\\tc\\nd\\re\uFFFDf\uFFFDg€😀");
        b.reset();
        CopyEncoder.text(b, null);
        assertThat(b.toString()).isEqualTo("\\N");
    }

    @Test
    void jsonIsCopiedWithBackslashesDoubledAndNulOrLoneSurrogateEscapesReplaced() {
        String json = "{\"m\":\"q\\\"b\\\\t\\u0000x\\ud800y\\udc00z\\ud83d\\ude00\\u00e9\"}";
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        ByteBuf b = new ByteBuf(1);
        CopyEncoder.jsonBytes(b, bytes, 0, bytes.length);
        assertThat(b.toString()).isEqualTo(
                "{\"m\":\"q\\\\\"b\\\\\\\\t\\\\ufffdx\\\\ufffdy\\\\ufffdz\\\\ud83d\\\\ude00\\\\u00e9\"}");
    }

    @Test
    void eventRowHasEnvelopeAndRawCtxAndDataAndMetricRowHasTypedFields() {
        Message e = Fixtures.event("svc", 0, "t1", "s1", null, "\"hi\"");
        Message m = Fixtures.metric("svc", 1000, "cpu", 0.5, "ratio", "{\"host\":\"h\"}");
        CopyEncoder enc = new CopyEncoder(new JsonFactory());
        enc.encode(List.of(e, m));
        assertThat(enc.events.toString()).isEqualTo(
                "1970-01-01 00:00:00.000+00\tsvc\tevent\tt1\ts1\t\\N\t{\"job_id\":\"t1\",\"host\":\"h1\"}\t"
                        + "{\"level\":\"info\",\"msg\":\"hi\"}\n"
                        + "1970-01-01 00:00:01.000+00\tsvc\tmetric\t\\N\t\\N\t\\N\t\\N\t"
                        + "{\"name\":\"cpu\",\"value\":0.5,\"unit\":\"ratio\",\"tags\":{\"host\":\"h\"}}\n");
        assertThat(enc.metrics.toString()).isEqualTo("1970-01-01 00:00:01.000+00\tsvc\tcpu\t0.5\tratio\t{\"host\":\"h\"}\n");
        assertThat(enc.metricRows()).isEqualTo(1);
    }

    @Test
    void metricWithoutNumericValueGetsNoMetricsRowButItsEventRow() {
        byte[] line = "{\"v\":1,\"src\":\"s\",\"ts\":1,\"type\":\"metric\",\"data\":{\"name\":\"x\",\"value\":\"NaN?\"}}"
                .getBytes(StandardCharsets.UTF_8);
        CopyEncoder enc = new CopyEncoder(new JsonFactory());
        enc.encode(List.of(new Message("s", 1, MessageType.METRIC, null, null, null, null, null, line)));
        assertThat(enc.metricRows()).isZero();
        assertThat(enc.metricsWithoutValue()).isEqualTo(1);
        assertThat(enc.events.toString()).endsWith("{\"name\":\"x\",\"value\":\"NaN?\"}\n");
    }
}
