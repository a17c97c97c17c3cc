package dev.dsv32.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dsv32.Dsv32Exception;
import dev.dsv32.api.internal.NativeEngine;
import dev.dsv32.api.spi.CacheStats;
import dev.dsv32.api.spi.EngineSequence;
import dev.dsv32.api.spi.InferenceEngine;
import dev.dsv32.api.spi.StepEntry;
import dev.dsv32.api.testing.ScriptedEngine;
import dev.dsv32.api.tools.Agent;
import dev.dsv32.api.tools.AgentResult;
import dev.dsv32.api.tools.ToolRegistry;
import dev.dsv32.encoding.Message;
import dev.dsv32.encoding.Tokens;
import dev.dsv32.nativ.NativeModel;
import dev.dsv32.nativ.NativeOptions;
import dev.dsv32.nativ.Numerics;
import dev.dsv32.nativ.synth.SyntheticCheckpoint;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Fault injection (RELIABILITY.md): native allocation failure, KV exhaustion, a tool that hangs or throws,
 * cancellation at every step, interrupted threads, a model closed while requests run. Each fault ends the affected
 * request with a clear exception (or a CANCELLED result); the model keeps serving the others, which is asserted, and
 * every sequence and KV block is returned.
 */
class FaultInjectionTest {

    /** tiny_chat's native model with small KV blocks: 16-token blocks, a pool of {@code poolTokens}. */
    static NativeModel tinyNative(int maxSequences, int poolTokens, NativeOptions.DebugFlag... flags) throws Exception {
        NativeOptions o = NativeOptions.defaults().withNumerics(Numerics.F32).withMaxSeqLen(512).withMaxSequences(maxSequences)
                .withKvBlockSize(16).withKvPoolTokens(poolTokens).withDebug(flags);
        return NativeModel.open(SyntheticCheckpoint.defaultModel(), o);
    }

    /** A native engine whose steps first run {@code beforeStep} (which may cancel, throw or sleep). */
    static final class HookedEngine implements InferenceEngine {
        final NativeEngine inner;
        final AtomicInteger steps = new AtomicInteger();
        volatile Consumer<List<StepEntry>> beforeStep = b -> { };

        HookedEngine(NativeModel m, int maxSequences) {
            this.inner = new NativeEngine(m, maxSequences);
        }

        @Override public int vocabSize() { return inner.vocabSize(); }
        @Override public int maxContext() { return inner.maxContext(); }
        @Override public int maxSequences() { return inner.maxSequences(); }
        @Override public int openSequenceCount() { return inner.openSequenceCount(); }
        @Override public EngineSequence openSequence() { return inner.openSequence(); }
        @Override public Optional<CacheStats> cacheStats() { return inner.cacheStats(); }
        @Override public void close() { inner.close(); }

        @Override
        public float[] step(List<StepEntry> batch) {
            steps.incrementAndGet();
            beforeStep.accept(batch);
            return inner.step(batch);
        }
    }

    static GenerateRequest greedy(String user, int maxTokens) {
        return GenerateRequest.builder().messages(Message.user(user)).greedy().maxTokens(maxTokens).ignoreEos(true).build();
    }

