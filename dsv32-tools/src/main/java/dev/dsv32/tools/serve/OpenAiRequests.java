package dev.dsv32.tools.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dsv32.api.GenerateRequest;
import dev.dsv32.encoding.FunctionCall;
import dev.dsv32.encoding.Message;
import dev.dsv32.encoding.Role;
import dev.dsv32.encoding.Tool;
import dev.dsv32.encoding.ToolCall;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads OpenAI request bodies into {@link GenerateRequest}s, checking every field it uses: a missing field, a value of
 * the wrong type or out of range, an unknown role or an unsupported option is an {@link ApiException} (400) naming the
 * parameter. Fields that do not change what is generated ({@code user}, {@code metadata}, {@code store}, ...) are ignored.
 */
final class OpenAiRequests {
    static final ObjectMapper JSON = new ObjectMapper();

    private OpenAiRequests() {}

    /** A parsed {@code /v1/chat/completions} or {@code /v1/completions} body. */
    record Call(String model, GenerateRequest request, String prompt, boolean stream, boolean includeUsage) {}

    /** The body as a JSON object. */
    static ObjectNode object(byte[] body) {
        JsonNode n;
        try {
            n = JSON.readTree(body);
        } catch (java.io.IOException e) {
            String m = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            throw ApiException.badRequest(null, "invalid_json", "the request body is not valid JSON: " + m);
        }
        if (n == null || n.isMissingNode()) throw ApiException.badRequest(null, "invalid_json", "the request body is empty; expected a JSON object");
        if (!n.isObject()) throw ApiException.badRequest(null, "invalid_json", "the request body must be a JSON object, got " + kind(n));
        return (ObjectNode) n;
    }

    static Call chat(ObjectNode b, boolean defaultThinking) {
        String model = requiredString(b, "model");
        JsonNode msgs = b.get("messages");
        if (msgs == null || msgs.isNull()) throw missing("messages");
        if (!msgs.isArray()) throw wrongType("messages", "an array", msgs);
        if (msgs.isEmpty()) throw ApiException.badRequest("messages", "'messages' must contain at least one message");
        List<Message> messages = new ArrayList<>();
        for (int i = 0; i < msgs.size(); i++) messages.add(message(msgs.get(i), "messages[" + i + "]"));

        GenerateRequest.Builder r = GenerateRequest.builder().messages(messages);
        List<Tool> tools = tools(b.get("tools"));
        JsonNode choice = b.get("tool_choice");
        if (choice != null && !choice.isNull()) {
            if (!choice.isTextual()) {
                throw ApiException.badRequest("tool_choice", "unsupported_value",
                        "tool_choice: only \"auto\" and \"none\" are supported (the model decides whether to call a tool); forcing a tool is not");
            }
            switch (choice.textValue()) {
                case "auto" -> { }
                case "none" -> tools = List.of();
                case "required" -> throw ApiException.badRequest("tool_choice", "unsupported_value",
                        "tool_choice \"required\" is not supported: the model decides whether to call a tool (use \"auto\")");
                default -> throw ApiException.badRequest("tool_choice", "invalid_value",
                        "tool_choice must be \"auto\" or \"none\", got \"" + choice.textValue() + "\"");
            }
        }
        r.tools(tools);
        r.thinking(thinking(b, defaultThinking));
        sampling(b, r, GenerateRequest.DEFAULT_MAX_TOKENS);
        Integer maxCompletion = optInt(b, "max_completion_tokens", 1, Integer.MAX_VALUE);
        if (maxCompletion != null) r.maxTokens(maxCompletion);
        JsonNode rf = b.get("response_format");
        if (rf != null && !rf.isNull()) r.responseFormat(responseFormat(rf));
        if (bool(b, "logprobs", false)) throw ApiException.badRequest("logprobs", "unsupported_value", "logprobs are not supported");
        boolean stream = bool(b, "stream", false);
        return new Call(model, r.build(), null, stream, stream && includeUsage(b));
    }

