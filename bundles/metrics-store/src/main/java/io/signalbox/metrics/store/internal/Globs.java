package io.signalbox.metrics.store.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** A list of globs with {@code *} and {@code ?}; {@code *} alone matches everything. */
final class Globs {
    private final List<Pattern> patterns = new ArrayList<>();
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
            StringBuilder re = new StringBuilder();
            for (char c : s.toCharArray()) {
                re.append(c == '*' ? ".*" : c == '?' ? "." : Pattern.quote(String.valueOf(c)));
            }
            patterns.add(Pattern.compile(re.toString()));
        }
        this.all = any;
    }

    boolean matches(String s) {
        if (all) {
            return true;
        }
        for (Pattern p : patterns) {
            if (p.matcher(s).matches()) {
                return true;
            }
        }
        return false;
    }
}
