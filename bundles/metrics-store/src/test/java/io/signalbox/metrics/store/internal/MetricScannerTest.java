package io.signalbox.metrics.store.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * {@link MetricScanner} against the Jackson path ({@link MetricLine#parse}) it replaces on the hot path:
 * for every line, either the scanner declines (and the store takes the Jackson path) or it gives exactly
 * Jackson's name, value (bit for bit), unit and tags; and what Jackson rejects the scanner never accepts.
 */
class MetricScannerTest {

    /** Compares the scanner with Jackson on one line; returns whether the scanner handled it. */
    static boolean same(String text) {
        byte[] line = text.getBytes(StandardCharsets.UTF_8);
        MetricLine jackson;
        try {
            jackson = MetricLine.parse(line);
        } catch (MetricLine.Invalid e) {
            jackson = null;
        }
        MetricScanner sc = new MetricScanner();
        boolean handled = sc.scan(line);
        if (!handled) {
            return false;
        }
        assertThat(jackson).as("Jackson rejects what the scanner accepted: %s", text).isNotNull();
        MetricLine fast = sc.toMetricLine();
        assertThat(fast.name()).as(text).isEqualTo(jackson.name());
        assertThat(Double.doubleToRawLongBits(fast.value())).as("value of %s: %s vs %s", text, fast.value(), jackson.value())
                .isEqualTo(Double.doubleToRawLongBits(jackson.value()));
        assertThat(fast.unit()).as(text).isEqualTo(jackson.unit());
        assertThat(fast.tags()).as(text).isEqualTo(jackson.tags());
        return true;
    }

    @Test
    void typicalLinesAreReadLikeJackson() {
        assertThat(same("{\"v\":1,\"src\":\"web\",\"ts\":1700000000000,\"type\":\"metric\","
                + "\"data\":{\"name\":\"cpu_usage\",\"value\":85.5,\"unit\":\"%\",\"tags\":{\"host\":\"h1\",\"dc\":\"eu\"}}}")).isTrue();
        assertThat(same("{\"v\":1,\"src\":\"q\",\"ts\":5,\"type\":\"metric\",\"data\":{\"name\":\"queue.depth\",\"value\":42}}")).isTrue();
        assertThat(same("{\"data\":{\"value\":-0.0,\"name\":\"x\"},\"type\":\"metric\"}")).isTrue();
        assertThat(same("{\"data\":{\"value\":-0,\"name\":\"x\"}}")).isTrue();
        assertThat(same("{ \"data\" : { \"name\" : \"x\" , \"value\" : 1.5e3 , \"tags\" : { \"n\" : 12 , \"b\" : true , \"z\" : null , \"o\" : {\"a\":[1,2]} } } }"))
                .isTrue();
    }

    @Test
    void whatTheScannerDoesNotHandleGoesToJackson() {
        // escapes and non-ASCII in the fields the store reads
        assertThat(same("{\"data\":{\"name\":\"a\\\"b\",\"value\":1}}")).isFalse();
        assertThat(same("{\"data\":{\"name\":\"température\",\"value\":1}}")).isFalse();
        assertThat(same("{\"data\":{\"name\":\"x\",\"value\":1,\"tags\":{\"k\\u0041\":\"v\"}}}")).isFalse();
        // duplicates, missing or ill-typed fields (Jackson decides, and rejects the last three)
        assertThat(same("{\"data\":{\"name\":\"x\",\"value\":1,\"value\":2}}")).isFalse();
        assertThat(same("{\"data\":{\"name\":\"x\"}}")).isFalse();
        assertThat(same("{\"data\":{\"name\":\"\",\"value\":1}}")).isFalse();
        assertThat(same("{\"data\":{\"name\":\"x\",\"value\":\"1\"}}")).isFalse();
        assertThat(same("{\"type\":\"metric\"}")).isFalse();
        assertThat(same("[1]")).isFalse();
        assertThat(same("{\"data\":{\"name\":\"x\",\"value\":1")).isFalse();
        assertThat(same("{\"data\":{\"name\":\"x\",\"value\":01}}")).isFalse();
        assertThat(same("{\"data\":{\"name\":\"x\",\"value\":NaN}}")).isFalse();
    }

    @Test
    void generatedLinesAgreeWithJackson() {
        Random r = new Random(15);
        int handled = 0;
        int total = 200_000;
        for (int i = 0; i < total; i++) {
            if (same(generate(r))) {
                handled++;
            }
        }
        // most generated lines are plain (the scanner's case); the rest exercise the fallback
        assertThat(handled).isGreaterThan(total / 3).isLessThan(total);
    }

    @Test
    void numbersConvertBitForBitLikeJackson() {
        Random r = new Random(7);
        List<String> numbers = new ArrayList<>(List.of("0", "-0", "0.0", "-0.0", "1", "-1", "9007199254740993",
                "123456789012345678", "1234567890123456789", "99999999999999999999", "0.1", "0.30000000000000004",
                "1e22", "1e23", "1e-22", "1e-23", "4.9e-324", "1.7976931348623157e308", "1e309", "2.2250738585072014E-308",
                "123.456e-5", "1E+2", "0.000001", "3.141592653589793", "314159265358979.3", "1e0", "-12.5e-1"));
        for (int i = 0; i < 50_000; i++) {
            numbers.add(randomNumber(r));
        }
        int handled = 0;
        for (String n : numbers) {
            if (same("{\"data\":{\"name\":\"n\",\"value\":" + n + "}}")) {
                handled++;
            }
        }
        assertThat(handled).as("numbers are the scanner's case").isGreaterThan(numbers.size() * 9 / 10);
    }

    static String randomNumber(Random r) {
        StringBuilder sb = new StringBuilder();
        if (r.nextBoolean()) {
            sb.append('-');
        }
        switch (r.nextInt(4)) {
            case 0 -> sb.append(r.nextInt(1000));
            case 1 -> sb.append(Math.abs(r.nextLong()) >>> r.nextInt(63));
            case 2 -> sb.append(r.nextInt(100_000)).append('.').append(String.format("%0" + (1 + r.nextInt(8)) + "d", r.nextInt(10_000_000)));
            default -> sb.append(1 + r.nextInt(9)).append('.').append(r.nextInt(1_000_000)).append(r.nextBoolean() ? 'e' : 'E')
                    .append(r.nextBoolean() ? "-" : r.nextBoolean() ? "+" : "").append(r.nextInt(330));
        }
        if (r.nextInt(8) == 0) {
            return Double.toString(r.nextDouble() * Math.pow(10, r.nextInt(60) - 30)); // e.g. 1.2345E-7, shortest repr
        }
        return sb.toString();
    }

    private static final String[] KEYS = {"v", "src", "ts", "type", "tid", "sid", "data", "name", "value", "unit", "tags",
        "host", "dc", "a\\\"b", "\\u0064ata", "ключ", "x y"};

    private static String str(Random r) {
        return switch (r.nextInt(10)) {
            case 0 -> "";
            case 1 -> "with \\\"escape\\\"";
            case 2 -> "ünï";
            case 3 -> "tab\\tnl\\n";
            default -> "s" + r.nextInt(50);
        };
    }

    private static String scalar(Random r) {
        return switch (r.nextInt(7)) {
            case 0 -> "\"" + str(r) + "\"";
            case 1 -> randomNumber(r);
            case 2 -> "true";
            case 3 -> "false";
            case 4 -> "null";
            case 5 -> "{\"k\":[1,{\"x\":\"}\"}],\"e\":{}}";
            default -> "[\"]\",[],{}]";
        };
    }

    private static String ws(Random r) {
        return r.nextInt(6) == 0 ? " \t\n\r".substring(0, 1 + r.nextInt(4)) : "";
    }

    /** A line: mostly well-formed metric lines, with every kind of deviation now and then. */
    static String generate(Random r) {
        StringBuilder sb = new StringBuilder("{");
        List<String> fields = new ArrayList<>();
        fields.add("\"v\":1");
        fields.add("\"src\":\"" + str(r) + "\"");
        fields.add("\"ts\":" + (1_700_000_000_000L + r.nextInt(1_000_000)));
        fields.add("\"type\":\"metric\"");
        if (r.nextInt(5) == 0) {
            fields.add("\"tid\":\"" + Long.toHexString(r.nextLong()) + "\"");
        }
        if (r.nextInt(50) != 0) {
            fields.add("\"data\":" + data(r));
        }
        if (r.nextInt(30) == 0) {
            fields.add("\"data\":" + scalar(r));
        }
        if (r.nextInt(20) == 0) {
            fields.add("\"" + KEYS[r.nextInt(KEYS.length)] + "\":" + scalar(r));
        }
        java.util.Collections.shuffle(fields, r);
        for (int i = 0; i < fields.size(); i++) {
            sb.append(i > 0 ? "," + ws(r) : ws(r)).append(fields.get(i).replace(":", r.nextInt(10) == 0 ? " : " : ":"));
        }
        sb.append(ws(r)).append('}');
        String s = sb.toString();
        if (r.nextInt(100) == 0) {
            s = s.substring(0, r.nextInt(s.length())); // truncated
        }
        return s;
    }

    private static String data(Random r) {
        List<String> fields = new ArrayList<>();
        int nameKind = r.nextInt(20);
        if (nameKind > 0) {
            fields.add("\"name\":" + (nameKind == 1 ? scalar(r) : "\"" + (r.nextInt(15) == 0 ? str(r) : "metric_" + r.nextInt(30)) + "\""));
        }
        int valueKind = r.nextInt(25);
        if (valueKind > 0) {
            fields.add("\"value\":" + (valueKind == 1 ? scalar(r) : randomNumber(r)));
        }
        if (r.nextInt(3) == 0) {
            fields.add("\"unit\":" + (r.nextInt(10) == 0 ? scalar(r) : "\"" + str(r) + "\""));
        }
        if (r.nextInt(3) > 0) {
            StringBuilder t = new StringBuilder("{");
            int n = r.nextInt(4);
            for (int i = 0; i < n; i++) {
                if (i > 0) {
                    t.append(',').append(ws(r));
                }
                String key = r.nextInt(12) == 0 ? KEYS[r.nextInt(KEYS.length)] : "k" + r.nextInt(4);
                t.append('"').append(key).append("\":").append(r.nextInt(3) == 0 ? scalar(r) : "\"" + str(r) + "\"");
            }
            fields.add("\"tags\":" + (r.nextInt(30) == 0 ? scalar(r) : t.append('}').toString()));
        }
        if (r.nextInt(15) == 0) {
            fields.add("\"" + KEYS[r.nextInt(KEYS.length)] + "\":" + scalar(r));
        }
        java.util.Collections.shuffle(fields, r);
        return "{" + ws(r) + String.join("," + ws(r), fields) + ws(r) + "}";
    }
}
