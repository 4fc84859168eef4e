package io.signalbox.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongFunction;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;

import io.signalbox.api.DropReason;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;

/**
 * The single-pass scanner ({@link LineDecoder}) against the Jackson-based decoder it replaced
 * ({@link JacksonLineDecoder}), on seeded random lines ({@link RandomLines}): both must accept
 * the same lines with the same fields and bytes, and reject the same lines for the same reason
 * (with the same detail unless the reason is MALFORMED, whose detail was Jackson's own text).
 *
 * <p>No exception to that rule is needed: every disagreement found while writing the scanner was
 * the scanner's (the last one: Jackson applies its string limit to the text of an integer id),
 * and the reference runs {@link Utf8#firstInvalid} before Jackson, so it accepts no invalid UTF-8.
 * One difference is by construction and not generated here: the field names of all lines of a
 * factory go into one Jackson symbol table, which throws an {@code IllegalStateException} (out of
 * {@code decode}, not a rejection) once names flooding its hash area fill the spill-over slots
 * ({@code FAIL_ON_SYMBOL_HASH_OVERFLOW}), so the outcome depends on earlier lines and a random
 * seed; the scanner keeps no symbol table and decodes such a line like any other.
 */
class DifferentialDecoderTest {
    private static final int SHOWN = 8;
    private static final int BATCH = 10_000;

    @Test
    void aMillionRandomLinesDecodeExactlyAsTheJacksonDecoderDecodesThem() throws Exception {
        Stats stats = compare(new LineDecoder(), new JacksonLineDecoder(new Utf8LineFactory()),
                seed -> new RandomLines(seed, StreamReadConstraints.DEFAULT_MAX_DEPTH), 20261212L, 1_000_000);

        assertThat(stats.messages).as("accepted").isGreaterThan(250_000);
        assertThat(stats.reasons.get(DropReason.MALFORMED)).as("malformed").isGreaterThan(200_000);
        assertThat(stats.reasons.keySet()).as("every reason the decoder gives").containsAll(EnumSet.of(
                DropReason.MALFORMED, DropReason.MISSING_FIELD, DropReason.BAD_TYPE, DropReason.UNKNOWN_TYPE,
                DropReason.UNSUPPORTED_VERSION));
        assertThat(stats.reasons.values()).allSatisfy(n -> assertThat(n).isGreaterThan(1_000));
        assertThat(stats.types).as("every type accepted").isEqualTo(EnumSet.allOf(MessageType.class));
    }

    /**
     * Lines from a few sources, as a connection sends them, some differing from another only in
     * one byte, in an escape or in being over the string limit, and mutated like all random lines:
     * the connection's decoder (which gives a line the last {@code src}'s {@code String} when the
     * bytes are the same) must decode them exactly as the reference does.
     */
    @Test
    void aConnectionsDecoderGivesTheRightSourceOnLinesFromAFewSources() throws Exception {
        String[] sources = {"\"billing-worker\"", "\"billing-workeR\"", "\"billing-w\\u006frker\"", "\"billing-worker \"",
            "\"bïlling-worker\"", "\"b\"", "\"c\"", "\"é\"", "\"\\u00e9\"", "\"" + "x".repeat(300) + "\"",
            "\"" + "x".repeat(301) + "\"", "\"" + "y".repeat(ShortFormScan.SOURCE_CACHE_MAX) + "\""};
        Stats stats = compare(new LineDecoder(), new JacksonLineDecoder(new Utf8LineFactory()),
                seed -> new RandomLines(seed, StreamReadConstraints.DEFAULT_MAX_DEPTH, sources), 5L, 200_000);
        assertThat(stats.messages).isGreaterThan(50_000);

        StreamReadConstraints tight = StreamReadConstraints.builder().maxStringLength(14).build();
        JsonFactory factory = JsonFactory.builder().streamReadConstraints(tight).build();
        compare(new LineDecoder(factory), new JacksonLineDecoder(factory),
                seed -> new RandomLines(seed, StreamReadConstraints.DEFAULT_MAX_DEPTH, sources), 9L, 60_000);
    }

