package io.signalbox.correlation.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.signalbox.api.SpanNode;

/** Builds span trees from flat span records; iterative, so deep chains cannot overflow the stack. */
final class SpanTrees {
    private SpanTrees() {
    }

    /**
     * Links every record to its parent by {@code pid} → {@code sid} (the first record with a
     * span id wins if it repeats). A record without a parent, whose parent has not been seen or
     * that names itself is a root. A parent cycle is cut at its earliest-starting member, which
     * becomes a root, so every record appears exactly once. Roots and each node's children are
     * ordered by start time, then by span id (a missing one first), then by arrival.
     *
     * <p>A root keeps the {@code pid} it was reported with: a root with a non-null
     * {@code parentSpanId} is an orphan whose parent has not arrived (yet).
     */
    static List<SpanNode> build(List<SpanRecord> records) {
        int n = records.size();
        if (n == 0) {
            return List.of();
        }
        Map<String, Integer> bySpanId = new HashMap<>(n * 2);
        for (int i = 0; i < n; i++) {
            String sid = records.get(i).spanId();
            if (sid != null) {
                bySpanId.putIfAbsent(sid, i);
            }
        }
        int[] parent = new int[n];
        for (int i = 0; i < n; i++) {
            String pid = records.get(i).parentSpanId();
            Integer p = pid == null ? null : bySpanId.get(pid);
            parent[i] = p == null || p == i ? -1 : p;
        }
        breakCycles(records, parent);

        // arrival order sorted by start: appending in this order keeps every child list sorted
        Integer[] byStart = new Integer[n];
        for (int i = 0; i < n; i++) {
            byStart[i] = i;
        }
        Arrays.sort(byStart, Comparator.comparingLong((Integer i) -> records.get(i).info().start())
                .thenComparing(i -> records.get(i).spanId(), Comparator.nullsFirst(Comparator.<String>naturalOrder()))
                .thenComparingInt(i -> i));
        List<List<Integer>> children = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            children.add(null);
        }
        List<Integer> roots = new ArrayList<>();
        for (int i : byStart) {
            int p = parent[i];
            if (p < 0) {
                roots.add(i);
            } else {
                List<Integer> c = children.get(p);
                if (c == null) {
                    c = new ArrayList<>(2);
                    children.set(p, c);
                }
                c.add(i);
            }
        }

        // pre-order, then build bottom-up: a node's children come after it in pre-order
        int[] preOrder = new int[n];
        int count = 0;
        int[] stack = new int[n];
        int top = 0;
        for (int r = roots.size() - 1; r >= 0; r--) {
            stack[top++] = roots.get(r);
        }
        while (top > 0) {
            int i = stack[--top];
            preOrder[count++] = i;
            List<Integer> c = children.get(i);
            if (c != null) {
                for (int k = c.size() - 1; k >= 0; k--) {
                    stack[top++] = c.get(k);
                }
            }
        }
        SpanNode[] nodes = new SpanNode[n];
        for (int k = count - 1; k >= 0; k--) {
            int i = preOrder[k];
            List<Integer> c = children.get(i);
            List<SpanNode> kids;
            if (c == null) {
                kids = List.of();
            } else {
                SpanNode[] arr = new SpanNode[c.size()];
                for (int j = 0; j < arr.length; j++) {
                    arr[j] = nodes[c.get(j)];
                }
                kids = List.of(arr);
            }
            SpanRecord rec = records.get(i);
            nodes[i] = new SpanNode(rec.spanId(), rec.parentSpanId(), rec.source(), rec.info(), kids, rec.events(),
                    rec.metrics(), rec.eventsCut(), rec.metricsCut());
        }
        SpanNode[] result = new SpanNode[roots.size()];
        for (int r = 0; r < result.length; r++) {
            result[r] = nodes[roots.get(r)];
        }
        return List.of(result);
    }

    /** Walks up from every record; a walk that meets its own path has found a cycle and cuts it. */
    private static void breakCycles(List<SpanRecord> records, int[] parent) {
        int n = parent.length;
        final byte unseen = 0;
        final byte onPath = 1;
        final byte done = 2;
        byte[] state = new byte[n];
        int[] path = new int[n];
        for (int start = 0; start < n; start++) {
            if (state[start] != unseen) {
                continue;
            }
            int len = 0;
            int j = start;
            while (j >= 0 && state[j] == unseen) {
                state[j] = onPath;
                path[len++] = j;
                j = parent[j];
            }
            if (j >= 0 && state[j] == onPath) {
                // the cycle is path[from..len): cut it at its earliest-starting member
                int from = 0;
                while (path[from] != j) {
                    from++;
                }
                int cut = path[from];
                for (int k = from + 1; k < len; k++) {
                    int candidate = path[k];
                    long cs = records.get(candidate).info().start();
                    long bs = records.get(cut).info().start();
                    if (cs < bs || (cs == bs && candidate < cut)) {
                        cut = candidate;
                    }
                }
                parent[cut] = -1;
            }
            for (int k = 0; k < len; k++) {
                state[path[k]] = done;
            }
        }
    }
}
