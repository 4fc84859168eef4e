package io.signalbox.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;

import io.signalbox.api.DropReason;
import io.signalbox.api.Message;
import io.signalbox.api.SpanInfo;

/**
 * The tricky parts of the single-pass scanner, one by one: escapes, numbers, the nesting limit,
 * UTF-8, whitespace and the read constraints. Every case is also decoded by the Jackson reference
 * and must give the same result.
 */
class ShortFormScanTest {
    private static final String HEAD = "{\"v\":1,\"src\":\"s\",\"ts\":1,\"type\":\"hello\",\"data\":{}";

    private final LineDecoder decoder = new LineDecoder();
    private final JacksonLineDecoder reference = new JacksonLineDecoder(new Utf8LineFactory());

    private DecodeResult decode(String line) {
        return decode(line.getBytes(StandardCharsets.UTF_8));
    }

    private DecodeResult decode(byte[] line) {
        DecodeResult r = decoder.decode(line);
        assertThat(DifferentialDecoderTest.disagreement(reference.decode(line), r))
                .as("same as the reference for %s", DifferentialDecoderTest.printable(line)).isNull();
        return r;
    }

    private Message message(String line) {
        DecodeResult r = decode(line);
        assertThat(r.isMessage()).as("%s", r).isTrue();
        return r.message();
    }

    private DecodeResult malformed(String line) {
        DecodeResult r = decode(line);
        assertThat(r.reason()).as("%s", r).isEqualTo(DropReason.MALFORMED);
        return r;
    }

    private static String withSrc(String jsonString) {
        return "{\"v\":1,\"src\":" + jsonString + ",\"ts\":1,\"type\":\"hello\",\"data\":{}}";
    }

    @Test
    void everyEscapeIsDecodedInAKeptString() {
        Message m = message(withSrc("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u00E9\\uD83D\\uDE00\\u0000z\""));
        assertThat(m.source()).isEqualTo("a\"b\\c/d\b\f\n\r\téé\uD83D\uDE00\u0000z");
    }