    /** Tight read constraints, so that every limit (depth, number, string, name) is met often. */
    @Test
    void tightReadConstraintsAreAppliedAsJacksonAppliesThem() throws Exception {
        StreamReadConstraints tight = StreamReadConstraints.builder().maxNestingDepth(6).maxNumberLength(12)
                .maxStringLength(9).maxNameLength(6).build();
        JsonFactory factory = JsonFactory.builder().streamReadConstraints(tight).build();
        Stats stats = compare(new LineDecoder(factory), new JacksonLineDecoder(factory), seed -> new RandomLines(seed, 6),
                7L, 60_000);

        assertThat(stats.messages).isGreaterThan(1_500);
    }

    /** A stock factory sniffs the encoding: lines starting with {@code "{\0"} are UTF-16 to it. */
    @Test
    void aStockFactoryDecodesAsBefore() throws Exception {
        JsonFactory factory = new JsonFactory();
        Stats stats = compare(new LineDecoder(factory), new JacksonLineDecoder(factory),
                seed -> new RandomLines(seed, StreamReadConstraints.DEFAULT_MAX_DEPTH), 11L, 30_000);
        assertThat(stats.messages).isGreaterThan(7_000);

        byte[] utf16 = "{\"v\":1,\"src\":\"s\",\"ts\":1,\"type\":\"hello\",\"data\":{}}".getBytes(StandardCharsets.UTF_16LE);
        assertThat(disagreement(new LineDecoder(factory).decode(utf16),
                new JacksonLineDecoder(factory).decode(utf16))).isNull();
    }

    /** A factory with features the scanner does not model decodes every line with Jackson, as before. */
    @Test
    void aFactoryWithNonDefaultFeaturesKeepsJacksonsReading() throws Exception {
        JsonFactory lenient = new JsonFactory().enable(JsonParser.Feature.ALLOW_COMMENTS)
                .enable(JsonParser.Feature.ALLOW_SINGLE_QUOTES);
        DecodeResult r = new LineDecoder(lenient).decode("{'v':1,/* c */\"src\":\"s\",\"ts\":1,\"type\":\"hello\",\"data\":{}}"
                .getBytes(StandardCharsets.UTF_8));

        assertThat(r.isMessage()).as("%s", r).isTrue();
        compare(new LineDecoder(lenient), new JacksonLineDecoder(lenient), seed -> new RandomLines(seed, 1000), 3L,
                20_000);
    }

