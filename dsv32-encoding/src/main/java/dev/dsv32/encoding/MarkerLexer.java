package dev.dsv32.encoding;

/**
 * Recognises the markers of model output at a {@code '<'}: think tags, special tokens ({@code <｜…｜>}), and DSML tags
 * in their canonical form and the variants real output shows (encoding-failure-modes.md §2, §5): sentinels
 * {@code ｜DSML｜}, {@code ｜｜DSML｜｜}, ASCII {@code |DSML|}, {@code ‖DSML‖} with optional blanks; block names
 * {@code function_calls} and {@code tool_calls}; {@code <parameter>} / {@code <invoke>} without a sentinel (inside
 * tool calls only); a closer missing its {@code >}.
 *
 * <p>For streaming, {@link #match} answers {@link #NEED_MORE} whenever the text so far is a proper prefix of some
 * marker, so a caller can hold it back without ever showing part of a marker.
 */
final class MarkerLexer {
    private MarkerLexer() {}

    enum Kind { THINK_START, THINK_END, EOS, SPECIAL, BLOCK_OPEN, BLOCK_CLOSE, INVOKE_OPEN, INVOKE_CLOSE, PARAM_OPEN, PARAM_CLOSE }

    /** A recognised marker: its kind, length in chars, and for invoke/parameter tags their attributes. */
    static final class Marker {
        final Kind kind;
        final int length;
        /** Not the canonical spelling (sentinel variant, other block name, no sentinel, missing '>'). */
        final boolean variant;
        final String name;
        /** {@code string} attribute of a parameter: TRUE, FALSE, or null when absent. */
        final Boolean string;
        final String text;

        Marker(Kind kind, int length, boolean variant, String name, Boolean string, String text) {
            this.kind = kind;
            this.length = length;
            this.variant = variant;
            this.name = name;
            this.string = string;
            this.text = text;
        }
    }

    /** The text may be the start of a marker; more input decides. */
    static final Marker NEED_MORE = new Marker(null, 0, false, null, null, "");
    /** Not a marker. */
    static final Marker NONE = new Marker(null, 0, false, null, null, "");

    static final int MAX_TAG_LENGTH = 1024;
    private static final int MAX_SPECIAL_NAME = 64;
    private static final char FW_BAR = '\uFF5C';
    private static final char DOUBLE_BAR = '\u2016';
    private static final String EOS_NAME = "end\u2581of\u2581sentence";

    private static boolean isBar(char c) {
        return c == FW_BAR || c == '|' || c == DOUBLE_BAR;
    }

    private static boolean isBlank(char c) {
        return c == ' ' || c == '\t';
    }

