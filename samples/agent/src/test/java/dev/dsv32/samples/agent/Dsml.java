package dev.dsv32.samples.agent;

import dev.dsv32.encoding.Tokens;

/** Completions in the DeepSeek-V3.2 output format, for scripted engines and the fake remote server. */
final class Dsml {
    private Dsml() {}

    /** One {@code invoke}: {@code params} are name, value pairs; a value in double quotes is a string. */
    static String invoke(String tool, String... params) {
        StringBuilder sb = new StringBuilder("<").append(Tokens.DSML).append("invoke name=\"").append(tool).append("\">\n");
        for (int i = 0; i < params.length; i += 2) {
            boolean string = params[i + 1].startsWith("\"");
            String value = string ? params[i + 1].substring(1, params[i + 1].length() - 1) : params[i + 1];
            sb.append('<').append(Tokens.DSML).append("parameter name=\"").append(params[i]).append("\" string=\"").append(string)
                    .append("\">").append(value).append("</").append(Tokens.DSML).append("parameter>\n");
        }
        return sb.append("</").append(Tokens.DSML).append("invoke>\n").toString();
    }

    /** A thinking-mode completion that calls the given invokes at once. */
    static String calls(String reasoning, String... invokes) {
        return reasoning + "</think>\n\n<" + Tokens.DSML + "function_calls>\n" + String.join("", invokes) + "</" + Tokens.DSML + "function_calls>";
    }

    static String answer(String reasoning, String content) {
        return reasoning + "</think>" + content;
    }
}
