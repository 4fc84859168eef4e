package io.signalbox.config.yaml.internal;

import java.util.List;

/** A YAML configuration file that cannot be applied; the message lists every problem with its line and column. */
final class YamlRejectedException extends Exception {
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    YamlRejectedException(List<String> problems) {
        super(String.join("; ", problems));
        this.problems = List.copyOf(problems);
    }

    YamlRejectedException(String problem, Throwable cause) {
        super(problem, cause);
        this.problems = List.of(problem);
    }

    /** Each problem, e.g. {@code line 4, column 3: unknown section 'tpc' (did you mean 'tcp'?)}. */
    List<String> problems() {
        return problems;
    }
}
