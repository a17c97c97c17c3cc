package dev.dsv32.api.tools;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.dsv32.Dsv32Exception;
import dev.dsv32.api.GenerateRequest;
import dev.dsv32.api.GenerateResult;
import dev.dsv32.api.Model;
import dev.dsv32.api.Session;
import dev.dsv32.encoding.DsmlParseException;
import dev.dsv32.encoding.Message;
import dev.dsv32.encoding.StrictParser;
import dev.dsv32.encoding.ThinkingMode;
import dev.dsv32.encoding.ToolCall;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Thinking with tools: the loop that lets the model call Java tools until it answers.
 *
 * <pre>{@code
 * Agent agent = Agent.builder(model).tools(ToolRegistry.builder().add(new WeatherTools()).build()).build();
 * AgentResult r = agent.run("What's the weather in Hangzhou?");
 * }</pre>
 *
 * <p>Each step encodes the conversation with the tools, generates (in one {@link Session}, so only new tokens are
 * prefilled), and reads the tool calls: with the strict parser first, falling back to the lenient parse (its repairs
 * are logged). Each call's arguments are checked against the tool's JSON schema; the calls of one step run in
 * parallel, each with a timeout; the results go back to the model as tool messages in call order. An unknown tool,
 * invalid arguments, a tool that throws or times out become an error result the model sees ({@code {"error": ...}}),
 * never an exception here. The loop ends at an answer without tool calls, or after {@code maxSteps} generations.
 * Thread-safe: one agent may run many conversations at once.
 */
public final class Agent {
    private static final Logger log = LoggerFactory.getLogger(Agent.class);
    private static final AtomicInteger POOLS = new AtomicInteger();

    private final Model model;
    private final ToolRegistry tools;
    private final int maxSteps;
    private final Duration toolTimeout;
    private final GenerateRequest defaults;
    private final ExecutorService executor;

    private Agent(Builder b) {
        this.model = b.model;
        this.tools = b.tools;
        this.maxSteps = b.maxSteps;
        this.toolTimeout = b.toolTimeout;
        this.defaults = b.defaults;
        if (b.executor != null) {
            this.executor = b.executor;
        } else {
            int n = POOLS.incrementAndGet();
            AtomicInteger t = new AtomicInteger();
            this.executor = Executors.newCachedThreadPool(r -> {
                Thread th = new Thread(r, "dsv32-tools-" + n + "-" + t.incrementAndGet());
                th.setDaemon(true);
                return th;
            });
        }
    }

    public static Builder builder(Model model) {
        return new Builder(model);
    }

    public ToolRegistry tools() {
        return tools;
    }

    /** Runs the loop for one user message. */
    public AgentResult run(String userMessage) {
        return run(List.of(Message.user(Objects.requireNonNull(userMessage, "userMessage"))));
    }

    /** Runs the loop for a conversation (after the defaults' messages). */
    public AgentResult run(List<Message> conversation) {
        Objects.requireNonNull(conversation, "conversation");
        List<Message> messages = new ArrayList<>(defaults != null ? defaults.messages() : List.of());
        messages.addAll(conversation);
        if (messages.isEmpty()) throw new IllegalArgumentException("conversation is empty");
        List<ToolInvocation> invocations = new ArrayList<>();
        GenerateRequest.Builder base = defaults != null ? defaults.toBuilder() : GenerateRequest.builder();
        base.tools(tools.specs());
        GenerateResult last = null;
        try (Session session = model.newSession()) {
            for (int step = 1; step <= maxSteps; step++) {
                GenerateRequest req = base.messages(messages).build();
                last = session.generate(req);
                List<ToolCall> calls = toolCalls(last, req.thinking() ? ThinkingMode.THINKING : ThinkingMode.CHAT, step);
                Message assistant = Message.assistant(last.content(), last.reasoning().isEmpty() ? null : last.reasoning(),
                        calls.isEmpty() ? null : calls);
                messages.add(assistant);
                if (calls.isEmpty()) {
                    return new AgentResult(AgentResult.StopReason.FINAL_ANSWER, last, messages, invocations, step);
                }
                List<ToolInvocation> done = invokeAll(calls, step);
                invocations.addAll(done);
                for (ToolInvocation inv : done) messages.add(Message.tool(inv.call().id(), inv.result()));
            }
        }
        log.warn("agent stopped after {} steps with the model still calling tools", maxSteps);
        return new AgentResult(AgentResult.StopReason.MAX_STEPS, last, messages, invocations, maxSteps);
    }

    /** The step's tool calls: the strict parse when the text is well-formed, else the lenient one (repairs logged). */
    private List<ToolCall> toolCalls(GenerateResult r, ThinkingMode mode, int step) {
        List<ToolCall> lenient = r.toolCalls();
        try {
            Message strict = StrictParser.parse(r.text(), mode);
            List<ToolCall> calls = strict.toolCallsOrEmpty();
            List<ToolCall> out = new ArrayList<>(calls.size());
            for (int i = 0; i < calls.size(); i++) {
                String id = i < lenient.size() ? lenient.get(i).id() : "call_s" + step + "_" + i;
                out.add(calls.get(i).withId(id));
            }
            return out;
        } catch (DsmlParseException e) {
            log.warn("step {}: the completion is not well-formed ({}, finish {}); using the lenient parse, repairs: {}", step,
                    e.getMessage(), r.finishReason(), r.repairs());
            return lenient;
        }
    }

