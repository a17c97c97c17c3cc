package dev.dsv32.tools;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** `chat` and `generate` on tiny_chat, run in-process (stdin is not a terminal here, as in scripts). */
class ChatGenerateCommandTest {
    record Run(int rc, String out, String err) {}

    static Run run(String stdin, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        InputStream in = new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8));
        int rc = Dsv32Cli.run(new PrintWriter(out), new PrintWriter(err), in, args);
        return new Run(rc, out.toString(), err.toString());
    }

    @Test
    void chatWithPromptRunsOneTurnAndExits() {
        Run r = run("", "chat", "--prompt", "Hello", "--max-tokens", "4", "--temperature", "0");
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.err().contains("tiny_chat") && r.err().contains("random"), "the note about random weights: " + r.err());
        assertFalse(r.out().isBlank(), "the streamed answer");
        assertFalse(r.out().contains("\u001b["), "no ANSI codes without a terminal");
    }

    @Test
    void chatReadsTurnsAndCommandsFromStdin() {
        Run r = run("Hi\n/thinking on\nAgain\n/reasoning off\n/tools on\n/reset\n/bogus\n/quit\nnever sent\n",
                "chat", "--max-tokens", "3", "--temperature", "0");
        assertEquals(0, r.rc(), r.err());
        String o = r.out();
        assertTrue(o.contains("(thinking on)"), o);
        assertTrue(o.contains("[thinking] "), "the reasoning of the thinking turn, prefixed: " + o);
        assertTrue(o.contains("(reasoning hidden)"), o);
        assertTrue(o.contains("(tools on: add, multiply, now)"), o);
        assertTrue(o.contains("(conversation cleared)"), o);
        assertTrue(o.contains("(unknown command /bogus"), o);
    }

    @Test
    void generateJsonAndBadOptions() throws Exception {
        Run r = run("", "generate", "--prompt", "Hi", "--max-tokens", "5", "--temperature", "0", "--json");
        assertEquals(0, r.rc(), r.err());
        JsonNode j = Json.MAPPER.readTree(r.out());
        int n = j.get("usage").get("completion_tokens").asInt();
        assertTrue(n >= 1 && n <= 5, r.out());
        assertTrue(j.get("finish_reason").asText().matches("length|stop"), r.out());
        assertEquals(j.get("content").asText().strip(), run("", "generate", "--prompt", "Hi", "--max-tokens", "5", "--temperature", "0").out().strip(),
                "greedy: the streamed text is the JSON's content");

        Run bad = run("", "generate", "--prompt", "Hi", "--temperature", "-1");
        assertEquals(2, bad.rc());
        assertTrue(bad.err().contains("--temperature"), bad.err());
        assertEquals(2, run("", "chat", "--thinking", "maybe").rc());
        assertEquals(2, run("", "generate", "--model", "/no/such/dir", "--prompt", "x").rc());
    }
}
