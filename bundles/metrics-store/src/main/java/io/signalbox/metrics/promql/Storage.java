package io.signalbox.metrics.promql;

import java.util.ArrayList;
import java.util.List;

import io.signalbox.metrics.promql.Values.Sample;
import io.signalbox.metrics.promql.Values.SeriesData;

/** Where the engine reads samples from: the DuckDB store, or test data. Windows are (from, to], epoch ms. */
public interface Storage {
    /**
     * Every series the matchers select that has samples in the window, with those samples.
     *
     * @throws PromQLException ({@code execution}) if more samples than allowed would be loaded
     */
    List<SeriesData> select(List<Matcher> matchers, long fromExclusive, long toInclusive);

    /** The latest sample of every selected series in the window; storages push this down where it pays. */
    default List<Sample> latest(List<Matcher> matchers, long fromExclusive, long toInclusive) {
        List<Sample> out = new ArrayList<>();
        for (SeriesData s : select(matchers, fromExclusive, toInclusive)) {
            out.add(new Sample(s.labels(), s.values()[s.size() - 1]));
        }
        return out;
    }

    /**
     * {@code <fn>_over_time} of every selected series in the window ({@code fn} one of avg, min, max,
     * sum, count, last, quantile), computed by the storage; {@code null} if it does not, and the
     * engine computes it from {@link #select}. Labels are the series' own (the engine drops the name).
     */
    default List<Sample> overTime(String fn, double param, List<Matcher> matchers, long fromExclusive, long toInclusive) {
        return null;
    }
}
