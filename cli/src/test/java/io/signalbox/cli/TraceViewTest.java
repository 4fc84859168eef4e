package io.signalbox.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The trace drawn from the JSON of {@code /api/traces/{id}}. */
class TraceViewTest {
    /** 2026-11-23T14:00:00Z. */
    private static final long T0 = 1_795_442_400_000L;

    static final String JOB = """
            {"trace_id":"job-12345","duration_ms":47700,"span_count":4,"message_count":9,
             "first_seen":%1$d,"last_seen":%2$d,
             "sources":["file-receiver","queue-service","db-loader"],
             "by_source":[
               {"source":"file-receiver","spans":1,"messages":4,"start":%1$d,"end":%3$d,"duration_ms":2300},
               {"source":"queue-service","spans":1,"messages":1,"start":%3$d,"end":%4$d,"duration_ms":100},
               {"source":"db-loader","spans":2,"messages":4,"start":%5$d,"end":%2$d,"duration_ms":45200}],
             "events":[{"ts":%2$d,"source":"db-loader","type":"event","data":{"level":"warn","msg":"no span here"}}],
             "metrics":[],"events_cut":0,"metrics_cut":0,
             "roots":[
               {"span_id":"r","parent_span_id":null,"source":"file-receiver","name":"receive","status":"ok","open":false,
                "start":%1$d,"end":%3$d,"duration_ms":2300,
                "events":[{"ts":%6$d,"source":"file-receiver","type":"event","data":{"level":"info","msg":"got orders.csv"}}],
                "metrics":[{"ts":%7$d,"source":"file-receiver","type":"metric","data":{"name":"bytes","value":1200.0,"unit":"B"}}],
                "events_cut":4,"metrics_cut":0,
                "children":[
                  {"span_id":"q","parent_span_id":"r","source":"queue-service","name":"enqueue","status":"ok","open":false,
                   "start":%3$d,"end":%4$d,"duration_ms":100,"events":[],"metrics":[],"events_cut":0,"metrics_cut":0,
                   "children":[
                     {"span_id":"l","parent_span_id":"q","source":"db-loader","name":"load","status":"error","open":false,
                      "start":%5$d,"end":%2$d,"duration_ms":45200,
                      "events":[{"ts":%8$d,"source":"db-loader","type":"progress","data":{"job_id":"j","percent":50,"status":"running"}}],
                      "metrics":[],"events_cut":0,"metrics_cut":2,"children":[]},
                     {"span_id":"w","parent_span_id":"q","source":"db-loader","name":null,"status":"open","open":true,
                      "start":%5$d,"end":%8$d,"duration_ms":1500,"events":[],"metrics":[],"events_cut":0,"metrics_cut":0,
                      "children":[]}]}]}]}
            """.formatted(T0 + 1_000, T0 + 48_700, T0 + 3_300, T0 + 3_400, T0 + 3_500, T0 + 1_100, T0 + 1_200,
            T0 + 5_000);

    @Test
    void theSummaryLineNamesEachSourceWithItsShareInOrder() throws Exception {
        TraceView view = new TraceView(Glyphs.UNICODE, ZoneOffset.UTC);

        assertThat(view.summaryLine(Json.map(Json.parse(JOB))))
                .isEqualTo("job-12345: file-receiver 2.3s → queue-service 0.1s → db-loader 45.2s");
    }

    @Test
    void theTreeShowsSpansWithDurationsStatusSourceAndTheirEventsIndented() throws Exception {
        List<String> lines = new TraceView(Glyphs.UNICODE, ZoneOffset.UTC).render(Json.map(Json.parse(JOB)));

        assertThat(lines).containsExactly(
                "job-12345: file-receiver 2.3s → queue-service 0.1s → db-loader 45.2s",
                "4 spans, 9 messages from 3 sources in 47.7s, 2026-11-23 14:00:01.000 → 14:00:48.700 (Z)",
                "",
                "receive  2.3s  ok  [file-receiver]",
                "│   14:00:01.100  info      got orders.csv",
                "│   14:00:01.200  metric    bytes = 1200 B",
                "│   … 4 more events not kept",
                "└── enqueue  0.1s  ok  [queue-service]",
                "    ├── load  45.2s  error  [db-loader]",
                "    │       14:00:05.000  progress  50% running",
                "    │       … 2 more metrics not kept",
                "    └── span w  1.5s so far  open  [db-loader]",
                "",
                "outside any span:",
                "    14:00:48.700  warn      no span here  [db-loader]");
    }

