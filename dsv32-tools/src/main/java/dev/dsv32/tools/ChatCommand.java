package dev.dsv32.tools;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dsv32.api.Event;
import dev.dsv32.api.GenerateRequest;
import dev.dsv32.api.GenerateResult;
import dev.dsv32.api.Model;
import dev.dsv32.api.Session;
import dev.dsv32.api.tools.Param;
import dev.dsv32.api.tools.Tool;
import dev.dsv32.api.tools.ToolDefinition;
import dev.dsv32.api.tools.ToolRegistry;
import dev.dsv32.encoding.Message;
import dev.dsv32.encoding.ToolCall;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dsv32 chat}: a multi-turn conversation through a {@link Session} (its KV cache is reused between turns), with
 * the answer streamed as it is generated and the reasoning shown dimmed (on a terminal) or prefixed with
 * {@code [thinking]}. Interactive on a terminal; with {@code --prompt}, or when standard input is not a terminal, it
 * reads the turns from the options or from standard input (one line a turn) and exits, so it can be scripted.
 *
 * <p>Commands: {@code /reset}, {@code /thinking on|off}, {@code /reasoning on|off} (show or hide it),
 * {@code /tools on|off} (built-in demo tools: the time, arithmetic), {@code /help}, {@code /quit}.
 */
@Command(name = "chat",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {"Chat with the model: the answer streams as it is generated, the reasoning is shown dimmed (or"
                + " prefixed [thinking]). Multi-turn: the session keeps the conversation and its KV cache.",
                "Interactive on a terminal; with --prompt, or with standard input not a terminal (one line a turn), it runs"
                + " the turns and exits.",
                "Commands: /reset, /thinking on|off, /reasoning on|off, /tools on|off, /help, /quit."})
final class ChatCommand implements Callable<Integer> {
    private static final String DIM = "\u001b[2m";
    private static final String RESET = "\u001b[0m";
    private static final int MAX_TOOL_ROUNDS = 4;

