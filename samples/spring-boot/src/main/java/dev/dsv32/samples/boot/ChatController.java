package dev.dsv32.samples.boot;

import dev.dsv32.api.GenerateRequest;
import dev.dsv32.api.GenerateResult;
import dev.dsv32.api.Metrics;
import dev.dsv32.api.Model;
import dev.dsv32.encoding.Message;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /generate}: one turn through {@link Model#generate} (the SDK's own API). {@code POST /chat}: the same
 * through Spring AI's {@link ChatClient}. {@code GET /metrics}: the scheduler and KV cache.
 */
@RestController
public class ChatController {
    /** A request: the user's message, and optionally max tokens and thinking. */
    public record ChatRequest(String message, Integer maxTokens, Boolean thinking) {}

    /** A reply: the answer, the reasoning, why generation ended and the token counts. */
    public record ChatReply(String content, String reasoning, String finishReason, int promptTokens, int completionTokens) {}

    /** The error body of a bad request. */
    public record ErrorReply(String error) {}

    private final Model model;
    private final ChatClient chatClient;

    public ChatController(Model model, ChatModel chatModel) {
        this.model = model;
        this.chatClient = ChatClient.create(chatModel);
    }

    @PostMapping("/generate")
    public ChatReply generate(@RequestBody ChatRequest request) {
        GenerateRequest.Builder b = GenerateRequest.builder().messages(Message.user(message(request)));
        if (request.maxTokens() != null) b.maxTokens(request.maxTokens());
        if (request.thinking() != null) b.thinking(request.thinking());
        GenerateResult r = model.generate(b.build());
        return new ChatReply(r.content(), r.reasoning(), r.finishReason().name(), r.usage().promptTokens(), r.usage().completionTokens());
    }

    @PostMapping("/chat")
    public ChatReply chat(@RequestBody ChatRequest request) {
        var options = dev.dsv32.springai.Dsv32ChatOptions.newBuilder().maxTokens(request.maxTokens()).thinking(request.thinking()).build();
        var response = chatClient.prompt().user(message(request)).options(options).call().chatResponse();
        var out = response.getResult().getOutput();
        Object reasoning = out.getMetadata().get(dev.dsv32.springai.Dsv32ChatModel.REASONING_CONTENT);
        var usage = response.getMetadata().getUsage();
        return new ChatReply(out.getText(), reasoning == null ? "" : reasoning.toString(),
                response.getResult().getMetadata().getFinishReason(), usage.getPromptTokens(), usage.getCompletionTokens());
    }

    @GetMapping("/metrics")
    public Metrics metrics() {
        return model.metrics();
    }

    @ExceptionHandler(IllegalArgumentException.class)
    @ResponseStatus(HttpStatus.BAD_REQUEST)
    public ErrorReply badRequest(IllegalArgumentException e) {
        return new ErrorReply(e.getMessage());
    }

    private static String message(ChatRequest request) {
        if (request.message() == null || request.message().isBlank()) throw new IllegalArgumentException("message is required");
        return request.message();
    }
}
