package dev.dsv32.encoding;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** Message roles of the V3.2 chat format. {@code developer} is the search-agent role (encoding.md §1). */
public enum Role {
    SYSTEM, DEVELOPER, USER, ASSISTANT, TOOL;

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static Role fromWireName(String name) {
        for (Role r : values()) {
            if (r.wireName().equals(name)) return r;
        }
        throw new IllegalArgumentException("Unknown role: " + name + " (expected system, developer, user, assistant or tool)");
    }
}
