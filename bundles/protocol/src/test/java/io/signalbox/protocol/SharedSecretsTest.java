package io.signalbox.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SharedSecretsTest {
    private static final String A = "alpha-secret-0123456789";
    private static final String B = "bravo-secret-0123456789";

    @Test
    void globsMatchStarsAndQuestionMarks() {
        assertThat(SourceGlob.of("billing-*").matches("billing-api")).isTrue();
        assertThat(SourceGlob.of("billing-*").matches("billing-")).isTrue();
        assertThat(SourceGlob.of("billing-*").matches("billing")).isFalse();
        assertThat(SourceGlob.of("billing-*").matches("xbilling-api")).isFalse();
        assertThat(SourceGlob.of("*-jobs").matches("billing-jobs")).isTrue();
        assertThat(SourceGlob.of("a*b*c").matches("aXXbYYbZc")).isTrue();
        assertThat(SourceGlob.of("a*b*c").matches("aXXbYY")).isFalse();
        assertThat(SourceGlob.of("job-?").matches("job-7")).isTrue();
        assertThat(SourceGlob.of("job-?").matches("job-77")).isFalse();
        assertThat(SourceGlob.of("exact").matches("exact")).isTrue();
        assertThat(SourceGlob.of("*").matches("")).isTrue();
        assertThatThrownBy(() -> SourceGlob.of("")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void everySecretMatchesWithItsOwnGrantAndOthersDoNot() {
        SharedSecrets s = SharedSecrets.builder().add("one", A, SourceGlob.of("billing-*")).add("two", B, SourceGlob.ANY).build();

        assertThat(s.match(A).label()).isEqualTo("one");
        assertThat(s.match(A).sources().toString()).isEqualTo("billing-*");
        assertThat(s.match(B).label()).isEqualTo("two");
        assertThat(s.match(A + "x")).isNull();
        assertThat(s.match(A.substring(1))).isNull();
        assertThat(s.match("")).isNull();
        assertThat(s.match(null)).isNull();
        assertThat(SharedSecrets.NONE.enabled()).isFalse();
    }

    @Test
    void toStringAndErrorsNeverContainASecret(@TempDir Path dir) throws Exception {
        SharedSecrets s = SharedSecrets.builder().add("auth.secret", A, SourceGlob.ANY).build();
        assertThat(s.toString()).doesNotContain(A).contains("1 secret(s)");

        Path bad = dir.resolve("bad");
        Files.writeString(bad, A + "\nshortone billing-*\n");
        assertThatThrownBy(() -> SharedSecrets.builder().addFile(bad))
                .hasMessageContaining("line 2: a secret needs at least 16 characters")
                .hasMessageNotContaining("shortone").hasMessageNotContaining(A);
    }

    @Test
    void aSecretFileHasOneSecretPerLineWithAnOptionalGlob(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("secrets");
        Files.writeString(f, "# comment\n\n" + A + "  billing-*\n" + B + "\n");
        SharedSecrets s = SharedSecrets.builder().addFile(f).build();

        assertThat(s.size()).isEqualTo(2);
        assertThat(s.match(A).sources().matches("billing-x")).isTrue();
        assertThat(s.match(A).sources().matches("ops")).isFalse();
        assertThat(s.match(B).sources()).isSameAs(SourceGlob.ANY);

        Path empty = dir.resolve("empty");
        Files.writeString(empty, "# nothing\n");
        assertThatThrownBy(() -> SharedSecrets.builder().addFile(empty)).hasMessageContaining("has no secret");
    }
}