    @Test
    void aLoneSurrogateEscapeIsKeptInAValueAsJacksonKeepsIt() {
        assertThat(message(withSrc("\"x\\ud800\"")).source()).isEqualTo("x\ud800");
        assertThat(message(withSrc("\"\\udc00\\ud800\"")).source()).isEqualTo("\udc00\ud800");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "\"\\'\"", "\"\\U0041\"", "\"a\tb\"", "\"\\", "\"abc"})
    void badEscapesControlCharactersAndUnterminatedStringsAreMalformed(String jsonString) {
        assertThat(malformed(withSrc(jsonString)).detail()).startsWith("invalid JSON at byte ");
        malformed(HEAD + ",\"x\":[" + jsonString + "]}"); // also where the value is only skipped
    }

    @Test
    void escapedNamesAreMatchedByWhatTheyMean() {
        Message m = message("{\"\\u0076\":1,\"sr\\u0063\":\"s\",\"ts\":1,\"type\":\"event\","
                + "\"d\\u0061ta\":{\"lev\\u0065l\":\"warn\",\"msg\":\"m\"}}");
        assertThat(m.source()).isEqualTo("s");
        assertThat(m.level()).isEqualTo("warn");
        // an escaped long-form name makes it a long-form line, rewritten by the reference
        Message longForm = message("{\"\\u0073ource\":\"s\",\"ts\":1,\"type\":\"hello\",\"data\":{}}");
        assertThat(new String(longForm.line(), StandardCharsets.UTF_8))
                .isEqualTo("{\"v\":1,\"src\":\"s\",\"ts\":1,\"type\":\"hello\",\"data\":{}}");
    }

    @Test
    void escapedSurrogatesInNamesMustPairAsJacksonRequires() {
        message(HEAD + ",\"\\uD83D\\uDE00\":1}");
        malformed(HEAD + ",\"\\uD83D\":1}");
        malformed(HEAD + ",\"\\uD83Dx\":1}");
        malformed(HEAD + ",\"\\uD83D\\u0041\":1}");
        malformed(HEAD + ",\"\\uDE00\":1}");
    }

    @ParameterizedTest(name = "v={0}")
    @CsvSource({"1, MESSAGE", "-0, UNSUPPORTED_VERSION", "2, UNSUPPORTED_VERSION", "10000000000, UNSUPPORTED_VERSION",
        "1.0, BAD_TYPE", "1e0, BAD_TYPE", "01, MALFORMED", "+1, MALFORMED", "'\"1\"', BAD_TYPE"})
    void theVersionMustBeTheInteger1(String v, String outcome) {
        DecodeResult r = decode("{\"v\":" + v + ",\"src\":\"s\",\"ts\":1,\"type\":\"hello\",\"data\":{}}");
        assertThat(r.isMessage() ? "MESSAGE" : r.reason().name()).as("%s", r).isEqualTo(outcome);
    }

    @ParameterizedTest(name = "ts={0}")
    @CsvSource({"0, 0", "-0, 0", "1700000000123, 1700000000123", "9223372036854775807, 9223372036854775807",
        "9223372036854775808, field 'ts' is out of range", "-9223372036854775808, field 'ts' must be",
        "-9223372036854775809, field 'ts' is out of range", "12345678901234567890123, field 'ts' is out of range",
        "1.5, field 'ts' must be", "1e3, field 'ts' must be"})
    void timestampsAreNonNegativeLongs(String ts, String outcome) {
        DecodeResult r = decode("{\"v\":1,\"src\":\"s\",\"ts\":" + ts + ",\"type\":\"hello\",\"data\":{}}");
        assertThat(r.isMessage() ? String.valueOf(r.message().timestamp()) : r.detail()).startsWith(outcome);
    }

    @ParameterizedTest(name = "start={0}")
    @CsvSource({"1000, 1000", "1.5, 1", "-1.5, -2", "-0.0, 0", "1e3, 1000", "2.5E-1, 0", "1700000001000.999, 1700000001000",
        "9007199254740993, 9007199254740993", "9007199254740993.0, 9007199254740992", "1e400, 9223372036854775807",
        "-1e400, -9223372036854775808", "1e-400, 0", "123456789012345.5, 123456789012345",
        "0.30000000000000004441, 0", "9223372036854775807, 9223372036854775807"})
    void spanTimesAreIntegersOrFlooredFloats(String start, long expected) {
        Message m = message("{\"v\":1,\"src\":\"s\",\"ts\":1,\"type\":\"span\",\"data\":{\"name\":\"n\",\"start\":" + start
                + ",\"dur_ms\":0}}");
        assertThat(m.span()).isEqualTo(new SpanInfo("n", null, expected, expected));
    }

    @Test
    void aSpanTimeTooLargeForALongIsNotANumber() {
        assertThat(decode("{\"v\":1,\"src\":\"s\",\"ts\":1,\"type\":\"span\",\"data\":{\"name\":\"n\",\"start\":1,"
                + "\"end\":9223372036854775808}}").detail()).isEqualTo("field 'data.end' must be a number (epoch ms)");
    }

    @ParameterizedTest(name = "tid={0}")
    @CsvSource({"-0, -0", "0, 0", "12345678901234567890, 12345678901234567890", "'\"\"', ", "null, ", "'\"t\"', t"})
    void integerIdsKeepTheirDecimalText(String tid, String expected) {
        Message m = message("{\"v\":1,\"src\":\"s\",\"ts\":1,\"type\":\"hello\",\"tid\":" + tid + ",\"data\":{}}");
        assertThat(m.traceId()).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"-", "-a", "01", "-01", "00", "1.", "1.e5", ".5", "1e", "1e+", "1E-", "0x1", "NaN", "-Infinity",
        "1..2", "tru", "nul", "falsey", "true1"})
    void numbersAndLiteralsFollowTheGrammar(String value) {
        malformed(HEAD + ",\"x\":" + value + "}");
    }

    @Test
    void numberLengthCountsDigitsLikeJackson() {
        String thousand = "1".repeat(1000);
        message(HEAD + ",\"x\":" + thousand + "}");
        message(HEAD + ",\"x\":-" + thousand + "}"); // the sign does not count
        message(HEAD + ",\"x\":1e-" + "1".repeat(999) + "}"); // nor does the exponent's
        malformed(HEAD + ",\"x\":" + thousand + "1}");
        malformed(HEAD + ",\"x\":1." + thousand + "}");
        malformed(HEAD + ",\"x\":0." + "0".repeat(999) + "e1}");
    }

    @Test
    void nestingUpToTheLimitIsAcceptedAndOneLevelMoreIsNot() {
        // the line's object is level 1; 999 arrays inside reach Jackson's default limit of 1000
        message(HEAD + ",\"x\":" + "[".repeat(999) + "]".repeat(999) + "}");
        message(HEAD + ",\"x\":" + "{\"a\":".repeat(998) + "[]" + "}".repeat(998) + "}");
        assertThat(malformed(HEAD + ",\"x\":" + "[".repeat(1000) + "]".repeat(1000) + "}").detail())
                .contains("nesting deeper than 1000");
        malformed(HEAD + ",\"x\":" + "[{\"a\":".repeat(500) + "1" + "}]".repeat(500) + "}");
    }

    @Test
    void closersMustMatchAtAnyDepthIncludingBeyondSixtyFourLevels() {
        String open = "[{\"a\":".repeat(50); // 100 levels: past the first 64 kept in one long
        String close = "}]".repeat(50);
        message(HEAD + ",\"x\":" + open + "[1,{\"b\":[]}]" + close + "}");
        malformed(HEAD + ",\"x\":" + open + "[1,{\"b\":[]]]" + close + "}");
        malformed(HEAD + ",\"x\":" + open + "1" + close.substring(2) + "]}" + "}");
        malformed(HEAD + ",\"x\":" + open + "1" + close.substring(0, close.length() - 1) + "}");
    }

    @Test
    void aFactorysLimitsAreApplied() {
        JsonFactory tight = JsonFactory.builder().streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(3)
                .maxNumberLength(5).maxStringLength(4).maxNameLength(5).build()).build();
        LineDecoder scanner = new LineDecoder(tight);
        JacksonLineDecoder jackson = new JacksonLineDecoder(tight);
        String[][] cases = {
            {"{\"v\":1,\"src\":\"abcd\",\"ts\":1,\"type\":\"hello\",\"data\":{\"x\":[1]}}", "MESSAGE"},
            {"{\"v\":1,\"src\":\"abcd\",\"ts\":1,\"type\":\"hello\",\"data\":{\"x\":[[1]]}}", "MALFORMED"}, // depth 4
            {"{\"v\":1,\"src\":\"abcde\",\"ts\":1,\"type\":\"hello\",\"data\":{}}", "MALFORMED"}, // a kept string
            {"{\"v\":1,\"src\":\"a\",\"ts\":1,\"type\":\"event\",\"data\":{\"level\":\"x\",\"msg\":\"long msg\"}}",
                "MESSAGE"}, // msg is only skipped: no string limit
            {"{\"v\":1,\"src\":\"a\",\"ts\":12345,\"type\":\"hello\",\"tid\":1234,\"data\":{}}", "MESSAGE"},
            {"{\"v\":1,\"src\":\"a\",\"ts\":123456,\"type\":\"hello\",\"data\":{}}", "MALFORMED"}, // 6 digits
            {"{\"v\":1,\"src\":\"a\",\"ts\":1,\"type\":\"hello\",\"tid\":-1234,\"data\":{}}", "MALFORMED"}, // its text
            {"{\"v\":1,\"src\":\"a\",\"ts\":1,\"type\":\"hello\",\"data\":{\"ééé\":1}}", "MALFORMED"}, // 6 bytes
            {"{\"v\":1,\"src\":\"a\",\"ts\":1,\"type\":\"hello\",\"data\":{\"\\u00e9\\u00e9\":1}}", "MESSAGE"},
        };
        for (String[] c : cases) {
            byte[] line = c[0].getBytes(StandardCharsets.UTF_8);
            DecodeResult r = scanner.decode(line);
            assertThat(r.isMessage() ? "MESSAGE" : r.reason().name()).as("%s: %s", c[0], r).isEqualTo(c[1]);
            assertThat(DifferentialDecoderTest.disagreement(jackson.decode(line), r)).as(c[0]).isNull();
        }
    }

    /**
     * Jackson reads an integer too large for a long from its text, and its string limit applies to
     * that text: where the reference asks for a number's type ({@code v}, {@code ts}, span times),
     * such an integer longer than the limit makes the line malformed, a shorter one is out of range.
     */
    @Test
    void anIntegerTooLargeForALongIsReadAsTextUnderTheStringLimit() {
        JsonFactory tight = JsonFactory.builder().streamReadConstraints(StreamReadConstraints.builder()
                .maxStringLength(19).build()).build();
        LineDecoder scanner = new LineDecoder(tight);
        JacksonLineDecoder jackson = new JacksonLineDecoder(tight);
        String span = "{\"v\":1,\"src\":\"a\",\"ts\":1,\"type\":\"span\",\"data\":{\"name\":\"n\",\"start\":%s,\"end\":2}}";
        String[][] cases = {
            {"{\"v\":1,\"src\":\"a\",\"ts\":9223372036854775807,\"type\":\"hello\",\"data\":{}}", "MESSAGE"},
            {"{\"v\":1,\"src\":\"a\",\"ts\":9223372036854775808,\"type\":\"hello\",\"data\":{}}", "BAD_TYPE"},
            {"{\"v\":1,\"src\":\"a\",\"ts\":92233720368547758080,\"type\":\"hello\",\"data\":{}}", "MALFORMED"},
            {"{\"v\":1,\"src\":\"a\",\"ts\":-9223372036854775809,\"type\":\"hello\",\"data\":{}}", "MALFORMED"},
            {"{\"v\":9223372036854775808,\"src\":\"a\",\"ts\":1,\"type\":\"hello\",\"data\":{}}", "UNSUPPORTED_VERSION"},
            {"{\"v\":-9223372036854775809,\"src\":\"a\",\"ts\":1,\"type\":\"hello\",\"data\":{}}", "MALFORMED"},
            {String.format(span, "9223372036854775808"), "BAD_TYPE"},
            {String.format(span, "-9223372036854775809"), "MALFORMED"},
            {String.format(span, "-9223372036854775808"), "MESSAGE"},
            {String.format(span, "1234567890123456789.5"), "MESSAGE"}, // a float: not read as text
            {"{\"v\":1,\"src\":\"a\",\"ts\":1,\"type\":\"hello\",\"data\":{\"start\":-9223372036854775809}}",
                "MESSAGE"}, // not a span: its times are not read
        };
        for (String[] c : cases) {
            byte[] line = c[0].getBytes(StandardCharsets.UTF_8);
            DecodeResult r = scanner.decode(line);
            assertThat(r.isMessage() ? "MESSAGE" : r.reason().name()).as("%s: %s", c[0], r).isEqualTo(c[1]);
            assertThat(DifferentialDecoderTest.disagreement(jackson.decode(line), r)).as(c[0]).isNull();
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"c0af", "e080af", "f08080af", "eda080", "edbfbf", "f4908080", "f5808080", "80", "bf", "ff", "e282",
        "c328", "f09f98"})
    void invalidUtf8IsMalformedInValuesNamesAndSkippedValues(String hex) {
        byte[] bad = HexFormat.of().parseHex(hex);
        for (String[] around : new String[][] {{"{\"v\":1,\"src\":\"a", "\",\"ts\":1,\"type\":\"hello\",\"data\":{}}"},
            {HEAD + ",\"x\":[\"", "\"]}"}, {HEAD + ",\"k", "\":1}"}}) {
            byte[] head = around[0].getBytes(StandardCharsets.UTF_8);
            byte[] line = concat(head, bad, around[1].getBytes(StandardCharsets.UTF_8));
            DecodeResult r = decode(line);
            assertThat(r.reason()).as("%s", r).isEqualTo(DropReason.MALFORMED);
            assertThat(r.detail()).isEqualTo("invalid UTF-8 at byte " + head.length);
        }
    }

    @Test
    void validUtf8OfEveryLengthIsKeptAndDecoded() {
        Message m = message(withSrc("\"\u007f\u0080\u07ff\u0800\uffff\uD800\uDC00\uDBFF\uDFFF\""));
        assertThat(m.source()).isEqualTo("\u007f\u0080\u07ff\u0800\uffff\uD800\uDC00\uDBFF\uDFFF");
    }

    @Test
    void nonAsciiOutsideAStringIsMalformed() {
        malformed(HEAD + ",\"x\":é}");
        malformed(HEAD + "}\u00a0");
    }

    @Test
    void onlySpaceTabCrAndLfAreWhitespace() {
        Message m = message("{ \"v\" :\t1 ,\r\n\"src\":\"s\",\"ts\":1,\"type\":\"hello\",\"data\":{ } }");
        assertThat(m.line()[0]).isEqualTo((byte) '{');
        for (String notBlank : new String[] {"\f", "\u000b", "\u0000", "\u00a0"}) {
            malformed("{\"v\":1," + notBlank + "\"src\":\"s\",\"ts\":1,\"type\":\"hello\",\"data\":{}}");
        }
    }

    @Test
    void malformedDetailsSayWhereAndWhat() {
        assertThat(malformed("{\"v\":1,\"src\" \"s\"}").detail()).isEqualTo("invalid JSON at byte 13: expected ':'");
        assertThat(malformed("{\"v\":1,\"src\":\"s\"").detail()).isEqualTo("invalid JSON at byte 16: unexpected end of line");
        assertThat(malformed("{\"v\":1,}").detail()).isEqualTo("invalid JSON at byte 7: expected a field name");
        assertThat(malformed("{\"v\":1 x}").detail()).isEqualTo("invalid JSON at byte 7: expected ',' or '}'");
        assertThat(malformed(HEAD + "} 1").detail()).isEqualTo("trailing content after the JSON object");
        assertThat(malformed("  {\"v\":01}").detail()).isEqualTo("invalid JSON at byte 6: leading zero in number");
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