    static Call completion(ObjectNode b) {
        String model = requiredString(b, "model");
        JsonNode p = b.get("prompt");
        if (p == null || p.isNull()) throw missing("prompt");
        String prompt;
        if (p.isTextual()) {
            prompt = p.textValue();
        } else if (p.isArray() && p.size() == 1 && p.get(0).isTextual()) {
            prompt = p.get(0).textValue();
        } else if (p.isArray()) {
            throw ApiException.badRequest("prompt", "unsupported_value", "prompt: only one prompt per request is supported (a string, or an array of one string)");
        } else {
            throw wrongType("prompt", "a string", p);
        }
        if (prompt.isEmpty()) throw ApiException.badRequest("prompt", "'prompt' must not be empty");
        if (bool(b, "echo", false)) throw ApiException.badRequest("echo", "unsupported_value", "echo is not supported");
        JsonNode lp = b.get("logprobs");
        if (lp != null && !lp.isNull() && !(lp.isInt() && lp.intValue() == 0) && !(lp.isBoolean() && !lp.booleanValue())) {
            throw ApiException.badRequest("logprobs", "unsupported_value", "logprobs are not supported");
        }
        JsonNode suffix = b.get("suffix");
        if (suffix != null && !suffix.isNull()) throw ApiException.badRequest("suffix", "unsupported_value", "suffix is not supported");
        GenerateRequest.Builder r = GenerateRequest.builder();
        sampling(b, r, 16); // the OpenAI default for completions
        r.ignoreEos(bool(b, "ignore_eos", false));
        boolean stream = bool(b, "stream", false);
        return new Call(model, r.build(), prompt, stream, stream && includeUsage(b));
    }

    // ------------------------------------------------------------------ parts

    private static void sampling(ObjectNode b, GenerateRequest.Builder r, int defaultMaxTokens) {
        Double t = optDouble(b, "temperature", 0, 2);
        if (t != null) r.temperature(t);
        Double topP = optDouble(b, "top_p", 0, 1);
        if (topP != null) {
            if (topP == 0) throw ApiException.badRequest("top_p", "'top_p' must be greater than 0, got 0");
            r.topP(topP);
        }
        Integer topK = optInt(b, "top_k", -1, Integer.MAX_VALUE);
        if (topK != null) r.topK(Math.max(0, topK)); // -1 (vLLM) and 0 both mean off
        JsonNode seed = b.get("seed");
        if (seed != null && !seed.isNull()) {
            if (!seed.isIntegralNumber() || !seed.canConvertToLong()) throw wrongType("seed", "an integer", seed);
            r.seed(seed.longValue());
        }
        Integer max = optInt(b, "max_tokens", 1, Integer.MAX_VALUE);
        r.maxTokens(max != null ? max : defaultMaxTokens);
        Integer n = optInt(b, "n", 1, Integer.MAX_VALUE);
        if (n != null && n != 1) throw ApiException.badRequest("n", "unsupported_value", "only n = 1 is supported, got " + n);
        JsonNode stop = b.get("stop");
        if (stop != null && !stop.isNull()) {
            List<String> stops = new ArrayList<>();
            if (stop.isTextual()) {
                stops.add(stop.textValue());
            } else if (stop.isArray()) {
                for (int i = 0; i < stop.size(); i++) {
                    if (!stop.get(i).isTextual()) throw wrongType("stop[" + i + "]", "a string", stop.get(i));
                    stops.add(stop.get(i).textValue());
                }
            } else {
                throw wrongType("stop", "a string or an array of strings", stop);
            }
            for (int i = 0; i < stops.size(); i++) {
                if (stops.get(i).isEmpty()) throw ApiException.badRequest("stop", "stop strings must not be empty");
            }
            r.stop(stops);
        }
        for (String penalty : new String[] {"frequency_penalty", "presence_penalty"}) {
            Double v = optDouble(b, penalty, -2, 2);
            if (v != null && v != 0) {
                throw ApiException.badRequest(penalty, "unsupported_value", penalty + " is not supported (only 0)");
            }
        }
    }

    private static boolean includeUsage(ObjectNode b) {
        JsonNode so = b.get("stream_options");
        if (so == null || so.isNull()) return false;
        if (!so.isObject()) throw wrongType("stream_options", "an object", so);
        return bool((ObjectNode) so, "include_usage", false);
    }