    /**
     * Compares both decoders on {@code count} lines of {@code lines} (seeded with {@code seed}),
     * in two halves on two threads of their own: the reference throws (and fills in the stack of)
     * an exception for most malformed lines, which costs by stack depth, and JUnit's is deep.
     */
    private static Stats compare(LineDecoder scanner, JacksonLineDecoder reference, LongFunction<RandomLines> lines,
            long seed, int count) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<Stats> first = pool.submit(() -> compare(scanner, reference, lines.apply(seed), count / 2));
            Future<Stats> second = pool.submit(() -> compare(scanner, reference, lines.apply(seed + 1), count - count / 2));
            Stats stats = first.get();
            stats.add(second.get());
            assertThat(stats.disagreements).as("%d of %d lines decoded differently; the first:%n%s", stats.different,
                    count, String.join("\n", stats.disagreements)).isEmpty();
            return stats;
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * One thread's share, in batches: each decoder runs over a whole batch at a time (its code
     * stays hot). Every line is decoded by the shared decoder and by one {@link ConnectionDecoder}
     * of this thread's, which sees all its lines in turn, as a connection's decoder does.
     */
    private static Stats compare(LineDecoder scanner, JacksonLineDecoder reference, RandomLines lines, int count) {
        Stats stats = new Stats();
        ConnectionDecoder connection = scanner.forConnection();
        byte[][] batch = new byte[BATCH][];
        DecodeResult[] expected = new DecodeResult[BATCH];
        for (int done = 0; done < count; done += BATCH) {
            int n = Math.min(BATCH, count - done);
            for (int i = 0; i < n; i++) {
                batch[i] = lines.next();
            }
            for (int i = 0; i < n; i++) {
                expected[i] = reference.decode(batch[i]);
            }
            for (int i = 0; i < n; i++) {
                compare(stats, done + i, batch[i], expected[i], scanner.decode(batch[i]));
            }
            Stats ignored = new Stats(); // the same lines: counted once, above
            for (int i = 0; i < n; i++) { // both ways of the connection's decoder, in turn
                DecodeResult actual;
                if (i % 2 == 0) {
                    actual = connection.decode(batch[i]);
                } else {
                    Message m = connection.decodeMessage(batch[i], 0, batch[i].length);
                    actual = m != null ? DecodeResult.of(m) : connection.rejection();
                    if (m != null && connection.rejection() != null || m == null && connection.rejection() == null) {
                        ignored.different++;
                        ignored.disagreements.add("line " + (done + i) + ": message " + m + " with rejection "
                                + connection.rejection());
                    }
                }
                compare(ignored, done + i, batch[i], expected[i], actual);
            }
            stats.different += ignored.different;
            ignored.disagreements.stream().limit(Math.max(0, SHOWN - stats.disagreements.size()))
                    .map(d -> "(connection decoder) " + d).forEach(stats.disagreements::add);
        }
        return stats;
    }

    private static void compare(Stats stats, int index, byte[] line, DecodeResult expected, DecodeResult actual) {
        String problem = disagreement(expected, actual);
        if (problem != null) {
            stats.different++;
            if (stats.disagreements.size() < SHOWN) {
                stats.disagreements.add("line " + index + ": " + printable(line) + "\n    " + problem);
            }
        } else if (actual.isMessage()) {
            stats.messages++;
            stats.types.add(actual.message().type());
        } else if (actual.isRejected()) {
            stats.reasons.merge(actual.reason(), 1, Integer::sum);
            if (actual.detail().length() > 161) {
                stats.different++;
                stats.disagreements.add("detail too long: " + actual.detail());
            }
        }
    }

    /** {@code null} if both results are the same, else what differs. */
    static String disagreement(DecodeResult expected, DecodeResult actual) {
        if (expected.status() != actual.status()) {
            return "expected " + expected + ", got " + actual;
        }
        if (expected.isRejected()) {
            if (expected.reason() != actual.reason()
                    || (expected.reason() != DropReason.MALFORMED && !expected.detail().equals(actual.detail()))) {
                return "expected " + expected + ", got " + actual;
            }
            return null;
        }
        if (!expected.isMessage()) {
            return null;
        }
        Message e = expected.message();
        Message a = actual.message();
        boolean same = e.source().equals(a.source()) && e.timestamp() == a.timestamp() && e.type() == a.type()
                && Objects.equals(e.traceId(), a.traceId()) && Objects.equals(e.spanId(), a.spanId())
                && Objects.equals(e.parentSpanId(), a.parentSpanId()) && Objects.equals(e.level(), a.level())
                && Objects.equals(e.span(), a.span()) && Arrays.equals(e.line(), a.line());
        return same ? null : "expected " + describe(e) + "\n    got      " + describe(a);
    }

    private static String describe(Message m) {
        return "src=" + m.source() + " ts=" + m.timestamp() + " type=" + m.type() + " tid=" + m.traceId() + " sid="
                + m.spanId() + " pid=" + m.parentSpanId() + " level=" + m.level() + " span=" + m.span() + " line="
                + printable(m.line());
    }

    /** The line as text, with control and non-UTF-8 bytes as {@code \xNN}, cut at 300 bytes. */
    static String printable(byte[] line) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < line.length && i < 300; i++) {
            int c = line[i] & 0xff;
            if (c >= 0x20 && c < 0x7f) {
                sb.append((char) c);
            } else {
                sb.append(String.format("\\x%02x", c));
            }
        }
        return line.length > 300 ? sb + "…(" + line.length + " bytes)" : sb.toString();
    }

    private static final class Stats {
        int messages;
        int different;
        final Map<DropReason, Integer> reasons = new EnumMap<>(DropReason.class);
        final EnumSet<MessageType> types = EnumSet.noneOf(MessageType.class);
        final List<String> disagreements = new ArrayList<>();

        void add(Stats other) {
            messages += other.messages;
            different += other.different;
            other.reasons.forEach((reason, n) -> reasons.merge(reason, n, Integer::sum));
            types.addAll(other.types);
            other.disagreements.stream().limit(Math.max(0, SHOWN - disagreements.size())).forEach(disagreements::add);
        }
    }
}
