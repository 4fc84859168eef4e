package io.signalbox.metrics.store.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import jakarta.servlet.http.HttpServletResponse;

/** JSON answers of the store's endpoints. */
final class Json {
    static final JsonFactory FACTORY = new JsonFactory();

    private Json() {
    }

    @FunctionalInterface
    interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    static void send(HttpServletResponse resp, int status, Body body) throws IOException {
        resp.setStatus(status);
        resp.setContentType("application/json");
        resp.setCharacterEncoding(StandardCharsets.UTF_8.name());
        try (OutputStream out = resp.getOutputStream(); JsonGenerator g = FACTORY.createGenerator(out)) {
            body.write(g);
        }
    }

    /** {@code {"error":"…"}}. */
    static void error(HttpServletResponse resp, int status, String message) throws IOException {
        send(resp, status, g -> {
            g.writeStartObject();
            g.writeStringField("error", message);
            g.writeEndObject();
        });
    }

    static void labels(JsonGenerator g, Map<String, String> labels) throws IOException {
        g.writeStartObject();
        for (Map.Entry<String, String> e : labels.entrySet()) {
            g.writeStringField(e.getKey(), e.getValue());
        }
        g.writeEndObject();
    }

    /** A value the way Prometheus writes it (Go's FormatFloat 'f', -1): {@code 85}, {@code 0.5}, {@code +Inf}, {@code NaN}. */
    static String promValue(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "+Inf" : "-Inf";
        }
        if (v == 0) {
            return "0";
        }
        return new BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString();
    }

    /** Epoch ms as Prometheus' seconds with up to 3 decimals. */
    static void promTime(JsonGenerator g, long ms) throws IOException {
        g.writeNumber(BigDecimal.valueOf(ms, 3).stripTrailingZeros());
    }
}
