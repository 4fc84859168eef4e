package io.signalbox.http.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class IngestBodyTest {
    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The spans as text, compacted where flagged. */
    private static List<String> spans(IngestBody body, byte[] buf) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < body.count(); i++) {
            int len = body.length(i);
            if ((body.flags(i) & IngestBody.HAS_LINE_BREAK) != 0) {
                len = IngestBody.compact(buf, body.offset(i), len);
            }
            out.add(new String(buf, body.offset(i), len, StandardCharsets.UTF_8));
        }
        return out;
    }

    @Test
    void arrayElementsAreSplitAtTopLevelCommasOnly() {
        byte[] buf = bytes(" [ {\"a\":[1,2],\"b\":{\"c\":\"x,]}\"}} ,{\"q\":\"\\\"]\"}, 7 ] \n");

        IngestBody body = IngestBody.array(buf, buf.length);

        assertThat(body.structureError()).isNull();
        assertThat(spans(body, buf)).containsExactly("{\"a\":[1,2],\"b\":{\"c\":\"x,]}\"}} ", "{\"q\":\"\\\"]\"}", " 7 ");
    }

    @Test
    void anEmptyArrayHasNoElements() {
        byte[] buf = bytes("[ ]");

        IngestBody body = IngestBody.array(buf, buf.length);

        assertThat(body.structureError()).isNull();
        assertThat(body.count()).isZero();
    }

    @Test
    void brokenArraysAreStructureErrorsWithTheElementIndex() {
        for (String[] c : new String[][] {
            { "[{\"a\":1},{\"b\":2}", "unterminated array (no closing ']')", "1" },
            { "[{\"a\":1}] x", "trailing content after the JSON array", "1" },
            { "[{\"a\":1},,{}]", "empty array element", "1" },
            { "[{\"a\":\"x]", "unterminated string in the array", "0" },
            { "[{\"a\":1}}]", "unbalanced '}' in the array", "0" },
            { "{\"a\":1}", "not a JSON array", "0" },
        }) {
            byte[] buf = bytes(c[0]);

            IngestBody body = IngestBody.array(buf, buf.length);

            assertThat(body.structureError()).as(c[0]).isEqualTo(c[1]);
            assertThat(body.structureErrorIndex()).as(c[0]).isEqualTo(Integer.parseInt(c[2]));
        }
    }

    @Test
    void prettyPrintedElementsLoseTheirLineBreaksButStringsKeepTheirBytes() {
        byte[] buf = bytes("[\r\n  {\r\n    \"msg\": \"a\\nb \\\\\",\n    \"x\": 1\n  }\n]\n");

        IngestBody body = IngestBody.array(buf, buf.length);

        assertThat(spans(body, buf)).containsExactly("{    \"msg\": \"a\\nb \\\\\",    \"x\": 1  }");
    }

    @Test
    void aRawLineBreakInsideAStringIsLeftForTheDecoderToReject() {
        byte[] buf = bytes("{\"msg\":\"a\nb\"}\n");

        IngestBody body = IngestBody.single(buf, buf.length);

        assertThat(spans(body, buf)).containsExactly("{\"msg\":\"a\nb\"}");
    }

    @Test
    void linesSkipBlankLinesAndKeepCarriageReturnsForTheDecoder() {
        byte[] buf = bytes("{\"a\":1}\r\n\n  \n{\"b\":2}");

        IngestBody body = IngestBody.lines(buf, buf.length);

        assertThat(spans(body, buf)).containsExactly("{\"a\":1}\r", "{\"b\":2}");
    }

    @Test
    void blankAndArrayDetectionLookPastLeadingWhitespace() {
        assertThat(IngestBody.isBlank(bytes(" \r\n\t"), 4)).isTrue();
        assertThat(IngestBody.isArray(bytes("\n [1]"), 5)).isTrue();
        assertThat(IngestBody.isArray(bytes("{\"a\":[1]}"), 9)).isFalse();
        assertThat(IngestBody.trimmedLength(bytes(" ab \r"), 0, 5)).isEqualTo(2);
    }
}
