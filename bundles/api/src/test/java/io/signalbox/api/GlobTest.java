package io.signalbox.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class GlobTest {
    @Test
    void starQuestionMarkAndLiterals() {
        assertThat(Glob.matches("billing-*", "billing-api")).isTrue();
        assertThat(Glob.matches("billing-*", "billing-")).isTrue();
        assertThat(Glob.matches("billing-*", "billing")).isFalse();
        assertThat(Glob.matches("*", "")).isTrue();
        assertThat(Glob.matches("q?", "q1")).isTrue();
        assertThat(Glob.matches("q?", "q12")).isFalse();
        assertThat(Glob.matches("a*b*c", "axxbyyc")).isTrue();
        assertThat(Glob.matches("a*b*c", "axxbyy")).isFalse();
        assertThat(Glob.matches("*-api", "x-api-api")).isTrue();
        assertThat(Glob.matches("exact", "exact")).isTrue();
        assertThat(Glob.matches("exact", "exactly")).isFalse();
        assertThat(Glob.matches("a.c", "abc")).as("no regular expressions").isFalse();
    }

    @Test
    void wildcards() {
        assertThat(Glob.hasWildcard("queue-*")).isTrue();
        assertThat(Glob.hasWildcard("q?")).isTrue();
        assertThat(Glob.hasWildcard("queue")).isFalse();
    }
}
