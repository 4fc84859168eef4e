package io.signalbox.metrics.store.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.util.converter.Converters;

import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.metrics.promql.Matcher;
import io.signalbox.metrics.promql.PromQLException;

/**
 * The component as DS activates it: the database is opened on the store's own thread, so activation (on
 * Felix's start-level thread, before the TCP port opens) does not wait for DuckDB; writes and queries wait
 * for the open, and a store that cannot open fails writes (routing's channel retries and spools) and
 * queries (503) with the cause instead of losing anything.
 */
class MetricStoreComponentTest {
    @TempDir
    Path dir;

    static StoreConfig config(Map<String, String> props) {
        return Converters.standardConverter().convert(props).to(StoreConfig.class);
    }

    /** A point stamped now: an old one would race the retention check that runs as soon as the store opens. */
    static Batch metric(String source, String name, double value, long ts) {
        byte[] line = ("{\"v\":1,\"src\":\"" + source + "\",\"ts\":" + ts + ",\"type\":\"metric\",\"data\":{\"name\":\""
                + name + "\",\"value\":" + value + "}}").getBytes(StandardCharsets.UTF_8);
        return new Batch(source, List.of(new Message(source, ts, MessageType.METRIC, null, null, null, null, null, line)));
    }

    static Batch metric(String source, String name, double value) {
        return metric(source, name, value, System.currentTimeMillis());
    }

    @Test
    void activationOpensTheStoreOnItsOwnThreadAndWritesAndQueriesWaitForIt() throws Exception {
        Map<String, String> p = new HashMap<>();
        p.put("path", dir.resolve("metrics").toString());
        MetricStoreComponent c = new MetricStoreComponent(config(p));
        try {
            assertThat(c.enabled()).isTrue();
            long now = System.currentTimeMillis();
            c.write(metric("web", "cpu", 42, now)); // waits for the open, then buffers
            c.flush();
            assertThat(c.select(List.of(Matcher.of("__name__", "=", "cpu")), now - 1, now))
                    .singleElement().satisfies(s -> assertThat(s.values()).containsExactly(42.0));
            assertThat(c.store().seriesCount()).isEqualTo(1);
        } finally {
            c.deactivate();
        }
        assertThat(Files.exists(dir.resolve("metrics").resolve(DuckStore.FILE))).isTrue();
    }

    @Test
    void aStoreThatCannotOpenFailsWritesAndQueriesWithTheCauseWhileActivationSucceeds() throws Exception {
        Path notADirectory = Files.writeString(dir.resolve("a-file"), "x");
        Map<String, String> p = new HashMap<>();
        p.put("path", notADirectory.toString());
        MetricStoreComponent c = new MetricStoreComponent(config(p)); // does not throw: the open is not on this thread
        try {
            assertThatThrownBy(() -> c.write(metric("web", "cpu", 1))).isInstanceOf(SQLException.class)
                    .hasMessageContaining("could not be opened");
            assertThatThrownBy(() -> c.select(List.of(Matcher.of("__name__", "=", "cpu")), 0, 1)).isInstanceOf(PromQLException.class)
                    .hasMessageContaining("could not be opened");
            assertThatThrownBy(c::store).isInstanceOf(MetricStoreComponent.StoreUnavailableException.class);
            assertThat(c.enabled()).as("configured on, so not 'disabled'").isTrue();
        } finally {
            c.deactivate();
        }
    }

    @Test
    void aDisabledStoreCountsAndDiscardsWithoutOpeningAnything() throws Exception {
        Map<String, String> p = new HashMap<>();
        p.put("path", dir.resolve("metrics").toString());
        p.put("enabled", "false");
        MetricStoreComponent c = new MetricStoreComponent(config(p));
        c.write(metric("web", "cpu", 1));
        assertThat(c.store()).isNull();
        assertThat(c.enabled()).isFalse();
        c.deactivate();
        assertThat(Files.exists(dir.resolve("metrics"))).isFalse();
    }
}
