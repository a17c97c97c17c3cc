package dev.dsv32.api.internal;

import static org.junit.jupiter.api.Assertions.*;

import dev.dsv32.api.Event;
import dev.dsv32.api.FinishReason;
import dev.dsv32.api.GenerateResult;
import dev.dsv32.api.Usage;
import dev.dsv32.encoding.ParseOptions;
import dev.dsv32.encoding.ThinkingMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GenerationTest {
    static final Usage U = new Usage(0, 0, 0, 0, Duration.ZERO, Duration.ZERO, Duration.ZERO);

    static String feed(Generation g, String text, Random rnd) {
        int i = 0;
        while (i < text.length()) {
            int n = 1 + rnd.nextInt(4);
            int end = Math.min(text.length(), i + n);
            if (g.onText(text.substring(i, end))) return "stopped";
            i = end;
        }
        return "fed";
    }

    @Test
    void stopStringsAreFoundAcrossAnyDeltaBoundariesAndNeverEmitted() {
        String text = "Hello wörld 🌍, the END is near; END again";
        Random rnd = new Random(1);
        for (int trial = 0; trial < 200; trial++) {
            List<Event> events = new ArrayList<>();
            Generation g = new Generation(ThinkingMode.CHAT, ParseOptions.defaults(), List.of("END", "zzzz"), events::add, "c");
            assertEquals("stopped", feed(g, text, rnd));
            GenerateResult r = g.finish(FinishReason.STOP_STRING, U, new int[0]);
            assertEquals("Hello wörld 🌍, the ", r.content());
            StringBuilder sb = new StringBuilder();
            for (Event e : events) if (e instanceof Event.ContentDelta d) sb.append(d.text());
            assertEquals(r.content(), sb.toString());
            for (Event e : events) {
                if (e instanceof Event.ContentDelta d) {
                    assertFalse(d.text().isEmpty());
                    assertFalse(Character.isHighSurrogate(d.text().charAt(d.text().length() - 1)), "no split surrogate pair");
                }
            }
        }
    }

    @Test
    void withoutAStopTheHeldBackTailIsReleasedAtTheEnd() {
        List<Event> events = new ArrayList<>();
        Generation g = new Generation(ThinkingMode.THINKING, ParseOptions.defaults(), List.of("STOPPER"), events::add, "c");
        assertEquals("fed", feed(g, "think</think>answer STOPPE", new Random(2)));
        g.onEos();
        GenerateResult r = g.finish(FinishReason.STOP, U, new int[0]);
        assertEquals("think", r.reasoning());
        assertEquals("answer STOPPE", r.content());
        assertEquals(FinishReason.STOP, r.finishReason());
        assertTrue(r.repairs().isEmpty(), r.repairs().toString());
        assertEquals("think</think>answer STOPPE<｜end▁of▁sentence｜>", r.text());
    }
}
