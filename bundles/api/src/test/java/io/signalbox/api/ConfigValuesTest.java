package io.signalbox.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.osgi.util.converter.Converters;

class ConfigValuesTest {

    @interface Config {
        int pool_size() default 2;

        String url() default "";

        boolean gzip() default false;
    }

    private static Config config(Map<String, ?> properties) {
        return Converters.standardConverter().convert(properties).to(Config.class);
    }

    private static ConfigValues values(Map<String, ?> properties) {
        return ConfigValues.of(Config.class, config(properties), properties, Map.of("SET", "s3cr3t")::get);
    }

    @Test
    void unknownKeysAndWrongTypesAreRejectedBeforeValuesAreRead() {
        Map<String, Object> p = Map.of("pool.sise", "3", "url", "x");
        assertThatThrownBy(() -> values(p)).isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageContaining("unknown key 'pool.sise' (did you mean 'pool.size'?)");
        Map<String, Object> q = Map.of("pool.size", "many");
        assertThatThrownBy(() -> values(q)).isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageContaining("'pool.size' = 'many' is not a valid int");
    }

    @Test
    void aBooleanThatIsNotTrueOrFalseIsRejectedInsteadOfReadAsFalse() {
        assertThatThrownBy(() -> values(Map.of("gzip", "yes"))).isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessage("'gzip' = 'yes' is not a valid boolean (true, false)");
        values(Map.of("gzip", "TRUE"));
        values(Map.of("gzip", Boolean.FALSE));
        assertThatThrownBy(() -> values(Map.of("gzip", "\"true\""))).isInstanceOf(ConfigCheck.Rejected.class);
    }

    @Test
    void everyProblemIsNamedInOneRejectionInTheSameWords() {
        ConfigValues v = values(Map.of());
        assertThat(v.range("pool.size", 0, 1, 64)).isEqualTo(1);
        assertThat(v.atLeast("buffer.kb", -1L, 1L)).isEqualTo(1L);
        assertThat(v.range("resume.ratio", 1.5, 0, 1)).isEqualTo(0.0);
        assertThat(v.oneOf("method", "\"get\"", "POST", "PUT")).isEqualTo("POST");
        assertThat(v.required("bucket", " ", "my-archive")).isEmpty();
        assertThatThrownBy(v::done).isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessage("'pool.size' must be 1..64, is 0; 'buffer.kb' must be >= 1, is -1; "
                        + "'resume.ratio' must be 0..1, is 1.5; 'method' must be one of POST, PUT, is \"get\"; "
                        + "'bucket' is required, e.g. bucket=my-archive");
    }

    @Test
    void validValuesPassThroughAndDoneIsQuiet() {
        ConfigValues v = values(Map.of("pool.size", 4));
        assertThat(v.range("pool.size", 4, 1, 64)).isEqualTo(4);
        assertThat(v.oneOf("method", " put ", "POST", "PUT")).isEqualTo("PUT");
        assertThat(v.isSet("pool.size")).isTrue();
        assertThat(v.isSet("url")).isFalse();
        v.done();
        assertThat(v.problems()).isEmpty();
    }

    @Test
    void httpUrlsNeedSchemeAndHostAndNeverRepeatTheText() {
        ConfigValues v = values(Map.of());
        assertThat(v.httpUrl("endpoint", "http://127.0.0.1:9000", null)).isEqualTo(URI.create("http://127.0.0.1:9000"));
        assertThat(v.httpUrl("endpoint", "", null)).isNull();
        assertThat(v.problems()).isEmpty();
        v.httpUrl("url", "ftp://host/secret-token", "https://hooks.example.com/x");
        v.httpUrl("url", "https://user:pw@host/", null);
        v.httpUrl("url", "", "https://hooks.example.com/x");
        assertThat(v.problems()).containsExactly(
                "'url' must be an http:// or https:// URL with a host, e.g. url=https://hooks.example.com/x (scheme is \"ftp\")",
                "'url' must not carry user info (user:password@); pass credentials another way",
                "'url' is required, e.g. url=https://hooks.example.com/x");
        assertThat(String.join(" ", v.problems())).doesNotContain("secret-token").doesNotContain("pw");
    }

    @Test
    void secretsResolveEnvironmentReferencesAndAreNeverEchoed() {
        ConfigValues v = values(Map.of());
        assertThat(v.secret("password", "${env:SET}")).isEqualTo("s3cr3t");
        assertThat(v.secret("password", "\"plain\"")).isEqualTo("plain");
        assertThat(v.secret("password", "${env:UNSET}")).isEmpty();
        assertThat(v.problems()).containsExactly("'password' refers to environment variable UNSET, which is not set");
    }

    @Test
    void parsersReportTheirOwnReason() {
        ConfigValues v = values(Map.of());
        assertThat(v.parse(() -> Integer.valueOf(7))).isEqualTo(7);
        assertThat(v.<Object>parse(() -> {
            throw new IllegalArgumentException("fsync must be one of never, batch, interval; got \"sometimes\"");
        })).isNull();
        v.check(false, "'retry.max.ms' must be at least 'retry.initial.ms'");
        assertThat(v.problems()).containsExactly("fsync must be one of never, batch, interval; got \"sometimes\"",
                "'retry.max.ms' must be at least 'retry.initial.ms'");
    }

    @Test
    void unquoteStripsOnePairOfQuotesAndBlanks() {
        assertThat(ConfigValues.unquote(null)).isEmpty();
        assertThat(ConfigValues.unquote("  \" a b \" ")).isEqualTo("a b");
        assertThat(ConfigValues.unquote("\"")).isEqualTo("\"");
    }
}
