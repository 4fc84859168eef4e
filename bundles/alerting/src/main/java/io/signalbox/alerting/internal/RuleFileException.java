package io.signalbox.alerting.internal;

/** A rule file that is rejected as a whole: the line (1-based, 0 if none) and the reason. */
final class RuleFileException extends Exception {
    private static final long serialVersionUID = 1L;
    private final int line;

    RuleFileException(int line, String reason) {
        super(line > 0 ? "line " + line + ": " + reason : reason);
        this.line = line;
    }

    int line() {
        return line;
    }
}
