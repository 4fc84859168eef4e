package io.signalbox.sdk.internal;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Trace context across process boundaries: reads {@code SIGNALBOX_TRACE=<tid>[:<sid>]} (which
 * wins) or W3C {@code TRACEPARENT=00-<32 hex>-<16 hex>-<2 hex>}, and writes both for a child.
 */
public final class TraceEnv {
    public static final String SIGNALBOX_TRACE = "SIGNALBOX_TRACE";
    public static final String TRACEPARENT = "TRACEPARENT";

    /** The inherited trace id and parent span id, either possibly {@code null}. */
    public record Inherited(String traceId, String spanId) {
        static final Inherited NONE = new Inherited(null, null);
    }

    private TraceEnv() {
    }

    /** What {@code env} passes on; {@link Inherited#NONE}-like (both null) when nothing valid is there. */
    public static Inherited read(Map<String, String> env) {
        String trace = trim(env.get(SIGNALBOX_TRACE));
        if (trace != null) {
            int colon = trace.lastIndexOf(':');
            String tid = colon < 0 ? trace : trim(trace.substring(0, colon));
            String sid = colon < 0 ? null : trim(trace.substring(colon + 1));
            if (tid != null) {
                return new Inherited(tid, sid);
            }
        }
        String tp = trim(env.get(TRACEPARENT));
        if (tp != null && tp.length() >= 55) {
            String[] parts = tp.split("-", -1);
            if (parts.length >= 4 && parts[0].length() == 2 && isHex(parts[0]) && !parts[0].equals("ff")
                    && (parts[0].equals("00") ? parts.length == 4 : true)
                    && isTraceId(parts[1]) && isSpanId(parts[2]) && parts[3].length() == 2 && isHex(parts[3])) {
                return new Inherited(parts[1], parts[2]);
            }
        }
        return Inherited.NONE;
    }

    /**
     * The variables for a child process continuing trace {@code tid} under span {@code sid}:
     * {@code SIGNALBOX_TRACE} always (when there is a trace), {@code TRACEPARENT} when both ids
     * fit W3C (32 and 16 lower-case hex digits, not all zero). Empty without a trace.
     */
    public static Map<String, String> forChild(String tid, String sid) {
        Map<String, String> env = new LinkedHashMap<>(4);
        if (tid == null) {
            return env;
        }
        env.put(SIGNALBOX_TRACE, sid == null ? tid : tid + ":" + sid);
        if (sid != null && isTraceId(tid) && isSpanId(sid)) {
            env.put(TRACEPARENT, "00-" + tid + "-" + sid + "-01");
        }
        return env;
    }

    static boolean isTraceId(String s) {
        return s.length() == 32 && isHex(s) && !allZero(s);
    }

    static boolean isSpanId(String s) {
        return s.length() == 16 && isHex(s) && !allZero(s);
    }

    private static boolean isHex(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }

    private static boolean allZero(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) != '0') {
                return false;
            }
        }
        return true;
    }

    private static String trim(String s) {
        if (s == null) {
            return null;
        }
        String t = s.strip();
        return t.isEmpty() ? null : t;
    }
}
