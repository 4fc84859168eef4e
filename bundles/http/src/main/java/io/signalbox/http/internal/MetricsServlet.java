package io.signalbox.http.internal;

import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.util.HashSet;
import java.util.Set;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.signalbox.api.RateLimitedLog;
import io.signalbox.api.StatsSource;
import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code GET /metrics}: every {@link StatsSource} of the sidecar (converted by
 * {@link StatsCollector}) and the JVM's own metrics (prometheus-metrics-instrumentation-jvm:
 * memory, GC, threads, classes, CPU, file descriptors, ...), written by the Prometheus client
 * library in the text format the scraper asks for ({@code Accept}: Prometheus text 0.0.4 by
 * default, OpenMetrics on request). The answer is built in memory first, so a failure never
 * leaves a half-written 200: a component whose stats fail is left out and counted; only if the
 * library itself fails is the answer a 500.
 */
@Component(name = MetricsServlet.NAME, service = Servlet.class)
@HttpWhiteboardServletPattern(MetricsServlet.PATH)
public final class MetricsServlet extends HttpServlet {
    /** Component name (stable; the servlet has no configuration of its own). */
    public static final String NAME = "io.signalbox.http.metrics";
    static final String PATH = "/metrics";

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(MetricsServlet.class);

    private final transient RateLimitedLog errors = new RateLimitedLog(LOG);
    private final transient ExpositionFormats formats = ExpositionFormats.init();
    private final transient StatsCollector collector;

    @Activate
    public MetricsServlet(@Reference(name = "services") SidecarServices services) {
        this.collector = new StatsCollector(() -> StatsSources.byName(services.statsSources), MetricsServlet::jvmNames);
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        ExpositionFormatWriter writer = formats.findWriter(req.getHeader("Accept"));
        if (!writer.isAvailable()) { // protobuf needs a module we do not ship
            writer = formats.getPrometheusTextFormatWriter();
        }
        MetricSnapshots snapshots;
        try {
            snapshots = scrape();
        } catch (RuntimeException e) {
            errors.error("collect", "/metrics could not be collected: {}", e.toString(), e);
            resp.sendError(HttpServletResponse.SC_INTERNAL_SERVER_ERROR, "metrics could not be collected");
            return;
        }
        resp.setStatus(HttpServletResponse.SC_OK);
        resp.setContentType(writer.getContentType());
        resp.setHeader("Cache-Control", "no-store");
        // streamed, not buffered: with thousands of backends the text runs to tens of MiB
        try (OutputStream out = new BufferedOutputStream(resp.getOutputStream(), 64 * 1024)) {
            writer.write(out, snapshots);
        } catch (EOFException e) {
            LOG.debug("/metrics: the client went away before the answer was complete", e);
        } catch (IOException | RuntimeException e) {
            // the status line is out: the client sees a cut answer (and a scraper an error), the log says why
            errors.error("write", "/metrics could not be written: {}", e.toString(), e);
        }
    }

    private static Set<String> jvmNames() {
        try {
            return Jvm.names();
        } catch (LinkageError e) { // the JVM metrics failed to initialise: scrape() logs it
            return Set.of();
        }
    }

    /** Everything one answer holds: the JVM's metrics (if they can be read) and every component's. */
    MetricSnapshots scrape() {
        MetricSnapshots.Builder all = MetricSnapshots.builder();
        try {
            for (MetricSnapshot s : Jvm.REGISTRY.scrape()) {
                all.metricSnapshot(s);
            }
        } catch (RuntimeException | LinkageError e) {
            errors.warn("jvm", "JVM metrics could not be read for /metrics: {}", e.toString(), e);
        }
        for (MetricSnapshot s : collector.collect()) {
            all.metricSnapshot(s);
        }
        return all.build();
    }

    /** The JVM metrics, registered once per class loader (JvmMetrics remembers every registry it filled). */
    static final class Jvm {
        static final PrometheusRegistry REGISTRY = new PrometheusRegistry();
        private static final Set<String> NAMES = new HashSet<>();

        static {
            JvmMetrics.builder().register(REGISTRY);
            for (MetricSnapshot s : REGISTRY.scrape()) {
                NAMES.add(s.getMetadata().getPrometheusName());
            }
        }

        private Jvm() {
        }

        /** Family names the JVM metrics use. */
        static Set<String> names() {
            return NAMES;
        }
    }
}
