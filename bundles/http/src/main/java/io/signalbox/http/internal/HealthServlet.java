package io.signalbox.http.internal;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.OptionalDouble;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import io.signalbox.api.BackendStatus;
import io.signalbox.api.ConfigCheck;
import io.signalbox.api.Ingest;
import io.signalbox.api.MetricSamples;
import io.signalbox.api.Router;
import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code GET /health} and {@code GET /v1/health}: is the sidecar working, and if not, where not.
 *
 * <p>{@code down} (503) when the router or the ingest service is missing or the TCP transport is
 * not listening (its component registers its {@code StatsSource} only once its port is bound);
 * {@code degraded} (200) when any backend is not {@code up} — its data waits safely in its spool
 * and a restart would not help, so it is not a 503; {@code up} (200) otherwise.
 */
@Component(name = HealthServlet.NAME, service = Servlet.class)
@HttpWhiteboardServletPattern({ "/health", "/v1/health" })
public final class HealthServlet extends ReadOnlyServlet {
    /** Component name (stable; the servlet has no configuration of its own). */
    public static final String NAME = "io.signalbox.http.health";
    /** Component name of the TCP transport: its StatsSource exists while it listens. */
    static final String TCP_COMPONENT = "io.signalbox.transport.tcp";
    /** The series of open client connections, summed over every transport. */
    static final String CONNECTIONS = "signalbox_active_connections";
    /** The TCP transport's own name for it, read when a transport does not publish {@link #CONNECTIONS}. */
    static final String TCP_CONNECTIONS = "signalbox_tcp_connections_active";
    /** Correlation's count of sources with a live buffer. */
    static final String SOURCES = "signalbox_sources_active";

    private static final long serialVersionUID = 1L;

    private final transient SidecarServices services;

    @Activate
    public HealthServlet(@Reference(name = "services") SidecarServices services) {
        this.services = services;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        Router r = services.router;
        Ingest i = services.ingest;
        boolean tcpListening = false;
        long connections = 0;
        long sources = 0;
        for (StatsSources.Read read : StatsSources.read(services.statsSources, "/health")) {
            boolean tcp = read.isComponent(TCP_COMPONENT);
            tcpListening |= tcp;
            MetricSamples m = read.samples();
            OptionalDouble c = m.find(CONNECTIONS);
            if (c.isEmpty() && tcp) {
                c = m.find(TCP_CONNECTIONS);
            }
            connections += (long) c.orElse(0);
            sources += (long) m.valueOr(SOURCES, 0);
        }
        List<BackendStatus> backends = r == null ? List.of() : r.backends();
        String status;
        if (r == null || i == null || !tcpListening) {
            status = "down";
        } else if (backends.stream().anyMatch(b -> b.state() != BackendStatus.State.UP)) {
            status = "degraded";
        } else {
            status = "up";
        }
        long uptime = ManagementFactory.getRuntimeMXBean().getUptime() / 1000;
        long c = connections;
        long s = sources;
        byte[] body = ApiJson.render(g -> {
            g.writeStartObject();
            g.writeStringField("status", status);
            g.writeNumberField("uptime_seconds", uptime);
            g.writeNumberField("connections", c);
            g.writeNumberField("sources", s);
            ApiJson.array(g, "backends", backends, ApiJson::backend);
            g.writeFieldName("last_config_error");
            ConfigCheck.Rejection last = ConfigCheck.lastRejection().orElse(null);
            if (last == null) {
                g.writeNull();
            } else {
                ApiJson.rejection(g, last);
            }
            g.writeNumberField("config_errors", ConfigCheck.rejectionCount());
            g.writeEndObject();
        });
        ApiJson.send(resp, "down".equals(status) ? HttpServletResponse.SC_SERVICE_UNAVAILABLE
                : HttpServletResponse.SC_OK, body);
    }
}
