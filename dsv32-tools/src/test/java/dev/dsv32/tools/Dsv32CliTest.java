package dev.dsv32.tools;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dsv32.encoding.ChatEncoder;
import dev.dsv32.encoding.LenientParser;
import dev.dsv32.encoding.ParseResult;
import dev.dsv32.encoding.PythonJson;
import dev.dsv32.encoding.Repair;
import dev.dsv32.encoding.ThinkingMode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI contract, run in-process with stdout and stderr captured as UTF-8 bytes. */
class Dsv32CliTest {
    static final Path OFFICIAL = Path.of("..", "dsv32-encoding", "src", "test", "resources", "official");
    static final String BOS = "<｜begin▁of▁sentence｜>";
    static final String EOS = "<｜end▁of▁sentence｜>";
    static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    Path tmp;

    record Result(int status, byte[] stdout, String stderr) {
        String out() {
            return new String(stdout, UTF_8);
        }

        JsonNode json() throws IOException {
            return MAPPER.readTree(stdout);
        }
    }

    static Result run(String... args) {
        return runWithStdin(new byte[0], args);
    }

    static Result runWithStdin(byte[] stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        InputStream in = new ByteArrayInputStream(stdin);
        int status = Dsv32Cli.run(Io.utf8Writer(out), Io.utf8Writer(err), in, args);
        return new Result(status, out.toByteArray(), err.toString(UTF_8));
    }

    static byte[] officialBytes(String name) throws IOException {
        return Files.readAllBytes(OFFICIAL.resolve(name));
    }

    /** The gold output as the official test uses it: {@code read().strip()} (the files end with one newline or none). */
    static String gold(String name) throws IOException {
        return new String(officialBytes(name), UTF_8).strip();
    }

    Path write(String name, String content) throws IOException {
        return Files.write(tmp.resolve(name), content.getBytes(UTF_8));
    }

    // ---- encode ----

    @Test
    void encodeOfficialTestInputIsByteExact() throws IOException {
        Result r = run("encode", "--messages", OFFICIAL.resolve("test_input.json").toString());
        assertEquals(0, r.status(), r.stderr());
        byte[] gold = officialBytes("test_output.txt");
        assertEquals('\n', gold[gold.length - 1]);
        assertArrayEquals(Arrays.copyOf(gold, gold.length - 1), r.stdout(), "prompt must equal test_output.txt minus its final newline");
        assertEquals("", r.stderr());
    }

    @Test
    void encodeSearchConversationWithoutToolsKey() throws IOException {
        Result r = run("encode", "--messages", OFFICIAL.resolve("test_input_search_wo_date.json").toString());
        assertEquals(0, r.status(), r.stderr());
        assertEquals(gold("test_output_search_wo_date.txt"), r.out());
    }

    @Test
    void encodeDefaultsAreThinkingDropThinkingBosStandard() throws IOException {
        String file = OFFICIAL.resolve("test_input.json").toString();
        Result defaults = run("encode", "--messages", file);
        Result explicit = run("encode", "--messages", file, "--thinking-mode", "thinking", "--drop-thinking", "true",
                "--bos", "true", "--variant", "standard");
        assertEquals(0, explicit.status(), explicit.stderr());
        assertArrayEquals(defaults.stdout(), explicit.stdout());
    }

    @Test
    void encodeArrayFormAndStdin() throws IOException {
        String json = "[{\"role\": \"user\", \"content\": \"hi\"}]";
        Result r = run("encode", "--messages", write("m.json", json).toString());
        assertEquals(0, r.status(), r.stderr());
        assertEquals(BOS + "<｜User｜>hi<｜Assistant｜><think>", r.out());
        Result fromStdin = runWithStdin(json.getBytes(UTF_8), "encode", "--messages", "-");
        assertEquals(r.out(), fromStdin.out());
    }

    @Test
    void encodeChatMode() throws IOException {
        Result simple = run("encode", "--messages", write("m.json", "[{\"role\": \"user\", \"content\": \"hi\"}]").toString(),
                "--thinking-mode", "chat");
        assertEquals(0, simple.status(), simple.stderr());
        assertEquals(BOS + "<｜User｜>hi<｜Assistant｜></think>", simple.out());

        Result official = run("encode", "--messages", OFFICIAL.resolve("test_input.json").toString(), "--thinking-mode", "chat");
        assertEquals(0, official.status(), official.stderr());
        String prompt = official.out();
        assertTrue(prompt.contains("<｜User｜>谢谢！那后天呢？<｜Assistant｜></think>"), prompt);
        String afterTools = prompt.substring(prompt.indexOf("</functions>\n"));
        assertFalse(afterTools.contains("<think>"), "chat mode never opens a think block");
        assertTrue(afterTools.contains("</function_results>\n\n</think>"), "tool blocks end with </think>");
        assertFalse(prompt.contains("用户现在问后天的天气"), "chat mode drops the current round's reasoning");
        assertTrue(prompt.endsWith(EOS));
    }

