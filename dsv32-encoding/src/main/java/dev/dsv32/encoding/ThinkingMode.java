package dev.dsv32.encoding;

import java.util.Locale;

/** {@code thinking_mode} of the official encoder: {@code "thinking"} or {@code "chat"}. */
public enum ThinkingMode {
    THINKING, CHAT;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static ThinkingMode fromWireName(String s) {
        for (ThinkingMode m : values()) {
            if (m.wireName().equals(s)) return m;
        }
        throw new IllegalArgumentException("Invalid thinking_mode `" + s + "` (expected thinking or chat)");
    }
}
