package io.signalbox.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class TypedConfigTest {

    @interface Sample {
        String name() default "";

        int pool_size() default 4;

        long max__bytes() default 1024;

        double error_rate() default 0.5;

        boolean gzip() default false;

        String[] headers() default {};

        String dollar$_$dash() default "d";
    }

    @Test
    void absentKeysGiveTheDefaults() {
        Sample s = TypedConfig.of(Sample.class, Map.of());
        assertThat(s.name()).isEmpty();
        assertThat(s.pool_size()).isEqualTo(4);
        assertThat(s.max__bytes()).isEqualTo(1024);
        assertThat(s.error_rate()).isEqualTo(0.5);
        assertThat(s.gzip()).isFalse();
        assertThat(s.headers()).isEmpty();
        assertThat(s.dollar$_$dash()).isEqualTo("d");
    }

    @Test
    void keysAreMappedAsDeclarativeServicesDoes() {
        Sample s = TypedConfig.of(Sample.class, Map.of("pool.size", "8", "max_bytes", "2048", "error.rate", "0.25",
                "gzip", "TRUE", "dollar-dash", "x"));
        assertThat(s.pool_size()).isEqualTo(8);
        assertThat(s.max__bytes()).isEqualTo(2048);
        assertThat(s.error_rate()).isEqualTo(0.25);
        assertThat(s.gzip()).isTrue();
        assertThat(s.dollar$_$dash()).isEqualTo("x");
    }

    @Test
    void typedValuesArraysAndCollectionsConvert() {
        Sample s = TypedConfig.of(Sample.class, Map.of("pool.size", 16L, "max_bytes", 7, "gzip", Boolean.TRUE,
                "headers", List.of("A: 1", "B: 2"), "name", new String[] {"first", "second"}, "error.rate", 1));
        assertThat(s.pool_size()).isEqualTo(16);
        assertThat(s.max__bytes()).isEqualTo(7);
        assertThat(s.gzip()).isTrue();
        assertThat(s.headers()).containsExactly("A: 1", "B: 2");
        assertThat(s.name()).isEqualTo("first");
        assertThat(s.error_rate()).isEqualTo(1.0);
        assertThat(TypedConfig.of(Sample.class, Map.of("headers", "X: y")).headers()).containsExactly("X: y");
    }

    @Test
    void aValueThatDoesNotConvertThrowsWhenReadAndConfigValuesNamesIt() {
        Map<String, Object> bad = Map.of("pool.size", "many", "max_bytes", "99999999999999999999", "gzip", "yes");
        Sample s = TypedConfig.of(Sample.class, bad);
        assertThatThrownBy(s::pool_size).isInstanceOf(NumberFormatException.class);
        assertThatThrownBy(() -> TypedConfig.of(Sample.class, Map.of("pool.size", 1L << 40)).pool_size())
                .isInstanceOf(NumberFormatException.class).hasMessageContaining("out of range for an int");
        assertThatThrownBy(() -> ConfigValues.of(Sample.class, s, bad)).isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageContaining("'pool.size' = 'many' is not a valid int")
                .hasMessageContaining("'max_bytes' = '99999999999999999999' is not a valid long")
                .hasMessageContaining("'gzip' = 'yes' is not a valid boolean");
    }

    @Test
    void agreesWithTheOsgiConverterOnValidValues() {
        Map<String, Object> props = Map.of("name", " quoted ", "pool.size", "12", "max_bytes", 99L, "error.rate", "0.75",
                "gzip", "true", "headers", new String[] {"H: v"}, "dollar-dash", "y");
        Sample ours = TypedConfig.of(Sample.class, props);
        Sample theirs = FakeFramework.config(Sample.class, props);
        assertThat(ours.name()).isEqualTo(theirs.name());
        assertThat(ours.pool_size()).isEqualTo(theirs.pool_size());
        assertThat(ours.max__bytes()).isEqualTo(theirs.max__bytes());
        assertThat(ours.error_rate()).isEqualTo(theirs.error_rate());
        assertThat(ours.gzip()).isEqualTo(theirs.gzip());
        assertThat(ours.headers()).isEqualTo(theirs.headers());
        assertThat(ours.dollar$_$dash()).isEqualTo(theirs.dollar$_$dash());
        assertThat(ours.annotationType()).isEqualTo(Sample.class);
        assertThat(ours.toString()).contains("pool.size");
    }
}
