package dev.dsv32.langchain4j;

import dev.dsv32.api.Event;
import dev.dsv32.api.GenerateResult;
import dev.dsv32.api.Model;
import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.CompleteToolCall;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.PartialThinking;
import dev.langchain4j.model.chat.response.PartialThinkingContext;
import dev.langchain4j.model.chat.response.PartialToolCall;
import dev.langchain4j.model.chat.response.PartialToolCallContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.response.StreamingHandle;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * LangChain4j's {@link StreamingChatModel} over a dsv32 {@link Model}: reasoning arrives through
 * {@code onPartialThinking}, the answer through {@code onPartialResponse}, tool calls through
 * {@code onPartialToolCall} / {@code onCompleteToolCall}, then {@code onCompleteResponse} with the whole turn (as
 * {@link Dsv32ChatModel} returns it). Callbacks run on one of the model's delivery threads, in order. Cancelling the
 * {@link StreamingHandle} a callback receives stops generation within one step; no callback follows.
 */
public final class Dsv32StreamingChatModel implements StreamingChatModel {
    private static final Logger log = LoggerFactory.getLogger(Dsv32StreamingChatModel.class);
    private static final AtomicLong IDS = new AtomicLong();

    private final Model model;
    private final Mapping.Settings settings;
    private final ChatRequestParameters defaults;
    private final List<ChatModelListener> listeners;

    private Dsv32StreamingChatModel(Builder b) {
        if (b.model == null) throw new IllegalStateException("model is required: Dsv32StreamingChatModel.builder().model(model)");
        this.model = b.model;
        this.settings = new Mapping.Settings(b.thinking, b.seed, b.modelName);
        this.defaults = b.defaults(b.modelName);
        this.listeners = List.copyOf(b.listeners);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
        String id = "dsv32-" + IDS.incrementAndGet();
        AtomicReference<CompletableFuture<GenerateResult>> running = new AtomicReference<>();
        AtomicBoolean cancelled = new AtomicBoolean();
        StreamingHandle handle = new StreamingHandle() {
            @Override
            public void cancel() {
                cancelled.set(true);
                CompletableFuture<GenerateResult> f = running.get();
                if (f != null) f.cancel(true);
            }

            @Override
            public boolean isCancelled() {
                return cancelled.get();
            }
        };
        Map<Integer, String> toolNames = new HashMap<>();
        AtomicBoolean finished = new AtomicBoolean();
        CompletableFuture<GenerateResult> f;
        try {
            f = model.stream(Mapping.toGenerateRequest(request, settings), event -> {
                if (cancelled.get()) return;
                try {
                    deliver(event, handler, handle, toolNames, id, finished);
                } catch (RuntimeException e) {
                    log.warn("streaming handler threw on {}: {}", event.getClass().getSimpleName(), e.toString());
                    if (finished.compareAndSet(false, true)) handler.onError(e);
                }
            });
        } catch (RuntimeException e) {
            handler.onError(e);
            return;
        }
        running.set(f);
        if (cancelled.get()) f.cancel(true);
        f.whenComplete((r, e) -> {
            if (e != null && !cancelled.get() && finished.compareAndSet(false, true)) handler.onError(unwrap(e));
        });
    }

    private void deliver(Event event, StreamingChatResponseHandler handler, StreamingHandle handle, Map<Integer, String> toolNames,
                         String id, AtomicBoolean finished) {
        if (event instanceof Event.ReasoningDelta d) {
            handler.onPartialThinking(new PartialThinking(d.text()), new PartialThinkingContext(handle));
        } else if (event instanceof Event.ContentDelta d) {
            handler.onPartialResponse(new PartialResponse(d.text()), new PartialResponseContext(handle));
        } else if (event instanceof Event.ToolCallStarted s) {
            toolNames.put(s.index(), s.name());
        } else if (event instanceof Event.ToolCallArgumentsDelta d) {
            if (!d.delta().isEmpty()) {
                PartialToolCall p = PartialToolCall.builder().index(d.index()).name(toolNames.get(d.index())).partialArguments(d.delta()).build();
                handler.onPartialToolCall(p, new PartialToolCallContext(handle));
            }
        } else if (event instanceof Event.ToolCallCompleted c) {
            handler.onCompleteToolCall(new CompleteToolCall(c.index(), Mapping.toolExecutionRequest(c.call())));
        } else if (event instanceof Event.Final fin) {
            if (finished.compareAndSet(false, true)) handler.onCompleteResponse(Mapping.toChatResponse(fin.result(), settings.modelName(), id));
        }
        // ToolCallFailed: the call is not part of the result; the final response shows what was parsed.
    }

    private static Throwable unwrap(Throwable e) {
        return e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
    }

    @Override
    public ChatRequestParameters defaultRequestParameters() {
        return defaults;
    }

    @Override
    public List<ChatModelListener> listeners() {
        return listeners;
    }

    @Override
    public ModelProvider provider() {
        return ModelProvider.OTHER;
    }

    @Override
    public Set<Capability> supportedCapabilities() {
        return Set.of(Capability.RESPONSE_FORMAT_JSON_SCHEMA);
    }

    /** Builds a {@link Dsv32StreamingChatModel}; only {@link #model} is required. */
    public static final class Builder extends ModelSettingsBuilder<Builder> {
        private Builder() {}

        public Dsv32StreamingChatModel build() {
            return new Dsv32StreamingChatModel(this);
        }
    }
}
