package io.signalbox.metrics.promql;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A small recursive-descent parser for the PromQL subset the store answers (grammar: README.md of
 * this bundle). Anything outside it is a {@link PromQLException} that names what is not supported
 * and where.
 */
public final class Parser {
    /** Aggregation operators supported. */
    public static final Set<String> AGGREGATIONS = Set.of("sum", "avg", "min", "max", "count", "topk");
    /** Functions supported; all take a range vector, {@code quantile_over_time} a number first. */
    public static final Set<String> FUNCTIONS = Set.of("rate", "increase", "avg_over_time", "min_over_time",
            "max_over_time", "sum_over_time", "count_over_time", "quantile_over_time", "last_over_time");
    /** Prometheus aggregations and functions outside the subset: named in the error. */
    private static final Set<String> OTHER_AGGREGATIONS = Set.of("bottomk", "quantile", "stddev", "stdvar",
            "count_values", "group", "limitk", "limit_ratio");

    private enum T { NUM, STR, ID, DUR, OP, LPAREN, RPAREN, LBRACE, RBRACE, LBRACK, RBRACK, COMMA, EOF }

    private record Tok(T type, String text, int pos) {
    }

    private final String src;
    private final List<Tok> toks = new ArrayList<>();
    private int i;

    private Parser(String src) {
        this.src = src;
        lex();
    }

    /** Parses a whole expression. */
    public static Expr parse(String query) {
        if (query == null || query.isBlank()) {
            throw new PromQLException("empty query");
        }
        Parser p = new Parser(query);
        Expr e = p.comparison();
        if (p.peek().type != T.EOF) {
            throw p.error("unexpected " + p.describe(p.peek()));
        }
        return e;
    }

    /** A Prometheus duration: {@code 5m}, {@code 1h30m}, {@code 250ms}; milliseconds. */
    public static long duration(String text) {
        long total = 0;
        int k = 0;
        if (text.isEmpty()) {
            throw new PromQLException("empty duration");
        }
        while (k < text.length()) {
            int start = k;
            while (k < text.length() && Character.isDigit(text.charAt(k))) {
                k++;
            }
            if (start == k) {
                throw new PromQLException("not a duration: \"" + text + "\"");
            }
            long n = Long.parseLong(text.substring(start, k));
            int u = k;
            while (k < text.length() && Character.isLetter(text.charAt(k))) {
                k++;
            }
            long unit = switch (text.substring(u, k)) {
                case "ms" -> 1L;
                case "s" -> 1000L;
                case "m" -> 60_000L;
                case "h" -> 3_600_000L;
                case "d" -> 86_400_000L;
                case "w" -> 7 * 86_400_000L;
                case "y" -> 365 * 86_400_000L;
                default -> throw new PromQLException("not a duration: \"" + text + "\" (units: ms s m h d w y)");
            };
            total += n * unit;
        }
        return total;
    }

    // ---- grammar ------------------------------------------------------------------------------

    private static final Set<String> COMPARISONS = Set.of("==", "!=", ">", "<", ">=", "<=");

    private Expr comparison() {
        Expr lhs = additive();
        while (peek().type == T.OP && COMPARISONS.contains(peek().text)) {
            String op = next().text;
            boolean bool = false;
            if (peek().type == T.ID && peek().text.equals("bool")) {
                next();
                bool = true;
            }
            lhs = new Expr.Binary(op, lhs, additive(), bool);
        }
        if (peek().type == T.ID && Set.of("and", "or", "unless").contains(peek().text)) {
            throw error("set operator '" + peek().text + "' is not supported");
        }
        return lhs;
    }

    private Expr additive() {
        Expr lhs = multiplicative();
        while (peek().type == T.OP && (peek().text.equals("+") || peek().text.equals("-"))) {
            String op = next().text;
            lhs = new Expr.Binary(op, lhs, multiplicative(), false);
        }
        return lhs;
    }

    private Expr multiplicative() {
        Expr lhs = unary();
        while (peek().type == T.OP && Set.of("*", "/", "%").contains(peek().text)) {
            String op = next().text;
            lhs = new Expr.Binary(op, lhs, unary(), false);
        }
        return lhs;
    }

