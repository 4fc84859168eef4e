package io.signalbox.routing.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SourcePatternTest {

    @Test
    void exactNameMatchesOnlyItself() {
        SourcePattern p = SourcePattern.parse("billing");
        assertThat(p.kind()).isEqualTo(SourcePattern.Kind.EXACT);
        assertThat(p.matches("billing")).isTrue();
        assertThat(p.matches("billing2")).isFalse();
        assertThat(p.matches("Billing")).isFalse();
    }

    @Test
    void starMatchesAnyRunIncludingNoneAndQuestionMarkExactlyOneCharacter() {
        SourcePattern star = SourcePattern.parse("queue-*");
        assertThat(star.matches("queue-")).isTrue();
        assertThat(star.matches("queue-mail")).isTrue();
        assertThat(star.matches("queue")).isFalse();
        assertThat(star.matches("xqueue-a")).isFalse();

        SourcePattern q = SourcePattern.parse("job-?");
        assertThat(q.matches("job-1")).isTrue();
        assertThat(q.matches("job-")).isFalse();
        assertThat(q.matches("job-12")).isFalse();

        SourcePattern mid = SourcePattern.parse("*-worker-*-eu");
        assertThat(mid.matches("mail-worker-3-eu")).isTrue();
        assertThat(mid.matches("mail-worker-3-us")).isFalse();
        assertThat(SourcePattern.parse("*").matches("")).isTrue();
    }

    @Test
    void defaultMatchesNothingByItself() {
        SourcePattern p = SourcePattern.parse("default");
        assertThat(p.isDefault()).isTrue();
        assertThat(p.matches("default")).isFalse();
        assertThat(p.matches("anything")).isFalse();
    }

    @Test
    void unusableSourcesAreRejectedWithTheReason() {
        assertThatThrownBy(() -> SourcePattern.parse(" ")).hasMessageContaining("'source' is required");
        assertThatThrownBy(() -> SourcePattern.parse("queue-[ab]")).hasMessageContaining("only the wildcards * and ?");
        assertThatThrownBy(() -> SourcePattern.parse("a,b")).hasMessageContaining("contains ','");
        assertThatThrownBy(() -> SourcePattern.parse("a b")).hasMessageContaining("whitespace");
    }
}
