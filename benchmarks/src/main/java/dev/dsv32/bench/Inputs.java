package dev.dsv32.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dsv32.encoding.ChatEncoder;
import dev.dsv32.encoding.PythonJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Benchmark inputs built from an official test conversation (loaded at run time, not bundled). */
final class Inputs {
    private Inputs() {}

    /** Default conversation, relative to the repository root. */
    static final String DEFAULT_CONVERSATION = "dsv32-encoding/src/test/resources/official/test_input_search_w_date.json";

    /** Size the large completion grows to (UTF-8 bytes). */
    static final int LARGE_COMPLETION_BYTES = 256 * 1024;

    /**
     * Finds the file: as given, else relative to the parent directories of the working directory (so the
     * benchmarks also run from {@code benchmarks/}).
     */
    static Path resolve(String file) {
        Path p = Path.of(file);
        if (Files.exists(p) || p.isAbsolute()) return p;
        for (Path dir = Path.of("").toAbsolutePath().getParent(); dir != null; dir = dir.getParent()) {
            Path q = dir.resolve(file);
            if (Files.exists(q)) return q;
        }
        throw new IllegalArgumentException("conversation file not found: " + file + " (run from the repository root or pass"
                + " -p conversation=/path/to/test_input_search_w_date.json)");
    }

    /** The {@code messages} of a test input file (an array, or an object with {@code messages} and optional {@code tools}). */
    static List<JsonNode> messages(String file) {
        String text;
        try {
            text = Files.readString(resolve(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        JsonNode root = PythonJson.loads(text);
        JsonNode array = root.isArray() ? root : root.get("messages");
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        if (root.isObject() && root.has("tools")) ((ObjectNode) out.get(0)).set("tools", root.get("tools"));
        return out;
    }

    static int utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    static int utf8Length(String[] all) {
        int n = 0;
        for (String s : all) n += utf8Length(s);
        return n;
    }

    /**
     * Every assistant turn of the conversation as the model generated it: {@code encode([m], context=messages[:i])}
     * (how the official test builds completions), in thinking mode.
     */
    static String[] turnCompletions(List<JsonNode> messages) {
        ChatEncoder enc = ChatEncoder.defaults();
        List<String> out = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            if ("assistant".equals(messages.get(i).path("role").asText())) {
                out.add(enc.encodeJson(messages.subList(0, i), messages.subList(i, i + 1)));
            }
        }
        return out.toArray(new String[0]);
    }

    /**
     * One large well-formed completion: the reasoning, content and tool calls of all assistant turns, repeated until
     * the text reaches {@link #LARGE_COMPLETION_BYTES}, rendered as one assistant turn after the first user or
     * developer message: {@code reasoning</think>content\n\n<｜DSML｜function_calls>…</｜DSML｜function_calls><eos>}.
     */
    static String largeCompletion(List<JsonNode> messages) {
        int firstUser = -1;
        for (int i = 0; i < messages.size() && firstUser < 0; i++) {
            String role = messages.get(i).path("role").asText();
            if (role.equals("user") || role.equals("developer")) firstUser = i;
        }
        if (firstUser < 0) throw new IllegalArgumentException("the conversation has no user or developer message");
        List<JsonNode> context = messages.subList(0, firstUser + 1);
        ChatEncoder enc = ChatEncoder.defaults();
        for (int repeat = 1; ; repeat++) {
            StringBuilder reasoning = new StringBuilder();
            StringBuilder content = new StringBuilder();
            ArrayNode calls = PythonJson.mapper().createArrayNode();
            for (int r = 0; r < repeat; r++) {
                for (JsonNode m : messages) {
                    if (!"assistant".equals(m.path("role").asText())) continue;
                    String re = m.path("reasoning_content").asText("");
                    if (!re.isEmpty()) reasoning.append(reasoning.length() == 0 ? "" : "\n\n").append(re);
                    String c = m.path("content").asText("");
                    if (!c.isEmpty()) content.append(content.length() == 0 ? "" : "\n\n").append(c);
                    if (m.path("tool_calls").isArray()) m.get("tool_calls").forEach(calls::add);
                }
            }
            ObjectNode big = PythonJson.mapper().createObjectNode();
            big.put("role", "assistant");
            big.put("content", content.toString());
            big.put("reasoning_content", reasoning.toString());
            big.set("tool_calls", calls);
            String s = enc.encodeJson(context, List.of(big));
            if (utf8Length(s) >= LARGE_COMPLETION_BYTES) return s;
        }
    }

    /** {@code text} cut into chunks of {@code size} characters, never splitting a surrogate pair. */
    static String[] chunks(String text, int size) {
        List<String> out = new ArrayList<>(text.length() / size + 1);
        int i = 0;
        while (i < text.length()) {
            int end = Math.min(text.length(), i + size);
            if (end < text.length() && Character.isHighSurrogate(text.charAt(end - 1))) end++;
            out.add(text.substring(i, end));
            i = end;
        }
        return out.toArray(new String[0]);
    }
}
