package dev.dsv32.nativ.synth;

import java.util.List;

/** A tiny JSON writer producing Python's {@code json.dump(obj, f, indent=2)} layout (for config.json). */
final class JsonText {
    /** A literal written as is (floats in Python's repr). */
    record Raw(String text) {}

    private final StringBuilder sb = new StringBuilder();
    private int depth;
    private boolean first = true;

    void begin() {
        sb.append('{');
        depth++;
        first = true;
    }

    void end() {
        depth--;
        newline();
        sb.append('}');
        first = false;
    }

    void key(String k) {
        if (!first) sb.append(',');
        newline();
        string(k);
        sb.append(": ");
        first = true;
    }

    void field(String k, Object v) {
        key(k);
        value(v);
        first = false;
    }

    private void value(Object v) {
        if (v instanceof String s) string(s);
        else if (v instanceof Raw r) sb.append(r.text());
        else if (v instanceof Integer || v instanceof Long || v instanceof Boolean) sb.append(v);
        else if (v instanceof List<?> list) {
            sb.append('[');
            depth++;
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) sb.append(',');
                newline();
                value(list.get(i));
            }
            depth--;
            newline();
            sb.append(']');
        } else throw new IllegalArgumentException("unsupported JSON value " + v);
    }

    private void string(String s) {
        sb.append('"');
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') sb.append('\\');
            sb.append(c);
        }
        sb.append('"');
    }

    private void newline() {
        sb.append('\n');
        sb.append("  ".repeat(depth));
    }

    @Override
    public String toString() {
        return sb.toString();
    }
}
