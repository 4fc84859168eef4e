package io.signalbox.protocol;

import io.signalbox.api.MessageType;

/**
 * The names the scanner looks for — envelope and {@code data} keys, type names, common levels —
 * matched by their {@link JsonValues#nameWord()}: up to eight bytes as one {@code long}, so that
 * a name costs one load and a few comparisons, not a {@code String}.
 */
final class WireNames {
    /** Top-level keys (0: any other). */
    static final int K_V = 1;
    static final int K_SRC = 2;
    static final int K_TS = 3;
    static final int K_TYPE = 4;
    static final int K_TID = 5;
    static final int K_SID = 6;
    static final int K_PID = 7;
    static final int K_CTX = 8;
    static final int K_DATA = 9;
    /** Any long-form name ({@code source}, {@code timestamp}, {@code trace_id}, {@code span_id}, {@code parent_span_id}). */
    static final int K_LONG_FORM = 10;
    /** {@code data} keys (0: any other). */
    static final int D_LEVEL = 1;
    static final int D_MSG = 2;
    static final int D_NAME = 3;
    static final int D_VALUE = 4;
    static final int D_STATUS = 5;
    static final int D_START = 6;
    static final int D_END = 7;
    static final int D_DUR = 8;

    private static final long W_V = word("v");
    private static final long W_SRC = word("src");
    private static final long W_TS = word("ts");
    private static final long W_TYPE = word("type");
    private static final long W_TID = word("tid");
    private static final long W_SID = word("sid");
    private static final long W_PID = word("pid");
    private static final long W_CTX = word("ctx");
    private static final long W_DATA = word("data");
    private static final long W_SOURCE = word("source");
    private static final long W_SPAN_ID = word("span_id");
    private static final long W_TRACE_ID = word("trace_id");
    private static final long W_LEVEL = word("level");
    private static final long W_MSG = word("msg");
    private static final long W_NAME = word("name");
    private static final long W_VALUE = word("value");
    private static final long W_STATUS = word("status");
    private static final long W_START = word("start");
    private static final long W_END = word("end");
    private static final long W_DUR_MS = word("dur_ms");
    private static final long W_EVENT = word("event");
    private static final long W_METRIC = word("metric");
    private static final long W_SPAN = word("span");
    private static final long W_PROGRESS = word("progress");
    private static final long W_RESOURCE = word("resource");
    private static final long W_HELLO = word("hello");
    private static final long W_GOODBYE = word("goodbye");
    private static final long W_OK = word("ok");
    private static final long W_INFO = word("info");
    private static final long W_ERROR = word("error");
    private static final long W_WARN = word("warn");
    private static final long W_DEBUG = word("debug");
    private static final long W_FATAL = word("fatal");

    /** {@code "name":} literals of 8 bytes or less, as {@link #word}s, and the masks of their lengths. */
    private static final long Q_V = word("\"v\":");
    private static final long Q_SRC = word("\"src\":");
    private static final long Q_TS = word("\"ts\":");
    private static final long Q_TYPE = word("\"type\":");
    private static final long Q_TID = word("\"tid\":");
    private static final long Q_SID = word("\"sid\":");
    private static final long Q_PID = word("\"pid\":");
    private static final long Q_CTX = word("\"ctx\":");
    private static final long Q_DATA = word("\"data\":");
    private static final long Q_LEVEL = word("\"level\":");
    private static final long Q_MSG = word("\"msg\":");
    private static final long Q_NAME = word("\"name\":");
    private static final long Q_VALUE = word("\"value\":");
    private static final long Q_START = word("\"start\":");
    private static final long Q_END = word("\"end\":");
    private static final long M4 = 0xFFFFFFFFL;
    private static final long M5 = 0xFFFFFFFFFFL;
    private static final long M6 = 0xFFFFFFFFFFFFL;
    private static final long M7 = 0xFFFFFFFFFFFFFFL;

    private WireNames() {
    }

    /**
     * The top-level key whose {@code "name":} starts the eight bytes {@code w} (little endian),
     * as {@code key << 8 | length of the literal}; 0 if {@code w} starts with none of them. A
     * match is a name of at most 4 bytes without escape, checked: the fast way past a name.
     */
    static int quotedTopKey(long w) {
        if ((w & M4) == Q_V) {
            return K_V << 8 | 4;
        } else if ((w & M6) == Q_SRC) {
            return K_SRC << 8 | 6;
        } else if ((w & M5) == Q_TS) {
            return K_TS << 8 | 5;
        } else if ((w & M7) == Q_TYPE) {
            return K_TYPE << 8 | 7;
        } else if ((w & M7) == Q_DATA) {
            return K_DATA << 8 | 7;
        }
        long w6 = w & M6;
        if (w6 == Q_TID) {
            return K_TID << 8 | 6;
        } else if (w6 == Q_CTX) {
            return K_CTX << 8 | 6;
        } else if (w6 == Q_SID) {
            return K_SID << 8 | 6;
        } else if (w6 == Q_PID) {
            return K_PID << 8 | 6;
        }
        return 0;
    }

