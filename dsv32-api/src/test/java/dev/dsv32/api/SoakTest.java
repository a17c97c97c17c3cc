package dev.dsv32.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.dsv32.api.internal.NativeEngine;
import dev.dsv32.encoding.Message;
import dev.dsv32.nativ.CacheStats;
import dev.dsv32.nativ.NativeModel;
import dev.dsv32.nativ.NativeOptions;
import dev.dsv32.nativ.Numerics;
import dev.dsv32.nativ.synth.SyntheticCheckpoint;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Leak and soak (RELIABILITY.md): worker threads run concurrent generate / generate-then-cancel / stream-then-cancel /
 * session turns with forks on tiny_chat for {@code -Ddsv32.soak.seconds} (default 6: the CI run; e.g. 600 on demand,
 * {@code mvn -Psoak-long}). Afterwards every sequence and KV block is back (cacheStats), the resident native memory is
 * back within the KV blocks' high-water mark plus slack, and the heap after GC is stable. The figures are printed and
 * written to {@code target/soak-report.txt}.
 */
class SoakTest {
    static final int WORKERS = 4;
    /** The C allocator's arenas and thread stacks settle at some tens of MiB above the warm-up (RELIABILITY.md). */
    static final long SLACK_BYTES = 128L << 20;
    /** A leak grows with the requests served; the allocator levels off: at most this much in the run's second half. */
    static final long SECOND_HALF_BYTES = 32L << 20;

