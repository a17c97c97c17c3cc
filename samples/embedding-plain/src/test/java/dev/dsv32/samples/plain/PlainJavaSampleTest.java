package dev.dsv32.samples.plain;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The sample's main() runs end to end on tiny_chat (random weights: the text is random, its shape is not). */
class PlainJavaSampleTest {
    @Test
    void mainGeneratesAndStreamsOnTinyChat() {
        PrintStream out = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            PlainJavaSample.main(new String[0]);
        } finally {
            System.setOut(out);
        }
        List<String> lines = buf.toString(StandardCharsets.UTF_8).lines().toList();
        assertTrue(lines.get(0).startsWith("reasoning: "), lines.toString());
        String last = lines.get(lines.size() - 1);
        assertTrue(last.matches("streamed [1-9][0-9]* tokens"), last);
        int streamed = Integer.parseInt(last.split(" ")[1]);
        assertTrue(streamed <= 48, last);
        assertTrue(lines.stream().anyMatch(l -> l.matches("(?s)answer: .* \\[(STOP|LENGTH|TOOL_CALLS), [1-9][0-9]* tokens\\]")), lines.toString());
    }
}
