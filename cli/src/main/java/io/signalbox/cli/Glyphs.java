package io.signalbox.cli;

import java.nio.charset.Charset;

/** Tree and arrow characters: box drawing where the terminal's charset has them, ASCII elsewhere. */
record Glyphs(String arrow, String branch, String last, String pipe, String ellipsis) {
    static final Glyphs UNICODE = new Glyphs("→", "├── ", "└── ", "│   ", "…");
    static final Glyphs ASCII = new Glyphs("->", "|-- ", "`-- ", "|   ", "...");

    /** UNICODE if {@code charset} can encode every glyph, else ASCII. */
    static Glyphs of(Charset charset) {
        var encoder = charset.newEncoder();
        return encoder.canEncode("→├└│…") ? UNICODE : ASCII;
    }
}