    static long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
        return -1;
    }

    /**
     * Resident memory outside the JVM's heap and non-heap pools (committed): what the native engine, JNI copies and the
     * C allocator hold. The JVM's own pools grow with allocation pressure and JIT work, which is not a leak.
     */
    static long nativeBytes() throws IOException {
        var mx = ManagementFactory.getMemoryMXBean();
        return rssBytes() - mx.getHeapMemoryUsage().getCommitted() - mx.getNonHeapMemoryUsage().getCommitted();
    }

    static long heapAfterGc() throws InterruptedException {
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
            best = Math.min(best, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return best;
    }

    static GenerateRequest req(SplittableRandom r, int maxTokens) {
        return GenerateRequest.builder().messages(Message.user("soak " + r.nextInt(1000) + " " + "word ".repeat(r.nextInt(40))))
                .greedy().maxTokens(maxTokens).ignoreEos(true).build();
    }

    @Test
    void concurrentGenerateCancelAndForkReturnEverything() throws Exception {
        long seconds = Long.getLong("dsv32.soak.seconds", 6);
        NativeModel nm = NativeModel.open(SyntheticCheckpoint.defaultModel(), NativeOptions.defaults().withNumerics(Numerics.F32)
                .withMaxSeqLen(512).withMaxSequences(2 * WORKERS).withKvBlockSize(16));
        try (Model m = Model.builder().engine(new NativeEngine(nm, 2 * WORKERS)).build()) {
            // Warm-up: code paths, JIT, the allocator's arenas.
            for (int i = 0; i < 3; i++) m.generate(req(new SplittableRandom(i), 8));
            FaultInjectionTest.assertNothingHeld(m);
            long heap0 = heapAfterGc();
            long rss0 = rssBytes();
            long native0 = nativeBytes();
            CacheStats c0 = nm.cacheStats();

            AtomicLong requests = new AtomicLong(), cancellations = new AtomicLong(), forks = new AtomicLong(), tokens = new AtomicLong();
            List<Throwable> unexpected = java.util.Collections.synchronizedList(new ArrayList<>());
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            List<Thread> threads = new ArrayList<>();
            for (int w = 0; w < WORKERS; w++) {
                SplittableRandom r = new SplittableRandom(1000 + w);
                Thread t = new Thread(() -> {
                    while (System.nanoTime() < end && unexpected.isEmpty()) {
                        try {
                            switch (r.nextInt(4)) {
                                case 0 -> { // plain generate
                                    tokens.addAndGet(m.generate(req(r, 1 + r.nextInt(12))).tokenIds().length);
                                    requests.incrementAndGet();
                                }
                                case 1 -> { // generate, cancel at a random moment (queued, prefill or decode)
                                    CompletableFuture<GenerateResult> f = m.generateAsync(req(r, 64));
                                    requests.incrementAndGet();
                                    Thread.sleep(r.nextInt(30));
                                    if (f.cancel(true)) cancellations.incrementAndGet();
                                    else tokens.addAndGet(f.get().tokenIds().length);
                                }
                                case 2 -> { // stream, cancel after a few events
                                    java.util.concurrent.atomic.AtomicReference<CompletableFuture<GenerateResult>> box =
                                            new java.util.concurrent.atomic.AtomicReference<>();
                                    AtomicLong events = new AtomicLong();
                                    int stopAfter = 1 + r.nextInt(6);
                                    box.set(m.stream(req(r, 64), e -> {
                                        if (events.incrementAndGet() == stopAfter && box.get() != null) box.get().cancel(true);
                                    }));
                                    requests.incrementAndGet();
                                    try {
                                        box.get().get(60, TimeUnit.SECONDS);
                                    } catch (CancellationException e) {
                                        cancellations.incrementAndGet();
                                    }
                                }
                                default -> { // a session, a fork, a turn on each, both closed
                                    try (Session s = m.newSession()) {
                                        s.generate(req(r, 1 + r.nextInt(6)));
                                        try (Session f = s.fork()) {
                                            forks.incrementAndGet();
                                            f.generate(req(r, 1 + r.nextInt(6)));
                                            s.generate(req(r, 1 + r.nextInt(6)));
                                        }
                                        requests.addAndGet(3);
                                    }
                                }
                            }
                        } catch (CapacityException e) {
                            // admission timeout under load: allowed, counted as a request that ended clearly
                        } catch (CancellationException e) {
                            cancellations.incrementAndGet();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return;
                        } catch (ExecutionException | RuntimeException | java.util.concurrent.TimeoutException e) {
                            unexpected.add(e);
                        }
                    }
                }, "soak-" + w);
                threads.add(t);
                t.start();
            }
            // Native memory over time (every tenth of the run): a leak climbs steadily, allocator arenas level off.
            List<String> series = new ArrayList<>();
            long[] nativeAt = new long[11];
            for (int i = 1; i <= 10; i++) {
                long at = end - TimeUnit.SECONDS.toNanos(seconds) * (10 - i) / 10;
                while (System.nanoTime() < at && unexpected.isEmpty()) Thread.sleep(20);
                nativeAt[i] = nativeBytes();
                series.add(String.format(Locale.ROOT, "%.0f", nativeAt[i] / 1048576.0));
            }
            for (Thread t : threads) t.join(TimeUnit.SECONDS.toMillis(seconds + 120));
            if (!unexpected.isEmpty()) fail("unexpected failure in the soak", unexpected.get(0));

            FaultInjectionTest.assertNothingHeld(m);
            CacheStats c1 = nm.cacheStats();
            long heap1 = heapAfterGc();
            Thread.sleep(200); // JavaCPP's deallocator and the sampler pool settle
            long rss1 = rssBytes();
            long native1 = nativeBytes();
            long kvGrowth = (c1.allocatedBlocks() - c0.allocatedBlocks()) * c1.blockBytes();
            String report = String.format(Locale.ROOT,
                    "soak: %d s, %d workers: %d requests, %d cancellations, %d session forks, %d tokens generated%n"
                            + "KV: %d/%d blocks free after (%d/%d before); allocated blocks %d -> %d (%d bytes each, kept for reuse)%n"
                            + "RSS: %.1f MiB -> %.1f MiB; native (RSS less the JVM's committed pools): %.1f MiB -> %.1f MiB (%+.1f MiB;"
                            + " KV high-water growth %.1f MiB); heap after GC: %.1f MiB -> %.1f MiB%n"
                            + "native MiB at each tenth of the run (no GC): %s%n",
                    seconds, WORKERS, requests.get(), cancellations.get(), forks.get(), tokens.get(),
                    c1.freeBlocks(), c1.totalBlocks(), c0.freeBlocks(), c0.totalBlocks(), c0.allocatedBlocks(), c1.allocatedBlocks(),
                    c1.blockBytes(), rss0 / 1048576.0, rss1 / 1048576.0, native0 / 1048576.0, native1 / 1048576.0,
                    (native1 - native0) / 1048576.0, kvGrowth / 1048576.0,
                    heap0 / 1048576.0, heap1 / 1048576.0, String.join(" ", series));
            System.out.print(report);
            Files.createDirectories(Path.of("target"));
            Files.writeString(Path.of("target", "soak-report.txt"), report);

            assertTrue(requests.get() >= WORKERS, "the soak ran: " + report);
            assertEquals(c1.totalBlocks(), c1.freeBlocks(), "every KV block is back");
            assertEquals(0, c1.openSequences(), "every sequence is closed");
            assertEquals(0, c1.usedTokens());
            assertTrue(native1 - native0 <= kvGrowth + SLACK_BYTES, "native memory grew past the KV high-water mark: " + report);
            assertTrue(heap1 - heap0 <= 64L << 20, "the heap grew: " + report);
            if (seconds >= 60) {
                assertTrue(nativeAt[10] - nativeAt[5] <= SECOND_HALF_BYTES, "native memory still climbing in the second half: " + report);
            }
            assertEquals(4, m.generate(req(new SplittableRandom(7), 4)).tokenIds().length, "still serving");
        }
    }
}
