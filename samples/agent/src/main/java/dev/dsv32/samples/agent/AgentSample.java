package dev.dsv32.samples.agent;

import dev.dsv32.api.GenerateRequest;
import dev.dsv32.api.Model;
import dev.dsv32.api.tools.Agent;
import dev.dsv32.api.tools.AgentResult;
import dev.dsv32.api.tools.ToolInvocation;
import dev.dsv32.api.tools.ToolRegistry;
import dev.dsv32.encoding.Message;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * A tool-using agent: DeepSeek-V3.2 thinks, calls the file, calculator and clock tools, reads their results and answers
 * (thinking with tools, {@link Agent}). Runs on tiny_chat (random weights: it will rarely call a tool and answers random
 * text), a checkpoint directory, or a remote OpenAI-compatible server serving V3.2.
 *
 * <pre>
 * java -jar samples/agent/target/dsv32-sample-agent.jar [--model tiny_chat|DIR | --remote URL [--remote-model NAME] [--api-key KEY]]
 *      [--root DIR] [--max-steps N] [--max-tokens N] [question ...]
 * </pre>
 */
public final class AgentSample {
    static final String SYSTEM_PROMPT = "You are a careful assistant with tools: a calculator (never do arithmetic in your head), "
            + "a clock (you do not know the date otherwise) and read-only access to the files of a workspace. "
            + "Use them when they help, then answer briefly.";
    static final String DEFAULT_QUESTION = "What is (17.5 * 4) + 2^10, what time is it in Tokyo, and which files are in the workspace?";

    /** The command line. */
    record Options(String modelPath, URI remote, String remoteModel, String apiKey, Path root, int maxSteps, int maxTokens, String question) {
        static Options parse(String... args) {
            String model = "tiny_chat";
            URI remote = null;
            String remoteModel = null;
            String apiKey = null;
            Path root = Path.of(".");
            int maxSteps = 6;
            int maxTokens = 1024;
            List<String> words = new ArrayList<>();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--model" -> model = value(args, ++i, a);
                    case "--remote" -> remote = URI.create(value(args, ++i, a));
                    case "--remote-model" -> remoteModel = value(args, ++i, a);
                    case "--api-key" -> apiKey = value(args, ++i, a);
                    case "--root" -> root = Path.of(value(args, ++i, a));
                    case "--max-steps" -> maxSteps = positive(value(args, ++i, a), a);
                    case "--max-tokens" -> maxTokens = positive(value(args, ++i, a), a);
                    default -> {
                        if (a.startsWith("--")) throw new IllegalArgumentException("unknown option " + a);
                        words.add(a);
                    }
                }
            }
            return new Options(model, remote, remoteModel, apiKey, root, maxSteps, maxTokens,
                    words.isEmpty() ? DEFAULT_QUESTION : String.join(" ", words));
        }

        private static String value(String[] args, int i, String option) {
            if (i >= args.length) throw new IllegalArgumentException(option + " needs a value");
            return args[i];
        }

        private static int positive(String v, String option) {
            try {
                int n = Integer.parseInt(v);
                if (n < 1) throw new IllegalArgumentException(option + " must be >= 1, got " + v);
                return n;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + " must be a number, got " + v);
            }
        }

        /** Opens the model these options name. */
        Model open() {
            if (remote != null) {
                Model.Builder b = Model.builder().remote(remote);
                if (remoteModel != null) b.remoteModel(remoteModel);
                if (apiKey != null) b.apiKey(apiKey);
                return b.build();
            }
            Model.Builder b = modelPath.equals("tiny_chat") ? Model.builder().tinyChat() : Model.builder().path(Path.of(modelPath));
            return b.maxSequences(2).build(); // context: the checkpoint's, at most 4096
        }
    }

    public static void main(String[] args) {
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
            return;
        }
        try (Model model = o.open()) {
            run(model, o, Clock.systemUTC(), System.out);
        } catch (RuntimeException e) { // a checkpoint that cannot be opened, an unreachable server, ...
            System.err.println("error: " + e.getMessage());
            System.exit(1);
        }
    }

    /** The tools: files under {@code root}, the calculator, the clock. */
    static ToolRegistry tools(Path root, Clock clock) {
        return ToolRegistry.builder().add(new FileTools(root)).add(new CalculatorTools()).add(new ClockTools(clock)).build();
    }

    /** Runs the agent on the question and prints each tool call, the reasoning and the answer. */
    static AgentResult run(Model model, Options o, Clock clock, PrintStream out) {
        Agent agent = Agent.builder(model)
                .tools(tools(o.root(), clock))
                .maxSteps(o.maxSteps())
                .defaults(GenerateRequest.builder().messages(Message.system(SYSTEM_PROMPT)).maxTokens(o.maxTokens()).build())
                .build();
        out.println("question: " + o.question());
        AgentResult r = agent.run(o.question());
        for (ToolInvocation inv : r.invocations()) {
            out.println("tool: " + inv.call().name() + " " + inv.call().arguments() + " -> " + (inv.error() ? "error " : "") + inv.result());
        }
        if (!r.last().reasoning().isEmpty()) out.println("reasoning: " + r.last().reasoning());
        out.println("answer: " + r.content());
        out.println("stop: " + r.stopReason() + " after " + r.steps() + " step(s), " + r.invocations().size() + " tool call(s)");
        return r;
    }
}
