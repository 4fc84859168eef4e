package io.signalbox.metrics.promql;

import java.util.List;

/** The syntax tree of the supported PromQL subset (grammar: the bundle's README). */
public sealed interface Expr {
    /** A number literal. */
    record Num(double value) implements Expr {
    }

    /** {@code name{label op "value", …}}: an instant vector selector. */
    record Selector(List<Matcher> matchers) implements Expr {
    }

    /** {@code selector[range]}. */
    record Range(Selector selector, long rangeMs) implements Expr {
    }

    /** A function call: {@code rate(x[5m])}, {@code quantile_over_time(0.9, x[5m])}. */
    record Call(String function, List<Expr> args) implements Expr {
    }

    /** {@code op by|without (labels) ([param,] expr)}. */
    record Aggregate(String op, List<String> grouping, boolean without, Expr param, Expr expr) implements Expr {
    }

    /** {@code lhs op [bool] rhs}. */
    record Binary(String op, Expr lhs, Expr rhs, boolean bool) implements Expr {
    }

    /** {@code -expr}. */
    record Negate(Expr expr) implements Expr {
    }
}