    @Test
    void encodeWithoutBos() throws IOException {
        Result r = run("encode", "--messages", OFFICIAL.resolve("test_input.json").toString(), "--bos", "false");
        assertEquals(0, r.status(), r.stderr());
        String gold = gold("test_output.txt");
        assertTrue(gold.startsWith(BOS));
        assertEquals(gold.substring(BOS.length()), r.out());
    }

    @Test
    void encodeDropThinkingFalse() throws IOException {
        // The official test conversation renders the same either way (encoding.md §5.2) ...
        Result same = run("encode", "--messages", OFFICIAL.resolve("test_input.json").toString(), "--drop-thinking", "false");
        assertEquals(0, same.status(), same.stderr());
        assertEquals(gold("test_output.txt"), same.out());
        // ... but a developer message before the last user message is dropped with drop_thinking=true, and the
        // official encoder then fails; with false it renders.
        Path dev = write("dev.json", "[{\"role\": \"developer\", \"content\": \"d\"}, {\"role\": \"user\", \"content\": \"u\"}]");
        Result dropped = run("encode", "--messages", dev.toString());
        assertEquals(2, dropped.status());
        assertTrue(dropped.stderr().contains("drop_thinking"), dropped.stderr());
        Result kept = run("encode", "--messages", dev.toString(), "--drop-thinking", "false");
        assertEquals(0, kept.status(), kept.stderr());
        assertEquals(BOS + "<｜User｜>\n\n# The user's message is: d<｜Assistant｜></think><｜User｜>u<｜Assistant｜><think>", kept.out());
    }

    @Test
    void encodeSpecialeWithToolsIsRejected() {
        Result r = run("encode", "--messages", OFFICIAL.resolve("test_input.json").toString(), "--variant", "speciale");
        assertEquals(2, r.status());
        assertEquals(0, r.stdout().length);
        assertTrue(r.stderr().contains("Speciale"), r.stderr());
        assertTrue(r.stderr().contains("test_input.json"), r.stderr());
        assertTrue(r.stderr().contains("messages[0].tools"), r.stderr());
        assertEquals(1, r.stderr().strip().lines().count(), "one-line reason: " + r.stderr());
    }

    @Test
    void encodeSpecialeWithoutTools() throws IOException {
        Path m = write("m.json", "[{\"role\": \"user\", \"content\": \"hi\"}]");
        Result r = run("encode", "--messages", m.toString(), "--variant", "speciale");
        assertEquals(0, r.status(), r.stderr());
        assertEquals(BOS + "<｜User｜>hi<｜Assistant｜><think>", r.out());
    }

    @Test
    void encodeMalformedJsonNamesTheFile() throws IOException {
        Path bad = write("broken.json", "[{\"role\": \"user\", \"content\": \"hi\"");
        Result r = run("encode", "--messages", bad.toString());
        assertEquals(2, r.status());
        assertEquals(0, r.stdout().length);
        assertTrue(r.stderr().contains("broken.json"), r.stderr());
        assertTrue(r.stderr().contains("invalid JSON"), r.stderr());
        assertEquals(1, r.stderr().strip().lines().count(), r.stderr());
    }

    @Test
    void encodeRejectedMessageNamesIndexAndField() throws IOException {
        Path m = write("m.json", "[{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"reasoning_content\": \"r\","
                + " \"tool_calls\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", \"arguments\": \"[1]\"}}]}]");
        Result r = run("encode", "--messages", m.toString());
        assertEquals(2, r.status());
        assertTrue(r.stderr().contains("m.json"), r.stderr());
        assertTrue(r.stderr().contains("messages[1].tool_calls[0].function.arguments"), r.stderr());
    }

    @Test
    void encodeToolsWithEmptyMessagesIsAnError() throws IOException {
        Result r = run("encode", "--messages", write("t.json", "{\"messages\": [], \"tools\": []}").toString());
        assertEquals(2, r.status());
        assertTrue(r.stderr().contains("t.json") && r.stderr().contains("messages"), r.stderr());
    }

