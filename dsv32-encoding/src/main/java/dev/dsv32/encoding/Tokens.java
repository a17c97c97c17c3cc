package dev.dsv32.encoding;

/**
 * The exact special strings of the DeepSeek-V3.2 chat format (encoding.md §2). {@code ｜} is U+FF5C and {@code ▁}
 * is U+2581. The DSML sentinel is ordinary BPE text, not a special token.
 */
public final class Tokens {
    private Tokens() {}

    public static final String BOS = "<\uFF5Cbegin\u2581of\u2581sentence\uFF5C>";
    public static final String EOS = "<\uFF5Cend\u2581of\u2581sentence\uFF5C>";
    public static final String USER = "<\uFF5CUser\uFF5C>";
    public static final String ASSISTANT = "<\uFF5CAssistant\uFF5C>";
    public static final String THINK_START = "<think>";
    public static final String THINK_END = "</think>";
    public static final String DSML = "\uFF5CDSML\uFF5C";

    /** What the strict parser looks for to enter tool-call mode (note: no closing {@code >}). */
    public static final String TOOL_CALLS_START = "\n\n<" + DSML + "function_calls";
    public static final String FUNCTION_CALLS_OPEN = "<" + DSML + "function_calls>";
    public static final String FUNCTION_CALLS_CLOSE = "</" + DSML + "function_calls>";
    public static final String INVOKE_OPEN = "<" + DSML + "invoke";
    public static final String INVOKE_CLOSE = "</" + DSML + "invoke";
    public static final String PARAMETER_OPEN = "<" + DSML + "parameter";
    public static final String PARAMETER_CLOSE = "</" + DSML + "parameter>";
}
