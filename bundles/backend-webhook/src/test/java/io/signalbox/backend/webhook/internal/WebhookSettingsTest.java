package io.signalbox.backend.webhook.internal;

import static io.signalbox.backend.webhook.internal.Fixtures.props;
import static io.signalbox.backend.webhook.internal.Fixtures.settings;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.signalbox.api.ConfigCheck;

class WebhookSettingsTest {
    private static final String URL = "https://hooks.example.com/T000/secret?token=abc";

    private static String reason(Map<String, Object> props) {
        try {
            settings(props);
        } catch (ConfigCheck.Rejected e) {
            return e.getMessage();
        }
        throw new AssertionError("accepted: " + props.keySet());
    }

    @Test
    void defaultsApplyWhenOnlyTheUrlIsGiven() {
        WebhookSettings s = settings(props("url", URL));
        assertThat(s.method()).isEqualTo("POST");
        assertThat(s.gzip()).isFalse();
        assertThat(s.headers()).isEmpty();
        assertThat(s.connectTimeout()).isEqualTo(Duration.ofMillis(5000));
        assertThat(s.requestTimeout()).isEqualTo(Duration.ofMillis(10000));
        assertThat(s.maxBatchBytes()).isEqualTo(4194304);
        assertThat(s.origin()).isEqualTo("https://hooks.example.com");
    }

    @Test
    void frameworkKeysAndNameAreNotUnknown() {
        assertThat(settings(props("url", URL, "name", "x", "service.pid", "p", "service.factoryPid", "f",
                "felix.fileinstall.filename", "file:/etc/x.cfg", "component.name", "c", "component.id", 1L)))
                .isNotNull();
    }

    @Test
    void unknownKeyIsRejectedWithDidYouMean() {
        assertThat(reason(props("url", URL, "requst.timeout.ms", "100")))
                .contains("unknown key 'requst.timeout.ms'").contains("did you mean 'request.timeout.ms'?");
    }

    @Test
    void missingUrlIsRejected() {
        assertThat(reason(props("gzip", "true"))).contains("'url' is required");
    }

    @Test
    void urlMustBeHttpOrHttpsWithAHostAndNoUserInfo() {
        assertThat(reason(props("url", "ftp://example.com/x"))).contains("'url' must be an http:// or https:// URL with a host");
        assertThat(reason(props("url", "hooks.example.com/x"))).contains("'url' must be an http:// or https:// URL");
        assertThat(reason(props("url", "http:///nohost"))).contains("URL with a host");
        assertThat(reason(props("url", "http://exa mple.com/"))).contains("'url' must be").contains("Illegal character in authority");
        assertThat(reason(props("url", "https://user:pw@example.com/"))).contains("user info").doesNotContain("pw");
    }

    @Test
    void methodMustBePostOrPut() {
        assertThat(settings(props("url", URL, "method", "put")).method()).isEqualTo("PUT");
        assertThat(reason(props("url", URL, "method", "GET"))).contains("'method' must be one of POST, PUT, is \"GET\"");
    }

    @Test
    void badTypesAndRangesAreRejected() {
        assertThat(reason(props("url", URL, "gzip", "yes"))).contains("'gzip' = 'yes' is not a valid boolean");
        assertThat(reason(props("url", URL, "connect.timeout.ms", "5s"))).contains("'connect.timeout.ms' = '5s' is not a valid long");
        assertThat(reason(props("url", URL, "request.timeout.ms", "0"))).contains("'request.timeout.ms' must be >= 1, is 0");
        assertThat(reason(props("url", URL, "max.batch.bytes", "99999999999"))).contains("'max.batch.bytes' = '99999999999' is not a valid int");
    }

    @Test
    void everyProblemIsNamedAtOnce() {
        assertThat(reason(props("method", "GET", "request.timeout.ms", "0", "headers", "Bad Name: x")))
                .contains("'url' is required, e.g. url=https://hooks.example.com/signalbox")
                .contains("'method' must be one of POST, PUT").contains("'request.timeout.ms' must be >= 1")
                .contains("not a valid header name");
    }

    @Test
    void headersAcceptAListASingleTextAndThePlainTextListForm() {
        assertThat(settings(props("url", URL, "headers", new String[] {"A: 1", "B:2, 3"})).headers())
                .containsExactly("A", "1", "B", "2, 3");
        assertThat(settings(props("url", URL, "headers", "Authorization: Bearer x")).headers())
                .containsExactly("Authorization", "Bearer x");
        assertThat(settings(props("url", URL, "headers", "[\"A: 1\", \"B: \\\"q\\\", r\"]")).headers())
                .containsExactly("A", "1", "B", "\"q\", r");
    }

    @Test
    void badHeadersAreRejectedWithoutShowingTheirValues() {
        assertThat(reason(props("url", URL, "headers", new String[] {"X-Ok: 1", "Bearer secret-token"})))
                .contains("entry 2 is not \"Name: value\"").doesNotContain("secret-token");
        assertThat(reason(props("url", URL, "headers", new String[] {"Bad Name: secret-token"})))
                .contains("not a valid header name").doesNotContain("secret-token");
        assertThat(reason(props("url", URL, "headers", new String[] {"X-Token: secret\u0001token"})))
                .contains("control character").doesNotContain("secret");
        assertThat(reason(props("url", URL, "headers", new String[] {"Content-Type: text/plain"})))
                .contains("Content-Type").contains("cannot be configured");
        assertThat(reason(props("url", URL, "headers", "A: 1, B: 2")))
                .contains("single text with a comma").doesNotContain("B: 2");
    }

    @Test
    void headerNamesAreWhatMayBeLogged() {
        assertThat(settings(props("url", URL, "headers", new String[] {"A: secret", "B: other"})).headerNames())
                .isEqualTo(List.of("A", "B"));
    }
}
