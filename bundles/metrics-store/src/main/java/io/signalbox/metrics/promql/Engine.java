package io.signalbox.metrics.promql;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.signalbox.metrics.promql.Values.Matrix;
import io.signalbox.metrics.promql.Values.Sample;
import io.signalbox.metrics.promql.Values.Scalar;
import io.signalbox.metrics.promql.Values.SeriesData;
import io.signalbox.metrics.promql.Values.Value;
import io.signalbox.metrics.promql.Values.Vector;

/**
 * Evaluates the PromQL subset with Prometheus' semantics: instant selectors take the latest sample
 * in (t - lookback, t]; range selectors the samples in (t - range, t]; {@code rate}/{@code increase}
 * extrapolate like Prometheus' {@code extrapolatedRate} and handle counter resets; functions and
 * arithmetic drop {@code __name__}.
 *
 * <p>An instant query asks the {@link Storage} per selector (so the store can push the scan and the
 * per-series aggregation into SQL); a range query loads each selector's samples once for the
 * whole range and evaluates every step in memory.
 */
public final class Engine {
    /** A range query's result: per series, its points. */
    public record RangeResult(List<Series> series) {
        public record Series(Map<String, String> labels, long[] timestamps, double[] values) {
        }
    }

    private final Storage storage;
    private final long lookbackMs;

    public Engine(Storage storage, long lookbackMs) {
        this.storage = storage;
        this.lookbackMs = lookbackMs;
    }

    /** Evaluates at one instant (epoch ms). */
    public Value instant(Expr expr, long t) {
        return eval(expr, t, new Direct());
    }

    /** Evaluates at start, start + step, … ≤ end. */
    public RangeResult range(Expr expr, long start, long end, long step) {
        if (step <= 0) {
            throw new PromQLException("zero or negative query resolution step widths are not accepted");
        }
        if (end < start) {
            throw new PromQLException("end timestamp must not be before start time");
        }
        if ((end - start) / step > 11_000) {
            throw new PromQLException("exceeded maximum resolution of 11,000 points per timeseries; try a larger step");
        }
        Prefetched data = new Prefetched(expr, start, end);
        Map<Map<String, String>, List<double[]>> points = new LinkedHashMap<>();
        for (long t = start; t <= end; t += step) {
            Value v = eval(expr, t, data);
            if (v instanceof Matrix) {
                throw new PromQLException("invalid expression type \"range vector\" for range query, must be Scalar or instant Vector");
            }
            if (v instanceof Scalar s) {
                points.computeIfAbsent(Map.of(), k -> new ArrayList<>()).add(new double[] {t, s.value()});
            } else {
                for (Sample s : ((Vector) v).samples()) {
                    points.computeIfAbsent(s.labels(), k -> new ArrayList<>()).add(new double[] {t, s.value()});
                }
            }
        }
        List<RangeResult.Series> out = new ArrayList<>();
        for (Map.Entry<Map<String, String>, List<double[]>> e : points.entrySet()) {
            List<double[]> l = e.getValue();
            long[] ts = new long[l.size()];
            double[] vs = new double[l.size()];
            for (int k = 0; k < ts.length; k++) {
                ts[k] = (long) l.get(k)[0];
                vs[k] = l.get(k)[1];
            }
            out.add(new RangeResult.Series(e.getKey(), ts, vs));
        }
        out.sort(Comparator.comparing(s -> s.labels().toString()));
        return new RangeResult(out);
    }

    // ---- data access --------------------------------------------------------------------------

    private interface Data {
        List<Sample> instant(Expr.Selector s, long t);

        List<SeriesData> range(Expr.Range r, long t);

        /** {@code null}: compute from {@link #range}. */
        List<Sample> overTime(String fn, double param, Expr.Range r, long t);
    }

    /** Asks the storage at each evaluation (instant queries: one step). */
    private final class Direct implements Data {
        @Override
        public List<Sample> instant(Expr.Selector s, long t) {
            return storage.latest(s.matchers(), t - lookbackMs, t);
        }

        @Override
        public List<SeriesData> range(Expr.Range r, long t) {
            return storage.select(r.selector().matchers(), t - r.rangeMs(), t);
        }

        @Override
        public List<Sample> overTime(String fn, double param, Expr.Range r, long t) {
            return storage.overTime(fn, param, r.selector().matchers(), t - r.rangeMs(), t);
        }
    }

    /** Loads every selector's samples once for the whole range; each step takes a slice. */
    private final class Prefetched implements Data {
        private final Map<Expr, List<SeriesData>> loaded = new IdentityHashMap<>();

        Prefetched(Expr root, long start, long end) {
            load(root, start, end, false);
        }