    @Test
    void withoutUnicodeTheTreeIsDrawnInAscii() throws Exception {
        List<String> lines = new TraceView(Glyphs.ASCII, ZoneOffset.UTC).render(Json.map(Json.parse(JOB)));

        assertThat(lines.get(0)).isEqualTo("job-12345: file-receiver 2.3s -> queue-service 0.1s -> db-loader 45.2s");
        assertThat(lines).contains("|   ... 4 more events not kept", "`-- enqueue  0.1s  ok  [queue-service]",
                "    |-- load  45.2s  error  [db-loader]");
    }

    @Test
    void aChainThousandsDeepIsDrawnWithoutRecursion() throws Exception {
        int depth = 3_000;
        StringBuilder json = new StringBuilder("{\"trace_id\":\"deep\",\"by_source\":[],\"roots\":[");
        for (int i = 0; i < depth; i++) {
            json.append("{\"span_id\":\"s").append(i).append("\",\"source\":\"a\",\"name\":\"n").append(i)
                    .append("\",\"duration_ms\":1,\"children\":[");
        }
        json.append("]}".repeat(depth)).append("]}");

        List<String> lines = new TraceView(Glyphs.ASCII, ZoneOffset.UTC).render(Json.map(Json.parse(json.toString())));

        assertThat(lines).hasSize(3 + depth);
        assertThat(lines.get(lines.size() - 1)).endsWith("`-- n" + (depth - 1) + "  1ms  [a]");
    }

    @Test
    void controlCharactersInMessagesCannotBreakTheTreeOrDriveTheTerminal() throws Exception {
        String json = "{\"trace_id\":\"t\\u001b[2J\",\"by_source\":[],\"roots\":[{\"span_id\":\"s\",\"source\":\"a\","
                + "\"name\":\"load\",\"duration_ms\":5,\"children\":[],\"events\":[{\"ts\":0,\"source\":\"a\","
                + "\"type\":\"event\",\"data\":{\"level\":\"error\",\"msg\":\"load failed:\\n\\tno table\\n\"}}]}]}";

        List<String> lines = new TraceView(Glyphs.ASCII, ZoneOffset.UTC).render(Json.map(Json.parse(json)));

        assertThat(lines.get(0)).isEqualTo("t\\u001b[2J: (no messages)");
        assertThat(lines).contains("    00:00:00.000  error     load failed:\\n\\tno table");
        assertThat(String.join("\n", lines)).doesNotContain("\u001b", "\t");
    }

    @Test
    void glyphsFollowTheCharset() {
        assertThat(Glyphs.of(java.nio.charset.StandardCharsets.UTF_8)).isEqualTo(Glyphs.UNICODE);
        assertThat(Glyphs.of(java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo(Glyphs.ASCII);
        assertThat(Glyphs.of(java.nio.charset.StandardCharsets.ISO_8859_1)).isEqualTo(Glyphs.ASCII);
    }

    @Test
    void durationsReadLikeTheIssueExample() {
        assertThat(List.of(5L, 99L, 100L, 2_300L, 45_200L, 59_960L, 245_000L, 7_380_000L, 100_000_000L))
                .extracting(Format::duration)
                .containsExactly("5ms", "99ms", "0.1s", "2.3s", "45.2s", "1m00s", "4m05s", "2h03m", "1d03h");
        assertThat(Map.of("b", Format.bytes(512), "k", Format.bytes(1536)))
                .containsEntry("b", "512 B").containsEntry("k", "1.5 KiB");
    }
}
