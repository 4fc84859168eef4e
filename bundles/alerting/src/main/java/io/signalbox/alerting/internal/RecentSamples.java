package io.signalbox.alerting.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import io.signalbox.metrics.promql.Matcher;
import io.signalbox.metrics.promql.Values.SeriesData;
import io.signalbox.metrics.store.MetricStore.LabeledSample;

/**
 * The samples alerting saw arrive (at {@link io.signalbox.api.IngestListener#offered}) and that may not be in
 * the metrics store yet: a sample waits in its source's batch up to correlation's {@code flush.interval.ms}
 * (5 s), then in the store's channel, then up to the store's {@code flush.interval.ms} (1 s) before it is
 * committed. Kept for {@code retentionMs} and at most {@code maxSamples} (the oldest go first); older samples
 * are read from the store. Thread-safe (one monitor; adds are a map lookup and an array append).
 */
final class RecentSamples {
    private static final class Buf {
        long[] ts = new long[8];
        double[] vs = new double[8];
        int n;
    }

    private final Map<Map<String, String>, Buf> series = new HashMap<>();
    private final long retentionMs;
    private final long maxSamples;
    private long size;
    private long dropped;

    RecentSamples(long retentionMs, long maxSamples) {
        this.retentionMs = retentionMs;
        this.maxSamples = maxSamples;
    }

    synchronized void add(LabeledSample s) {
        Buf b = series.computeIfAbsent(s.labels(), k -> new Buf());
        if (b.n == b.ts.length) {
            b.ts = Arrays.copyOf(b.ts, b.n * 2);
            b.vs = Arrays.copyOf(b.vs, b.n * 2);
        }
        // keep time order: samples of a series normally arrive in order; an older one is inserted
        int i = b.n;
        while (i > 0 && b.ts[i - 1] > s.timestamp()) {
            i--;
        }
        if (i > 0 && b.ts[i - 1] == s.timestamp()) {
            b.vs[i - 1] = s.value();
            return;
        }
        System.arraycopy(b.ts, i, b.ts, i + 1, b.n - i);
        System.arraycopy(b.vs, i, b.vs, i + 1, b.n - i);
        b.ts[i] = s.timestamp();
        b.vs[i] = s.value();
        b.n++;
        size++;
        if (size > maxSamples) {
            prune(Long.MAX_VALUE, size - maxSamples);
        }
    }

    /** Drops samples older than the retention (relative to {@code now}). */
    synchronized void prune(long now) {
        prune(now - retentionMs, 0);
    }

    /** Drops samples with ts &lt; cutoff, and then at least {@code extra} of the oldest. */
    private void prune(long cutoff, long extra) {
        if (extra > 0) {
            // the cap: raise the cutoff to the oldest timestamps until enough go (rare; linear is fine)
            long need = extra;
            while (need > 0) {
                long oldest = Long.MAX_VALUE;
                for (Buf b : series.values()) {
                    if (b.n > 0) {
                        oldest = Math.min(oldest, b.ts[0]);
                    }
                }
                if (oldest == Long.MAX_VALUE) {
                    break;
                }
                long before = size;
                pruneBefore(oldest + 1);
                need -= before - size;
                dropped += before - size;
            }
            return;
        }
        pruneBefore(cutoff);
    }

    private void pruneBefore(long cutoff) {
        for (Iterator<Buf> it = series.values().iterator(); it.hasNext();) {
            Buf b = it.next();
            int k = 0;
            while (k < b.n && b.ts[k] < cutoff) {
                k++;
            }
            if (k == 0) {
                continue;
            }
            System.arraycopy(b.ts, k, b.ts, 0, b.n - k);
            System.arraycopy(b.vs, k, b.vs, 0, b.n - k);
            b.n -= k;
            size -= k;
            if (b.n == 0) {
                it.remove();
            }
        }
    }

    /** The samples in (from, to] of every series the matchers select. */
    synchronized List<SeriesData> select(List<Matcher> matchers, long fromExclusive, long toInclusive) {
        List<SeriesData> out = new ArrayList<>();
        for (Map.Entry<Map<String, String>, Buf> e : series.entrySet()) {
            if (!matchesAll(matchers, e.getKey())) {
                continue;
            }
            Buf b = e.getValue();
            int lo = 0;
            while (lo < b.n && b.ts[lo] <= fromExclusive) {
                lo++;
            }
            int hi = lo;
            while (hi < b.n && b.ts[hi] <= toInclusive) {
                hi++;
            }
            if (hi > lo) {
                out.add(new SeriesData(e.getKey(), Arrays.copyOfRange(b.ts, lo, hi), Arrays.copyOfRange(b.vs, lo, hi)));
            }
        }
        return out;
    }

    static boolean matchesAll(List<Matcher> matchers, Map<String, String> labels) {
        for (Matcher m : matchers) {
            if (!m.matches(labels)) {
                return false;
            }
        }
        return true;
    }

    synchronized long size() {
        return size;
    }

    /** Samples dropped by the cap before their retention ended. */
    synchronized long dropped() {
        return dropped;
    }
}
