package io.signalbox.http.internal;

import java.io.IOException;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * A servlet that answers {@code GET} and {@code HEAD} (the same answer without its body, by
 * {@link HttpServlet}) with JSON, and every other method with 405 and {@code Allow: GET, HEAD}.
 */
abstract class ReadOnlyServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException, ServletException {
        String method = req.getMethod();
        if ("GET".equals(method) || "HEAD".equals(method)) {
            super.service(req, resp);
        } else {
            ApiJson.methodNotAllowed(resp, "GET, HEAD");
        }
    }

    /** The request parameter {@code name} stripped, or {@code null} if it is absent or blank. */
    static String parameter(HttpServletRequest req, String name) {
        String s = req.getParameter(name);
        return s == null || s.isBlank() ? null : s.strip();
    }

    @Override
    protected abstract void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException;
}
