package dev.dsv32.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dsv32.Dsv32Exception;
import dev.dsv32.api.FinishReason;
import dev.dsv32.api.GenerateRequest;
import dev.dsv32.api.Metrics;
import dev.dsv32.tokenizer.Tokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs requests against an OpenAI-compatible server's raw {@code /v1/completions} endpoint (SGLang, vLLM, ...): the
 * prompt is encoded here and sent as text, the completion streams back over SSE with special tokens kept
 * ({@code skip_special_tokens: false}) and goes through the same stop-string matching and streaming parser as local
 * generation, so thinking, tool calls and their repairs come out the same. Stop strings are matched here (the
 * connection is closed when one appears); {@code finish_reason: "stop"} is taken as the end-of-sentence token.
 * Batching and KV reuse are the server's (a session sends the whole conversation; servers with prefix caching
 * reuse it and report {@code cached_tokens}).
 */
public final class RemoteRuntime implements Runtime {
    private static final Logger log = LoggerFactory.getLogger(RemoteRuntime.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient client;
    private final URI endpoint;
    private final String modelName;
    private final String apiKey;
    private final Tokenizer tokenizer;
    private final Duration timeout;
    private final ExecutorService workers;
    private final ScheduledExecutorService timer;
    private final SplittableRandom seeds = new SplittableRandom();
    private volatile boolean closed;

    private final AtomicInteger activeCount = new AtomicInteger();
    private final AtomicLong completed = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong promptTokens = new AtomicLong();
    private final AtomicLong completionTokens = new AtomicLong();
    private final AtomicLong ttftSum = new AtomicLong();
    private final AtomicLong ttftCount = new AtomicLong();

    public RemoteRuntime(HttpClient client, URI base, String modelName, String apiKey, Tokenizer tokenizer, Duration timeout) {
        this.client = client;
        String b = base.toString();
        while (b.endsWith("/")) b = b.substring(0, b.length() - 1);
        if (b.endsWith("/v1")) b = b.substring(0, b.length() - 3);
        this.endpoint = URI.create(b + "/v1/completions");
        this.modelName = modelName;
        this.apiKey = apiKey;
        this.tokenizer = tokenizer;
        this.timeout = timeout;
        AtomicInteger n = new AtomicInteger();
        this.workers = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "dsv32-remote-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "dsv32-remote-timer");
            t.setDaemon(true);
            return t;
        });
    }

    /** The completions endpoint requests go to. */
    public URI endpoint() {
        return endpoint;
    }

    @Override
    public boolean needsTokens() {
        return false;
    }

    @Override
    public int maxContext() {
        return 0;
    }

    @Override
    public void submit(Job job) {
        if (closed) {
            job.fail(new Dsv32Exception("the model is closed"));
            release(job);
            return;
        }
        activeCount.incrementAndGet();
        workers.execute(() -> {
            try {
                run(job);
            } finally {
                activeCount.decrementAndGet();
                release(job);
            }
        });
    }

    private static void release(Job job) {
        SessionState s = job.session;
        if (s == null) return;
        synchronized (s) {
            s.current = null;
            s.busy = false;
        }
    }

    @Override
    public Metrics metrics() {
        long n = ttftCount.get();
        return new Metrics(0, activeCount.get(), activeCount.get(), 0, 0, completed.get(), failed.get(), 0,
                promptTokens.get(), completionTokens.get(), 0, Duration.ofNanos(n == 0 ? 0 : ttftSum.get() / n), Optional.empty());
    }

    @Override
    public void closeSession(SessionState s) {
        s.truncate(0);
    }

    @Override
    public SessionState fork(SessionState s) {
        return s.copyWith(null);
    }

    @Override
    public void close() {
        closed = true;
        workers.shutdownNow();
        timer.shutdownNow();
    }

    private ObjectNode body(Job job) {
        GenerateRequest r = job.request;
        ObjectNode b = JSON.createObjectNode();
        b.put("model", modelName);
        b.put("prompt", job.prompt);
        b.put("max_tokens", r.maxTokens());
        b.put("temperature", r.temperature());
        b.put("top_p", r.topP());
        if (r.topK() > 0) b.put("top_k", r.topK());
        b.put("seed", r.seed().orElse(seeds.nextLong() & Long.MAX_VALUE));
        b.put("stream", true);
        b.putObject("stream_options").put("include_usage", true);
        // The parser needs </think>, the DSML markers and the end-of-sentence token as text.
        b.put("skip_special_tokens", false);
        b.put("spaces_between_special_tokens", false);
        if (r.ignoreEos()) b.put("ignore_eos", true);
        return b;
    }

    private void run(Job job) {
        AtomicBoolean timedOut = new AtomicBoolean();
        InputStream[] stream = new InputStream[1];
        Runnable abort = () -> {
            synchronized (stream) {
                if (stream[0] != null) {
                    try {
                        stream[0].close();
                    } catch (IOException ignored) {
                        // closing to abort
                    }
                }
            }
        };
        ScheduledFuture<?> deadline = null;
        if (job.deadlineNanos != Long.MAX_VALUE) {
            deadline = timer.schedule(() -> {
                timedOut.set(true);
                abort.run();
            }, Math.max(0, job.deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
        job.onCancel(abort);
        StringBuilder textForCount = new StringBuilder();
        int[] usage = {-1, -1, 0};
        FinishReason reason = null;
        try {
            if (job.isCancelled()) {
                finish(job, FinishReason.CANCELLED, textForCount, usage);
                return;
            }
            HttpRequest.Builder hb = HttpRequest.newBuilder(endpoint).timeout(timeout)
                    .header("Content-Type", "application/json").header("Accept", "text/event-stream")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body(job)), StandardCharsets.UTF_8));
            if (apiKey != null && !apiKey.isEmpty()) hb.header("Authorization", "Bearer " + apiKey);
            job.admittedNanos = System.nanoTime();
            HttpResponse<InputStream> resp = client.send(hb.build(), HttpResponse.BodyHandlers.ofInputStream());
            synchronized (stream) {
                stream[0] = resp.body();
            }
            if (job.isCancelled() || timedOut.get()) abort.run();
            if (resp.statusCode() / 100 != 2) {
                String err = new String(resp.body().readNBytes(4096), StandardCharsets.UTF_8);
                throw new Dsv32Exception("the remote server answered HTTP " + resp.statusCode() + " to POST " + endpoint + ": " + err.strip());
            }
            boolean sse = resp.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream");
            try (BufferedReader in = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8))) {
                if (sse) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        if (!line.startsWith("data:")) continue;
                        String data = line.substring(5).strip();
                        if (data.equals("[DONE]")) break;
                        FinishReason fr = chunk(job, JSON.readTree(data), textForCount, usage);
                        if (fr != null) reason = fr; // the usage chunk comes after the finish_reason
                        if (reason == FinishReason.STOP_STRING) break;
                    }
                } else {
                    reason = chunk(job, JSON.readTree(in), textForCount, usage);
                }
            }
            if (job.isCancelled()) reason = FinishReason.CANCELLED;
            else if (timedOut.get()) reason = FinishReason.TIMEOUT;
            else if (reason == null) throw new Dsv32Exception("the remote server ended the stream without a finish_reason (" + endpoint + ")");
            if (reason == FinishReason.STOP) job.generation.onEos();
            finish(job, reason, textForCount, usage);
        } catch (IOException | RuntimeException e) {
            if (job.isCancelled()) {
                finish(job, FinishReason.CANCELLED, textForCount, usage);
            } else if (timedOut.get()) {
                finish(job, FinishReason.TIMEOUT, textForCount, usage);
            } else {
                failed.incrementAndGet();
                log.warn("remote request {} failed: {}", job.id, e.toString());
                release(job);
                job.fail(e instanceof Dsv32Exception d ? d : new Dsv32Exception("remote request to " + endpoint + " failed: " + e, e));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failed.incrementAndGet();
            release(job);
            job.fail(new Dsv32Exception("interrupted (the model was closed)", e));
        } finally {
            if (deadline != null) deadline.cancel(false);
            abort.run();
        }
    }

    /** One response chunk: text to the generation; returns the finish reason once the server gives one. */
    private FinishReason chunk(Job job, JsonNode n, StringBuilder text, int[] usage) {
        JsonNode u = n.get("usage");
        if (u != null && u.isObject()) {
            usage[0] = u.path("prompt_tokens").asInt(-1);
            usage[1] = u.path("completion_tokens").asInt(-1);
            usage[2] = u.path("prompt_tokens_details").path("cached_tokens").asInt(0);
        }
        JsonNode choices = n.get("choices");
        if (choices == null || !choices.isArray() || choices.isEmpty()) return null;
        JsonNode c = choices.get(0);
        String t = c.path("text").asText("");
        if (!t.isEmpty()) {
            if (job.firstTokenNanos == 0) {
                job.firstTokenNanos = System.nanoTime();
                ttftSum.addAndGet(job.firstTokenNanos - job.submitNanos);
                ttftCount.incrementAndGet();
            }
            text.append(t);
            if (job.generation.onText(t)) return FinishReason.STOP_STRING;
        }
        JsonNode fr = c.get("finish_reason");
        if (fr == null || fr.isNull()) return null;
        String s = fr.asText();
        return switch (s) {
            case "stop", "eos" -> FinishReason.STOP;
            case "length" -> FinishReason.LENGTH;
            default -> throw new Dsv32Exception("the remote server sent finish_reason \"" + s + "\", expected stop or length");
        };
    }

    private void finish(Job job, FinishReason reason, StringBuilder text, int[] usage) {
        int[] ids = tokenizer.encode(job.generation.text());
        int prompt = usage[0] >= 0 ? usage[0] : tokenizer.count(job.prompt);
        job.promptTokenCount = prompt;
        job.cachedTokens = usage[2];
        job.prefilledTokens = prompt - usage[2];
        if (job.session != null) {
            job.session.lastCached = usage[2];
            job.session.lastPrefilled = prompt - usage[2];
        }
        promptTokens.addAndGet(prompt - usage[2]);
        completionTokens.addAndGet(usage[1] >= 0 ? usage[1] : ids.length);
        completed.incrementAndGet();
        release(job); // the session may be used again as soon as the result is out
        job.complete(reason, ids);
    }
}
