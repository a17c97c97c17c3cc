package dev.dsv32.tools;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dsv32.encoding.DsmlParseException;
import dev.dsv32.encoding.LenientParser;
import dev.dsv32.encoding.Message;
import dev.dsv32.encoding.ParseOptions;
import dev.dsv32.encoding.ParseResult;
import dev.dsv32.encoding.PythonJson;
import dev.dsv32.encoding.StrictParser;
import dev.dsv32.encoding.ThinkingMode;
import dev.dsv32.encoding.Tool;
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
 * {@code dsv32 parse}: reads a completion (the text the model generated after the prompt) and prints the assistant
 * message as JSON: strictly as the official {@code parse_message_from_completion_text}, or leniently with the
 * repairs made.
 */
@Command(name = "parse",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {
            "Parse DeepSeek-V3.2 model output into an OpenAI-style assistant message, printed as JSON.",
            "Strict by default (the official parser: malformed output is an error, exit status 2);"
                    + " --lenient recovers what it can and lists the repairs."
        })
final class ParseCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--text-file", required = true, paramLabel = "FILE",
            description = "The completion text, UTF-8, used exactly as is (include the final <｜end▁of▁sentence｜>;"
                    + " in thinking mode do not include the prompt's <think>). '-' reads stdin.")
    String textFile;

    @Option(names = "--thinking-mode", paramLabel = "MODE", defaultValue = "thinking",
            converter = Converters.ThinkingModeConverter.class,
            completionCandidates = Converters.ThinkingModeCandidates.class,
            description = "thinking or chat: the mode the prompt was encoded in (default: ${DEFAULT-VALUE})")
    ThinkingMode thinkingMode;

    @Option(names = "--lenient", description = "Recover from malformed output instead of failing; adds \"repairs\".")
    boolean lenient;

    @Option(names = "--tools", paramLabel = "FILE",
            description = "JSON list of the OpenAI tools the request declared ([{\"type\":\"function\",\"function\":{...}}]"
                    + " or an object with a \"tools\" key); the lenient parser checks names and types against them.")
    String toolsFile;

    @Option(names = "--pretty", description = "Indent the JSON output.")
    boolean pretty;

    private final InputStream stdin;

    ParseCommand(InputStream stdin) {
        this.stdin = stdin;
    }

    @Override
    public Integer call() {
        String text = Io.readUtf8(textFile, "completion text", stdin);
        List<Tool> tools = toolsFile == null ? null : readTools(Io.readUtf8(toolsFile, "tools file", stdin), toolsFile);
        PrintWriter out = spec.commandLine().getOut();
        JsonNode json;
        if (lenient) {
            ParseResult result = LenientParser.parse(text, thinkingMode, ParseOptions.builder().tools(tools).build());
            json = Json.withRepairs(result);
        } else {
            if (tools != null) {
                PrintWriter err = spec.commandLine().getErr();
                err.println("dsv32 parse: note: --tools only affects --lenient parsing; the strict parser ignores it");
                err.flush();
            }
            Message m;
            try {
                m = StrictParser.parse(text, thinkingMode);
            } catch (DsmlParseException e) {
                throw new CliException(textFile + ": " + e.getMessage() + " (strict parse in " + thinkingMode.wireName()
                        + " mode; try --lenient)", e);
            }
            json = Json.tree(m);
        }
        out.print(pretty ? Json.pretty(json) : Json.compact(json));
        out.print('\n');
        out.flush();
        return 0;
    }

    /** A list of OpenAI tools, or an object whose {@code tools} key holds one. */
    static List<Tool> readTools(String text, String file) {
        JsonNode root;
        try {
            root = PythonJson.loads(text);
        } catch (IllegalArgumentException e) {
            throw new CliException(file + ": invalid JSON: " + Io.jsonMessage(e.getMessage()), e);
        }
        JsonNode list = root.isObject() && root.has("tools") ? root.get("tools") : root;
        if (!list.isArray()) {
            throw new CliException(file + ": expected a JSON array of tools or an object with a \"tools\" array, got "
                    + EncodeCommand.kind(list));
        }
        List<Tool> tools = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            tools.add(Json.toTool(list.get(i), file + ": tools[" + i + "]"));
        }
        return tools;
    }
}
