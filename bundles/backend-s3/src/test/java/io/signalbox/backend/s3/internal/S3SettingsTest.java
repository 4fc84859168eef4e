package io.signalbox.backend.s3.internal;

import static io.signalbox.backend.s3.internal.Fixtures.config;
import static io.signalbox.backend.s3.internal.Fixtures.props;
import static io.signalbox.backend.s3.internal.Fixtures.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class S3SettingsTest {
    private static final long MIB = 1024 * 1024;

    @Test
    void defaultsNeedOnlyABucket() {
        S3Settings s = settings(props("bucket", "my-archive"));
        assertThat(s.bucket()).isEqualTo("my-archive");
        assertThat(s.prefix()).isEmpty();
        assertThat(s.region()).isEqualTo("us-east-1");
        assertThat(s.endpoint()).isNull();
        assertThat(s.pathStyle()).isFalse();
        assertThat(s.staticCredentials()).isFalse();
        assertThat(s.gzip()).isTrue();
        assertThat(s.keyTemplate()).hasToString("{prefix}{source}/{yyyy}/{MM}/{dd}/{HH}/{uuid}.jsonl.gz");
        assertThat(s.objectMaxBytes()).isEqualTo(8 * MIB);
        assertThat(s.objectMaxAge()).isEqualTo(Duration.ofSeconds(60));
        assertThat(s.partSizeBytes()).isEqualTo(8 * MIB);
        assertThat(s.stagingDir()).isEqualTo(Path.of("data/s3"));
        assertThat(s.stagingMaxBytes()).isEqualTo(1024 * MIB);
        assertThat(s.uploadThreads()).isEqualTo(2);
    }

    @Test
    void withoutGzipTheKeyTemplateLosesItsGzSuffix() {
        assertThat(settings(props("bucket", "b-1", "gzip", "false")).keyTemplate())
                .hasToString("{prefix}{source}/{yyyy}/{MM}/{dd}/{HH}/{uuid}.jsonl");
    }

    @Test
    void keyTemplateRendersUtcTimeAndSafeSource() {
        KeyTemplate t = KeyTemplate.parse("{prefix}{name}/{source}/{yyyy}/{MM}/{dd}/{HH}/{mm}/{uuid}.jsonl.gz");
        // 2024-02-03T04:05:06Z
        assertThat(t.render("p/", "arch", "a b/../c", 1706933106000L, "u"))
                .isEqualTo("p/arch/a_b_.._c/2024/02/03/04/05/u.jsonl.gz");
        assertThat(KeyTemplate.safe("..")).isEqualTo("_");
    }

    @Test
    void bucketIsRequired() {
        assertThatThrownBy(() -> settings(props())).hasMessageContaining("'bucket' is required");
        assertThatThrownBy(() -> settings(props("bucket", " "))).hasMessageContaining("'bucket' is required");
    }

    @Test
    void invalidBucketNameIsRejected() {
        assertThatThrownBy(() -> settings(props("bucket", "My_Bucket"))).hasMessageContaining("not a valid S3 bucket name");
        assertThatThrownBy(() -> settings(props("bucket", "ab"))).hasMessageContaining("not a valid S3 bucket name");
    }

    @Test
    void unknownKeyIsRejectedWithSuggestion() {
        assertThatThrownBy(() -> settings(props("bucket", "b-1", "object.max.bm", "4")))
                .hasMessageContaining("unknown key 'object.max.bm' (did you mean 'object.max.mb'?)");
    }

    /**
     * Wrong types, sizes and times that are not positive or parts outside S3's limits, an endpoint
     * that is not an HTTP URL, a key template without {uuid} or with unknown placeholders.
     */
    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
        object.max.mb          | lots             | 'object.max.mb' = 'lots' is not a valid long
        object.max.mb          | 0                | 'object.max.mb' must be >= 1, is 0
        object.max.age.seconds | -1               | 'object.max.age.seconds'
        part.size.mb           | 4                | 'part.size.mb' must be 5..2047, is 4
        staging.max.mb         | 4                | 'staging.max.mb' (4) must be at least
        endpoint               | ftp://x          | 'endpoint' must be
        endpoint               | http://k:s@x     | user info
        key.template           | {source}/x.jsonl | must contain {uuid}
        key.template           | {src}/{uuid}     | unknown placeholder {src}
        key.template           | /{uuid}          | must not start with '/'
        key.template           | {uuid            | unclosed
        """)
    void anInvalidValueIsRejectedWithItsProblem(String key, String value, String problem) {
        assertThatThrownBy(() -> settings(props("bucket", "b-1", key, value))).hasMessageContaining(problem);
    }

    @Test
    void retryMaxMustBeAtLeastRetryInitial() {
        assertThatThrownBy(() -> settings(props("bucket", "b-1", "retry.initial.ms", "5000", "retry.max.ms", "1000")))
                .hasMessageContaining("'retry.max.ms' must be at least");
    }

    @Test
    void anHttpEndpointIsKept() {
        assertThat(settings(props("bucket", "b-1", "endpoint", "http://127.0.0.1:9000", "path.style", "true")).endpoint())
                .hasToString("http://127.0.0.1:9000");
    }

    @Test
    void everyProblemIsNamedAtOnce() {
        assertThatThrownBy(() -> settings(props("object.max.mb", "0", "endpoint", "ftp://x", "upload.threads", "65")))
                .hasMessageContaining("'bucket' is required, e.g. bucket=my-signalbox-archive")
                .hasMessageContaining("'object.max.mb' must be >= 1").hasMessageContaining("'endpoint' must be")
                .hasMessageContaining("'upload.threads' must be 1..64, is 65");
    }

    @Test
    void accessKeyAndSecretComeTogether() {
        assertThatThrownBy(() -> settings(props("bucket", "b-1", "access.key.id", "AKIA123")))
                .hasMessageContaining("must be set together");
    }

    @Test
    void secretFromEnvironmentIsResolvedAndAMissingVariableIsNamedNotGuessed() {
        Map<String, Object> p = props("bucket", "b-1", "access.key.id", "AKIAEXAMPLE", "secret.access.key", "${env:S3_SECRET}");
        S3Settings s = S3Settings.of(config(p), p, name -> name.equals("S3_SECRET") ? "from-env" : null);
        assertThat(s.secretAccessKey()).isEqualTo("from-env");
        assertThatThrownBy(() -> S3Settings.of(config(p), p, name -> null))
                .hasMessageContaining("environment variable S3_SECRET, which is not set");
    }

    @Test
    void theSecretIsNeverInTheDescriptionOrInRejections() {
        S3Settings s = settings(props("bucket", "b-1", "access.key.id", "AKIAEXAMPLE", "secret.access.key", "TOPSECRET"));
        assertThat(s.toString()).doesNotContain("TOPSECRET").doesNotContain("AKIAEXAMPLE").contains("static (access.key.id=AKIA…)");
        assertThatThrownBy(() -> settings(props("bucket", "b-1", "secret.access.key", "TOPSECRET")))
                .hasMessageNotContaining("TOPSECRET");
    }
}