    private List<ToolInvocation> invokeAll(List<ToolCall> calls, int step) {
        List<Future<String>> futures = new ArrayList<>(calls.size());
        List<String> early = new ArrayList<>(calls.size());
        long[] started = new long[calls.size()];
        for (int i = 0; i < calls.size(); i++) {
            ToolCall call = calls.get(i);
            String problem = null;
            JsonNode args = null;
            ToolDefinition def = tools.get(call.name()).orElse(null);
            if (def == null) {
                problem = "unknown tool \"" + call.name() + "\"; the available tools are " + tools.specs().stream().map(t -> t.name()).toList();
            } else {
                try {
                    args = JsonSchemas.MAPPER.readTree(call.arguments());
                    List<String> errs = args == null ? List.of("$: no arguments") : SchemaValidator.validate(def.parameters(), args);
                    if (!errs.isEmpty()) problem = "invalid arguments for " + call.name() + ": " + String.join("; ", errs);
                } catch (JsonProcessingException e) {
                    problem = "the arguments of " + call.name() + " are not valid JSON: " + e.getOriginalMessage();
                }
            }
            early.add(problem);
            started[i] = System.nanoTime();
            if (problem != null) {
                futures.add(null);
            } else {
                JsonNode a = args;
                futures.add(executor.submit(() -> render(def.handler().call(a))));
            }
        }
        long deadline = System.nanoTime() + toolTimeout.toNanos();
        List<ToolInvocation> out = new ArrayList<>(calls.size());
        for (int i = 0; i < calls.size(); i++) {
            ToolCall call = calls.get(i);
            String result;
            boolean error = true;
            Future<String> f = futures.get(i);
            if (f == null) {
                result = error(early.get(i));
            } else {
                try {
                    result = f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    error = false;
                } catch (TimeoutException e) {
                    f.cancel(true);
                    result = error("tool " + call.name() + " timed out after " + toolTimeout.toMillis() + " ms");
                } catch (ExecutionException e) {
                    Throwable c = e.getCause();
                    result = error("tool " + call.name() + " failed: " + c.getClass().getSimpleName() + (c.getMessage() != null ? ": " + c.getMessage() : ""));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    f.cancel(true);
                    throw new Dsv32Exception("interrupted while waiting for tool " + call.name(), e);
                }
            }
            Duration d = Duration.ofNanos(System.nanoTime() - started[i]);
            if (error) log.info("step {}: tool call {} -> {}", step, call.name(), result);
            else log.debug("step {}: tool call {} took {} ms", step, call.name(), d.toMillis());
            out.add(new ToolInvocation(step, call, result, error, d));
        }
        return out;
    }

    private static String render(Object value) throws JsonProcessingException {
        if (value instanceof String s) return s;
        if (value instanceof JsonNode n && n.isTextual()) return n.textValue();
        return JsonSchemas.MAPPER.writeValueAsString(value);
    }

    private static String error(String message) {
        return JsonSchemas.MAPPER.createObjectNode().put("error", message).toString();
    }

    /** Builds an {@link Agent}. */
    public static final class Builder {
        private final Model model;
        private ToolRegistry tools = ToolRegistry.empty();
        private int maxSteps = 10;
        private Duration toolTimeout = Duration.ofSeconds(60);
        private GenerateRequest defaults;
        private ExecutorService executor;

        private Builder(Model model) {
            this.model = Objects.requireNonNull(model, "model");
        }

        public Builder tools(ToolRegistry registry) {
            this.tools = Objects.requireNonNull(registry, "tools");
            return this;
        }

        /** Generations per run at most (>= 1). Default 10. */
        public Builder maxSteps(int n) {
            if (n < 1) throw new IllegalArgumentException("maxSteps must be >= 1, got " + n);
            this.maxSteps = n;
            return this;
        }

        /** How long the tool calls of one step may run. Default 60 s. */
        public Builder toolTimeout(Duration d) {
            Objects.requireNonNull(d, "toolTimeout");
            if (d.isNegative() || d.isZero()) throw new IllegalArgumentException("toolTimeout must be > 0, got " + d);
            this.toolTimeout = d;
            return this;
        }

        /** Options for every step (sampling, thinking, max tokens, timeout); its messages start every run. */
        public Builder defaults(GenerateRequest request) {
            this.defaults = Objects.requireNonNull(request, "defaults");
            return this;
        }

        /** Where tools run (default: a cached pool of daemon threads). */
        public Builder executor(ExecutorService e) {
            this.executor = Objects.requireNonNull(e, "executor");
            return this;
        }

        /** @throws Dsv32Exception when the model is Speciale (no tool calling) and tools were given */
        public Agent build() {
            if (!model.variant().supportsTools() && !tools.isEmpty()) {
                throw new Dsv32Exception("DeepSeek-V3.2-Speciale does not support tool calling: an agent with tools "
                        + tools.specs().stream().map(t -> t.name()).toList() + " needs the standard V3.2 model");
            }
            return new Agent(this);
        }
    }
}
