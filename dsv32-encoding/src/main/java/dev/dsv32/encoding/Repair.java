package dev.dsv32.encoding;

import java.util.Objects;

/**
 * One thing the lenient parser fixed or flagged in model output: {@code kind} is a stable identifier (see
 * {@link Kind}), {@code detail} says what it saw, {@code offset} is the character offset (UTF-16 index) in the
 * completion text where it saw it.
 */
public record Repair(String kind, String detail, int offset) {
    public Repair {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(detail, "detail");
    }

    /** The repair kinds the lenient parser reports. */
    public static final class Kind {
        private Kind() {}

        /** Thinking mode output ended (EOS or end of text) without {@code </think>}: everything stays reasoning. */
        public static final String MISSING_THINK_END = "missing_think_end";
        /** Plain content ended without {@code <｜end▁of▁sentence｜>}; end of text taken as EOS. */
        public static final String MISSING_EOS = "missing_eos";
        /** A leading {@code <think>} echoed by the model (it belongs to the prompt) was removed. */
        public static final String ECHOED_THINK_START = "echoed_think_start";
        /** A {@code <think>} or {@code </think>} in the wrong place was removed. */
        public static final String STRAY_THINK_TOKEN = "stray_think_token";
        /** A special token such as {@code <｜begin▁of▁sentence｜>} was removed from visible text. */
        public static final String SPECIAL_TOKEN_REMOVED = "special_token_removed";
        /** Tool calls started inside the reasoning, before {@code </think>}: the reasoning was ended there. */
        public static final String TOOL_CALLS_IN_REASONING = "tool_calls_in_reasoning";
        /** Not exactly two newlines before the tool-call block. */
        public static final String TOOL_CALLS_SPACING = "tool_calls_spacing";
        /** A DSML marker variant ({@code ｜｜DSML｜｜}, ASCII {@code |DSML|}, {@code ‖DSML‖}, block name {@code tool_calls}, {@code <parameter>}). */
        public static final String MARKER_VARIANT = "marker_variant";
        /** Whitespace between DSML tags other than the single newline of the format (CRLF, blanks, none). */
        public static final String TAG_SPACING = "tag_spacing";
        /** An invoke without the {@code function_calls} wrapper was recovered. */
        public static final String MISSING_WRAPPER = "missing_function_calls_wrapper";
        /** An unwrapped invoke was not recovered (never closed, or names an undeclared tool) and stays as content. */
        public static final String BARE_INVOKE_KEPT_AS_CONTENT = "bare_invoke_kept_as_content";
        /** The tool-call block was not closed before the end. */
        public static final String UNCLOSED_TOOL_CALLS = "unclosed_tool_calls_block";
        /** An invoke was not closed before the next invoke, the block end, or the end of the text. */
        public static final String UNCLOSED_INVOKE = "unclosed_invoke";
        /** A parameter value was not closed; it was ended at the next tag or the end of the text. */
        public static final String UNCLOSED_PARAMETER = "unclosed_parameter";
        /** A parameter tag without the {@code string} attribute; the type was inferred. */
        public static final String MISSING_STRING_ATTRIBUTE = "missing_string_attribute";
        /** A {@code string="false"} value that is not JSON was kept as a JSON string. */
        public static final String NON_JSON_VALUE = "non_json_value";
        /** A value was converted to the type the tool's JSON schema declares. */
        public static final String COERCED_BY_SCHEMA = "coerced_by_schema";
        /** A parameter name repeated in one invoke; the last value was kept. */
        public static final String DUPLICATE_PARAMETER = "duplicate_parameter";
        /** The invoke body was a JSON object instead of parameter tags. */
        public static final String INLINE_JSON_ARGUMENTS = "inline_json_arguments";
        /** An invoke body could not be read as arguments; the call was dropped and its text kept as content. */
        public static final String INVALID_INVOKE = "invalid_invoke";
        /** A call names a tool that was not declared. */
        public static final String UNDECLARED_TOOL = "undeclared_tool";
        /** Text inside the tool-call block that is not DSML; it was moved to the content. */
        public static final String TEXT_IN_TOOL_BLOCK = "text_in_tool_block";
        /** Text between the end of the tool calls and EOS; it was moved to the content. */
        public static final String TEXT_AFTER_TOOL_CALLS = "text_after_tool_calls";
        /** A DSML tag out of place (a closer with nothing open, a second closer, a parameter outside an invoke) was removed. */
        public static final String STRAY_TAG = "stray_tag";
        /** Text inside an invoke that is not a parameter was ignored (kept here in the detail). */
        public static final String IGNORED_TEXT = "ignored_text";
        /** A second tool-call block after the first one was closed. */
        public static final String MULTIPLE_TOOL_CALL_BLOCKS = "multiple_tool_call_blocks";
        /** Text after {@code <｜end▁of▁sentence｜>} was ignored (kept here in the detail). */
        public static final String TEXT_AFTER_EOS = "text_after_eos";
        /** The text ended inside a DSML or special-token marker; the partial marker was removed. */
        public static final String TRUNCATED_MARKER = "truncated_marker";
        /** More tool calls than {@link ParseOptions#maxToolCalls()}; the rest were dropped. */
        public static final String TOO_MANY_TOOL_CALLS = "too_many_tool_calls";
    }
}
