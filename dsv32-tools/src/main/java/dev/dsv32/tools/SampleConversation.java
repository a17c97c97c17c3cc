package dev.dsv32.tools;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dsv32.encoding.ChatEncoder;
import dev.dsv32.encoding.Message;
import dev.dsv32.encoding.PythonJson;
import dev.dsv32.encoding.ThinkingMode;
import dev.dsv32.encoding.Tool;
import dev.dsv32.encoding.ToolCall;
import java.util.List;

/** The built-in tool-use conversation of {@code dsv32 demo}: one tool, one call, its result, the final answer. */
final class SampleConversation {
    private SampleConversation() {}

    static final Tool GET_WEATHER = Tool.function("get_weather", "Get the weather forecast for a city on a date.",
            PythonJson.loads("""
                    {"type": "object", "properties": {
                      "city": {"type": "string", "description": "City name"},
                      "date": {"type": "string", "description": "ISO date, e.g. 2026-03-02"},
                      "hourly": {"type": "boolean", "description": "Include an hourly breakdown"}},
                     "required": ["city", "date"]}"""));

    static final Message SYSTEM = Message.system("You are a helpful assistant. Answer concisely.")
            .withTools(List.of(GET_WEATHER));

    static final Message USER = Message.user("What will the weather be like in Hangzhou (杭州) tomorrow, 2 March?");

    static final Message TOOL_CALL_TURN = Message.assistant(null,
            "The user wants tomorrow's forecast for Hangzhou. I'll call get_weather for 2026-03-02; no hourly data needed.",
            List.of(ToolCall.of("get_weather", "{\"city\": \"杭州\", \"date\": \"2026-03-02\", \"hourly\": false}")));

    static final Message TOOL_RESULT = Message.tool("call_0",
            "{\"city\": \"杭州\", \"date\": \"2026-03-02\", \"condition\": \"light rain\", \"high_c\": 14, \"low_c\": 8}");

    static final Message ANSWER = Message.assistant(
            "Tomorrow (2 March) Hangzhou will have light rain, 8–14 °C. Take an umbrella ☔.",
            "Light rain, 8 to 14 °C. Mention the umbrella.",
            null);

    /** system, user, assistant tool call (with reasoning), tool result, final assistant answer. */
    static List<Message> messages() {
        return List.of(SYSTEM, USER, TOOL_CALL_TURN, TOOL_RESULT, ANSWER);
    }

    /** The conversation as OpenAI-format JSON (what {@code dsv32 encode --messages} reads). */
    static String messagesJson() {
        return Json.compact(Json.MAPPER.valueToTree(messages()));
    }

    static List<JsonNode> toolsJson() {
        return List.of(Json.MAPPER.valueToTree(GET_WEATHER));
    }

    static ChatEncoder encoder() {
        return ChatEncoder.builder().thinkingMode(ThinkingMode.THINKING).build();
    }

    /** What the model generates for the tool-call turn: {@code reasoning</think>\n\n<｜DSML｜function_calls>…<eos>}. */
    static String toolCallCompletion() {
        return encoder().encode(List.of(SYSTEM, USER), List.of(TOOL_CALL_TURN));
    }

    /** What the model generates for the final answer, after the tool result. */
    static String answerCompletion() {
        return encoder().encode(List.of(SYSTEM, USER, TOOL_CALL_TURN, TOOL_RESULT), List.of(ANSWER));
    }

    /**
     * The tool-call completion damaged the way real model output is: one newline before the block instead of two, a
     * bare word in a {@code string="false"} parameter, and no end-of-sentence token.
     */
    static String malformedCompletion() {
        String s = toolCallCompletion();
        s = s.replace("\n\n<｜DSML｜function_calls>", "\n<｜DSML｜function_calls>");
        s = s.replace("string=\"false\">false<", "string=\"false\">no<");
        return s.replace("<｜end▁of▁sentence｜>", "");
    }
}