        private void load(Expr e, long start, long end, boolean inRange) {
            if (e instanceof Expr.Selector s) {
                loaded.put(s, storage.select(s.matchers(), start - lookbackMs, end));
            } else if (e instanceof Expr.Range r) {
                loaded.put(r, storage.select(r.selector().matchers(), start - r.rangeMs(), end));
            } else if (e instanceof Expr.Call c) {
                c.args().forEach(a -> load(a, start, end, inRange));
            } else if (e instanceof Expr.Aggregate a) {
                load(a.expr(), start, end, inRange);
                if (a.param() != null) {
                    load(a.param(), start, end, inRange);
                }
            } else if (e instanceof Expr.Binary b) {
                load(b.lhs(), start, end, inRange);
                load(b.rhs(), start, end, inRange);
            } else if (e instanceof Expr.Negate n) {
                load(n.expr(), start, end, inRange);
            }
        }

        @Override
        public List<Sample> instant(Expr.Selector s, long t) {
            List<Sample> out = new ArrayList<>();
            for (SeriesData d : loaded.get(s)) {
                int last = upper(d.timestamps(), t) - 1; // last index with ts <= t
                if (last >= 0 && d.timestamps()[last] > t - lookbackMs) {
                    out.add(new Sample(d.labels(), d.values()[last]));
                }
            }
            return out;
        }

        @Override
        public List<SeriesData> range(Expr.Range r, long t) {
            List<SeriesData> out = new ArrayList<>();
            for (SeriesData d : loaded.get(r)) {
                int from = upper(d.timestamps(), t - r.rangeMs());
                int to = upper(d.timestamps(), t);
                if (to > from) {
                    out.add(new SeriesData(d.labels(), Arrays.copyOfRange(d.timestamps(), from, to),
                            Arrays.copyOfRange(d.values(), from, to)));
                }
            }
            return out;
        }

        @Override
        public List<Sample> overTime(String fn, double param, Expr.Range r, long t) {
            return null;
        }

        /** First index with ts > t. */
        private static int upper(long[] ts, long t) {
            int lo = 0;
            int hi = ts.length;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (ts[mid] <= t) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo;
        }
    }

    // ---- evaluation ---------------------------------------------------------------------------

    private Value eval(Expr e, long t, Data data) {
        if (e instanceof Expr.Num n) {
            return new Scalar(n.value());
        }
        if (e instanceof Expr.Selector s) {
            return new Vector(sorted(data.instant(s, t)));
        }
        if (e instanceof Expr.Range r) {
            return new Matrix(data.range(r, t));
        }
        if (e instanceof Expr.Call c) {
            return call(c, t, data);
        }
        if (e instanceof Expr.Aggregate a) {
            return aggregate(a, t, data);
        }
        if (e instanceof Expr.Binary b) {
            return binary(b, t, data);
        }
        Expr.Negate n = (Expr.Negate) e;
        Value v = eval(n.expr(), t, data);
        if (v instanceof Scalar s) {
            return new Scalar(-s.value());
        }
        return new Vector(sorted(vector(v, "unary minus").samples().stream()
                .map(s -> new Sample(dropName(s.labels()), -s.value())).toList()));
    }

    private Value call(Expr.Call c, long t, Data data) {
        String fn = c.function();
        Expr.Range r = (Expr.Range) c.args().get(c.args().size() - 1);
        double param = 0;
        if (fn.equals("quantile_over_time")) {
            param = scalar(eval(c.args().get(0), t, data), "quantile_over_time's first argument");
        }
        boolean keepName = fn.equals("last_over_time");
        if (fn.endsWith("_over_time")) {
            String agg = fn.substring(0, fn.length() - "_over_time".length());
            List<Sample> pushed = data.overTime(agg, param, r, t);
            if (pushed != null) {
                return new Vector(sorted(pushed.stream()
                        .map(s -> new Sample(keepName ? s.labels() : dropName(s.labels()), s.value())).toList()));
            }
        }
        List<Sample> out = new ArrayList<>();
        boolean counter = fn.equals("rate") || fn.equals("increase");
        for (SeriesData d : data.range(r, t)) {
            if (counter && d.size() < 2) {
                continue; // Prometheus: no result from fewer than two samples
            }
            double v = counter ? extrapolatedRate(d, t - r.rangeMs(), t, fn.equals("rate"))
                    : overTime(fn.substring(0, fn.length() - "_over_time".length()), param, d.values());
            out.add(new Sample(keepName ? d.labels() : dropName(d.labels()), v));
        }
        return new Vector(sorted(out));
    }

