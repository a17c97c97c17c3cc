package dev.dsv32.api;

import static org.junit.jupiter.api.Assertions.*;

import dev.dsv32.encoding.ChatEncoder;
import dev.dsv32.encoding.Message;
import dev.dsv32.encoding.ThinkingMode;
import dev.dsv32.nativ.Numerics;
import dev.dsv32.tokenizer.Tokenizer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The API on the real engine with the synthetic tiny_chat model: real token ids end to end (random weights, so the
 * text is gibberish, but every id, logit and cache operation is real). f32 numerics, greedy unless said otherwise.
 */
class TinyChatModelTest {
    static Model model;
    static final Tokenizer TOK = Tokenizer.v32();
    static final List<String> progress = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void open() {
        model = Model.builder().tinyChat().numerics(Numerics.F32).maxContext(512).maxSequences(8)
                .progress((stage, done, total) -> progress.add(stage + " " + done + " " + total)).build();
    }

    @Test
    void loadingReportsProgressInStages() {
        assertFalse(progress.isEmpty());
        // Each stage ends with done == total; within a stage, done never decreases.
        java.util.Map<String, Long> last = new java.util.LinkedHashMap<>();
        for (String p : progress) {
            String[] f = p.split(" ");
            long done = Long.parseLong(f[1]);
            assertTrue(done >= last.getOrDefault(f[0], 0L), progress.toString());
            last.put(f[0], done);
        }
        assertTrue(last.containsKey("map") && last.containsKey("validate"), last.toString());
        for (String p : progress) {
            String[] f = p.split(" ");
            if (p.equals(progress.get(progress.size() - 1))) assertEquals(f[1], f[2]);
        }
    }

    @AfterAll
    static void close() {
        if (model != null) model.close();
    }

    @AfterEach
    void noLeakedSequences() throws InterruptedException {
        awaitIdle();
        assertEquals(0, model.metrics().openSequences(), "every request and session freed its sequence");
        model.metrics().cache().ifPresent(c -> assertEquals(c.totalBlocks(), c.freeBlocks(), "every KV block was returned"));
    }

