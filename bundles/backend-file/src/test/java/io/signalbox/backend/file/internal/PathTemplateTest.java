package io.signalbox.backend.file.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.signalbox.api.MessageType;

class PathTemplateTest {
    private static final long T = Instant.parse("2024-05-01T07:08:09Z").toEpochMilli();

    @Test
    void defaultTemplateExpandsToSourceAndUtcDate() {
        assertThat(new PathTemplate("{source}/{date}.jsonl").expand("web", MessageType.EVENT, T))
                .isEqualTo("web/2024-05-01.jsonl");
    }

    @Test
    void hourAndTypePlaceholdersExpandZeroPadded() {
        PathTemplate t = new PathTemplate("{type}/{source}-{date}T{hour}.jsonl");
        assertThat(t.expand("api", MessageType.METRIC, T)).isEqualTo("metric/api-2024-05-01T07.jsonl");
        assertThat(t.usesType()).isTrue();
        assertThat(t.expand("api", MessageType.SPAN, Instant.parse("2024-05-01T23:00:00Z").toEpochMilli()))
                .isEqualTo("span/api-2024-05-01T23.jsonl");
    }

    @Test
    void periodIsTheHourWithHourElseTheDayElseConstant() {
        long nextHour = T + PathTemplate.HOUR_MILLIS;
        assertThat(new PathTemplate("{source}/{date}/{hour}.jsonl").periodOf(T))
                .isNotEqualTo(new PathTemplate("{source}/{date}/{hour}.jsonl").periodOf(nextHour));
        assertThat(new PathTemplate("{source}/{date}.jsonl").periodOf(T))
                .isEqualTo(new PathTemplate("{source}/{date}.jsonl").periodOf(nextHour));
        assertThat(new PathTemplate("{source}.jsonl").periodOf(T))
                .isEqualTo(new PathTemplate("{source}.jsonl").periodOf(T + 400 * PathTemplate.DAY_MILLIS));
    }

    @Test
    void sanitiseKeepsSafeNamesAndEscapesEverythingElse() {
        assertThat(PathTemplate.sanitise("queue-7_a.b")).isEqualTo("queue-7_a.b");
        assertThat(PathTemplate.sanitise("web/api")).isEqualTo("web%2Fapi");
        assertThat(PathTemplate.sanitise("café 1")).isEqualTo("caf%C3%A9%201");
        assertThat(PathTemplate.sanitise("100%")).isEqualTo("100%25");
        assertThat(PathTemplate.sanitise("a\u0000b")).isEqualTo("a%00b");
        assertThat(PathTemplate.sanitise("")).isEqualTo("%");
        assertThat(PathTemplate.sanitise(null)).isEqualTo("%");
    }

    @Test
    void distinctSourcesNeverShareAFolder() {
        // the example: these three all became a_b
        List<String> sources = List.of("a/b", "a b", "a\nb", "a_b", "a%2Fb", "a%b", "", "%", "_", ".", "..", "%2E",
                "x".repeat(300), "x".repeat(299) + "y", "x".repeat(136) + "~" + "0".repeat(64), "\uD83D\uDE00", "\uD83D",
                "\uDE00", "?");
        Set<String> folders = new HashSet<>();
        for (String s : sources) {
            String f = PathTemplate.sanitise(s);
            assertThat(folders.add(f)).as("%s → %s is already taken", s, f).isTrue();
            assertThat(f).hasSizeLessThanOrEqualTo(PathTemplate.MAX_SOURCE_LENGTH).doesNotContain("/", "\\", "\u0000");
        }
    }

    @Test
    void randomSourcesMapInjectivelyAndStayOneSegment() {
        java.util.Random r = new java.util.Random(14);
        java.util.Map<String, String> seen = new java.util.HashMap<>();
        String alphabet = "ab_-.%/ \n\u0000\u00e9~";
        for (int n = 0; n < 200_000; n++) {
            StringBuilder b = new StringBuilder();
            int len = r.nextInt(6);
            for (int i = 0; i < len; i++) {
                b.append(alphabet.charAt(r.nextInt(alphabet.length())));
            }
            String source = b.toString();
            String folder = PathTemplate.sanitise(source);
            String before = seen.putIfAbsent(folder, source);
            assertThat(before == null || before.equals(source)).as("%s and %s share %s", before, source, folder).isTrue();
            assertThat(folder).isNotIn(".", "..").doesNotStartWith(".").doesNotContain("..", "/");
        }
    }

    @Test
    void sanitiseNeverYieldsDotDotOrAHiddenName() {
        assertThat(PathTemplate.sanitise("..")).isEqualTo("%2E%2E");
        assertThat(PathTemplate.sanitise("../../etc/passwd")).isEqualTo("%2E%2E%2F.%2E%2Fetc%2Fpasswd").doesNotContain("..", "/");
        assertThat(PathTemplate.sanitise("a...b")).isEqualTo("a.%2E%2Eb").doesNotContain("..");
        assertThat(PathTemplate.sanitise(".hidden")).isEqualTo("%2Ehidden");
        assertThat(PathTemplate.sanitise("x".repeat(300))).hasSize(PathTemplate.MAX_SOURCE_LENGTH)
                .contains("~");
    }

    @ParameterizedTest(name = "{0} → {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "{source}/{day}.jsonl       | {day}",
            "{source/x.jsonl            | '{' without '}'",
            "source}/x.jsonl            | '}' without '{'",
            "\" \"                        | is required",
            "/var/log/{source}.jsonl    | must be relative",
            "../{source}.jsonl          | . or .. segments",
            "{source}/                  | must end in a file name",
            "{source}//{date}.jsonl     | empty segment"})
    void unknownPlaceholdersUnbalancedBracesAndPathsOutsideAreRejected(String template, String reason) {
        assertThatThrownBy(() -> new PathTemplate(template)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("'path.template' ").hasMessageContaining(reason);
    }
}
