package io.signalbox.backend.cloudwatch.internal;

import static io.signalbox.backend.cloudwatch.internal.Fixtures.config;
import static io.signalbox.backend.cloudwatch.internal.Fixtures.props;
import static io.signalbox.backend.cloudwatch.internal.Fixtures.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import org.junit.jupiter.api.Test;

import io.signalbox.api.MessageType;

class CloudWatchSettingsTest {
    @Test
    void defaultsFollowTheServiceContract() {
        CloudWatchSettings s = settings(props());
        assertThat(s.groupTemplate().text()).isEqualTo("signalbox");
        assertThat(s.streamTemplate().text()).isEqualTo("{source}");
        assertThat(s.createGroup()).isTrue();
        assertThat(s.createStream()).isTrue();
        assertThat(s.maxEventsPerCall()).isEqualTo(10_000);
        assertThat(s.maxBytesPerCall()).isEqualTo(1_048_576);
        assertThat(s.staticCredentials()).isFalse();
        assertThat(s.endpoint()).isNull();
    }

    @Test
    void unknownKeyIsRejectedWithDidYouMean() {
        assertThatThrownBy(() -> settings(props("log.stream.templat", "{source}")))
                .hasMessageContaining("'log.stream.templat'").hasMessageContaining("did you mean 'log.stream.template'");
    }

    @Test
    void limitsAboveTheServiceMaximaAreRejected() {
        assertThatThrownBy(() -> settings(props("max.events.per.call", 10_001))).hasMessageContaining("max.events.per.call");
        assertThatThrownBy(() -> settings(props("max.bytes.per.call", 2_000_000))).hasMessageContaining("max.bytes.per.call");
        assertThatThrownBy(() -> settings(props("parallelism", 0))).hasMessageContaining("parallelism");
        assertThatThrownBy(() -> settings(props("max.events.per.call", "many"))).hasMessageContaining("max.events.per.call");
    }

    @Test
    void templatesWithUnknownPlaceholdersOrInvalidCharactersAreRejected() {
        assertThatThrownBy(() -> settings(props("log.stream.template", "{host}"))).hasMessageContaining("{host}");
        assertThatThrownBy(() -> settings(props("log.group.template", "my group"))).hasMessageContaining("log.group.template");
        assertThatThrownBy(() -> settings(props("log.stream.template", "a:{source}"))).hasMessageContaining("':'");
        assertThatThrownBy(() -> settings(props("log.group.template", ""))).hasMessageContaining("must not be empty");
    }

    @Test
    void templatesExpandSourceAndType() {
        CloudWatchSettings s = settings(props("log.group.template", "/apps/{source}", "log.stream.template", "{source}-{type}"));
        assertThat(s.groupTemplate().expand("billing", MessageType.METRIC)).isEqualTo("/apps/billing");
        assertThat(s.streamTemplate().expand("billing", MessageType.METRIC)).isEqualTo("billing-metric");
        assertThat(s.streamTemplate().usesType()).isTrue();
        assertThat(s.groupTemplate().usesType()).isFalse();
    }

    @Test
    void accessKeyWithoutSecretAndBadEndpointAreRejected() {
        assertThatThrownBy(() -> settings(props("access.key.id", "AKID"))).hasMessageContaining("go together");
        assertThatThrownBy(() -> settings(props("endpoint", "ftp://x"))).hasMessageContaining("'endpoint'");
        assertThatThrownBy(() -> settings(props("region", "EU West"))).hasMessageContaining("'region'");
    }

    @Test
    void credentialsFromTheEnvironmentAreResolvedAndAnUnsetVariableIsNamed() {
        Map<String, Object> p = props("access.key.id", "${env:CW_KEY}", "secret.access.key", "${env:CW_SECRET}");
        CloudWatchSettings s = CloudWatchSettings.of(config(p), p, n -> n.equals("CW_KEY") ? "AKIDENV" : "from-env");
        assertThat(s.accessKeyId()).isEqualTo("AKIDENV");
        assertThat(s.secretAccessKey()).isEqualTo("from-env");
        assertThatThrownBy(() -> CloudWatchSettings.of(config(p), p, n -> n.equals("CW_KEY") ? "AKIDENV" : null))
                .hasMessageContaining("'secret.access.key' refers to environment variable CW_SECRET, which is not set");
    }

    @Test
    void everyProblemIsNamedAtOnce() {
        assertThatThrownBy(() -> settings(props("parallelism", 0, "max.attempts", 11, "log.stream.template", "{host}")))
                .hasMessageContaining("'parallelism' must be 1..64, is 0").hasMessageContaining("'max.attempts' must be 1..10, is 11")
                .hasMessageContaining("{host}");
    }

    @Test
    void theSecretAndSessionTokenAreNeverInTheDescription() {
        CloudWatchSettings s = settings(props("access.key.id", "AKIDEXAMPLE", "secret.access.key", "wJalrXUtnFEMI",
                "session.token", "FwoGZXIvYXdzEJr"));
        assertThat(s.describe()).doesNotContain("wJalrXUtnFEMI").doesNotContain("FwoGZXIvYXdzEJr")
                .doesNotContain("AKIDEXAMPLE").contains("AKID****");
        assertThat(s.toString()).doesNotContain("wJalrXUtnFEMI").doesNotContain("FwoGZXIvYXdzEJr");
    }
}