    /**
     * Thinking mode: {@code chat_template_kwargs.thinking} (vLLM / SGLang) or {@code thinking} (a boolean, or
     * {@code {"type": "enabled"|"disabled"}} as DeepSeek's API takes it); the server's default otherwise.
     */
    private static boolean thinking(ObjectNode b, boolean dflt) {
        JsonNode kw = b.get("chat_template_kwargs");
        if (kw != null && !kw.isNull()) {
            if (!kw.isObject()) throw wrongType("chat_template_kwargs", "an object", kw);
            JsonNode t = kw.get("thinking");
            if (t == null) t = kw.get("enable_thinking");
            if (t != null && !t.isNull()) {
                if (!t.isBoolean()) throw wrongType("chat_template_kwargs.thinking", "a boolean", t);
                return t.booleanValue();
            }
        }
        JsonNode t = b.get("thinking");
        if (t == null || t.isNull()) return dflt;
        if (t.isBoolean()) return t.booleanValue();
        if (t.isObject() && t.path("type").isTextual()) {
            String type = t.path("type").textValue();
            if (type.equals("enabled")) return true;
            if (type.equals("disabled")) return false;
            throw ApiException.badRequest("thinking.type", "thinking.type must be \"enabled\" or \"disabled\", got \"" + type + "\"");
        }
        throw wrongType("thinking", "a boolean or {\"type\": \"enabled\"|\"disabled\"}", t);
    }

    private static JsonNode responseFormat(JsonNode rf) {
        if (!rf.isObject()) throw wrongType("response_format", "an object", rf);
        String type = rf.path("type").isTextual() ? rf.path("type").textValue() : null;
        if (type == null) throw missing("response_format.type");
        switch (type) {
            case "text":
                return null;
            case "json_object":
                return JsonNodeFactory.instance.objectNode().put("type", "object");
            case "json_schema":
                JsonNode s = rf.path("json_schema").path("schema");
                if (!s.isObject()) throw ApiException.badRequest("response_format.json_schema.schema", "response_format json_schema needs json_schema.schema (an object)");
                return s;
            default:
                throw ApiException.badRequest("response_format.type", "response_format.type must be text, json_object or json_schema, got \"" + type + "\"");
        }
    }

    private static List<Tool> tools(JsonNode tools) {
        if (tools == null || tools.isNull()) return List.of();
        if (!tools.isArray()) throw wrongType("tools", "an array", tools);
        List<Tool> out = new ArrayList<>();
        for (int i = 0; i < tools.size(); i++) {
            String p = "tools[" + i + "]";
            JsonNode t = tools.get(i);
            if (!t.isObject()) throw wrongType(p, "an object", t);
            JsonNode type = t.get("type");
            if (type != null && !type.isNull() && !"function".equals(type.asText())) {
                throw ApiException.badRequest(p + ".type", "only tools of type \"function\" are supported, got " + type);
            }
            JsonNode f = t.get("function");
            if (f == null || f.isNull()) throw missing(p + ".function");
            if (!f.isObject()) throw wrongType(p + ".function", "an object", f);
            String name = requiredString((ObjectNode) f, "name", p + ".function.name");
            if (name.isEmpty()) throw ApiException.badRequest(p + ".function.name", "a tool's name must not be empty");
            String description = optString((ObjectNode) f, "description", p + ".function.description");
            JsonNode params = f.get("parameters");
            if (params == null || params.isNull()) {
                params = JSON.createObjectNode().put("type", "object").set("properties", JSON.createObjectNode());
            } else if (!params.isObject()) {
                throw wrongType(p + ".function.parameters", "an object (a JSON schema)", params);
            }
            out.add(Tool.function(name, description == null ? "" : description, params));
        }
        return out;
    }

    /** One OpenAI message. {@code developer} is OpenAI's name for system instructions and maps to a system message. */
    static Message message(JsonNode m, String p) {
        if (!m.isObject()) throw wrongType(p, "an object", m);
        ObjectNode o = (ObjectNode) m;
        String roleName = requiredString(o, "role", p + ".role");
        Role role = switch (roleName) {
            case "system", "developer" -> Role.SYSTEM;
            case "user" -> Role.USER;
            case "assistant" -> Role.ASSISTANT;
            case "tool" -> Role.TOOL;
            default -> throw ApiException.badRequest(p + ".role", "invalid_value",
                    p + ".role: unknown role \"" + roleName + "\" (expected system, developer, user, assistant or tool)");
        };
        String content = content(o.get("content"), p + ".content");
        String reasoning = optString(o, "reasoning_content", p + ".reasoning_content");
        List<ToolCall> calls = null;
        JsonNode tc = o.get("tool_calls");
        if (tc != null && !tc.isNull()) {
            if (role != Role.ASSISTANT) throw ApiException.badRequest(p + ".tool_calls", "only assistant messages have tool_calls");
            if (!tc.isArray()) throw wrongType(p + ".tool_calls", "an array", tc);
            calls = new ArrayList<>();
            for (int i = 0; i < tc.size(); i++) calls.add(toolCall(tc.get(i), p + ".tool_calls[" + i + "]"));
            if (calls.isEmpty()) calls = null;
        }
        String toolCallId = optString(o, "tool_call_id", p + ".tool_call_id");
        String name = optString(o, "name", p + ".name");
        switch (role) {
            case SYSTEM, USER, TOOL -> {
                if (content == null) throw missing(p + ".content");
            }
            case ASSISTANT -> {
                if (content == null && calls == null) throw ApiException.badRequest(p + ".content", p + ": an assistant message needs content or tool_calls");
            }
            default -> { }
        }
        if (reasoning != null && role != Role.ASSISTANT) throw ApiException.badRequest(p + ".reasoning_content", "only assistant messages have reasoning_content");
        return new Message(role, content, reasoning, calls, role == Role.TOOL ? toolCallId : null, name, null, null);
    }

