package dev.dsv32.api;

import static org.junit.jupiter.api.Assertions.*;

import dev.dsv32.Dsv32Exception;
import dev.dsv32.api.testing.ScriptedEngine;
import dev.dsv32.encoding.ChatEncoder;
import dev.dsv32.encoding.Message;
import dev.dsv32.encoding.ThinkingMode;
import dev.dsv32.tokenizer.Tokenizer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Scheduler behaviour with the scripted engine: capacity, queueing, sessions, stop strings, close. */
class SchedulerTest {
    static final Tokenizer TOK = Tokenizer.v32();

    @Test
    void requestsQueueForASequenceThenFailWithACapacityErrorAfterTheAdmissionTimeout() throws Exception {
        ScriptedEngine engine = ScriptedEngine.of(p -> "Reasoning.</think>Answer.").withLimits(4096, 1);
        try (Model model = Model.builder().engine(engine).admissionTimeout(Duration.ofMillis(300)).build()) {
            // A session holds the only sequence between turns.
            Session holder = model.newSession();
            holder.generate(GenerateRequest.of("hold"));
            assertEquals(1, model.metrics().openSequences());
            long t0 = System.nanoTime();
            CapacityException e = assertThrows(CapacityException.class, () -> model.generate(GenerateRequest.of("blocked")));
            long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(waited >= 300, "it waited for the admission timeout: " + waited + " ms");
            assertTrue(e.getMessage().contains("no sequence became free within 300 ms") && e.getMessage().contains("1 of 1 sequences"), e.getMessage());
            assertEquals(1, model.metrics().requestsRejected());
            // A queued request starts as soon as the session closes.
            CompletableFuture<GenerateResult> queued = model.generateAsync(GenerateRequest.of("queued"));
            Thread.sleep(100);
            assertFalse(queued.isDone());
            assertEquals(1, model.metrics().queueLength());
            holder.close();
            assertEquals("Answer.", queued.get(10, TimeUnit.SECONDS).content());
            assertEquals(0, model.metrics().openSequences());
        }
    }