    private static boolean isNameChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    }

    /** 1: s[i..] starts with lit; 0: s[i..end) is a proper prefix of lit; -1: neither. */
    private static int prefix(CharSequence s, int i, int end, String lit) {
        int n = lit.length();
        for (int k = 0; k < n; k++) {
            if (i + k >= end) return 0;
            if (s.charAt(i + k) != lit.charAt(k)) return -1;
        }
        return 1;
    }

    /**
     * Matches a marker at {@code s[i] == '<'}. {@code eof}: no more text will come, so never NEED_MORE.
     * {@code plainTags}: also accept {@code <parameter …>}, {@code </parameter>}, {@code <invoke …>},
     * {@code </invoke>} without a sentinel (inside a tool-call block).
     */
    static Marker match(CharSequence s, int i, int end, boolean eof, boolean plainTags) {
        Marker m = matchAny(s, i, end, eof, plainTags);
        if (m == NEED_MORE && eof) return NONE;
        return m;
    }

    private static Marker matchAny(CharSequence s, int i, int end, boolean eof, boolean plainTags) {
        boolean needMore = false;
        int j = i + 1;
        if (j >= end) return NEED_MORE;
        boolean closing = s.charAt(j) == '/';
        if (closing) {
            j++;
            if (j >= end) return NEED_MORE;
        }
        // <think> / </think>
        int p = prefix(s, j, end, "think>");
        if (p == 1) {
            return new Marker(closing ? Kind.THINK_END : Kind.THINK_START, j + 6 - i, false, null, null, closing ? Tokens.THINK_END : Tokens.THINK_START);
        }
        if (p == 0) needMore = true;

        // Sentinel: bar{1,2} blank* DSML blank* bar{1,2}
        Marker dsml = matchDsml(s, i, j, end, eof, closing, true);
        if (dsml == NEED_MORE) needMore = true;
        else if (dsml != NONE) return dsml;

        if (plainTags) {
            Marker plain = matchDsml(s, i, j, end, eof, closing, false);
            if (plain == NEED_MORE) needMore = true;
            else if (plain != NONE) return plain;
        }

        // Special token <｜name｜>
        if (!closing && s.charAt(j) == FW_BAR) {
            int k = j + 1;
            while (k < end && k - j - 1 <= MAX_SPECIAL_NAME) {
                char c = s.charAt(k);
                if (c == FW_BAR) break;
                if (c == '<' || c == '>' || Character.isWhitespace(c)) { // names use U+2581, never blanks
                    k = -1;
                    break;
                }
                k++;
            }
            if (k >= 0) {
                if (k >= end) {
                    needMore = true;
                } else if (s.charAt(k) == FW_BAR && k > j + 1) {
                    if (k + 1 >= end) {
                        needMore = true;
                    } else if (s.charAt(k + 1) == '>') {
                        String name = s.subSequence(j + 1, k).toString();
                        String text = s.subSequence(i, k + 2).toString();
                        return new Marker(EOS_NAME.equals(name) ? Kind.EOS : Kind.SPECIAL, k + 2 - i, false, name, null, text);
                    }
                }
            }
        }
        return needMore ? NEED_MORE : NONE;
    }

    /** A DSML tag after {@code <} or {@code </} (at j): with a sentinel, or (withSentinel=false) a plain tag name. */
    private static Marker matchDsml(CharSequence s, int i, int j, int end, boolean eof, boolean closing, boolean withSentinel) {
        int k = j;
        boolean variant = !withSentinel;
        if (withSentinel) {
            int bars = 0;
            while (k < end && bars < 2 && isBar(s.charAt(k))) {
                bars++;
                k++;
            }
            if (bars == 0) return NONE;
            if (k >= end) return NEED_MORE;
            int start = k;
            while (k < end && isBlank(s.charAt(k))) k++;
            int pd = prefix(s, k, end, "DSML");
            if (pd == 0) return NEED_MORE;
            if (pd < 0) return NONE;
            k += 4;
            while (k < end && isBlank(s.charAt(k))) k++;
            if (k >= end) return NEED_MORE;
            int closeBars = 0;
            while (k < end && closeBars < 2 && isBar(s.charAt(k))) {
                closeBars++;
                k++;
            }
            if (closeBars == 0) return NONE;
            if (k >= end) return NEED_MORE;
            String sentinel = s.subSequence(j, k).toString();
            variant = !sentinel.equals(Tokens.DSML) || start != j + 1;
        }
        // Tag name.
        int nameStart = k;
        while (k < end && isNameChar(s.charAt(k)) && k - nameStart < 32) k++;
        if (k >= end && !eof) {
            return couldBeTagName(s.subSequence(nameStart, k).toString(), withSentinel) ? NEED_MORE : NONE;
        }
        String tag = s.subSequence(nameStart, k).toString();
        Kind kind;
        switch (tag) {
            case "function_calls":
                kind = closing ? Kind.BLOCK_CLOSE : Kind.BLOCK_OPEN;
                break;
            case "tool_calls":
            case "toolcalls":
            case "functioncalls":
                kind = closing ? Kind.BLOCK_CLOSE : Kind.BLOCK_OPEN;
                variant = true;
                break;
            case "invoke":
                kind = closing ? Kind.INVOKE_CLOSE : Kind.INVOKE_OPEN;
                break;
            case "parameter":
                kind = closing ? Kind.PARAM_CLOSE : Kind.PARAM_OPEN;
                break;
            default:
                return NONE;
        }
        if (!withSentinel && (kind == Kind.BLOCK_OPEN || kind == Kind.BLOCK_CLOSE)) return NONE;
        // Rest of the tag up to '>' (quotes respected), bounded.
        int attrStart = k;
        char quote = 0;
        while (k < end) {
            char c = s.charAt(k);
            if (quote != 0) {
                if (c == quote) quote = 0;
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == '>') {
                break;
            } else if (c == '<' || c == '\n' || c == '\r') {
                break;
            }
            if (k - i > MAX_TAG_LENGTH) return NONE;
            k++;
        }
        boolean hasAttrs = kind == Kind.INVOKE_OPEN || kind == Kind.PARAM_OPEN;
        if (k >= end && (!eof || hasAttrs)) {
            // Wait for the '>'. At the end of the text a closer or block opener without it is accepted as is.
            return NEED_MORE;
        }
        boolean gt = k < end && s.charAt(k) == '>';
        String attrs = s.subSequence(attrStart, k).toString();
        if (!hasAttrs) {
            if (!attrs.isBlank()) return NONE;
            if (!gt || !attrs.isEmpty()) variant = true; // closer without '>' (e.g. truncated "</｜DSML｜invoke" then newline)
            int len = (gt ? k + 1 : attrStart) - i;
            return new Marker(kind, len, variant, null, null, s.subSequence(i, i + len).toString());
        }
        if (!gt) return NONE;
        String name = attribute(attrs, "name");
        if (name == null) return NONE;
        Boolean string = null;
        String flag = attribute(attrs, "string");
        if (flag != null) {
            if (flag.equals("true")) string = Boolean.TRUE;
            else if (flag.equals("false")) string = Boolean.FALSE;
            else variant = true;
        }
        if (kind == Kind.PARAM_OPEN && flag == null) variant = true;
        if (kind == Kind.INVOKE_OPEN && !attrs.equals(" name=\"" + name + "\"")) variant = true;
        if (kind == Kind.PARAM_OPEN && !attrs.equals(" name=\"" + name + "\" string=\"" + flag + "\"")) variant = true;
        return new Marker(kind, k + 1 - i, variant, name, string, s.subSequence(i, k + 1).toString());
    }

    /** Value of {@code key="…"} (or {@code key='…'}) in a tag's attribute text; null if absent. */
    static String attribute(String attrs, String key) {
        int from = 0;
        while (true) {
            int at = attrs.indexOf(key, from);
            if (at < 0) return null;
            boolean boundary = at == 0 || !isNameChar(attrs.charAt(at - 1));
            int k = at + key.length();
            while (k < attrs.length() && isBlank(attrs.charAt(k))) k++;
            if (boundary && k < attrs.length() && attrs.charAt(k) == '=') {
                k++;
                while (k < attrs.length() && isBlank(attrs.charAt(k))) k++;
                if (k < attrs.length() && (attrs.charAt(k) == '"' || attrs.charAt(k) == '\'')) {
                    char q = attrs.charAt(k);
                    int close = attrs.indexOf(q, k + 1);
                    if (close < 0) return null;
                    return attrs.substring(k + 1, close);
                }
                int e = k;
                while (e < attrs.length() && !isBlank(attrs.charAt(e))) e++;
                return e > k ? attrs.substring(k, e) : null;
            }
            from = at + 1;
        }
    }

    private static boolean couldBeTagName(String partial, boolean withSentinel) {
        String[] names = withSentinel
                ? new String[] {"function_calls", "tool_calls", "toolcalls", "functioncalls", "invoke", "parameter"}
                : new String[] {"invoke", "parameter"};
        for (String n : names) {
            if (n.startsWith(partial)) return true;
        }
        return false;
    }
}
