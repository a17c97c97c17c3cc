package dev.dsv32.langchain4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.dsv32.api.GenerateRequest;
import dev.dsv32.api.GenerateResult;
import dev.dsv32.encoding.Message;
import dev.dsv32.encoding.Tool;
import dev.dsv32.encoding.ToolCall;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.UnsupportedFeatureException;
import dev.langchain4j.internal.JsonSchemaElementUtils;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import java.util.ArrayList;
import java.util.List;

/** LangChain4j requests to {@link GenerateRequest}s and {@link GenerateResult}s to {@link ChatResponse}s. */
final class Mapping {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Mapping() {}

    /**
     * The request as a dsv32 request: messages, tool specifications (rendered by our encoder into the system prompt,
     * architecture.md §5), the JSON schema of a JSON response format, and sampling. Parameters the model has no
     * equivalent for are refused by name rather than ignored.
     */
    static GenerateRequest toGenerateRequest(ChatRequest request, Settings settings) {
        ChatRequestParameters p = request.parameters();
        GenerateRequest.Builder b = GenerateRequest.builder().thinking(settings.thinking());
        if (settings.seed() != null) b.seed(settings.seed());
        if (p.frequencyPenalty() != null) throw unsupported("frequencyPenalty");
        if (p.presencePenalty() != null) throw unsupported("presencePenalty");
        if (p.temperature() != null) b.temperature(p.temperature());
        if (p.topP() != null) b.topP(p.topP());
        if (p.topK() != null) b.topK(p.topK());
        if (p.maxOutputTokens() != null) b.maxTokens(p.maxOutputTokens());
        if (p.stopSequences() != null && !p.stopSequences().isEmpty()) b.stop(p.stopSequences());
        List<ToolSpecification> specs = p.toolSpecifications() == null ? List.of() : p.toolSpecifications();
        if (p.toolChoice() == ToolChoice.REQUIRED) {
            throw new UnsupportedFeatureException("toolChoice REQUIRED is not supported by dsv32: DeepSeek-V3.2 decides itself whether to call a tool (use AUTO)");
        }
        if (p.toolChoice() != ToolChoice.NONE) b.tools(tools(specs));
        ResponseFormat rf = p.responseFormat();
        if (rf != null && rf.type() == ResponseFormatType.JSON) {
            b.responseFormat(rf.jsonSchema() != null
                    ? JSON.valueToTree(JsonSchemaElementUtils.toMap(rf.jsonSchema().rootElement()))
                    : JsonNodeFactory.instance.objectNode().put("type", "object"));
        }
        b.messages(messages(request.messages()));
        return b.build();
    }

    static List<Tool> tools(List<ToolSpecification> specs) {
        List<Tool> out = new ArrayList<>(specs.size());
        for (ToolSpecification s : specs) {
            JsonNode params = s.parameters() != null
                    ? JSON.valueToTree(JsonSchemaElementUtils.toMap(s.parameters()))
                    : JsonNodeFactory.instance.objectNode().put("type", "object").set("properties", JsonNodeFactory.instance.objectNode());
            out.add(Tool.function(s.name(), s.description() == null ? "" : s.description(), params));
        }
        return out;
    }

    static List<Message> messages(List<ChatMessage> messages) {
        List<Message> out = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            if (m instanceof SystemMessage s) {
                out.add(Message.system(s.text()));
            } else if (m instanceof UserMessage u) {
                if (!u.hasSingleText()) {
                    throw new UnsupportedFeatureException("messages[" + i + "]: a user message with " + u.contents().size()
                            + " parts or non-text content; DeepSeek-V3.2 takes text only");
                }
                out.add(Message.user(u.singleText()));
            } else if (m instanceof AiMessage a) {
                List<ToolCall> calls = null;
                if (a.hasToolExecutionRequests()) {
                    calls = new ArrayList<>();
                    for (ToolExecutionRequest r : a.toolExecutionRequests()) {
                        ToolCall c = ToolCall.of(r.name(), r.arguments() == null || r.arguments().isBlank() ? "{}" : r.arguments());
                        calls.add(r.id() == null ? c : c.withId(r.id()));
                    }
                }
                out.add(Message.assistant(a.text() == null ? "" : a.text(), a.thinking(), calls));
            } else if (m instanceof ToolExecutionResultMessage t) {
                out.add(Message.tool(t.id(), t.text()));
            } else {
                throw new UnsupportedFeatureException("messages[" + i + "]: " + m.type() + " messages are not supported by dsv32");
            }
        }
        return out;
    }

    static ChatResponse toChatResponse(GenerateResult r, String modelName, String id) {
        List<ToolExecutionRequest> requests = new ArrayList<>(r.toolCalls().size());
        for (ToolCall c : r.toolCalls()) requests.add(toolExecutionRequest(c));
        AiMessage.Builder ai = AiMessage.builder()
                .text(r.content().isEmpty() && !requests.isEmpty() ? null : r.content())
                .thinking(r.reasoning().isEmpty() ? null : r.reasoning());
        if (!requests.isEmpty()) ai.toolExecutionRequests(requests);
        return ChatResponse.builder()
                .aiMessage(ai.build())
                .id(id)
                .modelName(modelName)
                .tokenUsage(new TokenUsage(r.usage().promptTokens(), r.usage().completionTokens()))
                .finishReason(finishReason(r))
                .build();
    }

    static ToolExecutionRequest toolExecutionRequest(ToolCall c) {
        return ToolExecutionRequest.builder().id(c.id()).name(c.name()).arguments(c.arguments()).build();
    }

    static FinishReason finishReason(GenerateResult r) {
        return switch (r.finishReason()) {
            case STOP, STOP_STRING -> r.hasToolCalls() ? FinishReason.TOOL_EXECUTION : FinishReason.STOP;
            case TOOL_CALLS -> FinishReason.TOOL_EXECUTION;
            case LENGTH -> FinishReason.LENGTH;
            case CANCELLED, TIMEOUT -> FinishReason.OTHER;
        };
    }

    private static UnsupportedFeatureException unsupported(String parameter) {
        return new UnsupportedFeatureException(parameter + " is not supported by dsv32 (DeepSeek-V3.2 samples with temperature, topP and topK only)");
    }

    /** What the builders of both models share. */
    record Settings(boolean thinking, Long seed, String modelName) {}
}