    @Test
    void aFullKvCacheStopsTheNewestRequestAndTheOthersGoOn() throws Exception {
        // 4 blocks of 16 tokens: both prompts fit, both completions together do not.
        ScriptedEngine engine = ScriptedEngine.of(p -> "word ".repeat(200)).withKvPool(64);
        try (Model model = Model.builder().engine(engine).build()) {
            GenerateRequest req = GenerateRequest.builder().messages(Message.user("go")).thinking(false).maxTokens(36).build();
            int promptTokens = TOK.encode(ChatEncoder.builder().thinkingMode(ThinkingMode.CHAT).build().encode(req.messages())).length;
            assertTrue(promptTokens + 36 <= 64 && 2 * (promptTokens + 36) > 64, "prompt " + promptTokens);
            // The first request's first token waits until the second is submitted (FirstTokenGate): the two overlap
            // whatever the timing.
            FirstTokenGate gate = new FirstTokenGate();
            GenerateRequest gated =
                    GenerateRequest.builder().messages(Message.user("go")).thinking(false).maxTokens(36).logitsListener(gate).build();
            CompletableFuture<GenerateResult> first = model.generateAsync(gated);
            CompletableFuture<GenerateResult> second = model.generateAsync(req);
            gate.open();
            assertEquals(FinishReason.LENGTH, first.get(10, TimeUnit.SECONDS).finishReason());
            ExecutionException e = assertThrows(ExecutionException.class, () -> second.get(10, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof CapacityException && e.getCause().getMessage().contains("the KV cache is full"), e.getCause().toString());
            dev.dsv32.api.spi.CacheStats c = model.metrics().cache().orElseThrow();
            assertEquals(c.totalBlocks(), c.freeBlocks(), "every block was returned");
            assertEquals(0, model.metrics().openSequences());
        }
    }

    @Test
    void aRequestTimesOutWhileQueued() throws Exception {
        ScriptedEngine engine = ScriptedEngine.of(p -> "x</think>y").withLimits(4096, 1);
        try (Model model = Model.builder().engine(engine).admissionTimeout(Duration.ofSeconds(30)).build();
             Session holder = model.newSession()) {
            holder.generate(GenerateRequest.of("hold"));
            GenerateResult r = model.generate(GenerateRequest.builder().messages(Message.user("late")).timeout(Duration.ofMillis(200)).build());
            assertEquals(FinishReason.TIMEOUT, r.finishReason());
            assertEquals(0, r.tokenIds().length);
            assertEquals(Duration.ZERO, r.usage().timeToFirstToken());
        }
    }

    @Test
    void aSessionTurnPrefillsExactlyTheNewTokens() {
        // Chat mode: earlier turns render as they were generated. (In thinking mode the V3.2 encoding renders earlier
        // turns without their reasoning and with </think> where their prompt had <think>, whatever drop_thinking
        // says, so a new turn re-computes the previous answer: see TinyChatModelTest.)
        ScriptedEngine engine = ScriptedEngine.of(p -> "Here is my answer.");
        try (Model model = Model.builder().engine(engine).build();
             Session s = model.newSession(GenerateRequest.builder().messages(Message.system("sys")).thinking(false).build())) {
            GenerateResult r1 = s.send(Message.user("one"));
            int cached = s.cachedTokenIds().length;
            GenerateResult r2 = s.send(Message.user("two"));
            ChatEncoder enc = ChatEncoder.builder().thinkingMode(ThinkingMode.CHAT).build();
            int full = TOK.encode(enc.encode(s.history().subList(0, 4))).length;
            // The cache held everything the first turn saw and wrote, but its end-of-sentence token.
            assertEquals(cached, r2.usage().cachedTokens());
            assertEquals(full - cached, r2.usage().prefilledTokens());
            assertEquals(TOK.encode(enc.encode(s.history().subList(0, 2))).length + r1.tokenIds().length - 1, cached);
            // The prefill is the first turn's end-of-sentence token plus the new user turn.
            String newText = TOK.decode(java.util.Arrays.copyOfRange(TOK.encode(enc.encode(s.history().subList(0, 4))), cached, full));
            assertEquals("<｜end▁of▁sentence｜><｜User｜>two<｜Assistant｜></think>", newText);
        }
    }

    @Test
    void stopStringsSpanningTokensAreNotEmitted() throws Exception {
        ScriptedEngine engine = ScriptedEngine.of(p -> "alpha beta gamma delta");
        try (Model model = Model.builder().engine(engine).build()) {
            List<Event> events = new ArrayList<>();
            GenerateResult r = model.stream(GenerateRequest.builder().messages(Message.user("x")).thinking(false).stop("ta gam", "zzz").build(),
                    events::add).get(10, TimeUnit.SECONDS);
            assertEquals(FinishReason.STOP_STRING, r.finishReason());
            assertEquals("alpha be", r.content());
            StringBuilder sb = new StringBuilder();
            for (Event e : events) if (e instanceof Event.ContentDelta d) sb.append(d.text());
            assertEquals("alpha be", sb.toString());
        }
    }

    @Test
    void maxTokensAndEosEndGeneration() {
        try (Model model = Model.builder().engine(ScriptedEngine.of(p -> "Thought.</think>one two three four five six")).build()) {
            GenerateResult capped = model.generate(GenerateRequest.builder().messages(Message.user("x")).maxTokens(3).build());
            assertEquals(FinishReason.LENGTH, capped.finishReason());
            assertEquals(3, capped.tokenIds().length);
            GenerateResult full = model.generate(GenerateRequest.of("x"));
            assertEquals(FinishReason.STOP, full.finishReason());
            assertEquals("one two three four five six", full.content());
            assertEquals(Tokenizer.EOS_ID, full.tokenIds()[full.tokenIds().length - 1]);
        }
    }

    @Test
    void closingTheModelFailsWaitingRequestsAndFurtherCalls() throws Exception {
        ScriptedEngine engine = ScriptedEngine.of(p -> "x").withLimits(4096, 1);
        Model model = Model.builder().engine(engine).build();
        Session holder = model.newSession();
        holder.generate(GenerateRequest.of("hold"));
        CompletableFuture<GenerateResult> waiting = model.generateAsync(GenerateRequest.of("waits"));
        model.close();
        ExecutionException e = assertThrows(ExecutionException.class, () -> waiting.get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof Dsv32Exception && e.getCause().getMessage().contains("closed"), e.getCause().toString());
        IllegalStateException closed = assertThrows(IllegalStateException.class, () -> model.generate(GenerateRequest.of("after")));
        assertTrue(closed.getMessage().contains("is closed"));
        model.close(); // idempotent
    }

    @Test
    void aSessionRunsOneRequestAtATime() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean scriptReturned = new java.util.concurrent.atomic.AtomicBoolean();
        ScriptedEngine engine = ScriptedEngine.of(p -> {
            entered.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            scriptReturned.set(true);
            return "ok";
        });
        try (Model model = Model.builder().engine(engine).build(); Session s = model.newSession()) {
            CompletableFuture<GenerateResult> first = s.generateAsync(GenerateRequest.of("a"));
            // With "a" inside the engine's step (its script blocked), "b" is refused at once: admitting it reads the
            // engine's cache statistics, which must not wait for the step (it did while the script ran under the
            // engine's monitor, and "b" then ran after "a" instead of failing).
            assertTrue(entered.await(10, TimeUnit.SECONDS));
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.generate(GenerateRequest.of("b")));
            assertTrue(e.getMessage().contains("already generating"), e.getMessage());
            assertFalse(scriptReturned.get(), "the second request waited for the first one's script");
            assertThrows(IllegalStateException.class, s::fork);
            release.countDown();
            first.get(10, TimeUnit.SECONDS);
            assertNotNull(s.generate(GenerateRequest.of("c")));
        }
    }

    @Test
    void metricsCountRequestsTokensAndTimeToFirstToken() {
        try (Model model = Model.builder().engine(ScriptedEngine.of(p -> "a b c</think>d")).build()) {
            for (int i = 0; i < 3; i++) model.generate(GenerateRequest.of("q" + i));
            Metrics m = model.metrics();
            assertEquals(3, m.requestsCompleted());
            assertEquals(0, m.requestsFailed());
            assertTrue(m.completionTokens() >= 3 * 5, m.toString());
            assertTrue(m.promptTokens() > 0 && m.steps() > 0);
            assertTrue(m.meanTimeToFirstToken().toNanos() > 0);
            assertEquals(0, m.queueLength());
            assertEquals(0, m.activeRequests());
        }
    }
}
