package dev.dsv32.tools.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dsv32.Dsv32Exception;
import dev.dsv32.api.CapacityException;
import dev.dsv32.api.Event;
import dev.dsv32.api.FinishReason;
import dev.dsv32.api.GenerateResult;
import dev.dsv32.api.Metrics;
import dev.dsv32.api.Model;
import dev.dsv32.api.Usage;
import dev.dsv32.encoding.Tokens;
import dev.dsv32.encoding.ToolCall;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An OpenAI-compatible HTTP server over a {@link Model}, on an embedded Jetty 12: {@code POST /v1/chat/completions}
 * (non-streaming and SSE streaming; tools and {@code tool_calls}; {@code reasoning_content} in messages and deltas;
 * usage), {@code POST /v1/completions} (a raw prompt, special tokens kept: what the API's remote backend sends),
 * {@code GET /v1/models}, {@code GET /health} and {@code GET /metrics} (Prometheus text). Every request goes through
 * the model's scheduler, so concurrent clients are batched.
 *
 * <p>With an API key, every endpoint but {@code /health} needs {@code Authorization: Bearer <key>} (compared in constant
 * time); {@code /health} stays open for liveness probes and then says only {@code {"status":"ok"}} (RELIABILITY.md,
 * "Server hardening"). Bodies over {@link Builder#maxBodyBytes} are refused with 413, clients over
 * {@link Builder#rateLimit} with 429, bodies not received within {@link Builder#bodyTimeoutMillis} with 408 (a slow
 * client cannot hold a worker), connections idle for {@link Builder#idleTimeoutMillis} are closed;
 * every refusal is a 4xx with an OpenAI error body ({@code {"error": {"message", "type", "param", "code"}}}) and no
 * error body carries a stack trace. A streaming client that disconnects has its request
 * cancelled (its sequence is freed within one step); {@code dsv32_http_client_disconnects_total} counts them.
 */
public final class OpenAiServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OpenAiServer.class);
    /** Bytes of an oversized body read (and dropped) before answering 413, so the client sees the answer. */
    private static final long DRAIN_LIMIT = 64L << 20;
    private static final Object END = new Object();

    private final Model model;
    private final String modelName;
    private final String apiKey;
    /** SHA-256 of the expected Authorization header: compared with the sent one's digest, so in constant time. */
    private final byte[] authDigest;
    private final RateLimiter rateLimiter; // null: no limit
    private final long maxBodyBytes;
    private final long bodyTimeoutNanos;
    private final boolean defaultThinking;
    private final Server server;
    private final ServerConnector connector;
    private final long created = System.currentTimeMillis() / 1000;
    private final AtomicLong ids = new AtomicLong();

    private final AtomicLong httpRequests = new AtomicLong();
    private final AtomicLong httpErrors4xx = new AtomicLong();
    private final AtomicLong httpErrors5xx = new AtomicLong();
    private final AtomicLong disconnects = new AtomicLong();
    private final AtomicInteger activeStreams = new AtomicInteger();

    private OpenAiServer(Builder b) {
        this.model = b.model;
        this.modelName = b.modelName;
        this.apiKey = b.apiKey;
        this.authDigest = apiKey == null || apiKey.isEmpty() ? null : sha256("Bearer " + apiKey);
        this.rateLimiter = b.ratePerSecond > 0 ? new RateLimiter(b.ratePerSecond, b.rateBurst) : null;
        this.maxBodyBytes = b.maxBodyBytes;
        this.bodyTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(b.bodyTimeoutMillis);
        this.defaultThinking = b.defaultThinking;
        QueuedThreadPool pool = new QueuedThreadPool(b.maxThreads, 4);
        pool.setName("dsv32-http");
        pool.setDaemon(true);
        this.server = new Server(pool);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendDateHeader(true);
        // Jetty caches header fields per connection and, by default, matches the cache ignoring case: a later
        // "Authorization: Bearer SK-..." was then read as the earlier "Bearer sk-..." and let in (found by
        // ServerHardeningTest). Values are compared exactly.
        http.setHeaderCacheCaseSensitive(true);
        this.connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost(b.host);
        connector.setPort(b.port);
        connector.setIdleTimeout(b.idleTimeoutMillis);
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                OpenAiServer.this.handle(request, response, callback);
                return true;
            }
        });
        // Jetty's own errors (bad requests it refuses before the handler): no stack traces, causes or origins.
        org.eclipse.jetty.server.handler.ErrorHandler errors = new org.eclipse.jetty.server.handler.ErrorHandler();
        errors.setShowStacks(false);
        errors.setShowCauses(false);
        errors.setShowMessageInTitle(false);
        errors.setShowOrigin(false);
        server.setErrorHandler(errors);
        server.setStopTimeout(2000);
    }

    public static Builder builder(Model model) {
        return new Builder(model);
    }

    /** Starts listening; returns this. */
    public OpenAiServer start() {
        try {
            server.start();
        } catch (Exception e) {
            try {
                server.stop();
            } catch (Exception ignored) {
                // already failing
            }
            throw new Dsv32Exception("cannot start the server on " + connector.getHost() + ":" + connector.getPort() + ": " + e.getMessage(), e);
        }
        log.info("serving {} at {}", modelName, baseUrl());
        return this;
    }

    /** The port listened on (the real one when 0 was asked for). */
    public int port() {
        return connector.getLocalPort();
    }

    /** {@code http://host:port}. */
    public URI baseUrl() {
        String h = connector.getHost() == null ? "127.0.0.1" : connector.getHost();
        if (h.contains(":")) h = "[" + h + "]";
        return URI.create("http://" + h + ":" + port());
    }

    public String modelName() {
        return modelName;
    }

    /** Blocks until the server stops. */
    public void join() throws InterruptedException {
        server.join();
    }

    /** Stops listening (the model is the caller's to close). */
    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            log.warn("stopping the server: {}", e.toString());
        }
    }

    // ------------------------------------------------------------------ dispatch

    private void handle(Request request, Response response, Callback callback) {
        httpRequests.incrementAndGet();
        String path = Request.getPathInContext(request);
        String method = request.getMethod();
        try {
            if (path.equals("/health")) { // open even with an API key (liveness probes): then it names nothing
                requireMethod(method, "GET");
                ObjectNode h = OpenAiRequests.JSON.createObjectNode().put("status", "ok");
                if (authDigest == null) h.put("model", modelName);
                sendJson(response, callback, 200, h);
                return;
            }
            rateLimit(request);
            authorize(request);
            if (path.equals("/metrics")) {
                requireMethod(method, "GET");
                response.setStatus(200);
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
                Content.Sink.write(response, true, prometheus(), callback);
                return;
            }
            if (!path.startsWith("/v1/")) throw new ApiException(404, "invalid_request_error", null, "not_found", "no such endpoint: " + method + " " + path);
            switch (path) {
                case "/v1/chat/completions" -> {
                    requireMethod(method, "POST");
                    chat(OpenAiRequests.chat(OpenAiRequests.object(body(request)), defaultThinking), request, response, callback);
                }
                case "/v1/completions" -> {
                    requireMethod(method, "POST");
                    completion(OpenAiRequests.completion(OpenAiRequests.object(body(request))), request, response, callback);
                }
                case "/v1/models" -> {
                    requireMethod(method, "GET");
                    ObjectNode list = OpenAiRequests.JSON.createObjectNode().put("object", "list");
                    list.putArray("data").add(modelObject());
                    sendJson(response, callback, 200, list);
                }
                default -> {
                    if (path.startsWith("/v1/models/") && method.equals("GET")) {
                        String id = path.substring("/v1/models/".length());
                        if (!id.equals(modelName)) throw unknownModel(id);
                        sendJson(response, callback, 200, modelObject());
                    } else {
                        throw new ApiException(404, "invalid_request_error", null, "not_found", "no such endpoint: " + method + " " + path);
                    }
                }
            }
        } catch (ApiException e) {
            sendError(response, callback, e);
        } catch (IllegalArgumentException | IllegalStateException | Dsv32Exception e) {
            sendError(response, callback, classify(e));
        } catch (Throwable e) {
            long ref = ids.incrementAndGet();
            log.warn("{} {} failed (error reference {})", method, path, ref, e);
            // The body names no exception and carries no stack: the server log has them, under the reference.
            sendError(response, callback, new ApiException(500, "server_error", null, null, "internal error (reference " + ref + "; see the server log)"));
        }
    }

    private static void requireMethod(String method, String want) {
        if (!method.equals(want)) {
            throw new ApiException(405, "invalid_request_error", null, "method_not_allowed", "use " + want + ", not " + method);
        }
    }

    private void rateLimit(Request request) {
        if (rateLimiter == null) return;
        long wait = rateLimiter.acquire(Request.getRemoteAddr(request), System.nanoTime());
        if (wait > 0) {
            throw new ApiException(429, "requests", null, "rate_limit_exceeded",
                    "rate limit reached for this client; retry after " + wait + " s", wait);
        }
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    private void authorize(Request request) {
        if (authDigest == null) return;
        String h = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        // Digests of equal length, compared in full: the time taken says nothing about the key (nor its length).
        if (h == null || !MessageDigest.isEqual(sha256(h.strip()), authDigest)) {
            throw new ApiException(401, "invalid_request_error", null, "invalid_api_key",
                    h == null ? "missing API key: send Authorization: Bearer <key>" : "incorrect API key provided");
        }
    }

    private ApiException unknownModel(String name) {
        return new ApiException(404, "invalid_request_error", "model", "model_not_found",
                "the model \"" + name + "\" does not exist; this server serves \"" + modelName + "\"");
    }

    private void checkModel(String name) {
        if (!name.equals(modelName)) throw unknownModel(name);
    }

    private ObjectNode modelObject() {
        ObjectNode m = OpenAiRequests.JSON.createObjectNode();
        m.put("id", modelName).put("object", "model").put("created", created).put("owned_by", "dsv32");
        if (model.maxContext() > 0) m.put("max_model_len", model.maxContext());
        return m;
    }

    /**
     * The request body, at most {@link #maxBodyBytes}, received within {@link #bodyTimeoutNanos} (else 408: a client
     * that trickles its body cannot hold a worker thread); a larger one is drained (up to a limit) and refused with 413.
     */
    private byte[] body(Request request) throws IOException, InterruptedException {
        long declared = request.getLength();
        long deadline = System.nanoTime() + bodyTimeoutNanos;
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(declared > 0 && declared <= maxBodyBytes ? (int) declared : 1024);
        long seen = 0;
        while (true) {
            Content.Chunk c = request.read();
            if (c == null) {
                java.util.concurrent.CountDownLatch more = new java.util.concurrent.CountDownLatch(1);
                request.demand(more::countDown);
                long left = deadline - System.nanoTime();
                if (left <= 0 || !more.await(left, TimeUnit.NANOSECONDS)) throw bodyTimeout(seen);
                continue;
            }
            try {
                if (Content.Chunk.isFailure(c)) {
                    throw new IOException("reading the request body failed: " + c.getFailure(), c.getFailure());
                }
                java.nio.ByteBuffer bb = c.getByteBuffer();
                int n = bb.remaining();
                if (seen + n <= maxBodyBytes) {
                    byte[] tmp = new byte[n];
                    bb.get(tmp);
                    out.write(tmp);
                }
                seen += n;
                if (c.isLast()) break;
            } finally {
                c.release();
            }
            if (seen > maxBodyBytes && seen >= DRAIN_LIMIT) break;
            if (System.nanoTime() - deadline > 0) throw bodyTimeout(seen);
        }
        if (seen > maxBodyBytes || declared > maxBodyBytes) {
            throw new ApiException(413, "invalid_request_error", null, "request_too_large",
                    "the request body is larger than the limit of " + maxBodyBytes + " bytes");
        }
        return out.toByteArray();
    }

    private ApiException bodyTimeout(long seen) {
        return new ApiException(408, "invalid_request_error", null, "request_timeout", "the request body did not arrive within "
                + TimeUnit.NANOSECONDS.toMillis(bodyTimeoutNanos) + " ms (" + seen + " bytes received)");
    }

    /** Exceptions of the model: bad conversations are the client's fault (400), capacity is 503, the rest 500. */
    private static ApiException classify(Throwable e) {
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) e = e.getCause();
        if (e instanceof ApiException a) return a;
        if (e instanceof CapacityException) return new ApiException(503, "server_error", null, "server_overloaded", e.getMessage());
        String m = String.valueOf(e.getMessage());
        if (e instanceof Dsv32Exception && m.contains("context is")) {
            return ApiException.badRequest("messages", "context_length_exceeded", m);
        }
        if (e instanceof IllegalArgumentException || e instanceof dev.dsv32.encoding.EncodingException) {
            return ApiException.badRequest("messages", m);
        }
        if (e instanceof Dsv32Exception && !(e.getCause() instanceof RuntimeException)) return ApiException.badRequest(null, m);
        return new ApiException(500, "server_error", null, null, "generation failed: " + m);
    }

    private void checkContext(int promptTokens, String param) {
        int ctx = model.maxContext();
        if (ctx > 0 && promptTokens >= ctx) {
            throw ApiException.badRequest(param, "context_length_exceeded", "This model's maximum context length is " + ctx
                    + " tokens. However, your " + (param.equals("prompt") ? "prompt" : "messages") + " resulted in " + promptTokens
                    + " tokens (the completion needs at least one more).");
        }
    }

    // ------------------------------------------------------------------ /v1/chat/completions

    private void chat(OpenAiRequests.Call call, Request request, Response response, Callback callback) throws Exception {
        checkModel(call.model());
        checkContext(model.promptTokens(call.request()), "messages");
        String id = "chatcmpl-" + Long.toHexString(System.nanoTime()) + ids.incrementAndGet();
        long now = System.currentTimeMillis() / 1000;
        if (!call.stream()) {
            GenerateResult r = await(model.generateAsync(call.request()));
            ObjectNode o = envelope(id, "chat.completion", now);
            ObjectNode choice = o.putArray("choices").addObject();
            choice.put("index", 0);
            ObjectNode msg = choice.putObject("message");
            msg.put("role", "assistant");
            if (r.content().isEmpty() && r.hasToolCalls()) msg.putNull("content");
            else msg.put("content", r.content());
            if (!r.reasoning().isEmpty()) msg.put("reasoning_content", r.reasoning());
            if (r.hasToolCalls()) {
                ArrayNode calls = msg.putArray("tool_calls");
                for (ToolCall c : r.toolCalls()) {
                    ObjectNode tc = calls.addObject();
                    tc.put("id", c.id()).put("type", "function");
                    tc.putObject("function").put("name", c.name()).put("arguments", c.arguments());
                }
            }
            choice.putNull("logprobs");
            choice.put("finish_reason", chatFinish(r.finishReason()));
            o.set("usage", usage(r.usage()));
            sendJson(response, callback, 200, o);
            return;
        }
        BlockingQueue<Object> events = new LinkedBlockingQueue<>();
        CompletableFuture<GenerateResult> f = model.stream(call.request(), events::add);
        f.whenComplete((r, e) -> events.add(END));
        String callPrefix = "call_" + id.substring("chatcmpl-".length()) + "_";
        stream(response, callback, f, out -> {
            ObjectNode first = chunk(id, now);
            first.withArray("choices").addObject().put("index", 0).putNull("finish_reason").putObject("delta").put("role", "assistant").put("content", "");
            sse(out, first);
            GenerateResult result = null;
            while (true) {
                Object e = events.poll(30, TimeUnit.SECONDS);
                if (e == null) {
                    out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8)); // also notices a gone client
                    out.flush();
                    continue;
                }
                if (e == END) break;
                ObjectNode c = chunk(id, now);
                ObjectNode choice = c.withArray("choices").addObject().put("index", 0);
                ObjectNode delta = OpenAiRequests.JSON.createObjectNode();
                if (e instanceof Event.ContentDelta d) {
                    delta.put("content", d.text());
                } else if (e instanceof Event.ReasoningDelta d) {
                    delta.put("reasoning_content", d.text());
                } else if (e instanceof Event.ToolCallStarted s) {
                    ObjectNode tc = delta.putArray("tool_calls").addObject();
                    tc.put("index", s.index()).put("id", callPrefix + s.index()).put("type", "function");
                    tc.putObject("function").put("name", s.name()).put("arguments", "");
                } else if (e instanceof Event.ToolCallArgumentsDelta d) {
                    ObjectNode tc = delta.putArray("tool_calls").addObject();
                    tc.put("index", d.index()).putObject("function").put("arguments", d.delta());
                } else if (e instanceof Event.Final fin) {
                    result = fin.result();
                    continue;
                } else {
                    continue; // ToolCallCompleted (already streamed) and ToolCallFailed (the result leaves it out)
                }
                choice.set("delta", delta);
                choice.putNull("finish_reason");
                sse(out, c);
            }
            result = result != null ? result : await(f);
            ObjectNode last = chunk(id, now);
            last.withArray("choices").addObject().put("index", 0).put("finish_reason", chatFinish(result.finishReason())).putObject("delta");
            sse(out, last);
            if (call.includeUsage()) {
                ObjectNode u = chunk(id, now);
                u.putArray("choices");
                u.set("usage", usage(result.usage()));
                sse(out, u);
            }
        });
    }

    private static String chatFinish(FinishReason r) {
        return switch (r) {
            case TOOL_CALLS -> "tool_calls";
            case LENGTH, TIMEOUT -> "length";
            default -> "stop";
        };
    }

    // ------------------------------------------------------------------ /v1/completions

    private void completion(OpenAiRequests.Call call, Request request, Response response, Callback callback) throws Exception {
        checkModel(call.model());
        checkContext(model.tokenizer().count(call.prompt()), "prompt");
        String id = "cmpl-" + Long.toHexString(System.nanoTime()) + ids.incrementAndGet();
        long now = System.currentTimeMillis() / 1000;
        if (!call.stream()) {
            GenerateResult r = await(model.completeRaw(call.prompt(), call.request(), t -> { }));
            String text = r.text();
            if (r.finishReason() == FinishReason.STOP || r.finishReason() == FinishReason.TOOL_CALLS) {
                if (text.endsWith(Tokens.EOS)) text = text.substring(0, text.length() - Tokens.EOS.length());
            }
            ObjectNode o = envelope(id, "text_completion", now);
            ObjectNode choice = o.putArray("choices").addObject();
            choice.put("index", 0).put("text", text).putNull("logprobs").put("finish_reason", completionFinish(r.finishReason()));
            o.set("usage", usage(r.usage()));
            sendJson(response, callback, 200, o);
            return;
        }
        BlockingQueue<Object> deltas = new LinkedBlockingQueue<>();
        CompletableFuture<GenerateResult> f = model.completeRaw(call.prompt(), call.request(), deltas::add);
        f.whenComplete((r, e) -> deltas.add(END));
        stream(response, callback, f, out -> {
            while (true) {
                Object d = deltas.poll(30, TimeUnit.SECONDS);
                if (d == null) {
                    out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    continue;
                }
                if (d == END) break;
                String text = (String) d;
                if (text.equals(Tokens.EOS)) continue; // reported as finish_reason "stop"
                ObjectNode c = envelope(id, "text_completion", now);
                c.putArray("choices").addObject().put("index", 0).put("text", text).putNull("logprobs").putNull("finish_reason");
                sse(out, c);
            }
            GenerateResult r = await(f);
            ObjectNode last = envelope(id, "text_completion", now);
            last.putArray("choices").addObject().put("index", 0).put("text", "").putNull("logprobs")
                    .put("finish_reason", completionFinish(r.finishReason()));
            sse(out, last);
            if (call.includeUsage()) {
                ObjectNode u = envelope(id, "text_completion", now);
                u.putArray("choices");
                u.set("usage", usage(r.usage()));
                sse(out, u);
            }
        });
    }

    private static String completionFinish(FinishReason r) {
        return r == FinishReason.LENGTH || r == FinishReason.TIMEOUT ? "length" : "stop";
    }

    // ------------------------------------------------------------------ streaming

    private interface StreamBody {
        void write(OutputStream out) throws Exception;
    }

    /**
     * Sends an SSE response: headers, {@code body}'s events, {@code data: [DONE]}. A write that fails means the client
     * went away: the request is cancelled (its sequence is freed). A failure of the generation after the headers went
     * out is sent as an error event.
     */
    private void stream(Response response, Callback callback, CompletableFuture<GenerateResult> f, StreamBody body) {
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
        activeStreams.incrementAndGet();
        OutputStream out = Content.Sink.asOutputStream(response);
        try {
            try {
                body.write(out);
            } catch (IOException e) {
                throw e;
            } catch (Exception e) {
                if (e instanceof InterruptedException) Thread.currentThread().interrupt();
                ApiException a = e instanceof ApiException x ? x : classify(e);
                log.debug("stream failed: {}", a.getMessage());
                sse(out, errorBody(a));
            }
            out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
            out.close();
            callback.succeeded();
        } catch (IOException e) {
            boolean cancelled = f.cancel(true);
            disconnects.incrementAndGet();
            log.debug("client went away mid-stream ({}); request cancelled: {}", e.toString(), cancelled);
            callback.failed(e);
        } catch (Throwable e) {
            f.cancel(true);
            callback.failed(e);
        } finally {
            activeStreams.decrementAndGet();
        }
    }

    private static void sse(OutputStream out, JsonNode event) throws IOException {
        byte[] json = OpenAiRequests.JSON.writeValueAsBytes(event);
        out.write("data: ".getBytes(StandardCharsets.US_ASCII));
        out.write(json);
        out.write("\n\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static GenerateResult await(CompletableFuture<GenerateResult> f) throws Exception {
        try {
            return f.get();
        } catch (ExecutionException e) {
            throw classify(e.getCause());
        } catch (CancellationException e) {
            throw new ApiException(500, "server_error", null, null, "the request was cancelled");
        } catch (InterruptedException e) {
            f.cancel(true);
            throw e;
        }
    }

    // ------------------------------------------------------------------ JSON

    private ObjectNode envelope(String id, String object, long now) {
        ObjectNode o = OpenAiRequests.JSON.createObjectNode();
        o.put("id", id).put("object", object).put("created", now).put("model", modelName);
        return o;
    }

    private ObjectNode chunk(String id, long now) {
        ObjectNode o = envelope(id, "chat.completion.chunk", now);
        o.putArray("choices");
        return o;
    }

    private static ObjectNode usage(Usage u) {
        ObjectNode o = OpenAiRequests.JSON.createObjectNode();
        o.put("prompt_tokens", u.promptTokens()).put("completion_tokens", u.completionTokens())
                .put("total_tokens", u.promptTokens() + u.completionTokens());
        o.putObject("prompt_tokens_details").put("cached_tokens", u.cachedTokens());
        return o;
    }

    private static ObjectNode errorBody(ApiException e) {
        ObjectNode o = OpenAiRequests.JSON.createObjectNode();
        ObjectNode err = o.putObject("error");
        err.put("message", e.getMessage()).put("type", e.type());
        if (e.param() == null) err.putNull("param");
        else err.put("param", e.param());
        if (e.code() == null) err.putNull("code");
        else err.put("code", e.code());
        return o;
    }

    private void sendError(Response response, Callback callback, ApiException e) {
        if (e.status() >= 500) httpErrors5xx.incrementAndGet();
        else httpErrors4xx.incrementAndGet();
        if (e.status() == 401) response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer");
        if (e.status() == 413 || e.status() == 408) response.getHeaders().put(HttpHeader.CONNECTION, "close");
        if (e.retryAfterSeconds() > 0) response.getHeaders().put(HttpHeader.RETRY_AFTER, Long.toString(e.retryAfterSeconds()));
        sendJson(response, callback, e.status(), errorBody(e));
    }

    private static void sendJson(Response response, Callback callback, int status, JsonNode body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        byte[] bytes;
        try {
            bytes = OpenAiRequests.JSON.writeValueAsBytes(body);
        } catch (IOException e) {
            callback.failed(e);
            return;
        }
        response.write(true, java.nio.ByteBuffer.wrap(bytes), callback);
    }

    // ------------------------------------------------------------------ /metrics

    /** The model's scheduler metrics and the server's counters in the Prometheus text format. */
    String prometheus() {
        Metrics m = model.metrics();
        StringBuilder sb = new StringBuilder(2048);
        gauge(sb, "dsv32_queue_length", "Requests waiting to join the batch.", m.queueLength());
        gauge(sb, "dsv32_active_requests", "Requests in the running batch.", m.activeRequests());
        gauge(sb, "dsv32_last_batch_size", "Sequences in the last forward step.", m.lastBatchSize());
        gauge(sb, "dsv32_open_sequences", "Engine sequences open now (requests and sessions).", m.openSequences());
        counter(sb, "dsv32_steps_total", "Forward steps run.", m.steps());
        counter(sb, "dsv32_requests_completed_total", "Requests that produced a result (any finish reason).", m.requestsCompleted());
        counter(sb, "dsv32_requests_failed_total", "Requests that ended with an error.", m.requestsFailed());
        counter(sb, "dsv32_requests_rejected_total", "Requests rejected for lack of capacity.", m.requestsRejected());
        counter(sb, "dsv32_prompt_tokens_total", "Prompt tokens computed (prefilled).", m.promptTokens());
        counter(sb, "dsv32_completion_tokens_total", "Tokens generated.", m.completionTokens());
        gauge(sb, "dsv32_tokens_per_second", "Generated tokens per second over the last few seconds.", m.tokensPerSecond());
        gauge(sb, "dsv32_time_to_first_token_seconds_mean", "Mean time to first token.", m.meanTimeToFirstToken().toNanos() / 1e9);
        m.cache().ifPresent(c -> {
            gauge(sb, "dsv32_kv_blocks_total", "KV cache blocks in the pool.", c.totalBlocks());
            gauge(sb, "dsv32_kv_blocks_free", "KV cache blocks free.", c.freeBlocks());
        });
        counter(sb, "dsv32_http_requests_total", "HTTP requests received.", httpRequests.get());
        sb.append("# HELP dsv32_http_errors_total HTTP requests answered with an error.\n# TYPE dsv32_http_errors_total counter\n");
        sb.append("dsv32_http_errors_total{class=\"4xx\"} ").append(httpErrors4xx.get()).append('\n');
        sb.append("dsv32_http_errors_total{class=\"5xx\"} ").append(httpErrors5xx.get()).append('\n');
        gauge(sb, "dsv32_http_active_streams", "SSE responses being streamed now.", activeStreams.get());
        counter(sb, "dsv32_http_client_disconnects_total", "Streaming clients that went away mid-stream (their requests were cancelled).", disconnects.get());
        return sb.toString();
    }

    private static void gauge(StringBuilder sb, String name, String help, double v) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(" gauge\n").append(name).append(' ').append(num(v)).append('\n');
    }

    private static void counter(StringBuilder sb, String name, String help, long v) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(" counter\n").append(name).append(' ').append(v).append('\n');
    }

    private static String num(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }

    /** Builds an {@link OpenAiServer}; setters check their argument and name it. */
    public static final class Builder {
        private final Model model;
        private String modelName = "deepseek-ai/DeepSeek-V3.2";
        private String host = "127.0.0.1";
        private int port = 8000;
        private String apiKey;
        private long maxBodyBytes = 4L << 20;
        private boolean defaultThinking;
        private int maxThreads = 256;
        private long idleTimeoutMillis = 300_000;
        private double ratePerSecond;
        private int rateBurst;
        private long bodyTimeoutMillis = 60_000;

        private Builder(Model model) {
            this.model = Objects.requireNonNull(model, "model");
        }

        /** The name clients send as {@code model} (and {@code /v1/models} lists). Default {@code deepseek-ai/DeepSeek-V3.2}. */
        public Builder modelName(String name) {
            if (name == null || name.isBlank()) throw new IllegalArgumentException("modelName must be a non-blank string");
            this.modelName = name;
            return this;
        }

        /** The address to bind. Default 127.0.0.1 (loopback only); 0.0.0.0 for all interfaces. */
        public Builder host(String h) {
            this.host = Objects.requireNonNull(h, "host");
            return this;
        }

        /** The TCP port; 0 picks a free one (see {@link #port()}). Default 8000. */
        public Builder port(int p) {
            if (p < 0 || p > 65535) throw new IllegalArgumentException("port must be in 0..65535, got " + p);
            this.port = p;
            return this;
        }

        /** Requires {@code Authorization: Bearer <key>} on {@code /v1/*}. Null or empty: no authentication. */
        public Builder apiKey(String key) {
            this.apiKey = key;
            return this;
        }

        /** The largest request body accepted; larger ones get 413. Default 4 MiB. */
        public Builder maxBodyBytes(long n) {
            if (n < 1024 || n > (1L << 30)) throw new IllegalArgumentException("maxBodyBytes must be between 1 KiB and 1 GiB, got " + n);
            this.maxBodyBytes = n;
            return this;
        }

        /** Thinking mode for chat requests that do not say ({@code chat_template_kwargs.thinking} or {@code thinking}). Default off. */
        public Builder defaultThinking(boolean on) {
            this.defaultThinking = on;
            return this;
        }

        /** HTTP worker threads (each streaming client holds one). Default 256. */
        public Builder maxThreads(int n) {
            if (n < 8) throw new IllegalArgumentException("maxThreads must be >= 8, got " + n);
            this.maxThreads = n;
            return this;
        }

        /** A connection idle this long is closed. Default 5 min. */
        public Builder idleTimeoutMillis(long ms) {
            if (ms < 1) throw new IllegalArgumentException("idleTimeoutMillis must be >= 1, got " + ms);
            this.idleTimeoutMillis = ms;
            return this;
        }

        /**
         * At most {@code perSecond} requests a second per client address on average, {@code burst} at once; more get
         * 429 with {@code Retry-After}. {@code /health} is not limited. Default: no limit.
         */
        public Builder rateLimit(double perSecond, int burst) {
            if (!(perSecond > 0) || Double.isInfinite(perSecond)) throw new IllegalArgumentException("rateLimit perSecond must be > 0, got " + perSecond);
            if (burst < 1) throw new IllegalArgumentException("rateLimit burst must be >= 1, got " + burst);
            this.ratePerSecond = perSecond;
            this.rateBurst = burst;
            return this;
        }

        /**
         * The whole request body must arrive within this time, else 408 and the connection is closed: a client that
         * trickles its body (slowloris) cannot hold a worker thread for long. Default 60 s.
         */
        public Builder bodyTimeoutMillis(long ms) {
            if (ms < 1) throw new IllegalArgumentException("bodyTimeoutMillis must be >= 1, got " + ms);
            this.bodyTimeoutMillis = ms;
            return this;
        }

        /** The server, not yet started. */
        public OpenAiServer build() {
            return new OpenAiServer(this);
        }
    }
}
