package io.signalbox.alerting.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.signalbox.metrics.promql.Matcher;
import io.signalbox.metrics.promql.Storage;
import io.signalbox.metrics.promql.Values.SeriesData;

/**
 * What a rule is evaluated on: the store's committed samples and the {@link RecentSamples} not committed yet,
 * merged per series (a sample in both — same series and timestamp — counts once). {@code latest} and the
 * {@code *_over_time} aggregates are computed from the merged samples ({@link Storage}'s defaults), so an
 * arriving sample is seen at once.
 */
final class MergedStorage implements Storage {
    private final Storage store;
    private final RecentSamples recent;

    MergedStorage(Storage store, RecentSamples recent) {
        this.store = store;
        this.recent = recent;
    }

    @Override
    public List<SeriesData> select(List<Matcher> matchers, long fromExclusive, long toInclusive) {
        List<SeriesData> fresh = recent.select(matchers, fromExclusive, toInclusive);
        List<SeriesData> stored = store.select(matchers, fromExclusive, toInclusive);
        if (fresh.isEmpty()) {
            return stored;
        }
        Map<Map<String, String>, SeriesData> byLabels = new LinkedHashMap<>();
        for (SeriesData s : stored) {
            byLabels.put(s.labels(), s);
        }
        for (SeriesData f : fresh) {
            byLabels.merge(f.labels(), f, MergedStorage::merge);
        }
        return new ArrayList<>(byLabels.values());
    }

    /** Two time-ordered sample lists into one; on the same timestamp the later list's value wins. */
    static SeriesData merge(SeriesData a, SeriesData b) {
        long[] ts = new long[a.size() + b.size()];
        double[] vs = new double[ts.length];
        int i = 0;
        int j = 0;
        int n = 0;
        while (i < a.size() || j < b.size()) {
            if (j >= b.size() || (i < a.size() && a.timestamps()[i] < b.timestamps()[j])) {
                ts[n] = a.timestamps()[i];
                vs[n++] = a.values()[i++];
            } else if (i >= a.size() || b.timestamps()[j] < a.timestamps()[i]) {
                ts[n] = b.timestamps()[j];
                vs[n++] = b.values()[j++];
            } else {
                ts[n] = b.timestamps()[j];
                vs[n++] = b.values()[j++];
                i++;
            }
        }
        return new SeriesData(a.labels(), java.util.Arrays.copyOf(ts, n), java.util.Arrays.copyOf(vs, n));
    }
}
