package io.signalbox.metrics.store.internal;

import java.util.ArrayList;
import java.util.List;

import io.signalbox.api.Glob;

/** A list of globs with {@code *} and {@code ?}; {@code *} alone matches everything. */
final class Globs {
    private final List<String> patterns = new ArrayList<>();
    private final boolean all;

    Globs(String[] globs) {
        boolean any = false;
        for (String g : globs) {
            String s = g.trim();
            if (s.isEmpty()) {
                continue;
            }
            if (s.equals("*")) {
                any = true;
            }
            patterns.add(s);
        }
        this.all = any;
    }

    boolean matches(String s) {
        if (all) {
            return true;
        }
        for (String p : patterns) {
            if (Glob.matches(p, s)) {
                return true;
            }
        }
        return false;
    }
}
