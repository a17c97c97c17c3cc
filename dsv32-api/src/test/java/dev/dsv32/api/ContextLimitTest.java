package dev.dsv32.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dsv32.Dsv32Exception;
import dev.dsv32.api.testing.ScriptedEngine;
import dev.dsv32.encoding.Message;
import org.junit.jupiter.api.Test;

/**
 * Context limits (RELIABILITY.md): a prompt beyond the model's context, or beyond the whole KV pool, fails on the
 * caller's thread before anything is queued or run, and the message gives the prompt's token count and the limit.
 */
class ContextLimitTest {
    static GenerateRequest prompt(int words) {
        return GenerateRequest.builder().messages(Message.user("word ".repeat(words))).maxTokens(4).build();
    }

    @Test
    void aPromptBeyondTheContextFailsFastWithTheCounts() {
        ScriptedEngine engine = ScriptedEngine.of(p -> "ok").withLimits(64, 4);
        try (Model m = Model.builder().engine(engine).build()) {
            GenerateRequest fits = prompt(20), tooLong = prompt(80);
            assertEquals("ok", m.generate(fits.toBuilder().thinking(false).build()).content());
            long steps = engine.steps();
            int n = m.promptTokens(tooLong);
            long t0 = System.nanoTime();
            // generateAsync throws on the caller's thread: nothing was queued.
            Dsv32Exception e = assertThrows(Dsv32Exception.class, () -> m.generateAsync(tooLong));
            assertTrue(System.nanoTime() - t0 < 2_000_000_000L);
            assertTrue(e.getMessage().contains("the prompt has " + n + " tokens"), e.getMessage());
            assertTrue(e.getMessage().contains("the model's context is 64 tokens"), e.getMessage());
            assertThrows(Dsv32Exception.class, () -> m.generate(tooLong));
            assertThrows(Dsv32Exception.class, () -> m.stream(tooLong, ev -> { }));
            assertThrows(Dsv32Exception.class, () -> m.completeRaw("word ".repeat(80), fits, t -> { }));
            assertEquals(steps, engine.steps(), "no step ran for a refused prompt");
            try (Session s = m.newSession()) {
                Dsv32Exception se = assertThrows(Dsv32Exception.class, () -> s.generate(tooLong));
                assertTrue(se.getMessage().contains(n + " tokens"), se.getMessage());
                assertEquals("ok", s.generate(fits.toBuilder().thinking(false).build()).content(), "the session is still usable");
            }
            // A prompt of exactly the context leaves no room for a token: refused too.
            int words = 0;
            while (m.promptTokens(prompt(words + 1)) < 64) words++;
            GenerateRequest full = prompt(words + 1);
            if (m.promptTokens(full) == 64) assertThrows(Dsv32Exception.class, () -> m.generate(full));
            assertEquals(0, m.metrics().requestsFailed(), "refused before the scheduler saw them");
        }
    }

    @Test
    void aPromptBeyondTheWholeKvPoolIsACapacityErrorWithTheCounts() {
        try (Model m = Model.builder().engine(ScriptedEngine.of(p -> "ok").withLimits(4096, 4).withKvPool(64)).build()) {
            GenerateRequest big = prompt(100);
            int n = m.promptTokens(big);
            CapacityException e = assertThrows(CapacityException.class, () -> m.generateAsync(big));
            assertTrue(e.getMessage().contains("the prompt has " + n + " tokens; the whole KV cache holds 64 tokens"), e.getMessage());
            assertEquals("ok", m.generate(prompt(5).toBuilder().thinking(false).build()).content());
        }
    }
}
