package dev.dsv32.samples.agent;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import dev.dsv32.api.Model;
import dev.dsv32.api.testing.ScriptedEngine;
import dev.dsv32.api.tools.AgentResult;
import dev.dsv32.api.tools.ToolInvocation;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent sample: a three-tool step on scripted completions, the same against a remote server, and on tiny_chat. */
class AgentSampleTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-04T10:30:00Z"), ZoneOffset.UTC);
    private static final String THREE_CALLS = Dsml.calls("I need the calculator, the clock and the file list.",
            Dsml.invoke("calculate", "expression", "\"(17.5 * 4) + 2^10\""),
            Dsml.invoke("now", "zone", "\"Asia/Tokyo\""),
            Dsml.invoke("list_files"));
    private static final String ANSWER = Dsml.answer("All three tools answered.", "1094; 19:30 in Tokyo; notes.txt and data/.");

    @TempDir
    Path root;

    private void workspace() throws Exception {
        Files.writeString(root.resolve("notes.txt"), "buy milk");
        Files.createDirectory(root.resolve("data"));
    }

    @Test
    void oneStepCallsTheThreeToolsThenAnswers() throws Exception {
        workspace();
        ScriptedEngine engine = ScriptedEngine.of(THREE_CALLS, ANSWER);
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        AgentResult r;
        try (Model model = Model.builder().engine(engine).build()) {
            r = AgentSample.run(model, AgentSample.Options.parse("--root", root.toString()), CLOCK, new PrintStream(buf, true, StandardCharsets.UTF_8));
        }
        assertEquals(AgentResult.StopReason.FINAL_ANSWER, r.stopReason());
        assertEquals(2, r.steps());
        List<String> results = r.invocations().stream().map(ToolInvocation::result).toList();
        assertEquals(List.of("1094", "2026-12-04T19:30:00+09:00 (FRIDAY, Asia/Tokyo)", "[\"data/\",\"notes.txt\"]"), results);
        assertTrue(r.invocations().stream().noneMatch(ToolInvocation::error));
        String prompt = engine.prompts().get(0);
        for (String tool : List.of("calculate", "now", "list_files", "read_file")) assertTrue(prompt.contains("\"name\": \"" + tool + "\""), tool);
        assertTrue(prompt.contains(AgentSample.SYSTEM_PROMPT));
        List<String> lines = buf.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals("answer: 1094; 19:30 in Tokyo; notes.txt and data/.", lines.get(lines.size() - 2));
        assertEquals("stop: FINAL_ANSWER after 2 step(s), 3 tool call(s)", lines.get(lines.size() - 1));
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("tool: calculate") && l.contains("(17.5 * 4) + 2^10") && l.endsWith("-> 1094")), lines.toString());
    }

    @Test
    void theSameAgentRunsAgainstARemoteServer() throws Exception {
        workspace();
        ObjectMapper json = new ObjectMapper();
        List<String> prompts = new CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/completions", ex -> {
            try (ex) {
                JsonNode body = json.readTree(ex.getRequestBody());
                prompts.add(body.path("prompt").asText());
                String text = prompts.size() == 1 ? THREE_CALLS : ANSWER;
                ObjectNode resp = json.createObjectNode();
                resp.putArray("choices").addObject().put("index", 0).put("text", text).put("finish_reason", "stop");
                resp.putObject("usage").put("prompt_tokens", 100).put("completion_tokens", 20);
                byte[] b = json.writeValueAsBytes(resp);
                ex.getResponseHeaders().set("Content-Type", "application/json");
                ex.sendResponseHeaders(200, b.length);
                ex.getResponseBody().write(b);
            }
        });
        server.start();
        try {
            AgentSample.Options o = AgentSample.Options.parse("--remote", "http://127.0.0.1:" + server.getAddress().getPort(),
                    "--root", root.toString(), "How much is it?");
            AgentResult r;
            try (Model model = o.open()) {
                r = AgentSample.run(model, o, CLOCK, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            }
            assertEquals(AgentResult.StopReason.FINAL_ANSWER, r.stopReason());
            assertEquals(3, r.invocations().size());
            assertEquals(2, prompts.size());
            assertTrue(prompts.get(0).contains("How much is it?") && prompts.get(0).contains("\"name\": \"calculate\""));
            assertTrue(prompts.get(1).contains("<result>1094</result>"), prompts.get(1));
        } finally {
            server.stop(0);
        }
    }

    @Test
    void runsOnTinyChat() throws Exception {
        workspace();
        AgentSample.Options o = AgentSample.Options.parse("--root", root.toString(), "--max-steps", "2", "--max-tokens", "24");
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (Model model = Model.builder().tinyChat().maxContext(1024).maxSequences(2).build()) {
            AgentResult r = AgentSample.run(model, o, CLOCK, new PrintStream(buf, true, StandardCharsets.UTF_8));
            assertTrue(r.steps() >= 1 && r.steps() <= 2, "steps " + r.steps());
            assertTrue(r.last().usage().completionTokens() >= 1 && r.last().usage().completionTokens() <= 24);
            assertEquals(0, model.metrics().openSequences(), "the agent's session was closed");
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("\nstop: "), out);
    }

    @Test
    void optionsAreCheckedByName() {
        assertEquals("--max-steps must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> AgentSample.Options.parse("--max-steps", "0")).getMessage());
        assertEquals("--root needs a value", assertThrows(IllegalArgumentException.class, () -> AgentSample.Options.parse("--root")).getMessage());
        assertEquals("unknown option --bogus", assertThrows(IllegalArgumentException.class, () -> AgentSample.Options.parse("--bogus")).getMessage());
        assertEquals(AgentSample.DEFAULT_QUESTION, AgentSample.Options.parse().question());
    }
}
