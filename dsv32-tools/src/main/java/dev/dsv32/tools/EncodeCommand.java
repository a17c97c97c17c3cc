package dev.dsv32.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dsv32.Dsv32Exception;
import dev.dsv32.encoding.ChatEncoder;
import dev.dsv32.encoding.ModelVariant;
import dev.dsv32.encoding.PythonJson;
import dev.dsv32.encoding.ThinkingMode;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dsv32 encode}: renders a conversation into the DeepSeek-V3.2 prompt exactly as the official
 * {@code encode_messages} does, and prints it with no trailing newline.
 */
@Command(name = "encode",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {
            "Encode chat messages into the DeepSeek-V3.2 prompt (byte-exact with the official encoding_dsv32.py).",
            "The prompt is printed as UTF-8 with no trailing newline."
        })
final class EncodeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--messages", required = true, paramLabel = "FILE",
            description = {"JSON array of OpenAI-style messages, or an object {\"messages\": [...], \"tools\": [...]}"
                    + " whose tools are attached to messages[0] (as the official test does). '-' reads stdin."})
    String messagesFile;

    @Option(names = "--thinking-mode", paramLabel = "MODE", defaultValue = "thinking",
            converter = Converters.ThinkingModeConverter.class,
            completionCandidates = Converters.ThinkingModeCandidates.class,
            description = "thinking or chat (default: ${DEFAULT-VALUE})")
    ThinkingMode thinkingMode;

    @Option(names = "--drop-thinking", paramLabel = "BOOL", arity = "1", defaultValue = "true",
            converter = Converters.StrictBooleanConverter.class,
            description = "Drop reasoning of turns before the last user message (default: ${DEFAULT-VALUE})")
    boolean dropThinking;

    @Option(names = "--bos", paramLabel = "BOOL", arity = "1", defaultValue = "true",
            converter = Converters.StrictBooleanConverter.class,
            description = "Start with <｜begin▁of▁sentence｜> (default: ${DEFAULT-VALUE})")
    boolean bos;

    @Option(names = "--variant", paramLabel = "VARIANT", defaultValue = "standard",
            converter = Converters.VariantConverter.class,
            completionCandidates = Converters.VariantCandidates.class,
            description = "standard or speciale (Speciale has no tool calling) (default: standard)")
    ModelVariant variant;

    private final InputStream stdin;

    EncodeCommand(InputStream stdin) {
        this.stdin = stdin;
    }

    @Override
    public Integer call() {
        String text = Io.readUtf8(messagesFile, "messages file", stdin);
        List<JsonNode> messages = readMessages(text, messagesFile);
        ChatEncoder encoder = ChatEncoder.builder()
                .thinkingMode(thinkingMode)
                .dropThinking(dropThinking)
                .addBosToken(bos)
                .variant(variant)
                .build();
        String prompt;
        try {
            prompt = encoder.encodeJson(messages);
        } catch (Dsv32Exception | IllegalArgumentException e) {
            throw new CliException(messagesFile + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new CliException(messagesFile + ": the encoder failed on this input (" + e + ")", e);
        }
        int bad = Io.firstUnpairedSurrogate(prompt);
        if (bad >= 0) {
            throw new CliException(messagesFile + ": the prompt contains an unpaired surrogate U+"
                    + Integer.toHexString(prompt.charAt(bad)).toUpperCase(java.util.Locale.ROOT)
                    + " (from a \\u escape in the JSON) at character " + bad + ", which cannot be written as UTF-8");
        }
        PrintWriter out = spec.commandLine().getOut();
        out.print(prompt);
        out.flush();
        return 0;
    }

    /**
     * The message list of a messages file: a JSON array, or {@code {"messages": [...], "tools": [...]}} with
     * {@code messages[0]["tools"] = tools} when there is a {@code tools} key.
     */
    static List<JsonNode> readMessages(String text, String file) {
        JsonNode root;
        try {
            root = PythonJson.loads(text);
        } catch (IllegalArgumentException e) {
            throw new CliException(file + ": invalid JSON: " + Io.jsonMessage(e.getMessage()), e);
        }
        JsonNode array;
        if (root.isArray()) {
            array = root;
        } else if (root.isObject()) {
            array = root.get("messages");
            if (array == null || !array.isArray()) {
                throw new CliException(file + ": the object has no \"messages\" array"
                        + (array == null ? "" : " (\"messages\" is " + kind(array) + ")"));
            }
            if (root.has("tools")) {
                if (array.isEmpty()) {
                    throw new CliException(file + ": \"tools\" is given but \"messages\" is empty"
                            + " (the tools are attached to messages[0])");
                }
                JsonNode first = array.get(0);
                if (!first.isObject()) {
                    throw new CliException(file + ": messages[0]: expected a message object to attach \"tools\" to, got "
                            + kind(first));
                }
                ((ObjectNode) first).set("tools", root.get("tools"));
            }
        } else {
            throw new CliException(file + ": expected a JSON array of messages or an object with a \"messages\" array, got "
                    + kind(root));
        }
        List<JsonNode> messages = new ArrayList<>(array.size());
        array.forEach(messages::add);
        return messages;
    }

    static String kind(JsonNode n) {
        return switch (n.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
        };
    }
}
