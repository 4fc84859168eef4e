package io.signalbox.protocol;

import java.io.IOException;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;

/**
 * The authentication fields of a {@code hello} line (docs/protocol.md, "Authentication"):
 * {@code data.auth}, the handshake version (absent means 1), and {@code data.token}, the secret.
 * Only called for a line the decoder already accepted as a {@code hello}.
 *
 * @param version {@code data.auth}, 1 when absent, -1 when not a small integer
 * @param token   {@code data.token}, {@code null} when absent or not a string
 */
record Hello(int version, String token) {
    /** The only handshake version so far. */
    static final int VERSION = 1;

    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build())
            .build();

    static Hello parse(byte[] buf, int off, int len) {
        int version = VERSION;
        String token = null;
        try (JsonParser p = JSON.createParser(buf, off, len)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return new Hello(version, null);
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                if ("data".equals(name) && t == JsonToken.START_OBJECT) {
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String field = p.currentName();
                        JsonToken v = p.nextToken();
                        if ("token".equals(field)) {
                            token = v == JsonToken.VALUE_STRING ? p.getText() : null;
                        } else if ("auth".equals(field)) {
                            version = v == JsonToken.VALUE_NUMBER_INT && p.getNumberType() == JsonParser.NumberType.INT ? p.getIntValue() : -1;
                        } else {
                            p.skipChildren();
                        }
                    }
                } else {
                    p.skipChildren();
                }
            }
        } catch (IOException e) {
            return new Hello(-1, null); // the decoder accepted the line, so this does not happen
        }
        return new Hello(version, token);
    }
}