    @Test
    void encodeMissingFileAndBadOptionsExitTwo() {
        Result missing = run("encode", "--messages", tmp.resolve("nope.json").toString());
        assertEquals(2, missing.status());
        assertTrue(missing.stderr().contains("nope.json"), missing.stderr());
        String file = OFFICIAL.resolve("test_input.json").toString();
        for (String[] args : List.of(
                new String[] {"encode", "--messages", file, "--thinking-mode", "foo"},
                new String[] {"encode", "--messages", file, "--bos", "maybe"},
                new String[] {"encode", "--messages", file, "--drop-thinking", "yes"},
                new String[] {"encode", "--messages", file, "--variant", "pro"},
                new String[] {"encode"},
                new String[] {"frobnicate"},
                new String[] {})) {
            Result r = run(args);
            assertEquals(2, r.status(), String.join(" ", args) + ": " + r.stderr());
            assertEquals(0, r.stdout().length);
            assertFalse(r.stderr().isBlank());
        }
    }

    @Test
    void encodeRejectsInvalidUtf8() throws IOException {
        Path bad = Files.write(tmp.resolve("latin1.json"), new byte[] {'[', '"', (byte) 0xE9, '"', ']'});
        Result r = run("encode", "--messages", bad.toString());
        assertEquals(2, r.status());
        assertTrue(r.stderr().contains("latin1.json") && r.stderr().contains("UTF-8"), r.stderr());
    }

    @Test
    void nonAsciiSurvivesEncode() throws IOException {
        String text = "héllo 杭州 😀 ☔ \u2028 end";
        ObjectNode msg = MAPPER.createObjectNode().put("role", "user").put("content", text);
        Path m = write("m.json", MAPPER.writeValueAsString(MAPPER.createArrayNode().add(msg)));
        Result r = run("encode", "--messages", m.toString(), "--thinking-mode", "chat");
        assertEquals(0, r.status(), r.stderr());
        assertArrayEquals((BOS + "<｜User｜>" + text + "<｜Assistant｜></think>").getBytes(UTF_8), r.stdout());
    }

    // ---- parse ----

    /** The official round trip (encoding.md §9 B), through the CLI. */
    @Test
    void strictParseOfOfficialCompletion() throws IOException {
        JsonNode input = PythonJson.loads(new String(officialBytes("test_input.json"), UTF_8));
        List<JsonNode> messages = new ArrayList<>();
        input.get("messages").forEach(messages::add);
        ((ObjectNode) messages.get(0)).set("tools", input.get("tools"));
        String completion = ChatEncoder.defaults().encodeJson(messages.subList(0, 4), messages.subList(4, 5));
        Path f = write("completion.txt", completion);

        Result r = run("parse", "--text-file", f.toString());
        assertEquals(0, r.status(), r.stderr());
        assertEquals("", r.stderr());
        JsonNode parsed = r.json();
        JsonNode expected = messages.get(4).deepCopy();
        for (JsonNode call : expected.get("tool_calls")) ((ObjectNode) call).remove("id");
        assertEquals("assistant", parsed.get("role").asText());
        assertEquals(expected.get("reasoning_content"), parsed.get("reasoning_content"));
        assertEquals(expected.get("tool_calls"), parsed.get("tool_calls"));
        assertEquals(2, parsed.get("tool_calls").size());
        assertFalse(parsed.has("repairs"));
        assertTrue(r.out().endsWith("}\n"));
    }

    @Test
    void strictParseChatModeAndNonAscii() throws IOException {
        Path f = write("c.txt", "Hello 杭州 😀" + EOS);
        Result r = run("parse", "--text-file", f.toString(), "--thinking-mode", "chat");
        assertEquals(0, r.status(), r.stderr());
        assertTrue(r.out().contains("\"Hello 杭州 😀\""), "non-ASCII is written raw, not escaped: " + r.out());
        JsonNode j = r.json();
        assertEquals("Hello 杭州 😀", j.get("content").asText());
        assertEquals("", j.get("reasoning_content").asText());
        assertEquals(0, j.get("tool_calls").size());
    }

    @Test
    void strictParseOfMalformedExitsTwo() throws IOException {
        Path f = write("bad.txt", "reasoning without end" + EOS);
        Result r = run("parse", "--text-file", f.toString());
        assertEquals(2, r.status());
        assertEquals(0, r.stdout().length);
        assertTrue(r.stderr().contains("Invalid thinking format"), r.stderr());
        assertTrue(r.stderr().contains("bad.txt"), r.stderr());

        Path noEos = write("noeos.txt", "just text");
        Result chat = run("parse", "--text-file", noEos.toString(), "--thinking-mode", "chat");
        assertEquals(2, chat.status());
        assertTrue(chat.stderr().contains("Invalid summary format"), chat.stderr());
    }