    /** As {@link #quotedTopKey} for the {@code data} keys of at most 5 bytes. */
    static int quotedDataKey(long w) {
        if (w == Q_LEVEL) {
            return D_LEVEL << 8 | 8;
        } else if ((w & M6) == Q_MSG) {
            return D_MSG << 8 | 6;
        } else if ((w & M7) == Q_NAME) {
            return D_NAME << 8 | 7;
        } else if (w == Q_VALUE) {
            return D_VALUE << 8 | 8;
        } else if (w == Q_START) {
            return D_START << 8 | 8;
        } else if ((w & M6) == Q_END) {
            return D_END << 8 | 6;
        }
        return 0;
    }

    /** {@link JsonValues#nameWord()} of an ASCII name of 1 to 8 characters. */
    static long word(String name) {
        long w = 0;
        for (int i = name.length() - 1; i >= 0; i--) {
            w = w << 8 | name.charAt(i);
        }
        return w;
    }

    /** The top-level key of a name of up to 8 bytes, in the order lines usually have them. */
    static int topKey(long w) {
        if (w == W_V) {
            return K_V;
        } else if (w == W_SRC) {
            return K_SRC;
        } else if (w == W_TS) {
            return K_TS;
        } else if (w == W_TYPE) {
            return K_TYPE;
        } else if (w == W_DATA) {
            return K_DATA;
        } else if (w == W_TID) {
            return K_TID;
        } else if (w == W_SID) {
            return K_SID;
        } else if (w == W_PID) {
            return K_PID;
        } else if (w == W_CTX) {
            return K_CTX;
        } else if (w == W_SOURCE || w == W_SPAN_ID || w == W_TRACE_ID) {
            return K_LONG_FORM;
        }
        return 0;
    }

    /** The top-level key of an unescaped name. */
    static int topKey(String name) {
        return switch (name) {
            case "v" -> K_V;
            case "src" -> K_SRC;
            case "ts" -> K_TS;
            case "type" -> K_TYPE;
            case "tid" -> K_TID;
            case "sid" -> K_SID;
            case "pid" -> K_PID;
            case "ctx" -> K_CTX;
            case "data" -> K_DATA;
            case "source", "timestamp", "trace_id", "span_id", "parent_span_id" -> K_LONG_FORM;
            default -> 0;
        };
    }

    /** The {@code data} key of a name of up to 8 bytes. */
    static int dataKey(long w) {
        if (w == W_LEVEL) {
            return D_LEVEL;
        } else if (w == W_MSG) {
            return D_MSG;
        } else if (w == W_NAME) {
            return D_NAME;
        } else if (w == W_VALUE) {
            return D_VALUE;
        } else if (w == W_STATUS) {
            return D_STATUS;
        } else if (w == W_START) {
            return D_START;
        } else if (w == W_END) {
            return D_END;
        } else if (w == W_DUR_MS) {
            return D_DUR;
        }
        return 0;
    }

    /** The {@code data} key of an unescaped name. */
    static int dataKey(String name) {
        return switch (name) {
            case "level" -> D_LEVEL;
            case "msg" -> D_MSG;
            case "name" -> D_NAME;
            case "value" -> D_VALUE;
            case "status" -> D_STATUS;
            case "start" -> D_START;
            case "end" -> D_END;
            case "dur_ms" -> D_DUR;
            default -> 0;
        };
    }

    /** The type named by a string of up to 8 bytes ({@code heartbeat}, 9, is the caller's), or {@code null}. */
    static MessageType type(long w) {
        if (w == W_EVENT) {
            return MessageType.EVENT;
        } else if (w == W_METRIC) {
            return MessageType.METRIC;
        } else if (w == W_SPAN) {
            return MessageType.SPAN;
        } else if (w == W_PROGRESS) {
            return MessageType.PROGRESS;
        } else if (w == W_RESOURCE) {
            return MessageType.RESOURCE;
        } else if (w == W_HELLO) {
            return MessageType.HELLO;
        } else if (w == W_GOODBYE) {
            return MessageType.GOODBYE;
        }
        return null;
    }

    /** A shared constant for the usual span statuses, or {@code null}: the status is read as any kept string. */
    static String status(long w) {
        if (w == W_OK) {
            return "ok";
        } else if (w == W_ERROR) {
            return "error";
        }
        return null;
    }

    /** A shared constant for the usual levels, or {@code null}: the level is read as any kept string. */
    static String level(long w) {
        if (w == W_INFO) {
            return "info";
        } else if (w == W_ERROR) {
            return "error";
        } else if (w == W_WARN) {
            return "warn";
        } else if (w == W_DEBUG) {
            return "debug";
        } else if (w == W_FATAL) {
            return "fatal";
        }
        return null;
    }
}