    private static ToolCall toolCall(JsonNode c, String p) {
        if (!c.isObject()) throw wrongType(p, "an object", c);
        String id = optString((ObjectNode) c, "id", p + ".id");
        JsonNode f = c.get("function");
        if (f == null || f.isNull()) throw missing(p + ".function");
        if (!f.isObject()) throw wrongType(p + ".function", "an object", f);
        String name = requiredString((ObjectNode) f, "name", p + ".function.name");
        JsonNode args = f.get("arguments");
        String a;
        if (args == null || args.isNull()) a = "{}";
        else if (args.isTextual()) a = args.textValue();
        else if (args.isObject()) a = args.toString();
        else throw wrongType(p + ".function.arguments", "a string (JSON)", args);
        return new ToolCall(id, "function", new FunctionCall(name, a));
    }

    private static String content(JsonNode c, String p) {
        if (c == null || c.isNull()) return null;
        if (c.isTextual()) return c.textValue();
        if (c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < c.size(); i++) {
                JsonNode part = c.get(i);
                String type = part.path("type").asText("");
                if (!part.isObject() || !(type.equals("text") || type.equals("input_text")) || !part.path("text").isTextual()) {
                    throw ApiException.badRequest(p + "[" + i + "]", "unsupported_value",
                            p + "[" + i + "]: only text parts ({\"type\": \"text\", \"text\": ...}) are supported");
                }
                sb.append(part.get("text").textValue());
            }
            return sb.toString();
        }
        throw wrongType(p, "a string or an array of text parts", c);
    }

    // ------------------------------------------------------------------ field helpers

    static String requiredString(ObjectNode o, String field) {
        return requiredString(o, field, field);
    }

    private static String requiredString(ObjectNode o, String field, String param) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) throw missing(param);
        if (!n.isTextual()) throw wrongType(param, "a string", n);
        return n.textValue();
    }

    private static String optString(ObjectNode o, String field, String param) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isTextual()) throw wrongType(param, "a string", n);
        return n.textValue();
    }

    private static boolean bool(ObjectNode o, String field, boolean dflt) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) return dflt;
        if (!n.isBoolean()) throw wrongType(field, "a boolean", n);
        return n.booleanValue();
    }

    private static Double optDouble(ObjectNode o, String field, double min, double max) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isNumber()) throw wrongType(field, "a number", n);
        double v = n.doubleValue();
        if (!(v >= min && v <= max)) throw ApiException.badRequest(field, "'" + field + "' must be between " + fmt(min) + " and " + fmt(max) + ", got " + n);
        return v;
    }

    private static Integer optInt(ObjectNode o, String field, int min, int max) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isIntegralNumber()) throw wrongType(field, "an integer", n);
        if (!n.canConvertToInt() || n.intValue() < min || n.intValue() > max) {
            throw ApiException.badRequest(field, "'" + field + "' must be an integer of at least " + min + ", got " + n);
        }
        return n.intValue();
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }

    static ApiException missing(String param) {
        return ApiException.badRequest(param, "missing_required_parameter", "missing required parameter: '" + param + "'");
    }

    static ApiException wrongType(String param, String expected, JsonNode got) {
        return ApiException.badRequest(param, "invalid_type", "'" + param + "' must be " + expected + ", got " + kind(got));
    }

    private static String kind(JsonNode n) {
        if (n.isTextual()) return "a string";
        if (n.isNumber()) return "a number";
        if (n.isBoolean()) return "a boolean";
        if (n.isArray()) return "an array";
        if (n.isObject()) return "an object";
        if (n.isNull()) return "null";
        return n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
    }
}
