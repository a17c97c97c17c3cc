package dev.dsv32.encoding;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Options of the lenient and streaming parsers. With declared tools, calls are checked against their names (an
 * undeclared name is flagged; an unwrapped invoke is only recovered for a declared tool) and parameter values are
 * typed by the tools' JSON schemas.
 */
public final class ParseOptions {
    private static final ParseOptions DEFAULTS = builder().build();

    private final Map<String, Tool> tools;
    private final int maxToolCalls;

    private ParseOptions(Builder b) {
        this.tools = b.tools == null ? null : Map.copyOf(b.tools);
        this.maxToolCalls = b.maxToolCalls;
    }

    public static ParseOptions defaults() {
        return DEFAULTS;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** True when the caller declared the tools (possibly none). */
    public boolean toolsDeclared() {
        return tools != null;
    }

    public boolean isDeclared(String name) {
        return tools != null && tools.containsKey(name);
    }

    /** Upper bound on recovered tool calls (degenerate loops); further invokes are dropped with a repair. */
    public int maxToolCalls() {
        return maxToolCalls;
    }

    /**
     * The JSON-schema {@code type} declared for a parameter ({@code "string"}, {@code "integer"}, …; a list for a
     * union), or null when unknown.
     */
    public JsonNode parameterType(String tool, String parameter) {
        if (tools == null) return null;
        Tool t = tools.get(tool);
        if (t == null || t.function().parameters() == null) return null;
        JsonNode props = t.function().parameters().get("properties");
        if (props == null || !props.isObject()) return null;
        JsonNode p = props.get(parameter);
        return p == null ? null : p.get("type");
    }

    public static final class Builder {
        private Map<String, Tool> tools;
        private int maxToolCalls = 256;

        private Builder() {}

        /** Declares the tools the request offered (null: unknown, nothing is checked). */
        public Builder tools(List<Tool> declared) {
            if (declared == null) {
                this.tools = null;
                return this;
            }
            Map<String, Tool> m = new LinkedHashMap<>();
            for (Tool t : declared) m.put(Objects.requireNonNull(t, "tool").name(), t);
            this.tools = m;
            return this;
        }

        public Builder maxToolCalls(int max) {
            if (max < 0) throw new IllegalArgumentException("maxToolCalls < 0: " + max);
            this.maxToolCalls = max;
            return this;
        }

        public ParseOptions build() {
            return new ParseOptions(this);
        }
    }
}
