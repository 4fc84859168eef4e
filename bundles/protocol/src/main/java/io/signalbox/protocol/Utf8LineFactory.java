package io.signalbox.protocol;

import java.io.IOException;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.io.IOContext;
import com.fasterxml.jackson.core.json.UTF8StreamJsonParser;

/**
 * A {@link JsonFactory} for protocol lines, which are UTF-8 by definition (DESIGN.md §2): a
 * byte-array parser is built directly, skipping the encoding detection (BOM and UTF-16/32
 * sniffing) that {@code JsonFactory} runs for every parser. One parser is created per line, so
 * that fixed cost showed up in profiles at around a tenth of decoding. A line that starts with a
 * BOM is not an object and is rejected before a parser is made ({@link LineDecoder}).
 *
 * <p>{@code _createParser(byte[], …)} is the extension point Jackson's own format factories
 * override; everything else (symbol table, read constraints, buffer recycling) is inherited.
 */
final class Utf8LineFactory extends JsonFactory {
    private static final long serialVersionUID = 1L;

    @Override
    protected JsonParser _createParser(byte[] data, int offset, int len, IOContext ctxt) throws IOException {
        if (_inputDecorator != null) {
            return super._createParser(data, offset, len, ctxt);
        }
        ctxt.setEncoding(JsonEncoding.UTF8);
        return new UTF8StreamJsonParser(ctxt, _parserFeatures, null, _objectCodec,
                _byteSymbolCanonicalizer.makeChild(_factoryFeatures), data, offset, offset + len, false);
    }

    @Override
    public JsonFactory copy() {
        return new Utf8LineFactory();
    }
}
