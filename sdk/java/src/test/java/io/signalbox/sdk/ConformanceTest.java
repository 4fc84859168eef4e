package io.signalbox.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs every case of the shared conformance vectors ({@code sdk/conformance/vectors.json}, the
 * same file the Perl and Python SDKs run) against a local TCP listener: the calls of a case are
 * made through the public API, the lines the SDK writes are compared with the expected ones
 * field by field (rules in {@code sdk/conformance/README.md}: the listed top-level keys; inside
 * nested objects exactly the expected keys apart from timing keys; null = absent; numbers
 * numerically; {@code $sN}/{@code $tN} references bind once and are 16/32 lower-case hex).
 */
class ConformanceTest {
    private static final Set<String> CONTROL = Set.of("hello", "heartbeat", "goodbye");
    private static final Set<String> UNCOMPARED = Set.of("ts", "start", "end", "dur_ms");
    private static final Pattern REF = Pattern.compile("\\$[a-z]+\\d+");
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    static Path conformanceDir() {
        return Path.of(System.getProperty("signalbox.conformance", "../conformance")).toAbsolutePath().normalize();
    }

    @TestFactory
    Stream<DynamicTest> everyConformanceVectorPasses() throws IOException {
        String text = Files.readString(conformanceDir().resolve("vectors.json"), StandardCharsets.UTF_8);
        Map<String, Object> doc = MiniJson.object(text);
        assertThat(doc.get("version")).isEqualTo(BigDecimal.ONE);
        List<?> cases = (List<?>) doc.get("cases");
        assertThat(cases).isNotEmpty();
        return cases.stream().map(c -> {
            @SuppressWarnings("unchecked")
            Map<String, Object> kase = (Map<String, Object>) c;
            return DynamicTest.dynamicTest((String) kase.get("name"), () -> run(kase));
        });
    }