    /** Prometheus' {@code extrapolatedRate} (promql/functions.go) for a counter; NaN if fewer than two samples. */
    static double extrapolatedRate(SeriesData d, long rangeStart, long rangeEnd, boolean perSecond) {
        int n = d.size();
        if (n < 2) {
            return Double.NaN;
        }
        long[] ts = d.timestamps();
        double[] vs = d.values();
        double result = vs[n - 1] - vs[0];
        double prev = vs[0];
        for (int k = 1; k < n; k++) { // a counter that went down was reset: add what it had reached
            if (vs[k] < prev) {
                result += prev;
            }
            prev = vs[k];
        }
        double durationToStart = (ts[0] - rangeStart) / 1000.0;
        double durationToEnd = (rangeEnd - ts[n - 1]) / 1000.0;
        double sampledInterval = (ts[n - 1] - ts[0]) / 1000.0;
        double averageBetween = sampledInterval / (n - 1);
        if (result > 0 && vs[0] >= 0) {
            double durationToZero = sampledInterval * (vs[0] / result);
            if (durationToZero < durationToStart) {
                durationToStart = durationToZero;
            }
        }
        double threshold = averageBetween * 1.1;
        double extrapolateTo = sampledInterval;
        extrapolateTo += durationToStart < threshold ? durationToStart : averageBetween / 2;
        extrapolateTo += durationToEnd < threshold ? durationToEnd : averageBetween / 2;
        result = result * (extrapolateTo / sampledInterval);
        if (perSecond) {
            result = result / ((rangeEnd - rangeStart) / 1000.0);
        }
        return result;
    }

    /** {@code <agg>_over_time} of the values in a window (never empty). */
    static double overTime(String agg, double param, double[] vs) {
        switch (agg) {
            case "avg": {
                double sum = 0;
                for (double v : vs) {
                    sum += v;
                }
                return sum / vs.length;
            }
            case "sum": {
                double sum = 0;
                for (double v : vs) {
                    sum += v;
                }
                return sum;
            }
            case "min": {
                double m = vs[0];
                for (double v : vs) {
                    if (v < m || Double.isNaN(m)) {
                        m = v;
                    }
                }
                return m;
            }
            case "max": {
                double m = vs[0];
                for (double v : vs) {
                    if (v > m || Double.isNaN(m)) {
                        m = v;
                    }
                }
                return m;
            }
            case "count":
                return vs.length;
            case "last":
                return vs[vs.length - 1];
            case "quantile":
                return quantile(param, vs);
            default:
                throw new PromQLException("function " + agg + "_over_time is not supported");
        }
    }

    /** Prometheus' quantile: linear interpolation between closest ranks (rank = q·(n−1)). */
    static double quantile(double q, double[] values) {
        if (Double.isNaN(q)) {
            return Double.NaN;
        }
        if (q < 0) {
            return Double.NEGATIVE_INFINITY;
        }
        if (q > 1) {
            return Double.POSITIVE_INFINITY;
        }
        double[] vs = values.clone();
        Arrays.sort(vs);
        double rank = q * (vs.length - 1);
        int lower = (int) Math.max(0, Math.floor(rank));
        int upper = (int) Math.min(vs.length - 1, lower + 1);
        double weight = rank - Math.floor(rank);
        return vs[lower] * (1 - weight) + vs[upper] * weight;
    }

    private Value aggregate(Expr.Aggregate a, long t, Data data) {
        Vector in = vector(eval(a.expr(), t, data), a.op() + "()");
        Map<Map<String, String>, List<Sample>> groups = new LinkedHashMap<>();
        for (Sample s : in.samples()) {
            groups.computeIfAbsent(groupLabels(s.labels(), a.grouping(), a.without()), k -> new ArrayList<>()).add(s);
        }
        List<Sample> out = new ArrayList<>();
        if (a.op().equals("topk")) {
            double k = scalar(eval(a.param(), t, data), "topk's parameter");
            long limit = (long) k;
            for (List<Sample> g : groups.values()) {
                List<Sample> sortedDesc = new ArrayList<>(g);
                // NaN sorts last, like Prometheus
                sortedDesc.sort((x, y) -> Double.isNaN(x.value()) ? (Double.isNaN(y.value()) ? 0 : 1)
                        : Double.isNaN(y.value()) ? -1 : Double.compare(y.value(), x.value()));
                out.addAll(sortedDesc.subList(0, (int) Math.min(Math.max(limit, 0), sortedDesc.size())));
            }
            return new Vector(out);
        }
        for (Map.Entry<Map<String, String>, List<Sample>> g : groups.entrySet()) {
            List<Sample> l = g.getValue();
            double v = switch (a.op()) {
                case "sum" -> l.stream().mapToDouble(Sample::value).sum();
                case "avg" -> l.stream().mapToDouble(Sample::value).sum() / l.size();
                case "count" -> l.size();
                case "min" -> l.stream().mapToDouble(Sample::value).filter(x -> !Double.isNaN(x)).min().orElse(Double.NaN);
                case "max" -> l.stream().mapToDouble(Sample::value).filter(x -> !Double.isNaN(x)).max().orElse(Double.NaN);
                default -> throw new PromQLException("aggregation " + a.op() + " is not supported");
            };
            out.add(new Sample(g.getKey(), v));
        }
        return new Vector(sorted(out));
    }