    private Expr unary() {
        if (peek().type == T.OP && (peek().text.equals("-") || peek().text.equals("+"))) {
            boolean minus = next().text.equals("-");
            Expr e = unary();
            if (!minus) {
                return e;
            }
            return e instanceof Expr.Num n ? new Expr.Num(-n.value()) : new Expr.Negate(e);
        }
        return power();
    }

    private Expr power() {
        Expr base = postfix();
        if (peek().type == T.OP && peek().text.equals("^")) {
            next();
            return new Expr.Binary("^", base, unary(), false); // right-associative
        }
        return base;
    }

    private Expr postfix() {
        Expr e = primary();
        if (peek().type == T.LBRACK) {
            Tok open = next();
            if (!(e instanceof Expr.Selector s)) {
                throw error(open, "a range [..] applies to a metric selector only (subqueries are not supported)");
            }
            Tok d = next();
            if (d.type != T.DUR && !(d.type == T.NUM && d.text.matches("\\d+"))) {
                throw error(d, "expected a duration like 5m in [..], got " + describe(d));
            }
            long ms = d.type == T.DUR ? duration(d.text) : Long.parseLong(d.text) * 1000;
            if ((peek().type == T.OP && peek().text.equals(":")) || (peek().type == T.ID && peek().text.startsWith(":"))) {
                throw error("subqueries are not supported");
            }
            expect(T.RBRACK, "]");
            if (ms <= 0) {
                throw error(d, "range must be positive");
            }
            e = new Expr.Range(s, ms);
        }
        if (peek().type == T.ID && (peek().text.equals("offset"))) {
            throw error("'offset' is not supported");
        }
        if (peek().type == T.OP && peek().text.equals("@")) {
            throw error("'@' modifiers are not supported");
        }
        return e;
    }

    private Expr primary() {
        Tok t = next();
        switch (t.type) {
            case NUM:
                return new Expr.Num(number(t.text));
            case LPAREN: {
                Expr e = comparison();
                expect(T.RPAREN, ")");
                return e;
            }
            case LBRACE:
                return selector(null, t);
            case ID: {
                String name = t.text;
                if (AGGREGATIONS.contains(name) && (peek().type == T.LPAREN || isGrouping(peek()))) {
                    return aggregate(name);
                }
                if (OTHER_AGGREGATIONS.contains(name) && (peek().type == T.LPAREN || isGrouping(peek()))) {
                    throw error(t, "aggregation '" + name + "' is not supported (supported: sum, avg, min, max, count, topk)");
                }
                if (peek().type == T.LPAREN) {
                    return call(t);
                }
                if (name.equals("Inf") || name.equals("inf")) {
                    return new Expr.Num(Double.POSITIVE_INFINITY);
                }
                if (name.equalsIgnoreCase("NaN")) {
                    return new Expr.Num(Double.NaN);
                }
                if (peek().type == T.LBRACE) {
                    return selector(name, next());
                }
                return new Expr.Selector(List.of(Matcher.of("__name__", "=", name)));
            }
            case STR:
                throw error(t, "string literals are not supported as expressions");
            default:
                throw error(t, "unexpected " + describe(t));
        }
    }

    private static boolean isGrouping(Tok t) {
        return t.type == T.ID && (t.text.equals("by") || t.text.equals("without"));
    }

    private Expr aggregate(String op) {
        List<String> grouping = List.of();
        boolean without = false;
        boolean grouped = false;
        if (isGrouping(peek())) {
            without = next().text.equals("without");
            grouping = labelList();
            grouped = true;
        }
        expect(T.LPAREN, "(");
        Expr param = null;
        if (op.equals("topk")) {
            param = comparison();
            expect(T.COMMA, ",");
        }
        Expr e = comparison();
        expect(T.RPAREN, ")");
        if (isGrouping(peek())) {
            if (grouped) {
                throw error("grouping given twice");
            }
            without = next().text.equals("without");
            grouping = labelList();
        }
        return new Expr.Aggregate(op, grouping, without, param, e);
    }

