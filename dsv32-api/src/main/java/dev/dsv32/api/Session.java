package dev.dsv32.api;

import dev.dsv32.api.internal.Job;
import dev.dsv32.api.internal.SessionState;
import dev.dsv32.encoding.Message;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.function.Consumer;

/**
 * A conversation that keeps its KV cache between turns. Each request is encoded whole, and only the tokens after the
 * longest prefix already in the cache are computed: in chat mode a new turn prefills just its new messages. Where
 * the encoding of earlier turns changes, the cache is truncated at the first differing token and computed again from
 * there, so the result is the same as encoding the whole conversation from scratch. (In thinking mode the V3.2
 * encoding renders earlier turns without their reasoning and with {@code </think>} where their prompt ended in
 * {@code <think>}, so the previous answer is computed again; within an agent's tool loop, turns after the last user
 * message keep their reasoning and are reused.)
 *
 * <p>Two ways to use it: {@link #generate(GenerateRequest)} with the whole conversation in each request (the session
 * only reuses the cache), or {@link #send(Message...)}, which keeps the history here. A session runs one request at a
 * time and is not thread-safe; {@link #fork()} makes an independent copy that shares the prefix. Close it to free its
 * sequence (sessions count against {@link Model.Builder#maxSequences}).
 */
public final class Session implements AutoCloseable {
    private final Model model;
    private final SessionState state;
    private final GenerateRequest defaults;
    private final List<Message> history = new ArrayList<>();

    Session(Model model, SessionState state, GenerateRequest defaults) {
        this.model = model;
        this.state = state;
        this.defaults = defaults;
        if (defaults != null) history.addAll(defaults.messages());
    }

    /** Generates for {@code request} (the whole conversation), reusing the cached prefix. Blocking. */
    public GenerateResult generate(GenerateRequest request) {
        return Model.await(generateAsync(request));
    }

    /** As {@link #generate}, asynchronously; cancelling the future stops generation within one step. */
    public CompletableFuture<GenerateResult> generateAsync(GenerateRequest request) {
        check();
        return model.submitAsync(request, state);
    }

    /** As {@link Model#stream(GenerateRequest)}, reusing the cached prefix. */
    public Flow.Publisher<Event> stream(GenerateRequest request) {
        check();
        return model.publisher(request, state);
    }

    /** As {@link Model#stream(GenerateRequest, Consumer)}, reusing the cached prefix. */
    public CompletableFuture<GenerateResult> stream(GenerateRequest request, Consumer<? super Event> listener) {
        check();
        return model.streamTo(request, listener, state);
    }

    /**
     * Appends {@code messages} to the history, generates the assistant's turn with the session's defaults, appends it
     * too and returns it. On an exception the history is left as it was.
     */
    public GenerateResult send(Message... messages) {
        Objects.requireNonNull(messages, "messages");
        List<Message> next = new ArrayList<>(history);
        for (int i = 0; i < messages.length; i++) next.add(Objects.requireNonNull(messages[i], "messages[" + i + "]"));
        GenerateRequest.Builder b = defaults != null ? defaults.toBuilder() : GenerateRequest.builder();
        GenerateResult r = generate(b.messages(next).build());
        history.clear();
        history.addAll(next);
        history.add(r.message());
        return r;
    }

    /** The conversation kept by {@link #send} (the defaults' messages, then each turn). */
    public List<Message> history() {
        return Collections.unmodifiableList(new ArrayList<>(history));
    }

    /** Tokens in the KV cache now (prompt and completion of the last request, less its last sampled token). */
    public int cachedTokens() {
        return state.length();
    }

    /** The token ids in the KV cache now. */
    public int[] cachedTokenIds() {
        synchronized (state) {
            return state.tokens();
        }
    }

    /** An independent session with the same history and cache (the prefix is shared where the engine can). */
    public Session fork() {
        check();
        if (state.busy) throw new IllegalStateException("cannot fork a session while it is generating");
        Session s = new Session(model, model.runtime().fork(state), defaults);
        s.history.clear();
        s.history.addAll(history);
        return s;
    }

    public boolean isClosed() {
        return state.closed;
    }

    /** Frees the session's sequence; a request still running is cancelled. Idempotent. */
    @Override
    public void close() {
        Job running;
        synchronized (state) { // against the engine thread ending the running request
            if (state.closed) return;
            state.closed = true;
            running = state.busy ? state.current : null;
            if (!state.busy) model.runtime().closeSession(state);
        }
        // The engine thread frees the sequence when the running request ends (it sees closed).
        if (running != null) running.cancel();
    }

    private void check() {
        if (state.closed) throw new IllegalStateException("the session is closed");
        model.checkOpen();
    }
}