    static void awaitIdle() throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < end && (model.metrics().activeRequests() > 0 || model.metrics().openSequences() > 0)) Thread.sleep(5);
    }

    static GenerateRequest.Builder greedy(String user, int maxTokens) {
        return GenerateRequest.builder().messages(Message.user(user)).greedy().maxTokens(maxTokens);
    }

    static String encode(GenerateRequest r) {
        return ChatEncoder.builder().thinkingMode(r.thinking() ? ThinkingMode.THINKING : ThinkingMode.CHAT)
                .dropThinking(r.dropThinking()).build().encode(r.encodedMessages());
    }

    @Test
    void generate() {
        GenerateRequest req = greedy("Hello there, how are you?", 12).build();
        GenerateResult a = model.generate(req);
        GenerateResult b = model.generate(req);
        assertArrayEquals(a.tokenIds(), b.tokenIds(), "greedy is deterministic");
        assertEquals(a.text(), b.text());
        assertEquals(12, a.tokenIds().length);
        assertEquals(FinishReason.LENGTH, a.finishReason());
        assertEquals(TOK.decode(a.tokenIds()), a.text(), "the text is the decoded completion");
        assertEquals(TOK.encode(encode(req)).length, a.usage().promptTokens());
        assertEquals(a.usage().promptTokens(), a.usage().prefilledTokens());
        assertEquals(12, a.usage().completionTokens());
        assertTrue(a.usage().timeToFirstToken().compareTo(a.usage().totalTime()) <= 0);
        // Thinking mode and no </think>: everything is reasoning, and the parser says so.
        assertEquals(a.text(), a.reasoning());
        assertEquals("", a.content());
        assertTrue(a.repairs().stream().anyMatch(r -> r.kind().equals("missing_think_end")), a.repairs().toString());
        // Sampling: the same seed gives the same tokens; the default is the model card's temperature 1.0 / top-p 0.95.
        GenerateRequest sampled = GenerateRequest.builder().messages(Message.user("Hello")).seed(7).maxTokens(8).build();
        assertEquals(1.0, sampled.temperature());
        assertEquals(0.95, sampled.topP());
        assertArrayEquals(model.generate(sampled).tokenIds(), model.generate(sampled).tokenIds());
    }

    @Test
    void streamEmitsEventsInOrderAndTheirConcatenationIsTheResult() throws Exception {
        for (boolean thinking : new boolean[] {true, false}) {
            GenerateRequest req = greedy("Tell me a story.", 24).thinking(thinking).build();
            List<Event> events = new CopyOnWriteArrayList<>();
            GenerateResult r = model.stream(req, events::add).get(60, TimeUnit.SECONDS);
            assertTrue(events.get(events.size() - 1) instanceof Event.Final, "the final event comes last");
            assertEquals(1, events.stream().filter(e -> e instanceof Event.Final).count());
            assertSame(r, ((Event.Final) events.get(events.size() - 1)).result());
            StringBuilder reasoning = new StringBuilder();
            StringBuilder content = new StringBuilder();
            for (Event e : events) {
                if (e instanceof Event.ReasoningDelta d) reasoning.append(d.text());
                if (e instanceof Event.ContentDelta d) content.append(d.text());
            }
            assertEquals(r.reasoning(), reasoning.toString());
            assertEquals(r.content(), content.toString());
            assertTrue(events.size() > 2, "the text arrives in several deltas: " + events.size());
            // The same tokens as the blocking call.
            assertArrayEquals(model.generate(req).tokenIds(), r.tokenIds());
            if (!thinking) assertEquals(r.text(), r.content() + r.reasoning());
        }
    }

    @Test
    void publisherHonoursDemand() throws Exception {
        GenerateRequest req = greedy("Count.", 10).thinking(false).build();
        List<Event> got = new CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        AtomicReference<Flow.Subscription> sub = new AtomicReference<>();
        AtomicInteger outstanding = new AtomicInteger();
        model.stream(req).subscribe(new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                sub.set(s);
                outstanding.set(1);
                s.request(1);
            }

            @Override
            public void onNext(Event e) {
                if (outstanding.decrementAndGet() < 0) fail("more events than requested");
                got.add(e);
            }

            @Override
            public void onError(Throwable t) {
                fail(t);
            }

            @Override
            public void onComplete() {
                done.countDown();
            }
        });
        // One event at a time: wait for it, then ask for the next.
        while (!done.await(20, TimeUnit.MILLISECONDS)) {
            if (outstanding.get() == 0) {
                outstanding.set(1);
                sub.get().request(1);
            }
        }
        assertTrue(got.get(got.size() - 1) instanceof Event.Final);
        GenerateResult r = ((Event.Final) got.get(got.size() - 1)).result();
        StringBuilder content = new StringBuilder();
        for (Event e : got) if (e instanceof Event.ContentDelta d) content.append(d.text());
        assertEquals(r.content(), content.toString());
    }

    @Test
    void cancellingTheFutureStopsWithinOneStepAndFreesTheSequence() throws Exception {
        AtomicInteger steps = new AtomicInteger();
        AtomicReference<CompletableFuture<GenerateResult>> future = new AtomicReference<>();
        CountDownLatch started = new CountDownLatch(1);
        GenerateRequest req = greedy("Go on forever.", 400).ignoreEos(true).logitsListener((step, l, o, v) -> {
            try {
                started.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (steps.incrementAndGet() == 3) future.get().cancel(true); // cancelled during step 3
        }).build();
        future.set(model.generateAsync(req));
        started.countDown();
        assertThrows(CancellationException.class, () -> future.get().get(30, TimeUnit.SECONDS));
        awaitIdle();
        assertEquals(0, model.metrics().openSequences());
        assertEquals(3, steps.get(), "no step ran after the one during which it was cancelled");
        dev.dsv32.api.spi.CacheStats cache = model.metrics().cache().orElseThrow(); // the native engine pages its KV cache
        assertEquals(cache.totalBlocks(), cache.freeBlocks(), "the cancelled request's KV blocks were returned");
    }

    @Test
    void cancellingAStreamGivesTheListenerAFinalCancelledEvent() throws Exception {
        AtomicReference<CompletableFuture<GenerateResult>> future = new AtomicReference<>();
        CountDownLatch started = new CountDownLatch(1);
        AtomicInteger steps = new AtomicInteger();
        GenerateRequest req = greedy("Go on forever.", 400).ignoreEos(true).thinking(false).logitsListener((step, l, o, v) -> {
            try {
                started.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (steps.incrementAndGet() == 4) future.get().cancel(true);
        }).build();
        CompletableFuture<Event.Final> last = new CompletableFuture<>();
        future.set(model.stream(req, e -> {
            if (e instanceof Event.Final f) last.complete(f);
        }));
        started.countDown();
        GenerateResult r = last.get(30, TimeUnit.SECONDS).result();
        assertEquals(FinishReason.CANCELLED, r.finishReason());
        assertEquals(4, r.tokenIds().length, "stopped within the step it was cancelled in");
        assertTrue(future.get().isCancelled());
    }

    @Test
    void cancellingTheSubscriptionStopsGeneration() throws Exception {
        CountDownLatch cancelled = new CountDownLatch(1);
        AtomicInteger steps = new AtomicInteger();
        GenerateRequest req = greedy("Go on forever.", 400).ignoreEos(true).thinking(false)
                .logitsListener((step, l, o, v) -> steps.incrementAndGet()).build();
        model.stream(req).subscribe(new Flow.Subscriber<>() {
            Flow.Subscription s;

            @Override
            public void onSubscribe(Flow.Subscription s) {
                this.s = s;
                s.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(Event e) {
                if (e instanceof Event.ContentDelta) {
                    s.cancel();
                    cancelled.countDown();
                }
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onComplete() {}
        });
        assertTrue(cancelled.await(30, TimeUnit.SECONDS));
        awaitIdle();
        int n = steps.get();
        Thread.sleep(100);
        assertEquals(n, steps.get(), "no more steps after the cancel");
        assertTrue(n < 400, "stopped early: " + n + " steps");
    }

    @Test
    void timeoutEndsWithWhatWasGenerated() {
        GenerateRequest req = greedy("Go on forever.", 100_000).ignoreEos(true).timeout(Duration.ofMillis(300)).build();
        GenerateResult r = model.generate(req);
        assertEquals(FinishReason.TIMEOUT, r.finishReason());
        assertTrue(r.usage().totalTime().toMillis() >= 300, r.usage().toString());
        assertTrue(r.usage().totalTime().toMillis() < 10_000, r.usage().toString());
        assertEquals(TOK.decode(r.tokenIds()), r.text());
    }

    @Test
    void stopStringsEndGenerationAndAreNeverEmitted() throws Exception {
        GenerateRequest base = greedy("Say something.", 20).thinking(false).build();
        GenerateResult full = model.generate(base);
        String text = full.text();
        assertTrue(text.length() > 12, text);
        String stop = text.substring(6, 9);
        int at = text.indexOf(stop);
        List<Event> events = new CopyOnWriteArrayList<>();
        GenerateResult r = model.stream(base.toBuilder().stop(stop).build(), events::add).get(60, TimeUnit.SECONDS);
        assertEquals(FinishReason.STOP_STRING, r.finishReason());
        assertEquals(text.substring(0, at), r.text());
        StringBuilder content = new StringBuilder();
        for (Event e : events) if (e instanceof Event.ContentDelta d) content.append(d.text());
        assertEquals(text.substring(0, at), content.toString());
    }

    @Test
    void sessionSecondTurnPrefillsOnlyNewTokensAndMatchesAFromScratchEncode() {
        GenerateRequest turn1 = greedy("Hi, who are you?", 6).thinking(false).build();
        try (Session session = model.newSession()) {
            GenerateResult r1 = session.generate(turn1);
            int prompt1 = TOK.encode(encode(turn1)).length;
            assertEquals(prompt1, r1.usage().prefilledTokens());
            int[] cached = session.cachedTokenIds();
            // The cache holds the prompt and every completion token but the last (which was never fed back).
            assertEquals(prompt1 + r1.tokenIds().length - 1, cached.length);

            Logits.Capture inSession = new Logits.Capture();
            GenerateRequest turn2 = greedy("x", 6).thinking(false).messages(Message.user("Hi, who are you?"), r1.message(),
                    Message.user("Tell me more.")).logitsListener(inSession).build();
            int[] prompt2 = TOK.encode(encode(turn2));
            int common = 0;
            while (common < Math.min(cached.length, prompt2.length) && cached[common] == prompt2[common]) common++;
            GenerateResult r2 = session.generate(turn2);
            assertTrue(common >= prompt1, "the whole first prompt is reused: " + common + " of " + prompt1);
            assertEquals(common, r2.usage().cachedTokens());
            assertEquals(prompt2.length - common, r2.usage().prefilledTokens(), "only the tokens after the cached prefix are computed");
            assertEquals(prompt2.length, r2.usage().promptTokens());

            Logits.Capture scratch = new Logits.Capture();
            GenerateResult fresh = model.generate(turn2.toBuilder().logitsListener(scratch).build());
            assertArrayEquals(fresh.tokenIds(), r2.tokenIds());
            Logits.Comparison c = Logits.compare(scratch.rows, inSession.rows);
            assertTrue(c.withinGoldenBounds(), c.toString());
        }
    }

    @Test
    void sessionDetectsTheDivergenceDropThinkingCausesAndRecomputesFromThere() {
        GenerateRequest turn1 = greedy("Think about cats.", 4).build(); // thinking, drop_thinking
        try (Session session = model.newSession()) {
            GenerateResult r1 = session.generate(turn1);
            assertFalse(r1.reasoning().isEmpty());
            int prompt1 = TOK.encode(encode(turn1)).length; // ends with <think>
            Logits.Capture inSession = new Logits.Capture();
            GenerateRequest turn2 = greedy("x", 5).messages(Message.user("Think about cats."), r1.message(),
                    Message.user("And dogs?")).logitsListener(inSession).build();
            String p2 = encode(turn2);
            assertFalse(p2.contains(r1.reasoning()), "drop_thinking removed the first turn's reasoning");
            GenerateResult r2 = session.generate(turn2);
            // The first turn is now rendered with </think> where its prompt had <think>: the cache is cut there.
            assertEquals(prompt1 - 1, r2.usage().cachedTokens());
            assertEquals(TOK.encode(p2).length - (prompt1 - 1), r2.usage().prefilledTokens());
            Logits.Capture scratch = new Logits.Capture();
            GenerateResult fresh = model.generate(turn2.toBuilder().logitsListener(scratch).build());
            assertArrayEquals(fresh.tokenIds(), r2.tokenIds());
            Logits.Comparison c = Logits.compare(scratch.rows, inSession.rows);
            assertTrue(c.withinGoldenBounds(), c.toString());
        }
    }

    @Test
    void forkedSessionsShareThePrefixAndContinueIndependently() {
        GenerateRequest defaults = GenerateRequest.builder().messages(Message.system("You are terse.")).thinking(false).greedy().maxTokens(5).build();
        try (Session parent = model.newSession(defaults)) {
            GenerateResult first = parent.send(Message.user("Name a colour."));
            int open = model.metrics().openSequences();
            try (Session child = parent.fork()) {
                assertEquals(open + 1, model.metrics().openSequences());
                assertEquals(parent.history(), child.history());
                GenerateResult a = parent.send(Message.user("Another one."));
                GenerateResult b = child.send(Message.user("A number instead."));
                assertTrue(a.usage().cachedTokens() > 0 && b.usage().cachedTokens() > 0);
                assertEquals(a.usage().cachedTokens(), b.usage().cachedTokens(), "both continue from the shared prefix");
                // Each equals the same conversation generated from scratch.
                List<Message> convA = new ArrayList<>(parent.history().subList(0, parent.history().size() - 1));
                List<Message> convB = new ArrayList<>(child.history().subList(0, child.history().size() - 1));
                assertArrayEquals(model.generate(defaults.toBuilder().messages(convA).build()).tokenIds(), a.tokenIds());
                assertArrayEquals(model.generate(defaults.toBuilder().messages(convB).build()).tokenIds(), b.tokenIds());
                assertNotEquals(parent.history(), child.history());
                assertEquals(5, parent.history().size()); // system, user, assistant, user, assistant
                assertEquals(first.message(), parent.history().get(2));
            }
            assertEquals(open, model.metrics().openSequences(), "closing the fork freed its sequence only");
        }
    }

    @Test
    void theVariantComesFromTheCheckpointConfig(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path src = dev.dsv32.nativ.synth.SyntheticCheckpoint.defaultModel();
        java.nio.file.Path dir = java.nio.file.Files.createDirectory(tmp.resolve("speciale"));
        String config = java.nio.file.Files.readString(src.resolve("config.json"));
        java.nio.file.Files.writeString(dir.resolve("config.json"),
                config.replaceFirst("\\{", "{\"_name_or_path\": \"deepseek-ai/DeepSeek-V3.2-Speciale\", "));
        java.nio.file.Files.createSymbolicLink(dir.resolve("model.safetensors"), src.resolve("model.safetensors"));
        try (Model speciale = Model.builder().path(dir).maxContext(64).maxSequences(1).build()) {
            assertEquals(Variant.SPECIALE, speciale.variant());
            dev.dsv32.Dsv32Exception e = assertThrows(dev.dsv32.Dsv32Exception.class, () -> speciale.generate(greedy("hi", 2)
                    .tools(List.of(dev.dsv32.encoding.Tool.function("f", "", null))).build()));
            assertTrue(e.getMessage().contains("Speciale does not support tool calling"), e.getMessage());
            assertEquals(2, speciale.generate(greedy("hi", 2).build()).tokenIds().length);
        }
        try (Model forced = Model.builder().path(dir).variant(Variant.V32).maxContext(64).maxSequences(1).build()) {
            assertEquals(Variant.V32, forced.variant());
        }
    }

    @Test
    void badInputIsRejectedWithAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GenerateRequest.builder().topP(0));
        assertTrue(e.getMessage().startsWith("topP must be in (0, 1]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> model.generate(GenerateRequest.builder().build()));
        String longText = "word ".repeat(600);
        dev.dsv32.Dsv32Exception tooLong = assertThrows(dev.dsv32.Dsv32Exception.class, () -> model.generate(greedy(longText, 4).build()));
        assertTrue(tooLong.getMessage().contains("the model's context is 512 tokens"), tooLong.getMessage());
        // CUDA / HIP: the native engine answers (not built / library not found / no device) where it cannot run.
        java.util.Optional<String> noCuda = dev.dsv32.nativ.NativeModel.backendUnavailableReason(dev.dsv32.nativ.NativeBackend.CUDA);
        if (noCuda.isPresent()) {
            dev.dsv32.Dsv32Exception cuda = assertThrows(dev.dsv32.Dsv32Exception.class, () -> Model.builder().tinyChat().backend(Backend.CUDA).build());
            assertTrue(cuda.getMessage().contains("not available") && cuda.getMessage().contains(noCuda.get()), cuda.getMessage());
            assertTrue(cuda instanceof dev.dsv32.nativ.BackendUnavailableException, cuda.getClass().getName());
        }
        java.util.Optional<String> noHip = dev.dsv32.nativ.NativeModel.backendUnavailableReason(dev.dsv32.nativ.NativeBackend.HIP);
        noHip.ifPresent(why -> assertTrue(why.contains("backend hip is not available"), why));
        if (noHip.isPresent()) {  // no usable AMD GPU: the same reason
            dev.dsv32.Dsv32Exception hip = assertThrows(dev.dsv32.Dsv32Exception.class, () -> Model.builder().tinyChat().backend(Backend.HIP).build());
            assertTrue(hip.getMessage().contains(noHip.get()), hip.getMessage());
            assertTrue(hip instanceof dev.dsv32.nativ.BackendUnavailableException, hip.getClass().getName());
        } else {  // an AMD GPU: the HIP engine (libdsv32_hip.so) computes
            try (Model onHip = Model.builder().tinyChat().backend(Backend.HIP).build()) {
                assertEquals(Backend.HIP, onHip.backend());
            }
        }
        assertThrows(IllegalArgumentException.class, () -> Model.builder().tinyChat().backend(Backend.CPU).devices(0).build());
        assertThrows(IllegalArgumentException.class, () -> Model.builder().tinyChat().backend(Backend.CUDA).devices(0, 1).build());
        assertEquals(Variant.V32, model.variant());
        // The model was built with the default AUTO: CUDA where a device is usable, else the CPU.
        assertEquals(noCuda.isPresent() ? Backend.CPU : Backend.CUDA, model.backend());
    }
}