    private static Map<String, String> groupLabels(Map<String, String> labels, List<String> grouping, boolean without) {
        Map<String, String> out = new TreeMap<>();
        if (without) {
            labels.forEach((k, v) -> {
                if (!k.equals("__name__") && !grouping.contains(k)) {
                    out.put(k, v);
                }
            });
        } else {
            for (String g : grouping) {
                String v = labels.get(g);
                if (v != null && !v.isEmpty()) {
                    out.put(g, v);
                }
            }
        }
        return out;
    }

    private Value binary(Expr.Binary b, long t, Data data) {
        Value l = eval(b.lhs(), t, data);
        Value r = eval(b.rhs(), t, data);
        boolean comparison = switch (b.op()) {
            case "==", "!=", ">", "<", ">=", "<=" -> true;
            default -> false;
        };
        if (l instanceof Matrix || r instanceof Matrix) {
            throw new PromQLException("binary expression must contain only scalar and instant vector types");
        }
        if (l instanceof Scalar ls && r instanceof Scalar rs) {
            if (comparison && !b.bool()) {
                throw new PromQLException("comparisons between scalars must use BOOL modifier");
            }
            return new Scalar(apply(b.op(), ls.value(), rs.value(), comparison));
        }
        if (l instanceof Vector && r instanceof Vector) {
            throw new PromQLException("binary operations between two vectors are not supported (only vector-scalar and scalar-scalar)");
        }
        boolean vectorLeft = l instanceof Vector;
        Vector v = (Vector) (vectorLeft ? l : r);
        double k = ((Scalar) (vectorLeft ? r : l)).value();
        List<Sample> out = new ArrayList<>();
        for (Sample s : v.samples()) {
            double x = vectorLeft ? s.value() : k;
            double y = vectorLeft ? k : s.value();
            double res = apply(b.op(), x, y, comparison);
            if (comparison && !b.bool()) {
                if (res == 1) {
                    out.add(s); // a filter: the sample as it is
                }
            } else {
                out.add(new Sample(dropName(s.labels()), res));
            }
        }
        return new Vector(sorted(out));
    }

    private static double apply(String op, double x, double y, boolean comparison) {
        if (comparison) {
            boolean r = switch (op) {
                case "==" -> x == y;
                case "!=" -> x != y;
                case ">" -> x > y;
                case "<" -> x < y;
                case ">=" -> x >= y;
                case "<=" -> x <= y;
                default -> throw new IllegalStateException(op);
            };
            return r ? 1 : 0;
        }
        return switch (op) {
            case "+" -> x + y;
            case "-" -> x - y;
            case "*" -> x * y;
            case "/" -> x / y;
            case "%" -> x % y;
            case "^" -> Math.pow(x, y);
            default -> throw new PromQLException("operator " + op + " is not supported");
        };
    }

    private static double scalar(Value v, String what) {
        if (v instanceof Scalar s) {
            return s.value();
        }
        throw new PromQLException(what + " must be a number");
    }

    private static Vector vector(Value v, String what) {
        if (v instanceof Vector vec) {
            return vec;
        }
        throw new PromQLException(what + " expects an instant vector, got " + (v instanceof Scalar ? "a scalar" : "a range vector"));
    }

    static Map<String, String> dropName(Map<String, String> labels) {
        if (!labels.containsKey("__name__")) {
            return labels;
        }
        Map<String, String> out = new TreeMap<>(labels);
        out.remove("__name__");
        return out;
    }

    private static List<Sample> sorted(List<Sample> in) {
        List<Sample> out = new ArrayList<>(in);
        out.sort(Comparator.comparing(s -> s.labels().toString()));
        // distinct label sets only: two series that differ in __name__ alone collide once it is dropped
        Map<Map<String, String>, Boolean> seen = new HashMap<>();
        for (Sample s : out) {
            if (seen.put(s.labels(), Boolean.TRUE) != null) {
                throw new PromQLException("execution", "vector cannot contain metrics with the same labelset: " + s.labels());
            }
        }
        return out;
    }
}