    private List<String> labelList() {
        expect(T.LPAREN, "(");
        List<String> out = new ArrayList<>();
        while (peek().type != T.RPAREN) {
            Tok l = next();
            if (l.type != T.ID) {
                throw error(l, "expected a label name, got " + describe(l));
            }
            out.add(l.text);
            if (peek().type == T.COMMA) {
                next();
            } else {
                break;
            }
        }
        expect(T.RPAREN, ")");
        return List.copyOf(out);
    }

    private Expr call(Tok name) {
        if (!FUNCTIONS.contains(name.text)) {
            throw error(name, "function '" + name.text + "' is not supported (supported: " + String.join(", ",
                    new java.util.TreeSet<>(FUNCTIONS)) + ")");
        }
        expect(T.LPAREN, "(");
        List<Expr> args = new ArrayList<>();
        while (peek().type != T.RPAREN) {
            args.add(comparison());
            if (peek().type == T.COMMA) {
                next();
            } else {
                break;
            }
        }
        expect(T.RPAREN, ")");
        int want = name.text.equals("quantile_over_time") ? 2 : 1;
        if (args.size() != want) {
            throw error(name, name.text + "() takes " + want + " argument" + (want == 1 ? "" : "s") + ", got " + args.size());
        }
        if (!(args.get(want - 1) instanceof Expr.Range)) {
            throw error(name, name.text + "() expects a range vector like metric[5m] as its "
                    + (want == 1 ? "argument" : "second argument"));
        }
        return new Expr.Call(name.text, List.copyOf(args));
    }

    private Expr selector(String name, Tok open) {
        List<Matcher> ms = new ArrayList<>();
        if (name != null) {
            ms.add(Matcher.of("__name__", "=", name));
        }
        while (peek().type != T.RBRACE) {
            Tok l = next();
            if (l.type == T.STR && (peek().type == T.COMMA || peek().type == T.RBRACE)) {
                ms.add(Matcher.of("__name__", "=", l.text)); // Prometheus 3: {"metric.with.dots"}
            } else {
                if (l.type != T.ID && l.type != T.STR) {
                    throw error(l, "expected a label name, got " + describe(l));
                }
                Tok op = next();
                if (op.type != T.OP || !Set.of("=", "!=", "=~", "!~").contains(op.text)) {
                    throw error(op, "expected one of = != =~ !~, got " + describe(op));
                }
                Tok v = next();
                if (v.type != T.STR) {
                    throw error(v, "expected a quoted label value, got " + describe(v));
                }
                ms.add(Matcher.of(l.text, op.text, v.text));
            }
            if (peek().type == T.COMMA) {
                next();
            } else {
                break;
            }
        }
        expect(T.RBRACE, "}");
        if (ms.isEmpty() || ms.stream().allMatch(Matcher::matchesEmpty)) {
            throw error(open, "vector selector must contain at least one non-empty matcher");
        }
        long names = ms.stream().filter(m -> m.label().equals("__name__") && m.op().equals("=")).count();
        if (name != null && names > 1) {
            throw error(open, "metric name given twice");
        }
        return new Expr.Selector(List.copyOf(ms));
    }

    private static double number(String text) {
        try {
            String t = text.toLowerCase(Locale.ROOT);
            if (t.startsWith("0x")) {
                return Long.parseLong(t.substring(2), 16);
            }
            return Double.parseDouble(text);
        } catch (NumberFormatException e) {
            throw new PromQLException("bad number \"" + text + "\"");
        }
    }

    // ---- lexer --------------------------------------------------------------------------------