    static void awaitIdle(Model m) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < end && (m.metrics().activeRequests() > 0 || m.metrics().queueLength() > 0 || m.metrics().openSequences() > 0)) {
            Thread.sleep(5);
        }
    }

    /** Nothing held: no sequence open, every KV block free. */
    static void assertNothingHeld(Model m) throws InterruptedException {
        awaitIdle(m);
        assertEquals(0, m.metrics().openSequences(), "open sequences");
        m.metrics().cache().ifPresent(c -> assertEquals(c.totalBlocks(), c.freeBlocks(), "free KV blocks"));
    }

    static Throwable failure(CompletableFuture<?> f) throws InterruptedException {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(60, TimeUnit.SECONDS));
        return e.getCause();
    }

    @Test
    void nativeAllocationFailureStopsOnlyTheRequestThatNeededTheMemory() throws Exception {
        // 32 blocks of 16 tokens; allocations fail once 16 are allocated (DSV32_DEBUG_KV_ALLOC_FAILS).
        try (Model m = Model.builder().engine(new NativeEngine(tinyNative(4, 512, NativeOptions.DebugFlag.KV_ALLOC_FAILS), 4)).build()) {
            CountDownLatch running = new CountDownLatch(3);
            List<String> deltas = new ArrayList<>();
            CompletableFuture<GenerateResult> small = m.stream(greedy("Hi", 40), e -> {
                running.countDown();
                synchronized (deltas) {
                    if (e instanceof Event.ContentDelta || e instanceof Event.ReasoningDelta) deltas.add(e.toString());
                }
            });
            assertTrue(running.await(60, TimeUnit.SECONDS), "the small request is decoding");
            // ~300 prompt tokens: 19 more blocks than the 3-4 the small one holds; the 17th allocation fails.
            CompletableFuture<GenerateResult> big = m.generateAsync(greedy("word ".repeat(290), 4));
            Throwable t = failure(big);
            assertInstanceOf(CapacityException.class, t);
            assertTrue(t.getMessage().contains("out of memory"), t.getMessage());
            GenerateResult r = small.get(60, TimeUnit.SECONDS);
            assertEquals(FinishReason.LENGTH, r.finishReason(), "the small request went on");
            assertEquals(40, r.tokenIds().length);
            // Memory that was allocated is reused: the model still serves.
            assertEquals(FinishReason.LENGTH, m.generate(greedy("Hello again", 8)).finishReason());
            assertNothingHeld(m);
        }
    }

    @Test
    void kvExhaustionStopsTheNewestRequestAndTheOthersFinish() throws Exception {
        // 10 blocks of 16 tokens: two requests that each grow to ~95 tokens (6 blocks) cannot both fit. The first waits
        // at its first token until the second is submitted (FirstTokenGate), so the two grow together and the newer one
        // meets the full cache (after a fixed 50 ms sleep, a fast engine had finished the first's 90 tokens first).
        try (Model m = Model.builder().engine(new NativeEngine(tinyNative(4, 160), 4)).build()) {
            FirstTokenGate gate = new FirstTokenGate();
            GenerateRequest gated =
                    GenerateRequest.builder().messages(Message.user("One")).greedy().maxTokens(90).ignoreEos(true).logitsListener(gate).build();
            CompletableFuture<GenerateResult> first = m.generateAsync(gated);
            CompletableFuture<GenerateResult> second = m.generateAsync(greedy("Two", 90));
            gate.open();
            List<Throwable> errors = new ArrayList<>();
            int finished = 0;
            for (CompletableFuture<GenerateResult> f : List.of(first, second)) {
                try {
                    assertEquals(90, f.get(120, TimeUnit.SECONDS).tokenIds().length);
                    finished++;
                } catch (ExecutionException e) {
                    errors.add(e.getCause());
                }
            }
            assertEquals(1, finished, "one request finished: " + errors);
            assertInstanceOf(CapacityException.class, errors.get(0));
            assertTrue(errors.get(0).getMessage().contains("KV cache is full"), errors.get(0).getMessage());
            assertNothingHeld(m);
            assertEquals(8, m.generate(greedy("Three", 8)).tokenIds().length, "the model still serves");
        }
    }

    @Test
    void cancellationAtEveryStepEndsOnlyThatRequest() throws Exception {
        HookedEngine engine = new HookedEngine(tinyNative(4, 0), 4);
        try (Model m = Model.builder().engine(engine).stepTokenBudget(16).build()) {
            // The victim's prompt (~40 tokens) is prefilled in 16-token chunks, then decodes 6 tokens: cancel it before
            // each of its steps in turn (prefill chunks, the last chunk, decode steps); a bystander runs alongside.
            GenerateRequest victimReq = greedy("tell me a story about a cat ".repeat(5), 6);
            int victimSteps = -1;
            for (int k = 0; victimSteps < 0 || k <= victimSteps; k++) {
                AtomicReference<CompletableFuture<GenerateResult>> victim = new AtomicReference<>();
                AtomicInteger seen = new AtomicInteger();
                int cancelAt = k;
                CountDownLatch submitted = new CountDownLatch(1);
                engine.beforeStep = b -> {
                    try {
                        submitted.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    if (seen.getAndIncrement() == cancelAt && victim.get() != null) victim.get().cancel(true);
                };
                CompletableFuture<GenerateResult> bystander = m.generateAsync(greedy("Count to ten.", 12));
                victim.set(m.generateAsync(victimReq));
                submitted.countDown();
                GenerateResult b = bystander.get(60, TimeUnit.SECONDS);
                assertEquals(12, b.tokenIds().length, "the bystander finished (cancel at step " + k + ")");
                try {
                    victim.get().get(60, TimeUnit.SECONDS);
                    if (victimSteps < 0) victimSteps = seen.get(); // never cancelled: how many steps it takes
                    else if (k < victimSteps - 1) throw new AssertionError("not cancelled at step " + k);
                } catch (CancellationException expected) {
                    // cancelled within one step
                }
                engine.beforeStep = x -> { };
                assertNothingHeld(m);
                if (k == 0 && victimSteps < 0) victimSteps = 8; // cancelled at once: bound the sweep
            }
            // Cancelling before admission: every sequence busy (4 sessions hold them), the request waits; cancel it.
            List<Session> holders = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Session s = m.newSession();
                s.generate(greedy("hold " + i, 1));
                holders.add(s);
            }
            CompletableFuture<GenerateResult> queued = m.generateAsync(greedy("queued", 4));
            Thread.sleep(100);
            assertEquals(1, m.metrics().queueLength());
            queued.cancel(true);
            assertThrows(CancellationException.class, () -> queued.get(10, TimeUnit.SECONDS));
            holders.forEach(Session::close);
            assertNothingHeld(m);
            assertEquals(3, m.generate(greedy("after", 3)).tokenIds().length);
        }
    }

    @Test
    void anInterruptedCallerGetsAClearErrorAndItsRequestIsCancelled() throws Exception {
        try (Model m = Model.builder().engine(new NativeEngine(tinyNative(4, 0), 4)).build()) {
            CompletableFuture<GenerateResult> other = m.generateAsync(greedy("Other", 60));
            AtomicReference<Throwable> caught = new AtomicReference<>();
            AtomicReference<Boolean> stillInterrupted = new AtomicReference<>();
            Thread caller = new Thread(() -> {
                try {
                    m.generate(greedy("Go on forever.", 400));
                } catch (Throwable t) {
                    caught.set(t);
                    stillInterrupted.set(Thread.currentThread().isInterrupted());
                }
            });
            caller.start();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (m.metrics().activeRequests() < 2 && System.nanoTime() < end) Thread.sleep(2);
            caller.interrupt();
            caller.join(30_000);
            assertFalse(caller.isAlive());
            assertInstanceOf(Dsv32Exception.class, caught.get());
            assertTrue(caught.get().getMessage().contains("interrupted"), caught.get().getMessage());
            assertTrue(stillInterrupted.get(), "the interrupt status is kept");
            assertEquals(60, other.get(60, TimeUnit.SECONDS).tokenIds().length, "the other request finished");
            // A caller already interrupted when it calls: the same clear error, nothing left running.
            Thread.currentThread().interrupt();
            Dsv32Exception e = assertThrows(Dsv32Exception.class, () -> m.generate(greedy("x", 3)));
            assertTrue(Thread.interrupted());
            assertTrue(e.getMessage().contains("interrupted"), e.getMessage());
            assertNothingHeld(m);
        }
    }

    @Test
    void aFailingStepOrLogitsHookFailsItsRequestsAndTheModelGoesOn() throws Exception {
        HookedEngine engine = new HookedEngine(tinyNative(4, 0), 4);
        try (Model m = Model.builder().engine(engine).build()) {
            // A logits hook that throws: only its request fails, with the hook's exception.
            CompletableFuture<GenerateResult> ok = m.generateAsync(greedy("Fine", 20));
            GenerateRequest bad = GenerateRequest.builder().messages(Message.user("Bad")).greedy().maxTokens(20)
                    .logitsListener((step, l, o, v) -> {
                        if (step == 3) throw new IllegalStateException("hook broke at step 3");
                    }).build();
            Throwable t = failure(m.generateAsync(bad));
            assertTrue(t.getMessage().contains("hook broke at step 3"), t.getMessage());
            assertEquals(20, ok.get(60, TimeUnit.SECONDS).tokenIds().length);
            // An engine step that throws (a native INTERNAL error): the requests in that step fail with it; later
            // requests run.
            AtomicInteger n = new AtomicInteger();
            engine.beforeStep = b -> {
                if (n.incrementAndGet() == 2) throw new dev.dsv32.nativ.NativeException(4, "dsv32_forward: injected internal error");
            };
            Throwable s = failure(m.generateAsync(greedy("Step fails", 10)));
            assertTrue(s.getMessage().contains("injected internal error"), s.getMessage());
            engine.beforeStep = b -> { };
            assertEquals(5, m.generate(greedy("Next", 5)).tokenIds().length);
            // A step that fails whenever one particular request is in it (a poisoned sequence): the scheduler runs the
            // step's entries one by one, so only that request fails and the one batched with it goes on.
            int zebra = m.tokenizer().encode(" zebra")[0];
            java.util.Set<EngineSequence> poisoned = java.util.concurrent.ConcurrentHashMap.newKeySet();
            CountDownLatch both = new CountDownLatch(1);
            engine.beforeStep = b -> {
                try {
                    both.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                for (StepEntry e : b) {
                    for (int tok : e.tokens()) if (tok == zebra) poisoned.add(e.sequence());
                }
                for (StepEntry e : b) {
                    if (poisoned.contains(e.sequence())) throw new dev.dsv32.nativ.NativeException(4, "injected: the zebra sequence breaks every step");
                }
            };
            CompletableFuture<GenerateResult> healthy = m.generateAsync(greedy("A healthy request", 15));
            CompletableFuture<GenerateResult> poison = m.generateAsync(greedy("zebra zebra zebra", 15));
            both.countDown();
            assertTrue(failure(poison).getMessage().contains("zebra sequence"));
            assertEquals(15, healthy.get(60, TimeUnit.SECONDS).tokenIds().length, "the request batched with it finished");
            engine.beforeStep = b -> { };
            assertNothingHeld(m);
        }
    }

    @Test
    void closingAModelWhileRequestsRunFailsThemClearlyAndAnotherModelGoesOn() throws Exception {
        try (Model other = Model.builder().engine(new NativeEngine(tinyNative(2, 0), 2)).build()) {
            CompletableFuture<GenerateResult> bystander = other.generateAsync(greedy("Keep going", 80));
            Model m = Model.builder().engine(new NativeEngine(tinyNative(4, 0), 4)).build();
            List<CompletableFuture<GenerateResult>> running = new ArrayList<>();
            for (int i = 0; i < 3; i++) running.add(m.generateAsync(greedy("Long " + i, 400)));
            List<Event> events = new ArrayList<>();
            CompletableFuture<GenerateResult> streamed = m.stream(greedy("Streamed", 400), e -> {
                synchronized (events) {
                    events.add(e);
                }
            });
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (m.metrics().completionTokens() < 8 && System.nanoTime() < end) Thread.sleep(2);
            Session session = m.newSession();
            m.close();
            for (CompletableFuture<GenerateResult> f : running) {
                Throwable t = failure(f);
                assertTrue(t.getMessage().contains("closed"), t.getMessage());
            }
            assertTrue(failure(streamed).getMessage().contains("closed"));
            assertThrows(IllegalStateException.class, () -> m.generate(greedy("after close", 2)));
            assertThrows(IllegalStateException.class, m::newSession);
            assertThrows(RuntimeException.class, () -> session.generate(greedy("session after close", 2)));
            m.close(); // idempotent
            assertEquals(80, bystander.get(120, TimeUnit.SECONDS).tokenIds().length, "the other model was not disturbed");
        }
    }

    @Test
    void aToolThatHangsOrThrowsIsReportedToTheModelAndGenerationGoesOn() throws Exception {
        com.fasterxml.jackson.databind.JsonNode SCHEMA = new com.fasterxml.jackson.databind.ObjectMapper().readTree("{\"type\":\"object\",\"properties\":{}}");
        String d = Tokens.DSML;
        String call = "\n\n<" + d + "function_calls>\n<" + d + "invoke name=\"hang\">\n</" + d + "invoke>\n<" + d
                + "invoke name=\"boom\">\n</" + d + "invoke>\n</" + d + "function_calls>";
        try (Model m = Model.builder().engine(ScriptedEngine.of(p -> p.contains("<result>") || p.contains("still serving") ? "done" : call)).build()) {
            CountDownLatch release = new CountDownLatch(1);
            ToolRegistry tools = ToolRegistry.builder()
                    .add("hang", "never returns", SCHEMA, args -> {
                        while (true) { // ignores interrupts: the agent must not wait for it
                            try {
                                release.await();
                                return "late";
                            } catch (InterruptedException ignored) {
                                // keep hanging
                            }
                        }
                    })
                    .add("boom", "throws", SCHEMA, args -> {
                        throw new IllegalStateException("tool exploded");
                    }).build();
            Agent agent = Agent.builder(m).tools(tools).toolTimeout(Duration.ofMillis(300)).build();
            long t0 = System.nanoTime();
            AgentResult r = agent.run("go");
            assertTrue((System.nanoTime() - t0) / 1e9 < 10, "the agent did not wait for the hanging tool");
            assertEquals(AgentResult.StopReason.FINAL_ANSWER, r.stopReason());
            assertTrue(r.invocations().get(0).error() && r.invocations().get(0).result().contains("timed out"), r.invocations().toString());
            assertTrue(r.invocations().get(1).error() && r.invocations().get(1).result().contains("tool exploded"), r.invocations().toString());
            assertEquals("done", m.generate(GenerateRequest.builder().messages(Message.user("still serving")).thinking(false).build()).content());
            release.countDown();
        }
    }
}
