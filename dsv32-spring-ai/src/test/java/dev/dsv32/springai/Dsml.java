package dev.dsv32.springai;

import dev.dsv32.encoding.Tokens;

/** Completions in the DeepSeek-V3.2 output format, for scripted engines. */
final class Dsml {
    private Dsml() {}

    /** A thinking-mode completion that calls one tool: {@code params} are name, value pairs (values as JSON literals). */
    static String call(String reasoning, String tool, String... params) {
        StringBuilder sb = new StringBuilder(reasoning).append("</think>\n\n<").append(Tokens.DSML).append("function_calls>\n<")
                .append(Tokens.DSML).append("invoke name=\"").append(tool).append("\">\n");
        for (int i = 0; i < params.length; i += 2) {
            boolean string = params[i + 1].startsWith("\"");
            String value = string ? params[i + 1].substring(1, params[i + 1].length() - 1) : params[i + 1];
            sb.append('<').append(Tokens.DSML).append("parameter name=\"").append(params[i]).append("\" string=\"").append(string)
                    .append("\">").append(value).append("</").append(Tokens.DSML).append("parameter>\n");
        }
        return sb.append("</").append(Tokens.DSML).append("invoke>\n</").append(Tokens.DSML).append("function_calls>").toString();
    }

    /** A thinking-mode answer. */
    static String answer(String reasoning, String content) {
        return reasoning + "</think>" + content;
    }
}