    private void lex() {
        int k = 0;
        int n = src.length();
        while (k < n) {
            char c = src.charAt(k);
            if (Character.isWhitespace(c)) {
                k++;
                continue;
            }
            if (c == '#') { // comment to end of line
                while (k < n && src.charAt(k) != '\n') {
                    k++;
                }
                continue;
            }
            int start = k;
            if (Character.isDigit(c) || (c == '.' && k + 1 < n && Character.isDigit(src.charAt(k + 1)))) {
                if (c == '0' && k + 1 < n && (src.charAt(k + 1) == 'x' || src.charAt(k + 1) == 'X')) {
                    k += 2;
                    while (k < n && Character.digit(src.charAt(k), 16) >= 0) {
                        k++;
                    }
                    toks.add(new Tok(T.NUM, src.substring(start, k), start));
                    continue;
                }
                while (k < n && Character.isDigit(src.charAt(k))) {
                    k++;
                }
                if (k < n && Character.isLetter(src.charAt(k)) && src.charAt(k) != 'e' && src.charAt(k) != 'E') {
                    while (k < n && Character.isLetterOrDigit(src.charAt(k))) {
                        k++;
                    }
                    toks.add(new Tok(T.DUR, src.substring(start, k), start));
                    continue;
                }
                if (k < n && src.charAt(k) == '.') {
                    k++;
                    while (k < n && Character.isDigit(src.charAt(k))) {
                        k++;
                    }
                }
                if (k < n && (src.charAt(k) == 'e' || src.charAt(k) == 'E')) {
                    int e = k + 1;
                    if (e < n && (src.charAt(e) == '+' || src.charAt(e) == '-')) {
                        e++;
                    }
                    if (e < n && Character.isDigit(src.charAt(e))) {
                        k = e;
                        while (k < n && Character.isDigit(src.charAt(k))) {
                            k++;
                        }
                    }
                }
                toks.add(new Tok(T.NUM, src.substring(start, k), start));
                continue;
            }
            if (Character.isLetter(c) || c == '_' || c == ':') {
                while (k < n && (Character.isLetterOrDigit(src.charAt(k)) || src.charAt(k) == '_' || src.charAt(k) == ':')) {
                    k++;
                }
                toks.add(new Tok(T.ID, src.substring(start, k), start));
                continue;
            }
            if (c == '"' || c == '\'' || c == '`') {
                StringBuilder sb = new StringBuilder();
                k++;
                while (true) {
                    if (k >= n) {
                        throw new PromQLException("unterminated string at position " + start);
                    }
                    char d = src.charAt(k++);
                    if (d == c) {
                        break;
                    }
                    if (d == '\\' && c != '`') {
                        if (k >= n) {
                            throw new PromQLException("unterminated string at position " + start);
                        }
                        char x = src.charAt(k++);
                        switch (x) {
                            case 'n' -> sb.append('\n');
                            case 't' -> sb.append('\t');
                            case 'r' -> sb.append('\r');
                            case '\\' -> sb.append('\\');
                            case '"', '\'', '`' -> sb.append(x);
                            // keep regex escapes like \d and \. as written
                            default -> sb.append('\\').append(x);
                        }
                    } else {
                        sb.append(d);
                    }
                }
                toks.add(new Tok(T.STR, sb.toString(), start));
                continue;
            }
            T single = switch (c) {
                case '(' -> T.LPAREN;
                case ')' -> T.RPAREN;
                case '{' -> T.LBRACE;
                case '}' -> T.RBRACE;
                case '[' -> T.LBRACK;
                case ']' -> T.RBRACK;
                case ',' -> T.COMMA;
                default -> null;
            };
            if (single != null) {
                toks.add(new Tok(single, String.valueOf(c), start));
                k++;
                continue;
            }
            String two = k + 1 < n ? src.substring(k, k + 2) : "";
            if (Set.of("==", "!=", ">=", "<=", "=~", "!~").contains(two)) {
                toks.add(new Tok(T.OP, two, start));
                k += 2;
                continue;
            }
            if ("+-*/%^=<>:@".indexOf(c) >= 0) {
                toks.add(new Tok(T.OP, String.valueOf(c), start));
                k++;
                continue;
            }
            throw new PromQLException("unexpected character '" + c + "' at position " + start);
        }
        toks.add(new Tok(T.EOF, "", n));
    }

    private Tok peek() {
        return toks.get(i);
    }

    private Tok next() {
        Tok t = toks.get(i);
        if (t.type != T.EOF) {
            i++;
        }
        return t;
    }

    private void expect(T type, String what) {
        Tok t = next();
        if (t.type != type) {
            throw error(t, "expected '" + what + "', got " + describe(t));
        }
    }

    private String describe(Tok t) {
        return t.type == T.EOF ? "end of input" : "'" + t.text + "'";
    }

    private PromQLException error(String message) {
        return error(peek(), message);
    }

    private PromQLException error(Tok at, String message) {
        return new PromQLException("parse error at position " + (at.pos + 1) + ": " + message);
    }
}
