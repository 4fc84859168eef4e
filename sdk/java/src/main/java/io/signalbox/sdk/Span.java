package io.signalbox.sdk;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An open span, ended once: by {@link #close()} (status {@code ok}, or {@code error} after
 * {@link #fail}), so that try-with-resources times a block, or by {@link #end(String)} with an
 * explicit status. Ending it writes one {@code span} message (name, status, start, end,
 * {@code dur_ms}, attributes). While it is open it is the parent of spans started on the same
 * thread and the {@code sid} of messages logged on that thread; ending a span again does nothing.
 *
 * <pre>{@code
 * try (Span span = monitoring.startSpan("parse")) {
 *     span.attr("file", name);
 *     try {
 *         parse(name);
 *     } catch (ParseException e) {
 *         span.fail(e);   // the scope then ends with status "error" and attrs.error
 *         throw e;
 *     }
 * }
 * }</pre>
 *
 * <p>A span may be ended from any thread. Attributes are meant to be set by the thread that
 * owns the span, before it ends.
 */
public final class Span implements AutoCloseable {
    private static final VarHandle ENDED;

    static {
        try {
            ENDED = MethodHandles.lookup().findVarHandle(Span.class, "ended", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Monitoring owner;
    private final String id;
    private final String parentId;
    private final String traceId;
    private final String name;
    private final long startMillis;
    private final long startNanos;
    /** The span that was innermost on this thread when this one started. */
    final Span parent;
    private volatile boolean ended;
    private String failStatus;
    private Map<String, Object> attrs;

    Span(Monitoring owner, String id, String parentId, String traceId, String name, Span parent, boolean detached) {
        this.owner = owner;
        this.id = id;
        this.parentId = parentId;
        this.traceId = traceId;
        this.name = name;
        this.parent = parent;
        this.startMillis = System.currentTimeMillis();
        this.startNanos = System.nanoTime();
        this.ended = detached;
    }

    /** This span's id ({@code sid}): 16 lower-case hex digits. */
    public String id() {
        return id;
    }

    /** The parent span's id ({@code pid}), or {@code null} for a root span of a new trace. */
    public String parentId() {
        return parentId;
    }

    /** The trace id ({@code tid}) this span was started in. */
    public String traceId() {
        return traceId;
    }

    public String name() {
        return name;
    }

    public boolean isEnded() {
        return ended;
    }

    /** Adds an attribute ({@code data.attrs}); ignored once the span has ended. */
    public Span attr(String key, Object value) {
        if (!ended && key != null) {
            if (attrs == null) {
                attrs = new LinkedHashMap<>(4);
            }
            attrs.put(key, value);
        }
        return this;
    }

    /** Marks the span failed: {@link #close()} then ends it with status {@code error} and {@code attrs.error = reason}. */
    public Span fail(String reason) {
        failStatus = "error";
        if (reason != null) {
            attr("error", reason);
        }
        return this;
    }

    /** Marks the span failed with {@code t.toString()} as the reason. */
    public Span fail(Throwable t) {
        return fail(t == null ? null : t.toString());
    }

    /** Ends the span with {@code status} ({@code null} means {@code ok}); a second end does nothing. */
    public void end(String status) {
        if (!ENDED.compareAndSet(this, false, true)) {
            return;
        }
        long durNanos = System.nanoTime() - startNanos;
        owner.spanEnded(this, status == null ? "ok" : status, startMillis, durNanos, attrs);
    }

    /** Ends the span with status {@code ok}, or {@code error} if {@link #fail} was called. */
    @Override
    public void close() {
        end(failStatus);
    }

    @Override
    public String toString() {
        return "Span[" + name + " " + id + (parentId == null ? "" : " in " + parentId) + "]";
    }
}
