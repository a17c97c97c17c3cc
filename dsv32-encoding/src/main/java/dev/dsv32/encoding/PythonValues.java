package dev.dsv32.encoding;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * The few Python semantics the official encoder applies to JSON-loaded values: {@code str(x)} (what
 * {@code str.format} inserts), {@code repr(x)}, truthiness and {@code len(x)}.
 */
public final class PythonValues {
    private PythonValues() {}

    /** {@code bool(x)}: null, false, 0, 0.0, "", [] and {} are false. */
    public static boolean truthy(JsonNode x) {
        if (x == null || x.isNull() || x.isMissingNode()) return false;
        if (x.isBoolean()) return x.booleanValue();
        if (x.isNumber()) {
            if (x.isIntegralNumber()) return x.bigIntegerValue().signum() != 0;
            double d = x.doubleValue();
            return d != 0.0 || Double.isNaN(d);
        }
        if (x.isTextual()) return !x.textValue().isEmpty();
        if (x.isContainerNode()) return x.size() > 0;
        return true;
    }

    /** {@code len(x)} for str (code points), list and dict; {@code -1} where Python raises {@code TypeError}. */
    public static int len(JsonNode x) {
        if (x == null) return -1;
        if (x.isTextual()) return x.textValue().codePointCount(0, x.textValue().length());
        if (x.isContainerNode()) return x.size();
        return -1;
    }

    /** {@code str(x)}; {@code null} (Python {@code None}) and a missing value give {@code "None"}. */
    public static String str(JsonNode x) {
        if (x != null && x.isTextual()) return x.textValue();
        StringBuilder sb = new StringBuilder();
        repr(x, sb);
        return sb.toString();
    }

    /** {@code repr(x)}. */
    public static String repr(JsonNode x) {
        StringBuilder sb = new StringBuilder();
        repr(x, sb);
        return sb.toString();
    }

    private static void repr(JsonNode x, StringBuilder sb) {
        if (x == null || x.isNull() || x.isMissingNode()) {
            sb.append("None");
        } else if (x.isBoolean()) {
            sb.append(x.booleanValue() ? "True" : "False");
        } else if (x.isNumber()) {
            if (x.isIntegralNumber()) {
                sb.append(x.bigIntegerValue());
            } else {
                double d = x.doubleValue();
                if (Double.isNaN(d)) sb.append("nan");
                else if (Double.isInfinite(d)) sb.append(d > 0 ? "inf" : "-inf");
                else sb.append(PythonJson.floatRepr(d));
            }
        } else if (x.isTextual()) {
            reprString(x.textValue(), sb);
        } else if (x.isArray()) {
            sb.append('[');
            boolean first = true;
            for (JsonNode c : x) {
                if (!first) sb.append(", ");
                first = false;
                repr(c, sb);
            }
            sb.append(']');
        } else if (x.isObject()) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<String, JsonNode> e : x.properties()) {
                if (!first) sb.append(", ");
                first = false;
                reprString(e.getKey(), sb);
                sb.append(": ");
                repr(e.getValue(), sb);
            }
            sb.append('}');
        } else {
            reprString(x.asText(), sb);
        }
    }

    /** Python's {@code unicode_repr}: picks the quote, escapes non-printable code points (backslash x, u or U forms). */
    static void reprString(String s, StringBuilder sb) {
        char quote = (s.indexOf('\'') >= 0 && s.indexOf('"') < 0) ? '"' : '\'';
        sb.append(quote);
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (cp == quote || cp == '\\') {
                sb.append('\\').appendCodePoint(cp);
            } else if (cp == '\t') {
                sb.append("\\t");
            } else if (cp == '\n') {
                sb.append("\\n");
            } else if (cp == '\r') {
                sb.append("\\r");
            } else if (cp < 0x20 || cp == 0x7f) {
                sb.append(String.format("\\x%02x", cp));
            } else if (cp < 0x7f || isPrintable(cp)) {
                sb.appendCodePoint(cp);
            } else if (cp <= 0xff) {
                sb.append(String.format("\\x%02x", cp));
            } else if (cp <= 0xffff) {
                sb.append(String.format("\\u%04x", cp));
            } else {
                sb.append(String.format("\\U%08x", cp));
            }
        }
        sb.append(quote);
    }

    /** Python's {@code str.isprintable} for one code point: not Cc, Cf, Cs, Co, Cn, Zl, Zp, or Zs other than space. */
    static boolean isPrintable(int cp) {
        if (cp == ' ') return true;
        switch (Character.getType(cp)) {
            case Character.CONTROL:
            case Character.FORMAT:
            case Character.SURROGATE:
            case Character.PRIVATE_USE:
            case Character.UNASSIGNED:
            case Character.LINE_SEPARATOR:
            case Character.PARAGRAPH_SEPARATOR:
            case Character.SPACE_SEPARATOR:
                return false;
            default:
                return true;
        }
    }
}
