package io.signalbox.http.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.osgi.util.converter.Converters;

import io.signalbox.api.FakeIngest;
import io.signalbox.protocol.FuzzStreams;

/**
 * The protocol bundle's fuzz streams as NDJSON batches to HTTP ingest on a real Jetty: every line
 * the oracle accepts is offered exactly once, nothing else, no request fails with 500.
 * Seeded ({@code -Dfuzz.seed=}).
 */
class IngestFuzzTest {
    private static final long SEED = Long.getLong("fuzz.seed", 16L);
    private static final String FIRST = "{\"v\":1,\"src\":\"first\",\"ts\":1,\"type\":\"event\",\"data\":{\"level\":\"info\",\"msg\":\"m\"}}";

    private final FakeIngest ingest = new FakeIngest();
    private ApiTestServer server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void hostileBatchesOfferEveryValidLineOnceAndNothingElse() throws Exception {
        Map<String, Object> props = Map.of("ingest.max.bytes", 64L * 1024 * 1024);
        IngestServlet servlet = new IngestServlet(
                Converters.standardConverter().convert(props).to(HttpServerComponent.Config.class), props);
        servlet.ingest = ingest;
        server = ApiTestServer.of(servlet, IngestServlet.EVENT, IngestServlet.BATCH);
        FuzzStreams fuzz = new FuzzStreams(SEED, IngestServlet.MAX_MESSAGE_BYTES);
        Map<String, Long> want = new HashMap<>();
        for (int batch = 0; batch < 40; batch++) {
            FuzzStreams.Stream s = fuzz.next(1_000, batch % 10 == 0);
            // a valid first line: a body starting with '[' would be read as a JSON array instead of NDJSON
            byte[] first = (FIRST + "\n").getBytes(StandardCharsets.UTF_8);
            byte[] body = new byte[first.length + s.bytes().length];
            System.arraycopy(first, 0, body, 0, first.length);
            System.arraycopy(s.bytes(), 0, body, first.length, s.bytes().length);
            HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri(IngestServlet.BATCH))
                    .header("Content-Type", "application/x-ndjson").POST(HttpRequest.BodyPublishers.ofByteArray(body)));
            assertThat(r.statusCode()).as("seed %d batch %d: %s", SEED, batch, r.body().length() > 300
                    ? r.body().substring(0, 300) : r.body()).isLessThan(500);
            want.merge(FIRST, 1L, Long::sum);
            for (String l : s.expected()) {
                want.merge(l, 1L, Long::sum);
            }
        }
        Map<String, Long> got = ingest.lines().stream().collect(Collectors.groupingBy(l -> l, Collectors.counting()));
        assertThat(got).as("seed %d: every accepted line exactly once, nothing else", SEED).isEqualTo(want);
    }
}