    @SuppressWarnings("unchecked")
    private static void run(Map<String, Object> kase) throws IOException {
        boolean uds = "uds".equals(kase.get("transport"));
        Path script = conformanceDir().resolve("fake_sidecar.py");
        Path dir = uds ? Files.createTempDirectory("signalbox-conformance-") : null;
        if (uds) {
            org.junit.jupiter.api.Assumptions.assumeTrue(PythonFakeSidecar.available(script),
                    "python3 runs the Unix domain socket listener (fake_sidecar.py --unix)");
        }
        try (FakeSidecar server = uds ? new PythonFakeSidecar(script, dir, 0).with("--unix", dir.resolve("c.sock").toString()).start()
                : new LineServer(0).start()) {
            Map<String, String> env = new HashMap<>();
            ((Map<String, Object>) kase.getOrDefault("env", Map.of())).forEach((k, v) -> {
                if (v != null) {
                    env.put(k, (String) v);
                }
            });
            // no shutdown hook, no heartbeats (the rules of the runner)
            Monitoring.Builder b = Monitoring.builder().closeOnShutdown(false).heartbeatInterval(Duration.ofHours(1))
                    .closeTimeout(Duration.ofSeconds(5));
            Map<String, Object> options = (Map<String, Object>) kase.getOrDefault("options", Map.of());
            if (options.get("secret") != null) {
                b.secret((String) options.get("secret"));
            }
            if (uds && Boolean.TRUE.equals(kase.get("connect_by_env"))) {
                env.put("SIGNALBOX_SOCKET", dir.resolve("c.sock").toString());
            } else if (uds) {
                b.socketPath(dir.resolve("c.sock"));
            } else if (Boolean.TRUE.equals(kase.get("connect_by_env"))) {
                env.put("SIGNALBOX_HOST", "127.0.0.1");
                env.put("SIGNALBOX_PORT", Integer.toString(server.port()));
            } else {
                b.host("127.0.0.1").port(server.port());
            }
            if (kase.get("source") != null) {
                b.source((String) kase.get("source"));
            }
            Map<String, String> bound = new HashMap<>();
            List<Map<String, String>> envs = new ArrayList<>();
            Monitoring m = b.environment(env).build();
            try {
                Map<String, Span> spans = new HashMap<>();
                for (Object call : (List<Object>) kase.get("calls")) {
                    call(m, (List<Object>) call, spans, bound, envs);
                }
            } finally {
                m.close();
            }
            assertThat(server.awaitLine(l -> l.contains("\"type\":\"goodbye\""), TIMEOUT))
                    .as("goodbye received; lines: %s", server.lines()).isTrue();

            List<Map<String, Object>> expect = (List<Map<String, Object>>) kase.get("expect");
            List<Map<String, Object>> actual = new ArrayList<>();
            for (String line : server.lines()) {
                Map<String, Object> msg = MiniJson.object(line);
                // a control line (hello, heartbeat, goodbye) counts only when expect has its type
                if (CONTROL.contains(msg.get("type")) && expect.stream().noneMatch(e -> msg.get("type").equals(e.get("type")))) {
                    continue;
                }
                actual.add(msg);
            }
            assertThat(actual).as("lines written (%s)", server.lines()).hasSameSizeAs(expect);
            for (int i = 0; i < expect.size(); i++) {
                compareLine(expect.get(i), actual.get(i), bound, "line " + (i + 1));
            }
            List<Map<String, Object>> expectEnv = (List<Map<String, Object>>) kase.get("expect_env");
            if (expectEnv != null) {
                assertThat(envs).hasSameSizeAs(expectEnv);
                for (int i = 0; i < expectEnv.size(); i++) {
                    Map<String, String> got = envs.get(i);
                    for (Map.Entry<String, Object> e : expectEnv.get(i).entrySet()) {
                        compareValue(e.getValue(), got.get(e.getKey()), bound, "child_env " + (i + 1) + " " + e.getKey());
                    }
                }
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static void call(Monitoring m, List<Object> call, Map<String, Span> spans, Map<String, String> bound,
            List<Map<String, String>> envs) {
        String name = (String) call.get(0);
        switch (name) {
            case "set_context":
                m.setContext((String) call.get(1), javaValue(call.get(2)));
                break;
            case "log_event":
                m.logEvent((String) call.get(1), (String) call.get(2), (Map<String, ?>) javaValue(call.get(3)));
                break;
            case "log_metric": {
                BigDecimal v = (BigDecimal) call.get(2);
                String unit = (String) call.get(3);
                Map<String, ?> tags = (Map<String, ?>) javaValue(call.get(4));
                if (isIntegral(v)) {
                    m.logMetric((String) call.get(1), v.longValueExact(), unit, tags);
                } else {
                    m.logMetric((String) call.get(1), v.doubleValue(), unit, tags);
                }
                break;
            }
            case "log_progress":
                m.logProgress((String) call.get(1), ((BigDecimal) call.get(2)).doubleValue(), (String) call.get(3));
                break;
            case "log_resource":
                m.logResource((Number) javaValue(call.get(1)), (Number) javaValue(call.get(2)),
                        (Number) javaValue(call.get(3)), (Number) javaValue(call.get(4)));
                break;
            case "start_span": {
                Span s = m.startSpan((String) call.get(1));
                assertThat(s.id()).as("span id").matches("[0-9a-f]{16}");
                String ref = "$s" + (spans.size() + 1);
                spans.put(ref, s);
                bound.put(ref, s.id());
                break;
            }
            case "end_span": {
                Span s = spans.get((String) call.get(1));
                if (s != null) {
                    s.end((String) call.get(2));
                }
                break;
            }
            case "child_env":
                envs.add(m.childEnvironment());
                break;
            case "close":
                m.close();
                break;
            default:
                fail("unknown call %s", call);
        }
    }

    /** JSON numbers as Long when integral, else Double; maps and lists converted deeply. */
    private static Object javaValue(Object v) {
        if (v instanceof BigDecimal) {
            BigDecimal d = (BigDecimal) v;
            return isIntegral(d) ? (Object) d.longValueExact() : (Object) d.doubleValue();
        }
        if (v instanceof Map) {
            Map<String, Object> out = new LinkedHashMap<>();
            ((Map<?, ?>) v).forEach((k, x) -> out.put((String) k, javaValue(x)));
            return out;
        }
        if (v instanceof List) {
            return ((List<?>) v).stream().map(ConformanceTest::javaValue).toList();
        }
        return v;
    }

    private static boolean isIntegral(BigDecimal d) {
        return d.stripTrailingZeros().scale() <= 0 && d.abs().compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) < 0;
    }

    /** Top level and {@code data}: the listed keys; below that, whole values. */
    @SuppressWarnings("unchecked")
    private static void compareLine(Map<String, Object> expect, Map<String, Object> actual, Map<String, String> bound,
            String where) {
        assertThat(actual.get("ts")).as("%s: ts is a number in %s", where, actual).isInstanceOf(BigDecimal.class);
        for (Map.Entry<String, Object> e : expect.entrySet()) {
            String key = e.getKey();
            if (key.equals("data") && e.getValue() instanceof Map) {
                Object data = actual.get("data");
                assertThat(data).as("%s: data in %s", where, actual).isInstanceOf(Map.class);
                Map<String, Object> d = (Map<String, Object>) data;
                Map<String, Object> ed = (Map<String, Object>) e.getValue();
                for (Map.Entry<String, Object> de : ed.entrySet()) {
                    compareValue(de.getValue(), d.get(de.getKey()), bound, where + " data." + de.getKey() + " in " + actual);
                }
                // inside nested objects no other keys, apart from the timing keys
                assertThat(d.keySet().stream().filter(k -> !UNCOMPARED.contains(k) && !ed.containsKey(k)).toList())
                        .as("%s: data keys not expected in %s", where, actual).isEmpty();
                if ("span".equals(actual.get("type"))) {
                    assertThat(d.get("start")).as("%s: data.start", where).isInstanceOf(BigDecimal.class);
                    assertThat(d.containsKey("end") || d.containsKey("dur_ms")).as("%s: end or dur_ms", where).isTrue();
                }
            } else if (!UNCOMPARED.contains(key)) {
                compareValue(e.getValue(), actual.get(key), bound, where + " " + key + " in " + actual);
            }
        }
    }

    private static void compareValue(Object expected, Object actual, Map<String, String> bound, String where) {
        if (expected == null) {
            assertThat(actual).as("%s: absent", where).isNull();
        } else if (expected instanceof String && REF.matcher((String) expected).find()) {
            assertThat(actual).as("%s: a generated id", where).isInstanceOf(String.class);
            matchRefs((String) expected, (String) actual, bound, where);
        } else if (expected instanceof BigDecimal) {
            assertThat(actual).as(where).isInstanceOf(BigDecimal.class);
            assertThat(((BigDecimal) actual).compareTo((BigDecimal) expected)).as("%s: %s = %s", where, actual, expected)
                    .isZero();
        } else if (expected instanceof Map) {
            assertThat(actual).as(where).isInstanceOf(Map.class);
            Map<?, ?> em = (Map<?, ?>) expected;
            Map<?, ?> am = (Map<?, ?>) actual;
            assertThat(am.keySet()).as(where).isEqualTo(em.keySet());
            em.forEach((k, v) -> compareValue(v, am.get(k), bound, where + "." + k));
        } else if (expected instanceof List) {
            assertThat(actual).as(where).isInstanceOf(List.class);
            List<?> el = (List<?>) expected;
            List<?> al = (List<?>) actual;
            assertThat(al).as(where).hasSameSizeAs(el);
            for (int i = 0; i < el.size(); i++) {
                compareValue(el.get(i), al.get(i), bound, where + "[" + i + "]");
            }
        } else {
            assertThat(actual).as(where).isEqualTo(expected);
        }
    }

    /** {@code "$s1"}, {@code "job-12:$s1"}, {@code "00-$t1-$s1-01"}: bound refs must match, new ones bind. */
    private static void matchRefs(String expected, String actual, Map<String, String> bound, String where) {
        StringBuilder regex = new StringBuilder();
        List<String> fresh = new ArrayList<>();
        Matcher m = REF.matcher(expected);
        int last = 0;
        while (m.find()) {
            regex.append(Pattern.quote(expected.substring(last, m.start())));
            String ref = m.group();
            if (bound.containsKey(ref)) {
                regex.append(Pattern.quote(bound.get(ref)));
            } else if (fresh.contains(ref)) {
                regex.append("\\").append(fresh.indexOf(ref) + 1);
            } else {
                fresh.add(ref);
                // $sN / $tN are generated ids (hex); other references ($n1, $v1) bind to any text
                regex.append(ref.startsWith("$s") || ref.startsWith("$t") ? "([0-9a-f]+)" : "(.+?)");
            }
            last = m.end();
        }
        regex.append(Pattern.quote(expected.substring(last)));
        Matcher am = Pattern.compile(regex.toString()).matcher(actual);
        assertThat(am.matches()).as("%s: %s matches %s (bound %s)", where, actual, expected, bound).isTrue();
        for (int i = 0; i < fresh.size(); i++) {
            String value = am.group(i + 1);
            if (fresh.get(i).startsWith("$s") || fresh.get(i).startsWith("$t")) {
                assertThat(value).as("%s: %s is %s lowercase hex", where, fresh.get(i), fresh.get(i).startsWith("$s") ? 16 : 32)
                        .matches(fresh.get(i).startsWith("$s") ? "[0-9a-f]{16}" : "[0-9a-f]{32}");
            }
            assertThat(bound.containsValue(value)).as("%s: %s is a new id, not one bound before", where, value).isFalse();
            bound.put(fresh.get(i), value);
        }
    }
}