    @Test
    void lenientParseAddsRepairs() throws IOException {
        String text = "just text, no end of sentence";
        Path f = write("noeos.txt", text);
        Result r = run("parse", "--text-file", f.toString(), "--thinking-mode", "chat", "--lenient");
        assertEquals(0, r.status(), r.stderr());
        JsonNode j = r.json();
        assertEquals("assistant", j.get("role").asText());
        assertEquals(text, j.get("content").asText());
        assertTrue(j.get("repairs").isArray(), r.out());
        assertEquals(Repair.Kind.MISSING_EOS, j.get("repairs").get(0).get("kind").asText(), r.out());
        assertEquals(text.length(), j.get("repairs").get(0).get("offset").asInt(), r.out());
        // The CLI prints exactly the library's repairs, with kind, detail and offset.
        ParseResult lib = LenientParser.parse(text, ThinkingMode.CHAT);
        ArrayNode repairs = (ArrayNode) j.get("repairs");
        assertEquals(lib.repairs().size(), repairs.size());
        for (int i = 0; i < repairs.size(); i++) {
            assertEquals(lib.repairs().get(i).kind(), repairs.get(i).get("kind").asText());
            assertEquals(lib.repairs().get(i).detail(), repairs.get(i).get("detail").asText());
            assertEquals(lib.repairs().get(i).offset(), repairs.get(i).get("offset").asInt());
        }
    }

    @Test
    void lenientParseOfWellFormedHasNoRepairs() throws IOException {
        Path f = write("ok.txt", "thought</think>answer" + EOS);
        Result r = run("parse", "--text-file", f.toString(), "--lenient");
        assertEquals(0, r.status(), r.stderr());
        JsonNode j = r.json();
        assertEquals("answer", j.get("content").asText());
        assertEquals("thought", j.get("reasoning_content").asText());
        assertEquals(0, j.get("repairs").size());
    }

    @Test
    void parseToolsFileIsReadAndValidated() throws IOException {
        Path f = write("call.txt", "thought</think>\n\n<｜DSML｜function_calls>\n<｜DSML｜invoke name=\"get_time\">\n"
                + "<｜DSML｜parameter name=\"tz\" string=\"true\">UTC</｜DSML｜parameter>\n</｜DSML｜invoke>\n"
                + "</｜DSML｜function_calls>" + EOS);
        Path tools = write("tools.json", "{\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"get_weather\","
                + " \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}}}}]}");
        // Without declared tools nothing is checked; with them the call of an undeclared tool is flagged.
        Result unchecked = run("parse", "--text-file", f.toString(), "--lenient");
        assertEquals(0, unchecked.status(), unchecked.stderr());
        assertEquals(0, unchecked.json().get("repairs").size(), unchecked.out());
        Result ok = run("parse", "--text-file", f.toString(), "--lenient", "--tools", tools.toString());
        assertEquals(0, ok.status(), ok.stderr());
        JsonNode checked = ok.json();
        assertEquals("get_time", checked.get("tool_calls").get(0).get("function").get("name").asText());
        assertEquals(Repair.Kind.UNDECLARED_TOOL, checked.get("repairs").get(0).get("kind").asText(), ok.out());
        // The strict parser ignores --tools, and says so on stderr.
        Result strict = run("parse", "--text-file", f.toString(), "--tools", tools.toString());
        assertEquals(0, strict.status(), strict.stderr());
        assertTrue(strict.stderr().contains("--tools"), strict.stderr());
        Path badTools = write("badtools.json", "[{\"type\": \"function\"}]");
        Result bad = run("parse", "--text-file", f.toString(), "--lenient", "--tools", badTools.toString());
        assertEquals(2, bad.status());
        assertTrue(bad.stderr().contains("badtools.json") && bad.stderr().contains("tools[0]"), bad.stderr());
    }

    // ---- misc ----

    @Test
    void versionAndHelp() {
        Result v = run("--version");
        assertEquals(0, v.status());
        assertTrue(v.out().startsWith("dsv32 "), v.out());
        Result h = run("--help");
        assertEquals(0, h.status());
        for (String cmd : List.of("encode", "parse", "demo")) assertTrue(h.out().contains(cmd), h.out());
        Result eh = run("encode", "--help");
        assertEquals(0, eh.status());
        assertTrue(eh.out().contains("--thinking-mode") && eh.out().contains("--drop-thinking"), eh.out());
    }

    @Test
    void demoRunsAndShowsEverySection() {
        Result r = run("demo");
        assertEquals(0, r.status(), r.stderr());
        String out = r.out();
        for (String s : List.of("== 1.", "== 2.", "== 3.", "== 4.", "== 5.", "== 6.", "StrictParser: rejected",
                "repairs (", "tool_call_started", "done")) {
            assertTrue(out.contains(s), "missing " + s + " in:\n" + out);
        }
        assertTrue(out.contains("prompt + completion == encode(all 5 messages): yes"), out);
        assertTrue(out.contains("round trip (reasoning and tool calls equal messages[2]): yes"), out);
        assertTrue(out.contains("decode(encode(text)) == text: yes"), out);
        assertTrue(out.contains("杭州"));
    }
}
