package io.signalbox.backend.file.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;

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
    void sanitiseKeepsSafeNamesAndReplacesEverythingElse() {
        assertThat(PathTemplate.sanitise("queue-7_a.b")).isEqualTo("queue-7_a.b");
        assertThat(PathTemplate.sanitise("web/api")).isEqualTo("web_api");
        assertThat(PathTemplate.sanitise("café 1")).isEqualTo("caf__1");
        assertThat(PathTemplate.sanitise("")).isEqualTo("_");
        assertThat(PathTemplate.sanitise(null)).isEqualTo("_");
    }

    @Test
    void sanitiseNeverYieldsDotDotOrAHiddenName() {
        assertThat(PathTemplate.sanitise("..")).isEqualTo("_.");
        assertThat(PathTemplate.sanitise("../../etc/passwd")).isEqualTo("_._.__etc_passwd").doesNotContain("..");
        assertThat(PathTemplate.sanitise("a...b")).isEqualTo("a._.b").doesNotContain("..");
        assertThat(PathTemplate.sanitise(".hidden")).isEqualTo("_hidden");
        assertThat(PathTemplate.sanitise("x".repeat(300))).hasSize(PathTemplate.MAX_SOURCE_LENGTH);
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
