package dev.dsv32.encoding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Replays {@code oracle/differential-corpus.jsonl}: random conversations (every role, tools, response formats,
 * arguments of every JSON type, odd content types, context splits, both modes, drop_thinking and BOS on and off) and
 * random completions (valid ones and mutations of them), each with what the official Python code returned or raised.
 * The encoder must produce the same prompt or raise where Python raises; the strict parser must give the same message
 * or the same assertion text.
 */
class DifferentialCorpusTest {
    private static List<JsonNode> records() throws IOException {
        List<JsonNode> out = new ArrayList<>();
        try (InputStream in = DifferentialCorpusTest.class.getResourceAsStream("/oracle/differential-corpus.jsonl")) {
            if (in == null) throw new IllegalStateException("missing test resource oracle/differential-corpus.jsonl");
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            while ((line = r.readLine()) != null) {
                JsonNode n = PythonJson.loads(line);
                if (n.has("kind")) out.add(n);
            }
        }
        return out;
    }

    private static List<JsonNode> list(JsonNode textNode) {
        List<JsonNode> out = new ArrayList<>();
        if (textNode != null && !textNode.isNull()) PythonJson.loads(textNode.textValue()).forEach(out::add);
        return out;
    }

    @TestFactory
    Stream<DynamicTest> encoderAgreesWithTheOfficialCode() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        int i = 0;
        for (JsonNode r : records()) {
            if (!"encode".equals(r.get("kind").textValue())) continue;
            String name = "encode #" + i++ + (r.has("raises") ? " raises " + r.get("raises").textValue() : "");
            tests.add(dynamicTest(name, () -> {
                ChatEncoder enc = ChatEncoder.builder().thinkingMode(ThinkingMode.fromWireName(r.get("mode").textValue()))
                        .dropThinking(r.get("drop").booleanValue()).addBosToken(r.get("bos").booleanValue()).build();
                List<JsonNode> context = list(r.get("context"));
                List<JsonNode> messages = list(r.get("messages"));
                if (r.has("expect")) {
                    assertEquals(r.get("expect").textValue(), enc.encodeJson(context, messages));
                } else {
                    EncodingException e = assertThrows(EncodingException.class, () -> enc.encodeJson(context, messages));
                    assertFalse(e.getMessage().isEmpty());
                }
            }));
        }
        assertEquals(220, tests.size());
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> strictParserAgreesWithTheOfficialCode() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        int i = 0;
        for (JsonNode r : records()) {
            if (!"parse".equals(r.get("kind").textValue())) continue;
            String name = "parse #" + i++ + (r.has("reason") ? " -> " + r.get("reason").textValue() : "");
            tests.add(dynamicTest(name, () -> {
                String text = r.get("text").textValue();
                ThinkingMode mode = ThinkingMode.fromWireName(r.get("mode").textValue());
                if (r.has("reason")) {
                    DsmlParseException e = assertThrows(DsmlParseException.class, () -> StrictParser.parse(text, mode));
                    assertEquals(r.get("reason").textValue(), e.reason());
                } else {
                    Message m = StrictParser.parse(text, mode);
                    assertEquals(r.get("content").textValue(), m.content());
                    assertEquals(r.get("reasoning_content").textValue(), m.reasoningContent());
                    List<ToolCall> expected = new ArrayList<>();
                    for (JsonNode c : r.get("tool_calls")) expected.add(ToolCall.of(c.get(0).textValue(), c.get(1).textValue()));
                    assertEquals(expected, m.toolCalls());
                }
            }));
        }
        assertEquals(450, tests.size());
        return tests.stream();
    }
}
