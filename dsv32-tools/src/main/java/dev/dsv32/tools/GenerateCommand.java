package dev.dsv32.tools;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dsv32.api.Event;
import dev.dsv32.api.GenerateRequest;
import dev.dsv32.api.GenerateResult;
import dev.dsv32.api.Model;
import dev.dsv32.encoding.Message;
import dev.dsv32.encoding.ToolCall;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dsv32 generate}: one completion of one user message. Streams the answer to stdout (reasoning on stderr), or
 * with {@code --json} prints the whole result as one JSON object.
 */
@Command(name = "generate",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Generate one reply to a prompt (streamed to stdout; the reasoning goes to stderr), or the whole result as JSON with --json.")
final class GenerateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    SamplingOptions sampling;

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", required = true, description = "The user message")
    String prompt;

    @Option(names = "--system", paramLabel = "TEXT", description = "A system prompt")
    String system;

    @Option(names = "--json", description = "Print the result as one JSON object (content, reasoning, tool calls, finish reason, usage)")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        GenerateRequest.Builder b = GenerateRequest.builder();
        if (system != null) b.addMessage(Message.system(system));
        b.addMessage(Message.user(prompt));
        GenerateRequest req = sampling.apply(b).build();
        try (Model model = modelOptions.open(err)) {
            GenerateResult r;
            if (json) {
                r = model.generate(req);
                out.println(Json.compact(toJson(r)));
            } else {
                boolean[] inReasoning = {false};
                r = model.stream(req, e -> {
                    if (e instanceof Event.ReasoningDelta d) {
                        err.print(d.text());
                        err.flush();
                        inReasoning[0] = true;
                    } else if (e instanceof Event.ContentDelta d) {
                        if (inReasoning[0]) {
                            err.println();
                            err.flush();
                            inReasoning[0] = false;
                        }
                        out.print(d.text());
                        out.flush();
                    }
                }).join();
                if (inReasoning[0]) err.println();
                for (ToolCall c : r.toolCalls()) out.println("\n[tool call] " + c.name() + " " + c.arguments());
                out.println();
            }
            out.flush();
            err.flush();
            return 0;
        }
    }

    static ObjectNode toJson(GenerateResult r) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("content", r.content());
        o.put("reasoning_content", r.reasoning());
        o.set("tool_calls", Json.MAPPER.valueToTree(r.toolCalls()));
        o.put("finish_reason", r.finishReason().name().toLowerCase(java.util.Locale.ROOT));
        ObjectNode u = o.putObject("usage");
        u.put("prompt_tokens", r.usage().promptTokens());
        u.put("completion_tokens", r.usage().completionTokens());
        u.put("cached_tokens", r.usage().cachedTokens());
        u.put("time_to_first_token_ms", r.usage().timeToFirstToken().toMillis());
        u.put("total_time_ms", r.usage().totalTime().toMillis());
        u.put("decode_tokens_per_second", r.usage().decodeTokensPerSecond());
        o.put("text", r.text());
        return o;
    }
}
