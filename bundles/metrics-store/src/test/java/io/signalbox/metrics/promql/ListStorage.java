package io.signalbox.metrics.promql;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.signalbox.metrics.promql.Values.SeriesData;

/** Series held in memory: what the engine is tested against (and the store compared with). */
public final class ListStorage implements Storage {
    private final List<SeriesData> all = new ArrayList<>();

    /** Adds a series: labels as name/value pairs, then (seconds, value) pairs. */
    public ListStorage series(String[] labels, double... secondsAndValues) {
        Map<String, String> l = new TreeMap<>();
        for (int i = 0; i < labels.length; i += 2) {
            l.put(labels[i], labels[i + 1]);
        }
        int n = secondsAndValues.length / 2;
        long[] ts = new long[n];
        double[] vs = new double[n];
        for (int i = 0; i < n; i++) {
            ts[i] = (long) (secondsAndValues[2 * i] * 1000);
            vs[i] = secondsAndValues[2 * i + 1];
        }
        all.add(new SeriesData(l, ts, vs));
        return this;
    }

    public List<SeriesData> all() {
        return all;
    }

    @Override
    public List<SeriesData> select(List<Matcher> matchers, long fromExclusive, long toInclusive) {
        List<SeriesData> out = new ArrayList<>();
        for (SeriesData s : all) {
            if (!matchers.stream().allMatch(m -> m.matches(s.labels()))) {
                continue;
            }
            int a = 0;
            while (a < s.size() && s.timestamps()[a] <= fromExclusive) {
                a++;
            }
            int b = a;
            while (b < s.size() && s.timestamps()[b] <= toInclusive) {
                b++;
            }
            if (b > a) {
                out.add(new SeriesData(s.labels(), Arrays.copyOfRange(s.timestamps(), a, b),
                        Arrays.copyOfRange(s.values(), a, b)));
            }
        }
        return out;
    }
}
