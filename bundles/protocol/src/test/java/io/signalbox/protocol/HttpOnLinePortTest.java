package io.signalbox.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.signalbox.api.Ingest;
import io.signalbox.api.Message;

/**
 * An HTTP request sent to a line transport (design document 003 puts its HTTP sidecar on 17000,
 * Signalbox's TCP port): the first line is recognised, answered in HTTP and the connection closed.
 */
class HttpOnLinePortTest {
    private static final String EVENT = "{\"v\":1,\"src\":\"a\",\"ts\":1,\"type\":\"event\",\"data\":{\"level\":\"info\",\"msg\":\"m\"}}\n";

    private final List<Message> offered = new ArrayList<>();
    private final Ingest ingest = new Ingest() {
        @Override
        public boolean offer(Message message) {
            offered.add(message);
            return true;
        }

        @Override
        public boolean isWritable() {
            return true;
        }

        @Override
        public void whenWritable(Runnable callback) {
            callback.run();
        }
    };
    private final LineIngest lines = new LineIngest("tcp", ingest, new LineDecoder(), new RejectCounters());

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aRequestIsRedirectedToTheHttpAddress() {
        lines.httpEndpoint("http://127.0.0.1:17001/");
        LineSession s = lines.open("peer", 65536);
        byte[] req = bytes("POST /v1/events/batch HTTP/1.1\r\nHost: localhost:17000\r\nContent-Type: application/json\r\n\r\n" + EVENT);
        assertThat(s.receive(req, 0, req.length) & LineSession.CLOSE).isEqualTo(LineSession.CLOSE);
        String answer = new String(s.errorLine(), StandardCharsets.UTF_8);
        assertThat(answer).startsWith("HTTP/1.1 307 Temporary Redirect\r\n")
                .contains("\r\nLocation: http://127.0.0.1:17001/v1/events/batch\r\n").contains("Connection: close");
        int length = Integer.parseInt(answer.replaceAll("(?s).*Content-Length: (\\d+).*", "$1"));
        assertThat(answer.substring(answer.indexOf("\r\n\r\n") + 4).getBytes(StandardCharsets.UTF_8)).hasSize(length);
        assertThat(offered).as("nothing after the request line is read").isEmpty();
    }

    @Test
    void withoutAnHttpAddressTheAnswerSaysWhatThisPortIs() {
        LineSession s = lines.open("peer", 65536);
        byte[] req = bytes("GET /v1/health HTTP/1.0\n\n");
        assertThat(s.receive(req, 0, req.length) & LineSession.CLOSE).isEqualTo(LineSession.CLOSE);
        assertThat(new String(s.errorLine(), StandardCharsets.UTF_8)).startsWith("HTTP/1.1 400 Bad Request\r\n")
                .contains("line-delimited JSON").contains("17001");
    }

    @Test
    void onlyTheFirstLineAndOnlyARequestLineCount() {
        lines.httpEndpoint("http://127.0.0.1:17001/");
        LineSession s = lines.open("peer", 65536);
        byte[] in = bytes(EVENT + "GET / HTTP/1.1\n" + EVENT);
        assertThat(s.receive(in, 0, in.length) & LineSession.CLOSE).isZero();
        assertThat(offered).hasSize(2);
        for (String notARequest : new String[] { "GET /x HTTP/2.0", "get /x HTTP/1.1", "GET x HTTP/1.1", "GET /a b HTTP/1.1x",
            "TOOLONGMETHOD / HTTP/1.1", "GET /\u00e9 HTTP/1.1" }) {
            byte[] b = bytes(notARequest);
            assertThat(LineSession.httpRequestLine(b, 0, b.length)).as(notARequest).isNull();
        }
        byte[] ok = bytes("DELETE /api/v1/x?y=1 HTTP/1.1\r");
        assertThat(LineSession.httpRequestLine(ok, 0, ok.length)).containsExactly("DELETE", "/api/v1/x?y=1");
    }
}
