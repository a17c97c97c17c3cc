package dev.dsv32.api.tools;

import dev.dsv32.encoding.Tokens;

/** Completions in the model's output format, for scripted tests. */
final class Dsml {
    private Dsml() {}

    static final String EOS = Tokens.EOS;
    private static final String D = Tokens.DSML;

    /** One invoke; {@code params} alternate name, value; a String value is a string parameter, others JSON text. */
    static String invoke(String name, Object... params) {
        StringBuilder sb = new StringBuilder("<" + D + "invoke name=\"" + name + "\">\n");
        for (int i = 0; i < params.length; i += 2) {
            if (i > 0) sb.append('\n');
            boolean str = params[i + 1] instanceof String;
            sb.append('<').append(D).append("parameter name=\"").append(params[i]).append("\" string=\"").append(str)
                    .append("\">").append(params[i + 1]).append("</").append(D).append("parameter>");
        }
        return sb.append("\n</").append(D).append("invoke>").toString();
    }

    /** A thinking-mode turn with tool calls: reasoning, then the block, then EOS. */
    static String calls(String reasoning, String... invokes) {
        return reasoning + Tokens.THINK_END + "\n\n<" + D + "function_calls>\n" + String.join("\n", invokes) + "\n</" + D
                + "function_calls>" + EOS;
    }

    /** A thinking-mode final answer. */
    static String answer(String reasoning, String content) {
        return reasoning + Tokens.THINK_END + content + EOS;
    }
}
