package io.signalbox.alerting.internal;

import java.io.IOException;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import com.fasterxml.jackson.core.JsonGenerator;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code GET /api/v1/rules} and {@code GET /api/v1/alerts} in Prometheus' format (exact patterns: they win over
 * the metrics store's {@code /api/v1/*}). Extra, outside Prometheus' format: {@code data.invalidFiles} in the
 * rules answer, the rule files rejected at their last change with the line and reason (their previous rules are
 * the ones listed).
 */
@Component(name = "io.signalbox.alerting.api", service = Servlet.class)
@HttpWhiteboardServletPattern({ "/api/v1/rules", "/api/v1/alerts" })
public final class AlertsServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private final transient AlertingComponent alerting;

    @Activate
    public AlertsServlet(@Reference AlertingComponent alerting) {
        this.alerting = alerting;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        AlertingComponent.View v = alerting.view();
        boolean rules = req.getServletPath().endsWith("/rules");
        String type = req.getParameter("type");
        byte[] body = Json.bytes(g -> {
            g.writeStartObject();
            g.writeStringField("status", "success");
            g.writeObjectFieldStart("data");
            if (rules) {
                rules(g, v, type == null || type.equals("alert"));
            } else {
                g.writeArrayFieldStart("alerts");
                for (AlertingComponent.RuleView r : v.rules()) {
                    for (AlertingComponent.AlertView a : r.alerts()) {
                        alert(g, a);
                    }
                }
                g.writeEndArray();
            }
            g.writeEndObject();
            g.writeEndObject();
        });
        resp.setStatus(200);
        resp.setContentType("application/json");
        resp.setContentLength(body.length);
        resp.getOutputStream().write(body);
    }

    private static void rules(JsonGenerator g, AlertingComponent.View v, boolean alertRules) throws IOException {
        g.writeArrayFieldStart("groups");
        String file = null;
        String group = null;
        for (AlertingComponent.RuleView r : alertRules ? v.rules() : java.util.List.<AlertingComponent.RuleView>of()) {
            if (!r.rule().file().equals(file) || !r.rule().group().equals(group)) {
                if (file != null) {
                    g.writeEndArray();
                    g.writeEndObject();
                }
                file = r.rule().file();
                group = r.rule().group();
                g.writeStartObject();
                g.writeStringField("name", group);
                g.writeStringField("file", file);
                g.writeNumberField("interval", r.rule().intervalMs() / 1000.0);
                g.writeArrayFieldStart("rules");
            }
            g.writeStartObject();
            g.writeStringField("state", r.state());
            g.writeStringField("name", r.rule().name());
            g.writeStringField("query", r.rule().query());
            g.writeNumberField("duration", r.rule().forMs() / 1000.0);
            Json.map(g, "labels", r.rule().labels());
            Json.map(g, "annotations", r.rule().annotations());
            g.writeArrayFieldStart("alerts");
            for (AlertingComponent.AlertView a : r.alerts()) {
                alert(g, a);
            }
            g.writeEndArray();
            g.writeStringField("health", r.health());
            if (r.lastError() != null) {
                g.writeStringField("lastError", r.lastError());
            }
            g.writeNumberField("evaluationTime", r.evaluationSeconds());
            g.writeStringField("lastEvaluation", r.lastEvaluation() == 0 ? "0001-01-01T00:00:00Z" : Json.rfc3339(r.lastEvaluation()));
            g.writeStringField("type", "alerting");
            g.writeEndObject();
        }
        if (file != null) {
            g.writeEndArray();
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeObjectFieldStart("invalidFiles");
        for (var e : v.fileErrors().entrySet()) {
            g.writeStringField(e.getKey(), e.getValue());
        }
        g.writeEndObject();
    }

    private static void alert(JsonGenerator g, AlertingComponent.AlertView a) throws IOException {
        g.writeStartObject();
        Json.map(g, "labels", a.labels());
        Json.map(g, "annotations", a.annotations());
        g.writeStringField("state", a.state());
        g.writeStringField("activeAt", Json.rfc3339(a.activeAt()));
        g.writeStringField("value", Templates.format(a.value()));
        g.writeEndObject();
    }
}
