package io.signalbox.backend.kafka.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import io.signalbox.api.MessageType;

class TopicTemplateTest {
    @Test
    void placeholdersAreReplacedAndIllegalCharactersOfValuesBecomeUnderscores() {
        TopicTemplate t = TopicTemplate.parse("sb.{source}.{type}");
        assertThat(t.topic("billing/api v2", MessageType.METRIC)).isEqualTo("sb.billing_api_v2.metric");
        assertThat(t.usesType()).isTrue();
        assertThat(TopicTemplate.parse("signalbox").topic("x", MessageType.EVENT)).isEqualTo("signalbox");
        assertThat(TopicTemplate.parse("signalbox").usesType()).isFalse();
    }

    @Test
    void aLongSubstitutedNameIsCutToKafkasLimit() {
        assertThat(TopicTemplate.parse("{source}").topic("a".repeat(400), MessageType.EVENT)).hasSize(249);
    }

    @Test
    void unknownPlaceholdersAndIllegalLiteralsAreRejectedWithTheReason() {
        assertThatThrownBy(() -> TopicTemplate.parse("sb.{host}")).hasMessageContaining("{source} and {type}");
        assertThatThrownBy(() -> TopicTemplate.parse("sb/{source}")).hasMessageContaining("'/'");
        assertThatThrownBy(() -> TopicTemplate.parse("")).hasMessageContaining("required");
        assertThatThrownBy(() -> TopicTemplate.parse("..")).hasMessageContaining("\"..\"");
    }
}
