package dev.dsv32.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dsv32.Dsv32Exception;
import dev.dsv32.api.internal.EventChannel;
import dev.dsv32.api.internal.Generation;
import dev.dsv32.api.internal.Job;
import dev.dsv32.api.internal.NativeEngine;
import dev.dsv32.api.internal.RemoteRuntime;
import dev.dsv32.api.internal.Runtime;
import dev.dsv32.api.internal.Scheduler;
import dev.dsv32.api.internal.SessionState;
import dev.dsv32.api.spi.InferenceEngine;
import dev.dsv32.encoding.ChatEncoder;
import dev.dsv32.encoding.ParseOptions;
import dev.dsv32.encoding.ThinkingMode;
import dev.dsv32.nativ.LoadProgressListener;
import dev.dsv32.nativ.NativeBackend;
import dev.dsv32.nativ.NativeModel;
import dev.dsv32.nativ.NativeOptions;
import dev.dsv32.nativ.Numerics;
import dev.dsv32.nativ.synth.SyntheticCheckpoint;
import dev.dsv32.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A DeepSeek-V3.2 model: heavy, thread-safe, shared by the whole application. Call {@link #generate},
 * {@link #generateAsync} or {@link #stream} from any number of threads: concurrent requests are batched into shared
 * forward steps (continuous batching), not serialised. {@link #newSession()} keeps a conversation's KV cache between
 * turns. Close the model to free the engine.
 *
 * <pre>{@code
 * try (Model model = Model.builder().path(dir).build()) {
 *     GenerateResult r = model.generate(GenerateRequest.of("Hello!"));
 *     System.out.println(r.reasoning() + " / " + r.content());
 * }
 * }</pre>
 *
 * <p>A model runs in-process on the native engine (the default) or against a remote OpenAI-compatible server
 * ({@link Builder#remote(URI)}) with the same API: the prompt is encoded and the output parsed here either way.
 */
public final class Model implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Model.class);
    private static final AtomicInteger MODELS = new AtomicInteger();

    private final Runtime runtime;
    private final InferenceEngine engine; // null for remote models
    private final Variant variant;
    private final Backend backend;
    private final Tokenizer tokenizer;
    private final String name;
    private final ExecutorService delivery;
    private final AtomicLong ids = new AtomicLong();
    private volatile boolean closed;

    private Model(Runtime runtime, InferenceEngine engine, Variant variant, Backend backend, Tokenizer tokenizer, String name) {
        this.runtime = runtime;
        this.engine = engine;
        this.variant = variant;
        this.backend = backend;
        this.tokenizer = tokenizer;
        this.name = name;
        int n = MODELS.incrementAndGet();
        AtomicInteger threads = new AtomicInteger();
        ThreadFactory tf = r -> {
            Thread t = new Thread(r, "dsv32-delivery-" + n + "-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        this.delivery = Executors.newCachedThreadPool(tf);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** V3.2 or Speciale (which has no tool calling). */
    public Variant variant() {
        return variant;
    }

    /**
     * Where the model runs: {@link Backend#CPU} or {@link Backend#CUDA} for local models (what {@link Backend#AUTO}
     * chose), null for a remote model.
     */
    public Backend backend() {
        return backend;
    }

    /** The V3.2 tokenizer. */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** Tokens per sequence (prompt plus completion); 0 for a remote model (the server decides). */
    public int maxContext() {
        return runtime.maxContext();
    }

    /** Scheduler metrics: queue length, batch size, tokens/s, time to first token, open sequences. */
    public Metrics metrics() {
        return runtime.metrics();
    }

    /** Generates one reply, blocking the calling thread. */
    public GenerateResult generate(GenerateRequest request) {
        return await(generateAsync(request));
    }

    /** Generates one reply; cancelling the future stops generation within one step and frees its sequence. */
    public CompletableFuture<GenerateResult> generateAsync(GenerateRequest request) {
        return submitAsync(request, null);
    }

    /**
     * A cold publisher of the request's events: each subscription runs the request once and receives reasoning and
     * content deltas, tool-call events and a final {@link Event.Final}, then {@code onComplete}. Cancelling the
     * subscription stops generation within one step. Events are delivered off the engine thread, honouring demand.
     */
    public Flow.Publisher<Event> stream(GenerateRequest request) {
        return publisher(request, null);
    }

    /**
     * Streams the request's events to {@code listener} (on a delivery thread, in order; the last one is
     * {@link Event.Final}) and completes the future with the result after the final event. Cancelling the future
     * stops generation within one step; the listener then receives a final event with {@link FinishReason#CANCELLED}.
     */
    public CompletableFuture<GenerateResult> stream(GenerateRequest request, Consumer<? super Event> listener) {
        return streamTo(request, listener, null);
    }

    /** A new, empty conversation that keeps its KV cache between turns. */
    public Session newSession() {
        checkOpen();
        return new Session(this, new SessionState(), null);
    }

    /**
     * A new conversation whose {@link Session#send} turns use {@code defaults} (sampling, tools, thinking); its
     * messages start the history (a system prompt, say).
     */
    public Session newSession(GenerateRequest defaults) {
        checkOpen();
        return new Session(this, new SessionState(), Objects.requireNonNull(defaults, "defaults"));
    }

    /** Whether {@link #close()} was called (the engine and its native memory are freed). */
    public boolean isClosed() {
        return closed;
    }

    /** Frees the engine. Pending and running requests fail; open sessions become unusable. Idempotent. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        runtime.close();
        if (engine != null) engine.close();
        delivery.shutdown();
        log.debug("closed {}", name);
    }

    @Override
    public String toString() {
        return "Model[" + name + ", " + variant + (closed ? ", closed]" : "]");
    }

    // ------------------------------------------------------------------ internals used by Session

    Runtime runtime() {
        return runtime;
    }

    void checkOpen() {
        if (closed) throw new IllegalStateException("the model " + name + " is closed");
    }

    /** The prompt, its tokens and the parser setup of a request. */
    private record Prepared(GenerateRequest request, String prompt, int[] tokens, ThinkingMode mode, ParseOptions parse, boolean raw) {}

    private Prepared prepare(GenerateRequest request) {
        Objects.requireNonNull(request, "request");
        checkOpen();
        if (request.messages().isEmpty()) throw new IllegalArgumentException("the request has no messages");
        if (!variant.supportsTools() && !request.tools().isEmpty()) {
            throw new Dsv32Exception("tools: DeepSeek-V3.2-Speciale does not support tool calling; remove the tools or use the standard model");
        }
        ThinkingMode mode = request.thinking() ? ThinkingMode.THINKING : ThinkingMode.CHAT;
        ChatEncoder enc = ChatEncoder.builder().thinkingMode(mode).dropThinking(request.dropThinking())
                .variant(variant.encodingVariant()).build();
        String prompt = enc.encode(request.encodedMessages());
        int[] tokens = runtime.needsTokens() ? tokenizer.encode(prompt) : null;
        if (tokens != null) checkContext(tokens.length);
        ParseOptions po = request.tools().isEmpty() ? ParseOptions.defaults() : ParseOptions.builder().tools(request.tools()).build();
        return new Prepared(request, prompt, tokens, mode, po, false);
    }

    /**
     * Fails fast, on the caller's thread, before anything is queued: a prompt of {@code n} tokens that leaves no room
     * for one completion token in the context, or that the whole KV cache pool cannot hold. The message gives the counts.
     */
    private void checkContext(int n) {
        int ctx = runtime.maxContext();
        if (ctx > 0 && n >= ctx) {
            throw new Dsv32Exception("the prompt has " + n + " tokens; the model's context is " + ctx
                    + " tokens (prompt and completion): shorten the conversation or raise maxContext");
        }
        runtime.metrics().cache().ifPresent(c -> {
            long pool = c.totalBlocks() * c.blockSize();
            if (n > pool) throw new CapacityException("the prompt has " + n + " tokens; the whole KV cache holds " + pool + " tokens");
        });
    }

    /**
     * The number of tokens of {@code request}'s encoded prompt (what counts against {@link #maxContext()}): to check a
     * request before sending it.
     */
    public int promptTokens(GenerateRequest request) {
        Objects.requireNonNull(request, "request");
        if (request.messages().isEmpty()) throw new IllegalArgumentException("the request has no messages");
        ThinkingMode mode = request.thinking() ? ThinkingMode.THINKING : ThinkingMode.CHAT;
        String prompt = ChatEncoder.builder().thinkingMode(mode).dropThinking(request.dropThinking())
                .variant(variant.encodingVariant()).build().encode(request.encodedMessages());
        return tokenizer.count(prompt);
    }

    /**
     * A raw completion, as the OpenAI {@code /v1/completions} endpoint defines it: continues {@code prompt} (text with
     * special tokens written out, e.g. a prompt another process encoded) without the chat encoding. Sampling,
     * {@code maxTokens}, stop strings, {@code ignoreEos} and the timeout come from {@code options}; its messages,
     * tools and thinking settings are ignored. {@code textListener} receives the completion text as generated, unparsed
     * (special tokens written out; the end-of-sentence token, when the model writes it, as a delta of its own), on a
     * delivery thread, in order; the future completes after the last delta with the result (whose text is the whole
     * completion). Cancelling the future stops generation within one step. Goes through the scheduler like any request.
     */
    public CompletableFuture<GenerateResult> completeRaw(String prompt, GenerateRequest options, Consumer<String> textListener) {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(textListener, "textListener");
        checkOpen();
        if (prompt.isEmpty()) throw new IllegalArgumentException("the prompt is empty");
        int[] tokens = runtime.needsTokens() ? tokenizer.encode(prompt) : null;
        if (tokens != null) checkContext(tokens.length);
        Prepared p = new Prepared(options, prompt, tokens, ThinkingMode.CHAT, ParseOptions.defaults(), true);
        return streamTo(p, e -> {
            if (e instanceof Event.ContentDelta d) textListener.accept(d.text());
        }, null);
    }

    private Job job(Prepared p, SessionState session, Consumer<Event> sink, Job.Outcome outcome) {
        long id = ids.incrementAndGet();
        Generation g = new Generation(p.mode(), p.parse(), p.request().stop(), sink, "call_" + id + "_", p.raw());
        return new Job(id, p.request(), p.prompt(), p.tokens(), g, session, outcome);
    }

    private void submit(Job job, SessionState session) {
        if (session != null) {
            synchronized (session) {
                if (session.closed) throw new IllegalStateException("the session is closed");
                if (session.busy) {
                    throw new IllegalStateException("the session is already generating: a session runs one request at a time"
                            + " (use one session per conversation, or fork() it)");
                }
                session.busy = true;
                session.current = job;
            }
        }
        runtime.submit(job);
    }

    CompletableFuture<GenerateResult> submitAsync(GenerateRequest request, SessionState session) {
        Prepared p = prepare(request);
        CompletableFuture<GenerateResult> f = new CompletableFuture<>();
        Job job = job(p, session, null, new Job.Outcome() {
            @Override
            public void completed(GenerateResult result) {
                deliver(() -> f.complete(result));
            }

            @Override
            public void failed(Throwable error) {
                deliver(() -> f.completeExceptionally(error));
            }
        });
        f.whenComplete((r, e) -> {
            if (f.isCancelled()) job.cancel();
        });
        submit(job, session);
        return f;
    }

    Flow.Publisher<Event> publisher(GenerateRequest request, SessionState session) {
        Prepared p = prepare(request);
        return subscriber -> {
            Objects.requireNonNull(subscriber, "subscriber");
            EventChannel ch = new EventChannel(subscriber, delivery);
            Job job = job(p, session, ch::offer, Job.toEvents(ch::offer, new Job.Outcome() {
                @Override
                public void completed(GenerateResult result) {
                    ch.complete();
                }

                @Override
                public void failed(Throwable error) {
                    ch.error(error);
                }
            }));
            ch.onCancel(job::cancel);
            subscriber.onSubscribe(ch);
            try {
                submit(job, session);
            } catch (RuntimeException e) {
                ch.error(e);
            }
        };
    }

    CompletableFuture<GenerateResult> streamTo(GenerateRequest request, Consumer<? super Event> listener, SessionState session) {
        Objects.requireNonNull(listener, "listener");
        return streamTo(prepare(request), listener, session);
    }

    private CompletableFuture<GenerateResult> streamTo(Prepared p, Consumer<? super Event> listener, SessionState session) {
        CompletableFuture<GenerateResult> f = new CompletableFuture<>();
        Flow.Subscriber<Event> sub = new Flow.Subscriber<>() {
            private GenerateResult last;

            @Override
            public void onSubscribe(Flow.Subscription s) {
                s.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(Event e) {
                if (e instanceof Event.Final fin) last = fin.result();
                try {
                    listener.accept(e);
                } catch (RuntimeException ex) {
                    log.warn("stream listener threw on {}: {}", e.getClass().getSimpleName(), ex.toString());
                }
            }

            @Override
            public void onError(Throwable t) {
                f.completeExceptionally(t);
            }

            @Override
            public void onComplete() {
                f.complete(last);
            }
        };
        EventChannel ch = new EventChannel(sub, delivery);
        Job job = job(p, session, ch::offer, Job.toEvents(ch::offer, new Job.Outcome() {
            @Override
            public void completed(GenerateResult result) {
                ch.complete();
            }

            @Override
            public void failed(Throwable error) {
                ch.error(error);
            }
        }));
        f.whenComplete((r, e) -> {
            if (f.isCancelled()) job.cancel();
        });
        sub.onSubscribe(ch);
        submit(job, session);
        return f;
    }

    private void deliver(Runnable r) {
        try {
            delivery.execute(r);
        } catch (RuntimeException e) { // shut down: complete here
            r.run();
        }
    }

    static <T> T await(CompletableFuture<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new Dsv32Exception("interrupted while generating", e);
        } catch (CancellationException e) {
            throw e;
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof Dsv32Exception d) throw rethrown(d);
            if (c instanceof IllegalArgumentException || c instanceof IllegalStateException) throw (RuntimeException) c;
            if (c instanceof RuntimeException r) throw new Dsv32Exception(r.getMessage(), r);
            if (c instanceof Error err) throw err;
            throw new Dsv32Exception(String.valueOf(c), c);
        }
    }

    /** The same exception type, with this thread's stack (the original is the cause). */
    private static Dsv32Exception rethrown(Dsv32Exception d) {
        if (d.getClass() == CapacityException.class) return new CapacityException(d.getMessage(), d);
        if (d.getClass() == Dsv32Exception.class) return new Dsv32Exception(d.getMessage(), d);
        return d;
    }

    /**
     * Builds a {@link Model}: a local checkpoint ({@link #path}, or {@link #tinyChat()}), a custom engine
     * ({@link #engine}), or a remote server ({@link #remote}). Setters check their argument and name it.
     */
    public static final class Builder {
        private Path path;
        private boolean tinyChat;
        private InferenceEngine engine;
        private URI remote;
        private String remoteModel = "deepseek-ai/DeepSeek-V3.2";
        private String apiKey;
        private HttpClient httpClient;
        private Backend backend = Backend.AUTO;
        private int[] devices = new int[0];
        private int modelParallel = 1;
        private int maxSequences = 16;
        private int maxContext;
        private int threads;
        private Numerics numerics = Numerics.DEFAULT;
        private Variant variant;
        private int stepTokenBudget = 256;
        private Duration admissionTimeout = Duration.ofSeconds(30);
        private Duration requestTimeout = Duration.ofMinutes(10);
        private LoadProgressListener progress;
        private int kvCacheTokens;
        private int kvBlockSize;

        private Builder() {}

        /**
         * A Hugging Face checkpoint directory (config.json and *.safetensors), or one written by {@code dsv32 convert}
         * ({@link dev.dsv32.nativ.CheckpointConverter}): open that at the {@link #modelParallel(int)} it was converted for.
         */
        public Builder path(Path dir) {
            this.path = Objects.requireNonNull(dir, "path");
            return this;
        }

        /** The synthetic {@code tiny_chat} model (real vocabulary, random weights), generated on first use. */
        public Builder tinyChat() {
            this.tinyChat = true;
            return this;
        }

        /** A custom engine (for example {@link dev.dsv32.api.testing.ScriptedEngine}); the model closes it. */
        public Builder engine(InferenceEngine e) {
            this.engine = Objects.requireNonNull(e, "engine");
            return this;
        }

        /**
         * An OpenAI-compatible server (SGLang, vLLM, ...) serving V3.2, by its base URL (e.g.
         * {@code http://host:8000}); requests go to its raw {@code /v1/completions} endpoint.
         */
        public Builder remote(URI baseUrl) {
            Objects.requireNonNull(baseUrl, "remote");
            String s = baseUrl.getScheme();
            if (s == null || !(s.equalsIgnoreCase("http") || s.equalsIgnoreCase("https"))) {
                throw new IllegalArgumentException("remote must be an http or https URL, got " + baseUrl);
            }
            this.remote = baseUrl;
            return this;
        }

        /** The model name sent to the remote server. Default {@code deepseek-ai/DeepSeek-V3.2}. */
        public Builder remoteModel(String name) {
            this.remoteModel = Objects.requireNonNull(name, "remoteModel");
            return this;
        }

        /** Sent as {@code Authorization: Bearer <key>} to the remote server. */
        public Builder apiKey(String key) {
            this.apiKey = key;
            return this;
        }

        /** The HTTP client for the remote server (default: a new one). */
        public Builder httpClient(HttpClient client) {
            this.httpClient = Objects.requireNonNull(client, "httpClient");
            return this;
        }

        /**
         * Default {@link Backend#AUTO}: CUDA when the native library has the CUDA backend and a device is present,
         * else the CPU. {@link Backend#CUDA} makes {@link #build()} fail with the engine's reason when it is not
         * available ("backend cuda is not available in this build" / "... no CUDA device ..."); {@link Backend#HIP} is
         * not available in this build.
         */
        public Builder backend(Backend b) {
            this.backend = Objects.requireNonNull(b, "backend");
            return this;
        }

        /** GPU device ordinals (CUDA/HIP backends; one device for now: model parallelism on GPUs is a later issue). */
        public Builder devices(int... ordinals) {
            Objects.requireNonNull(ordinals, "devices");
            for (int i = 0; i < ordinals.length; i++) {
                if (ordinals[i] < 0) throw new IllegalArgumentException("devices[" + i + "] must be >= 0, got " + ordinals[i]);
            }
            this.devices = ordinals.clone();
            return this;
        }

        /** Model-parallel ranks (threads on CPU). Default 1. */
        public Builder modelParallel(int n) {
            if (n < 1) throw new IllegalArgumentException("modelParallel must be >= 1, got " + n);
            this.modelParallel = n;
            return this;
        }

        /** Sequences (running requests plus open sessions) at once. Default 16. */
        public Builder maxSequences(int n) {
            if (n < 1) throw new IllegalArgumentException("maxSequences must be >= 1, got " + n);
            this.maxSequences = n;
            return this;
        }

        /** Tokens per sequence, prompt plus completion. Default: the checkpoint's, at most 4096. */
        public Builder maxContext(int n) {
            if (n < 2) throw new IllegalArgumentException("maxContext must be >= 2, got " + n);
            this.maxContext = n;
            return this;
        }

        /** Engine worker threads; 0 = all cores (default). */
        public Builder threads(int n) {
            if (n < 0) throw new IllegalArgumentException("threads must be >= 0 (0 = all cores), got " + n);
            this.threads = n;
            return this;
        }

        /** The engine's numerics (default: the engine's, f32). */
        public Builder numerics(Numerics n) {
            this.numerics = Objects.requireNonNull(n, "numerics");
            return this;
        }

        /** V3.2 or Speciale; default: from the checkpoint's config.json (names containing "Speciale"), else V3.2. */
        public Builder variant(Variant v) {
            this.variant = Objects.requireNonNull(v, "variant");
            return this;
        }

        /**
         * Told how loading goes, in stages ({@code "map"}, {@code "validate"}, {@code "shard"}, and {@code "pack"} where
         * the CPU repacks or copies weights for its kernels), each in bytes, on the thread that calls {@link #build()}.
         */
        public Builder progress(LoadProgressListener listener) {
            this.progress = Objects.requireNonNull(listener, "progress");
            return this;
        }

        /**
         * The KV cache pool, in tokens, shared by all sequences (paged: a sequence takes blocks as it grows). Default
         * {@code maxSequences x maxContext}; smaller pools admit requests while blocks are free.
         */
        public Builder kvCacheTokens(int tokens) {
            if (tokens < 1) throw new IllegalArgumentException("kvCacheTokens must be >= 1, got " + tokens);
            this.kvCacheTokens = tokens;
            return this;
        }

        /** Positions per KV cache block. Default 64. */
        public Builder kvBlockSize(int tokens) {
            if (tokens < 1) throw new IllegalArgumentException("kvBlockSize must be >= 1, got " + tokens);
            this.kvBlockSize = tokens;
            return this;
        }

        /** Tokens one forward step may take (decode tokens plus prefill chunks). Default 256. */
        public Builder stepTokenBudget(int n) {
            if (n < 1) throw new IllegalArgumentException("stepTokenBudget must be >= 1, got " + n);
            this.stepTokenBudget = n;
            return this;
        }

        /** How long a request may wait for a free sequence before failing with {@link CapacityException}. Default 30 s. */
        public Builder admissionTimeout(Duration d) {
            Objects.requireNonNull(d, "admissionTimeout");
            if (d.isNegative() || d.compareTo(Duration.ofDays(365)) > 0) {
                throw new IllegalArgumentException("admissionTimeout must be between 0 and 365 days, got " + d);
            }
            this.admissionTimeout = d;
            return this;
        }

        /** Remote models: the HTTP connect and response-start timeout. Default 10 min. */
        public Builder requestTimeout(Duration d) {
            Objects.requireNonNull(d, "requestTimeout");
            if (d.isNegative() || d.isZero()) throw new IllegalArgumentException("requestTimeout must be > 0, got " + d);
            this.requestTimeout = d;
            return this;
        }

        /**
         * Opens the model.
         *
         * @throws Dsv32Exception when the backend is not available, no source was given, or the checkpoint cannot be
         *     opened (a {@link dev.dsv32.nativ.CheckpointException} names the file and tensor)
         */
        public Model build() {
            int sources = (path != null ? 1 : 0) + (tinyChat ? 1 : 0) + (engine != null ? 1 : 0) + (remote != null ? 1 : 0);
            if (sources == 0) throw new IllegalStateException("no model: call path(dir), tinyChat(), engine(e) or remote(url)");
            if (sources > 1) throw new IllegalStateException("more than one model source: use only one of path(dir), tinyChat(), engine(e) and remote(url)");
            Tokenizer tok = Tokenizer.v32();
            if (remote != null) {
                Variant v = variant != null ? variant : remoteModel.toLowerCase(Locale.ROOT).contains("speciale") ? Variant.SPECIALE : Variant.V32;
                HttpClient client = httpClient != null ? httpClient
                        : HttpClient.newBuilder().connectTimeout(requestTimeout).version(HttpClient.Version.HTTP_1_1).build();
                RemoteRuntime rt = new RemoteRuntime(client, remote, remoteModel, apiKey, tok, requestTimeout);
                return new Model(rt, null, v, null, tok, "remote " + remote + " (" + remoteModel + ")");
            }
            if (engine != null) {
                return new Model(scheduler(engine, tok), engine, variant != null ? variant : Variant.V32, Backend.CPU, tok,
                        engine.getClass().getSimpleName());
            }
            if (devices.length > 0 && backend == Backend.CPU) {
                throw new IllegalArgumentException("devices " + Arrays.toString(devices) + " apply to the CUDA and HIP backends; the CPU backend has none");
            }
            if (devices.length > 1) {
                throw new IllegalArgumentException("devices " + Arrays.toString(devices) + ": the CUDA backend runs on one GPU for now; give one device");
            }
            Path dir;
            try {
                dir = tinyChat ? SyntheticCheckpoint.defaultModel() : path;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot generate the tiny_chat model: " + e.getMessage(), e);
            }
            JsonNode config = readConfig(dir);
            Variant v = variant != null ? variant : detectVariant(dir, config);
            int configMax = config.path("max_position_embeddings").asInt(0);
            int ctx = maxContext > 0 ? maxContext : configMax > 0 ? Math.min(configMax, 4096) : 4096;
            if (configMax > 0 && ctx > configMax) {
                throw new IllegalArgumentException("maxContext " + ctx + " exceeds the checkpoint's max_position_embeddings " + configMax);
            }
            NativeOptions o = NativeOptions.defaults().withNumerics(numerics).withMp(modelParallel).withMaxSeqLen(ctx)
                    .withMaxSequences(maxSequences).withThreads(threads);
            if (progress != null) o = o.withProgress(progress);
            if (kvCacheTokens > 0) o = o.withKvPoolTokens(kvCacheTokens);
            if (kvBlockSize > 0) o = o.withKvBlockSize(kvBlockSize);
            // The engine decides: CUDA / HIP (an error naming why when it cannot run here), AUTO (CUDA when usable), CPU.
            o = o.withBackend(switch (backend) {
                case CUDA -> NativeBackend.CUDA;
                case HIP -> NativeBackend.HIP;
                case CPU -> NativeBackend.CPU;
                default -> NativeBackend.AUTO;
            });
            if (devices.length == 1) o = o.withDevice(devices[0]);
            long t0 = System.nanoTime();
            NativeModel nm = NativeModel.open(dir, o);
            Backend used = switch (nm.info().backend()) {
                case CUDA -> Backend.CUDA;
                case HIP -> Backend.HIP;
                default -> Backend.CPU;
            };
            log.info("opened {} ({}, {} numerics, context {}, {} sequences) on {} [{}] in {} ms", dir, v, nm.info().numerics(), ctx,
                    maxSequences, used, nm.info().device(), (System.nanoTime() - t0) / 1_000_000);
            NativeEngine ne = new NativeEngine(nm, maxSequences);
            return new Model(scheduler(ne, tok), ne, v, used, tok, dir.toString());
        }

        private Scheduler scheduler(InferenceEngine e, Tokenizer tok) {
            int batch = Math.max(1, e.maxSequences());
            return new Scheduler(e, tok, new Scheduler.Config(batch, stepTokenBudget, Math.min(16, stepTokenBudget), admissionTimeout));
        }

        private static JsonNode readConfig(Path dir) {
            Path f = dir.resolve("config.json");
            if (!Files.isRegularFile(f)) throw new dev.dsv32.nativ.CheckpointException(f + ": no config.json in the checkpoint directory");
            try {
                return new ObjectMapper().readTree(f.toFile());
            } catch (IOException e) {
                throw new dev.dsv32.nativ.CheckpointException(f + ": not valid JSON: " + e.getMessage());
            }
        }

        private static Variant detectVariant(Path dir, JsonNode config) {
            StringBuilder names = new StringBuilder(String.valueOf(dir.getFileName()));
            for (String k : new String[] {"_name_or_path", "name_or_path", "model_name", "variant"}) {
                names.append(' ').append(config.path(k).asText(""));
            }
            return names.toString().toLowerCase(Locale.ROOT).contains("speciale") ? Variant.SPECIALE : Variant.V32;
        }
    }
}