    private final InputStream stdin;

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    SamplingOptions sampling;

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT",
            description = "A user turn (repeat for several turns); runs them and exits instead of reading standard input")
    List<String> prompts;

    @Option(names = "--system", paramLabel = "TEXT", description = "A system prompt")
    String system;

    @Option(names = "--show-reasoning", paramLabel = "on|off", arity = "1", defaultValue = "on", converter = Converters.OnOff.class,
            description = "Show the model's reasoning (thinking mode) before the answer (default: ${DEFAULT-VALUE})")
    boolean showReasoning;

    @Option(names = "--tools", paramLabel = "on|off", arity = "1", defaultValue = "off", converter = Converters.OnOff.class,
            description = "Offer the built-in demo tools (current time, arithmetic) (default: ${DEFAULT-VALUE})")
    boolean tools;

    @Option(names = "--color", paramLabel = "on|off", arity = "1", converter = Converters.OnOff.class,
            description = "Dim the reasoning with ANSI colour (default: on when standard output is a terminal)")
    Boolean color;

    ChatCommand(InputStream stdin) {
        this.stdin = stdin;
    }

    /** The built-in demo tools of {@code /tools}. */
    public static final class DemoTools {
        @Tool("The current local date and time")
        public String now() {
            return LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME);
        }

        @Tool("Add two numbers")
        public double add(@Param(name = "a", value = "the first number") double a, @Param(name = "b", value = "the second number") double b) {
            return a + b;
        }

        @Tool("Multiply two numbers")
        public double multiply(@Param(name = "a", value = "the first number") double a, @Param(name = "b", value = "the second number") double b) {
            return a * b;
        }
    }

    private PrintWriter out;
    private PrintWriter err;
    private boolean thinking;
    private boolean dim;
    private final ToolRegistry registry = ToolRegistry.builder().add(new DemoTools()).build();
    private final List<Message> history = new ArrayList<>();

    @Override
    public Integer call() throws IOException {
        out = spec.commandLine().getOut();
        err = spec.commandLine().getErr();
        boolean interactive = (prompts == null || prompts.isEmpty()) && System.console() != null;
        dim = color != null ? color : System.console() != null;
        thinking = sampling.thinking;
        GenerateRequest defaults = sampling.apply(GenerateRequest.builder()).build(); // checks the options before loading
        try (Model model = modelOptions.open(err); Session session = model.newSession()) {
            reset();
            if (prompts != null && !prompts.isEmpty()) {
                for (String p : prompts) turn(session, defaults, p);
                return 0;
            }
            BufferedReader in = new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8));
            if (interactive) {
                out.println("dsv32 chat (" + modelOptions.name() + "). /help for commands, /quit or Ctrl-D to leave.");
            }
            while (true) {
                if (interactive) {
                    out.print("> ");
                    out.flush();
                }
                String line = in.readLine();
                if (line == null) break;
                line = line.strip();
                if (line.isEmpty()) continue;
                if (line.startsWith("/")) {
                    if (!command(line)) break;
                    continue;
                }
                turn(session, defaults, line);
            }
            if (interactive) out.println();
            out.flush();
            return 0;
        }
    }

    private void reset() {
        history.clear();
        if (system != null) history.add(Message.system(system));
    }

    /** A slash command; false to quit. */
    private boolean command(String line) {
        String[] w = line.split("\\s+");
        String arg = w.length > 1 ? w[1].toLowerCase(Locale.ROOT) : "";
        switch (w[0]) {
            case "/quit", "/exit" -> {
                return false;
            }
            case "/reset" -> {
                reset();
                out.println("(conversation cleared)");
            }
            case "/thinking" -> {
                Optional<Boolean> v = onOff(arg);
                if (v.isPresent()) thinking = v.get();
                out.println("(thinking " + (thinking ? "on" : "off") + ")");
            }
            case "/reasoning" -> {
                Optional<Boolean> v = onOff(arg);
                if (v.isPresent()) showReasoning = v.get();
                out.println("(reasoning " + (showReasoning ? "shown" : "hidden") + ")");
            }
            case "/tools" -> {
                Optional<Boolean> v = onOff(arg);
                tools = v.orElse(!tools && arg.isEmpty() ? true : tools);
                out.print("(tools " + (tools ? "on" : "off"));
                if (tools) {
                    List<String> names = new ArrayList<>();
                    for (ToolDefinition d : registry.definitions()) names.add(d.name());
                    out.print(": " + String.join(", ", names));
                }
                out.println(")");
            }
            case "/help" -> out.println("/reset  clear the conversation\n/thinking on|off  thinking mode\n/reasoning on|off"
                    + "  show or hide the reasoning\n/tools on|off  the built-in demo tools\n/quit  leave");
            default -> out.println("(unknown command " + w[0] + "; /help lists them)");
        }
        out.flush();
        return true;
    }

    private static Optional<Boolean> onOff(String arg) {
        if (arg.equals("on") || arg.equals("true")) return Optional.of(true);
        if (arg.equals("off") || arg.equals("false")) return Optional.of(false);
        return Optional.empty();
    }

    /** One user turn: streams the reply; runs the demo tools the model calls and lets it continue. */
    private void turn(Session session, GenerateRequest defaults, String text) {
        history.add(Message.user(text));
        for (int round = 0; round <= MAX_TOOL_ROUNDS; round++) {
            GenerateRequest.Builder b = defaults.toBuilder().messages(history).thinking(thinking);
            b.tools(tools ? registry.specs() : List.of());
            GenerateResult r = streamTurn(session, b.build());
            history.add(r.message());
            if (!r.hasToolCalls() || !tools) return;
            for (ToolCall c : r.toolCalls()) {
                String result = runTool(c);
                out.println(prefix("[tool] ") + c.name() + " " + c.arguments() + " -> " + result);
                history.add(Message.tool(c.id(), result));
            }
            out.flush();
        }
    }

    private GenerateResult streamTurn(Session session, GenerateRequest request) {
        boolean[] inReasoning = {false};
        boolean[] any = {false};
        GenerateResult r = session.stream(request, e -> {
            if (e instanceof Event.ReasoningDelta d) {
                if (!showReasoning) return;
                if (!inReasoning[0]) {
                    out.print(dim ? DIM + "[thinking] " : "[thinking] ");
                    inReasoning[0] = true;
                }
                out.print(d.text());
                out.flush();
            } else if (e instanceof Event.ContentDelta d) {
                if (inReasoning[0]) {
                    out.println(dim ? RESET : "");
                    inReasoning[0] = false;
                }
                out.print(d.text());
                any[0] = true;
                out.flush();
            }
        }).join();
        if (inReasoning[0] && dim) out.print(RESET);
        out.println();
        if (r.hasToolCalls() && !tools) out.println(prefix("[tool calls ignored: /tools is off]"));
        out.flush();
        return r;
    }

    private String prefix(String s) {
        return dim ? DIM + s + RESET : s;
    }

    private String runTool(ToolCall c) {
        Optional<ToolDefinition> def = registry.get(c.name());
        if (def.isEmpty()) return "error: no tool named " + c.name();
        try {
            JsonNode args = Json.MAPPER.readTree(c.arguments());
            Object v = def.get().handler().call(args);
            return v instanceof String s ? s : Json.MAPPER.writeValueAsString(v);
        } catch (Exception e) {
            return "error: " + e.getMessage();
        }
    }
}
