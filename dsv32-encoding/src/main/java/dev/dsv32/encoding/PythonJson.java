package dev.dsv32.encoding;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.math.BigDecimal;
import java.math.MathContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.RoundingMode;
import java.util.Map;

/**
 * Python-compatible JSON: {@link #loads} reads like {@code json.loads} (key order kept, a repeated key keeps its first
 * position and takes the last value, {@code NaN}/{@code Infinity}/{@code -Infinity} accepted but no other spelling,
 * integers up to Python's 4300-digit conversion limit, other numbers as doubles of any length) and {@link #dumps} writes exactly what {@code json.dumps(value, ensure_ascii=False)} writes (encoding.md
 * §5.4): separators {@code ", "} and {@code ": "}, only {@code "}, {@code \}, and C0 controls escaped, floats in
 * Python {@code repr} form ({@code 1e-07}, {@code 100000.0}, {@code -0.0}).
 */
public final class PythonJson {
    private PythonJson() {}

    private static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxStringLength(Integer.MAX_VALUE)
                            .maxNumberLength(Integer.MAX_VALUE)
                            .maxNestingDepth(1_000)
                            .build())
                    .build())
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** The mapper used to read Python-compatible JSON; shared, thread-safe, do not reconfigure. */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    /**
     * Python's default {@code sys.get_int_max_str_digits()} (Python 3.11+, and the 3.7-3.10 security releases):
     * {@code json.loads} raises {@code ValueError} on an integer literal with more digits than this.
     */
    public static final int INT_MAX_STR_DIGITS = 4300;

    /**
     * Parses JSON text as {@code json.loads} does.
     *
     * @throws IllegalArgumentException with the parser's message and location when the text is not JSON, or is JSON
     *     that {@code json.loads} refuses (an integer over {@value #INT_MAX_STR_DIGITS} digits, a non-finite literal
     *     other than {@code NaN}, {@code Infinity}, {@code -Infinity})
     */
    public static JsonNode loads(String text) {
        try {
            checkPythonLiterals(text);
            JsonNode node = MAPPER.readTree(text);
            if (node == null || node.isMissingNode()) {
                throw new IllegalArgumentException("Expecting value: line 1 column 1 (char 0)");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(e.getOriginalMessage() + locationOf(e), e);
        }
    }

    /** Like {@link #loads} but returns {@code null} instead of throwing. */
    public static JsonNode tryLoads(String text) {
        try {
            return loads(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * What Jackson accepts but {@code json.loads} does not: {@code +Infinity}, {@code INF}, {@code -INF}, {@code +INF}
     * (Python knows only {@code NaN}, {@code Infinity}, {@code -Infinity}), and integer literals over Python's digit limit.
     * Syntax errors are left to the tree parse that follows.
     */
    private static void checkPythonLiterals(String text) throws JsonProcessingException {
        try (JsonParser p = MAPPER.createParser(text)) {
            JsonToken t;
            while ((t = p.nextToken()) != null) {
                if (t == JsonToken.VALUE_NUMBER_FLOAT && p.isNaN()) {
                    String lit = p.getText();
                    if (!lit.equals("NaN") && !lit.equals("Infinity") && !lit.equals("-Infinity")) {
                        throw new IllegalArgumentException("Expecting value: `" + lit + "` is not a JSON literal Python accepts"
                                + locationOf(p));
                    }
                } else if (t == JsonToken.VALUE_NUMBER_INT) {
                    int digits = p.getTextLength() - (p.getTextCharacters()[p.getTextOffset()] == '-' ? 1 : 0);
                    if (digits > INT_MAX_STR_DIGITS) {
                        throw new IllegalArgumentException("Exceeds the limit (" + INT_MAX_STR_DIGITS + " digits) for integer"
                                + " string conversion: value has " + digits + " digits" + locationOf(p));
                    }
                }
            }
        } catch (JsonProcessingException e) {
            throw e;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String locationOf(JsonParser p) {
        var loc = p.currentTokenLocation();
        return loc == null ? "" : " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
    }

    private static String locationOf(JsonProcessingException e) {
        var loc = e.getLocation();
        if (loc == null) return "";
        return " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
    }

    /** {@code json.dumps(node, ensure_ascii=False)}. */
    public static String dumps(JsonNode node) {
        StringBuilder sb = new StringBuilder();
        write(node, sb);
        return sb.toString();
    }

    /** {@code json.dumps(s, ensure_ascii=False)} for a string. */
    public static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2);
        writeString(s, sb);
        return sb.toString();
    }

    public static void write(JsonNode node, StringBuilder out) {
        switch (node.getNodeType()) {
            case NULL:
            case MISSING:
                out.append("null");
                break;
            case BOOLEAN:
                out.append(node.booleanValue() ? "true" : "false");
                break;
            case STRING:
                writeString(node.textValue(), out);
                break;
            case NUMBER:
                if (node.isIntegralNumber()) {
                    out.append(node.bigIntegerValue().toString());
                } else {
                    out.append(floatRepr(node.doubleValue()));
                }
                break;
            case ARRAY: {
                out.append('[');
                boolean first = true;
                for (JsonNode child : node) {
                    if (!first) out.append(", ");
                    first = false;
                    write(child, out);
                }
                out.append(']');
                break;
            }
            case OBJECT: {
                out.append('{');
                boolean first = true;
                for (Map.Entry<String, JsonNode> e : node.properties()) {
                    if (!first) out.append(", ");
                    first = false;
                    writeString(e.getKey(), out);
                    out.append(": ");
                    write(e.getValue(), out);
                }
                out.append('}');
                break;
            }
            default:
                // POJO / BINARY never come out of a parse; write their text form as a string.
                writeString(node.asText(), out);
        }
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** Python's {@code py_encode_basestring}: escapes {@code " \ \n \r \t \b \f} and other C0 controls only. */
    public static void writeString(String s, StringBuilder out) {
        out.append('"');
        int n = s.length();
        int start = 0;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c != '"' && c != '\\') continue;
            out.append(s, start, i);
            start = i + 1;
            switch (c) {
                case '"': out.append("\\\""); break;
                case '\\': out.append("\\\\"); break;
                case '\n': out.append("\\n"); break;
                case '\r': out.append("\\r"); break;
                case '\t': out.append("\\t"); break;
                case '\b': out.append("\\b"); break;
                case '\f': out.append("\\f"); break;
                default:
                    out.append("\\u00").append(HEX[(c >> 4) & 0xF]).append(HEX[c & 0xF]);
            }
        }
        out.append(s, start, n);
        out.append('"');
    }

    /**
     * The {@code p}-digit decimal closest to {@code exact} that reads back as {@code d}, or null if there is none. The
     * nearest p-digit rounding is the best candidate; at a power of two the rounding interval is asymmetric, so the
     * neighbour on the wide side may read back where the nearest does not.
     */
    private static BigDecimal shortestCandidate(BigDecimal exact, double d, int p) {
        BigDecimal r = exact.round(new MathContext(p, RoundingMode.HALF_EVEN));
        if (r.doubleValue() == d) return r;
        BigDecimal lo = exact.round(new MathContext(p, RoundingMode.FLOOR));
        BigDecimal hi = exact.round(new MathContext(p, RoundingMode.CEILING));
        boolean loOk = lo.doubleValue() == d;
        boolean hiOk = hi.doubleValue() == d;
        if (loOk && hiOk) return exact.subtract(lo).abs().compareTo(hi.subtract(exact).abs()) <= 0 ? lo : hi;
        if (loOk) return lo;
        if (hiOk) return hi;
        return null;
    }

    /**
     * Python {@code repr(float)}: the shortest decimal string that reads back as the same double (ties resolved to the
     * nearest, like David Gay's dtoa mode 0), in fixed notation when the decimal exponent is in [-4, 16), else as
     * {@code d.ddde±XX}. {@code nan}/{@code inf} print as JSON's {@code NaN}/{@code Infinity}, as {@code json.dumps} does.
     */
    public static String floatRepr(double d) {
        if (Double.isNaN(d)) return "NaN";
        if (Double.isInfinite(d)) return d > 0 ? "Infinity" : "-Infinity";
        if (d == 0.0) return (Double.doubleToRawLongBits(d) < 0) ? "-0.0" : "0.0";
        BigDecimal exact = new BigDecimal(d);
        // Whether some p-digit decimal reads back as d is monotonic in p (a p-digit number is also a (p+1)-digit one),
        // so binary-search the shortest length; 17 digits always suffice.
        int lo = 1;
        int hi = 17;
        BigDecimal best = shortestCandidate(exact, d, 17);
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            BigDecimal c = shortestCandidate(exact, d, mid);
            if (c != null) {
                best = c;
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        best = best.stripTrailingZeros();
        String digits = best.unscaledValue().abs().toString();
        int decpt = digits.length() - best.scale(); // value = 0.digits * 10^decpt
        StringBuilder sb = new StringBuilder(24);
        if (d < 0) sb.append('-');
        if (decpt > -4 && decpt <= 16) {
            if (decpt <= 0) {
                sb.append("0.");
                for (int i = 0; i < -decpt; i++) sb.append('0');
                sb.append(digits);
            } else if (decpt >= digits.length()) {
                sb.append(digits);
                for (int i = digits.length(); i < decpt; i++) sb.append('0');
                sb.append(".0");
            } else {
                sb.append(digits, 0, decpt).append('.').append(digits, decpt, digits.length());
            }
        } else {
            sb.append(digits.charAt(0));
            if (digits.length() > 1) sb.append('.').append(digits, 1, digits.length());
            int exp = decpt - 1;
            sb.append('e').append(exp < 0 ? '-' : '+');
            int a = Math.abs(exp);
            if (a < 10) sb.append('0');
            sb.append(a);
        }
        return sb.toString();
    }
}
