package dev.dsv32.encoding;

import java.util.Locale;

/** Which V3.2 checkpoint the prompt is for. Speciale has no tool calling (model card). */
public enum ModelVariant {
    STANDARD, SPECIALE;

    public boolean supportsTools() {
        return this == STANDARD;
    }

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static ModelVariant fromWireName(String s) {
        for (ModelVariant v : values()) {
            if (v.wireName().equals(s)) return v;
        }
        throw new IllegalArgumentException("Unknown model variant `" + s + "` (expected standard or speciale)");
    }
}
