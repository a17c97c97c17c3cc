package dev.dsv32.api.internal;

import dev.dsv32.Dsv32Exception;
import dev.dsv32.api.CapacityException;
import dev.dsv32.api.FinishReason;
import dev.dsv32.api.GenerateRequest;
import dev.dsv32.api.LogitsListener;
import dev.dsv32.api.Metrics;
import dev.dsv32.api.spi.EngineSequence;
import dev.dsv32.api.spi.InferenceEngine;
import dev.dsv32.api.spi.StepEntry;
import dev.dsv32.nativ.Sampler;
import dev.dsv32.nativ.SamplingOptions;
import dev.dsv32.tokenizer.StreamingDecoder;
import dev.dsv32.tokenizer.Tokenizer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous batching over an {@link InferenceEngine}. One engine thread runs every forward step; requests submitted
 * from any thread join the running batch between steps. Each step advances every active request: one token for those
 * decoding, and prefill chunks for new ones within a per-step token budget (decoders first, so a long prompt cannot
 * starve them). A request needs a sequence: when none is free it waits, and after the admission timeout it fails with
 * a {@link CapacityException}. Cancellation and timeouts are checked before every step, so a request stops within one
 * step and its sequence is freed at once.
 */
public final class Scheduler implements Runtime {
    private static final Logger log = LoggerFactory.getLogger(Scheduler.class);
    private static final long IDLE_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final long RATE_WINDOW_NANOS = TimeUnit.SECONDS.toNanos(5);

    /**
     * @param maxBatch requests in the running batch at most
     * @param stepTokenBudget tokens per step (decode tokens plus prefill chunks) before prefill chunks are cut
     * @param minPrefillChunk prefill tokens a step takes even when the decoders use the budget up
     * @param admissionTimeout how long a request may wait for a free sequence
     */
    public record Config(int maxBatch, int stepTokenBudget, int minPrefillChunk, Duration admissionTimeout) {}

    private final InferenceEngine engine;
    private final Tokenizer tokenizer;
    private final Config config;
    private final int vocab;
    private final int maxContext;
    private final int eos;
    /** Ids below this have text (the tokenizer's size); the model's vocabulary may be padded past it. */
    private final int textVocab;
    private final SplittableRandom seeds = new SplittableRandom();

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    private final ArrayDeque<Job> inbox = new ArrayDeque<>(); // guarded by lock
    private boolean closing; // guarded by lock
    private final Thread thread;

    // Engine thread only.
    private final ArrayDeque<Active> waiting = new ArrayDeque<>();
    private final List<Active> active = new ArrayList<>();
    private final ArrayDeque<long[]> rate = new ArrayDeque<>();
    /** Samples the rows of a step in parallel (null on one core). */
    private final java.util.concurrent.ForkJoinPool samplers;
    /** The last admission left requests waiting for lack of a sequence. */
    private boolean admitBlocked;

    // Metrics.
    private volatile int queueLength;
    private volatile int activeCount;
    private volatile int lastBatchSize;
    private volatile long steps;
    private volatile long completed;
    private volatile long failed;
    private volatile long rejected;
    private volatile long promptTokens;
    private volatile long completionTokens;
    private volatile double tokensPerSecond;
    private volatile long ttftSumNanos;
    private volatile long ttftCount;
    /** The engine's cache stats after the last step or release (read without waiting for a running step). */
    private volatile java.util.Optional<dev.dsv32.api.spi.CacheStats> cache;

    /** A job in the scheduler: its sequence and progress. */
    private static final class Active {
        final Job job;
        final int[] prompt;
        EngineSequence seq;
        boolean ownsSeq;
        int pos;
        int chunk;
        boolean decoding;
        int lastToken;
        int[] out = new int[16];
        int generated;
        final StreamingDecoder decoder;
        final Sampler sampler;
        final LogitsListener logits;
        /** A failure while sampling this step (reported after the step). */
        RuntimeException error;
        /** This request's row of the step's logits, for the sampler. */
        float[] row;

        Active(Job job, Tokenizer tok, long seed) {
            this.job = job;
            this.prompt = job.promptTokens;
            this.decoder = tok.newStreamingDecoder();
            GenerateRequest r = job.request;
            this.sampler = new Sampler(new SamplingOptions(r.temperature(), r.topP(), r.topK(), r.seed().orElse(seed)));
            this.logits = r.logitsListener();
        }

        void add(int token) {
            if (generated == out.length) out = Arrays.copyOf(out, out.length * 2);
            out[generated++] = token;
        }
    }

    public Scheduler(InferenceEngine engine, Tokenizer tokenizer, Config config) {
        this.engine = engine;
        this.tokenizer = tokenizer;
        this.config = config;
        this.vocab = engine.vocabSize();
        this.maxContext = engine.maxContext();
        this.eos = Tokenizer.EOS_ID;
        this.textVocab = Math.min(tokenizer.size(), vocab);
        this.cache = engine.cacheStats();
        int cores = java.lang.Runtime.getRuntime().availableProcessors();
        this.samplers = cores > 1 ? new java.util.concurrent.ForkJoinPool(cores - 1, pool -> {
            java.util.concurrent.ForkJoinWorkerThread t = java.util.concurrent.ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
            t.setName("dsv32-sampler-" + t.getPoolIndex());
            t.setDaemon(true);
            return t;
        }, null, false) : null;
        this.thread = new Thread(this::run, "dsv32-engine");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    @Override
    public boolean needsTokens() {
        return true;
    }

    @Override
    public int maxContext() {
        return maxContext;
    }

    @Override
    public void submit(Job job) {
        lock.lock();
        try {
            if (closing) {
                job.fail(new Dsv32Exception("the model is closed"));
                return;
            }
            inbox.add(job);
            queueLength++;
            wake.signal();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Metrics metrics() {
        long n = ttftCount;
        return new Metrics(queueLength, activeCount, lastBatchSize, engine.openSequenceCount(), steps, completed, failed,
                rejected, promptTokens, completionTokens, tokensPerSecond,
                Duration.ofNanos(n == 0 ? 0 : ttftSumNanos / n), cache);
    }

    @Override
    public void closeSession(SessionState s) {
        EngineSequence seq = s.sequence;
        s.sequence = null;
        s.truncate(0);
        if (seq != null) {
            seq.close();
            cache = engine.cacheStats();
            signal(); // a sequence is free: waiting requests may start
        }
    }

    @Override
    public SessionState fork(SessionState s) {
        if (s.sequence == null) return s.copyWith(null);
        return s.copyWith(s.sequence.fork());
    }

    /** Stops the engine thread; pending and running requests fail. Does not close the engine. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closing) return;
            closing = true;
            wake.signal();
        } finally {
            lock.unlock();
        }
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) log.warn("the engine thread did not stop within 30 s");
        if (samplers != null) samplers.shutdown();
    }

    private void signal() {
        lock.lock();
        try {
            wake.signal();
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ engine thread

    private void run() {
        try {
            while (true) {
                if (!takeInbox()) break;
                sweep(System.nanoTime());
                admit(System.nanoTime());
                activeCount = active.size();
                if (!active.isEmpty()) step();
                activeCount = active.size();
                cache = engine.cacheStats();
            }
        } catch (Throwable t) {
            log.error("engine thread failed", t);
            lock.lock();
            try {
                closing = true;
            } finally {
                lock.unlock();
            }
            failAll(new Dsv32Exception("the engine thread failed: " + t, t));
            return;
        }
        failAll(new Dsv32Exception("the model is closed"));
    }

    /** Moves submitted jobs into the waiting queue; waits when there is nothing to do. False when closing. */
    private boolean takeInbox() throws InterruptedException {
        lock.lock();
        try {
            while (true) {
                if (closing) return false;
                while (!inbox.isEmpty()) {
                    Job j = inbox.poll();
                    Active a = accept(j);
                    if (a != null) waiting.add(a);
                }
                queueLength = waiting.size();
                if (!active.isEmpty()) return true;
                if (!waiting.isEmpty()) {
                    // Nothing runs; requests wait for a sequence: poll (a session close signals too).
                    if (admitBlocked) wake.awaitNanos(Math.min(IDLE_POLL_NANOS, nearestDeadline() - System.nanoTime()));
                    return true;
                }
                wake.await();
            }
        } finally {
            lock.unlock();
        }
    }

    private long nearestDeadline() {
        long d = Long.MAX_VALUE;
        long adm = config.admissionTimeout().toNanos();
        for (Active a : waiting) {
            d = Math.min(d, a.job.deadlineNanos);
            d = Math.min(d, adm > Long.MAX_VALUE - a.job.submitNanos ? Long.MAX_VALUE : a.job.submitNanos + adm);
        }
        return d;
    }

    private Active accept(Job j) {
        if (j.isDone()) return null;
        int n = j.promptTokens.length;
        if (n == 0) {
            j.fail(new IllegalArgumentException("the prompt is empty"));
            failed++;
            return null;
        }
        var stats = engine.cacheStats();
        if (stats.isPresent() && (long) n > stats.get().totalBlocks() * stats.get().blockSize()) {
            j.fail(new CapacityException("the prompt has " + n + " tokens; the whole KV cache holds "
                    + stats.get().totalBlocks() * stats.get().blockSize() + " tokens"));
            failed++;
            rejected++;
            return null;
        }
        if (n >= maxContext) {
            j.fail(new Dsv32Exception("the prompt has " + n + " tokens; the model's context is " + maxContext
                    + " tokens (prompt and completion): shorten the conversation or raise maxContext"));
            failed++;
            return null;
        }
        return new Active(j, tokenizer, seeds.nextLong());
    }

    /** Cancellations and timeouts: a cancelled or expired request ends now, before the next step. */
    private void sweep(long now) {
        for (Iterator<Active> it = waiting.iterator(); it.hasNext(); ) {
            Active a = it.next();
            if (a.job.isCancelled()) {
                it.remove();
                finish(a, FinishReason.CANCELLED);
            } else if (a.job.timedOut(now)) {
                it.remove();
                finish(a, FinishReason.TIMEOUT);
            }
        }
        for (Iterator<Active> it = active.iterator(); it.hasNext(); ) {
            Active a = it.next();
            FinishReason r = a.job.isCancelled() ? FinishReason.CANCELLED : a.job.timedOut(now) ? FinishReason.TIMEOUT : null;
            if (r != null) {
                it.remove();
                finish(a, r);
            }
        }
        queueLength = waiting.size();
    }

    /** Moves waiting requests into the batch while sequences are free; rejects those that waited too long. */
    private void admit(long now) {
        long adm = config.admissionTimeout().toNanos();
        admitBlocked = false;
        while (!waiting.isEmpty() && active.size() < config.maxBatch()) {
            Active a = waiting.peek();
            if (!acquire(a)) {
                admitBlocked = true;
                break;
            }
            waiting.poll();
            a.job.admittedNanos = System.nanoTime();
            active.add(a);
        }
        for (Iterator<Active> it = waiting.iterator(); it.hasNext(); ) {
            Active a = it.next();
            if (now - a.job.submitNanos >= adm) {
                it.remove();
                rejected++;
                failed++;
                a.job.fail(new CapacityException("no sequence became free within " + config.admissionTimeout().toMillis()
                        + " ms: " + engine.openSequenceCount() + " of " + engine.maxSequences() + " sequences are in use ("
                        + active.size() + " requests running, the rest held by open sessions)" + cache.map(c -> ", " + c.freeBlocks()
                        + " of " + c.totalBlocks() + " KV blocks of " + c.blockSize() + " tokens free").orElse("")
                        + "; raise maxSequences, close idle sessions or retry later"));
            }
        }
        queueLength = waiting.size();
    }

    /** Gives the request its sequence (a session's, truncated to the shared prefix, or a new one). */
    private boolean acquire(Active a) {
        SessionState s = a.job.session;
        if (s != null && s.sequence != null) {
            int common = s.commonPrefix(a.prompt);
            if (common == a.prompt.length) common--; // at least one token to compute the next logits from
            if (common < s.length()) {
                log.debug("session diverges at token {} of {} (cached {}): truncating", common, a.prompt.length, s.length());
                s.sequence.truncate(common);
                s.truncate(common);
            }
            a.seq = s.sequence;
            a.ownsSeq = false;
            a.pos = common;
        } else {
            if (engine.openSequenceCount() >= engine.maxSequences()) return false;
            if (!cacheFits(a.prompt.length)) return false;
            EngineSequence seq;
            try {
                seq = engine.openSequence();
            } catch (CapacityException e) {
                return false;
            }
            a.seq = seq;
            if (s != null) {
                s.sequence = seq;
                s.truncate(0);
                a.ownsSeq = false;
            } else {
                a.ownsSeq = true;
            }
            a.pos = 0;
        }
        a.job.cachedTokens = a.pos;
        a.job.prefilledTokens = a.prompt.length - a.pos;
        if (s != null) {
            s.lastCached = a.pos;
            s.lastPrefilled = a.prompt.length - a.pos;
        }
        return true;
    }

    /**
     * Whether the KV cache has room for {@code tokens} more: the free blocks must hold them plus a block of headroom
     * for each running request (which grow as they decode).
     */
    private boolean cacheFits(int tokens) {
        var stats = engine.cacheStats();
        if (stats.isEmpty()) return true;
        var c = stats.get();
        long free = c.freeBlocks() * (long) c.blockSize();
        return free >= tokens + (long) c.blockSize() * active.size();
    }

    private void step() {
        List<StepEntry> entries = new ArrayList<>(active.size());
        List<Active> owners = new ArrayList<>(active.size());
        int budget = config.stepTokenBudget();
        for (Active a : active) {
            if (!a.decoding) continue;
            entries.add(new StepEntry(a.seq, new int[] {a.lastToken}));
            owners.add(a);
            budget--;
        }
        int prefill = Math.max(budget, config.minPrefillChunk());
        for (Active a : active) {
            if (a.decoding || prefill <= 0) continue;
            int n = Math.min(a.prompt.length - a.pos, prefill);
            a.chunk = n;
            entries.add(new StepEntry(a.seq, Arrays.copyOfRange(a.prompt, a.pos, a.pos + n), a.pos + n == a.prompt.length));
            owners.add(a);
            prefill -= n;
        }
        float[] stepLogits;
        try {
            stepLogits = engine.step(entries);
        } catch (CapacityException e) {
            // The KV cache is full (the engine changed nothing): stop the newest request so that the others go on.
            Active victim = owners.get(0);
            for (Active a : owners) if (a.job.admittedNanos > victim.job.admittedNanos) victim = a;
            log.warn("KV cache full in a step of {} sequences; stopping request {}: {}", entries.size(), victim.job.id, e.getMessage());
            active.remove(victim);
            fail(victim, new CapacityException("the KV cache is full: this request was stopped after " + victim.generated
                    + " tokens so that " + (active.size()) + " others could go on (" + e.getMessage() + ")", e));
            return;
        } catch (RuntimeException e) {
            log.warn("forward step of {} sequences failed: {}", entries.size(), e.toString());
            if (entries.size() == 1) {
                active.remove(owners.get(0));
                fail(owners.get(0), e);
                return;
            }
            // Which entry broke it? A failed step changed nothing (InferenceEngine#step), so each entry is run alone:
            // those that fail again fail with their own error, the others go on (RELIABILITY.md, fault injection).
            stepLogits = isolate(entries, owners);
            if (owners.isEmpty()) return;
        }
        final float[] logits = stepLogits;
        steps++;
        lastBatchSize = entries.size();
        long computedPrompt = 0;
        long now = System.nanoTime();
        int sampledNow = 0;
        List<Active> sampled = new ArrayList<>(owners.size());
        int[] offsets = new int[owners.size()];
        for (int i = 0; i < owners.size(); i++) {
            Active a = owners.get(i);
            SessionState s = a.job.session;
            if (a.decoding) {
                if (s != null) s.append(a.lastToken);
            } else {
                if (s != null) s.append(a.prompt, a.pos, a.chunk);
                a.pos += a.chunk;
                computedPrompt += a.chunk;
                if (a.pos < a.prompt.length) continue;
                a.decoding = true;
            }
            offsets[sampled.size()] = i * vocab;
            sampled.add(a);
        }
        // 1. Padding ids masked, the debug hook called: on this thread, in batch order.
        for (int k = 0; k < sampled.size(); k++) {
            Active a = sampled.get(k);
            a.error = null;
            if (textVocab < vocab) Arrays.fill(logits, offsets[k] + textVocab, offsets[k] + vocab, Float.NEGATIVE_INFINITY);
            try {
                if (a.logits != null) a.logits.onLogits(a.generated, logits, offsets[k], vocab);
            } catch (RuntimeException e) {
                a.error = e;
            }
        }
        // 2. Sampling (top-p sorts the whole vocabulary): each request has its own sampler, so rows go in parallel.
        int[] tokens = new int[sampled.size()];
        Runnable[] work = new Runnable[sampled.size()];
        for (int k = 0; k < sampled.size(); k++) {
            int kk = k;
            Active a = sampled.get(k);
            work[k] = () -> {
                if (a.error != null) return;
                try {
                    if (logits.length == vocab) {
                        tokens[kk] = a.sampler.sample(logits, 0, vocab);
                    } else { // JNI copies the array it is given: give it the row only
                        if (a.row == null) a.row = new float[vocab];
                        System.arraycopy(logits, offsets[kk], a.row, 0, vocab);
                        tokens[kk] = a.sampler.sample(a.row, 0, vocab);
                    }
                } catch (RuntimeException e) {
                    a.error = e;
                }
            };
        }
        runAll(work);
        // 3. Each token through the decoder, stop strings and parser: on this thread, in batch order.
        for (int k = 0; k < sampled.size(); k++) {
            Active a = sampled.get(k);
            sampledNow++;
            try {
                if (a.error != null) throw a.error;
                accept(a, tokens[k], now);
            } catch (RuntimeException e) { // the hook, the sampler, the decoder or the parser: this request fails, not the others
                log.warn("request {} failed while handling its token: {}", a.job.id, e.toString());
                active.remove(a);
                fail(a, e);
            }
        }
        promptTokens += computedPrompt;
        completionTokens += sampledNow;
        updateRate(now);
    }

    /**
     * Runs each entry of a failed step alone; fails the requests whose entry fails again (removing them from
     * {@code entries} and {@code owners}) and returns the others' logits rows, in their order.
     */
    private float[] isolate(List<StepEntry> entries, List<Active> owners) {
        float[] rows = new float[entries.size() * vocab];
        int kept = 0;
        for (int i = 0; i < entries.size(); i++) {
            Active a = owners.get(i);
            try {
                float[] row = engine.step(List.of(entries.get(i)));
                System.arraycopy(row, 0, rows, kept * vocab, vocab);
                entries.set(kept, entries.get(i));
                owners.set(kept, a);
                kept++;
            } catch (RuntimeException e) {
                log.warn("request {} failed alone too: {}", a.job.id, e.toString());
                active.remove(a);
                fail(a, e);
            }
        }
        entries.subList(kept, entries.size()).clear();
        owners.subList(kept, owners.size()).clear();
        return kept == 0 ? rows : Arrays.copyOf(rows, kept * vocab);
    }

    /** Runs {@code work} on the sampling pool and this thread; returns when all are done. */
    private void runAll(Runnable[] work) {
        if (work.length <= 1 || samplers == null) {
            for (Runnable r : work) r.run();
            return;
        }
        List<java.util.concurrent.ForkJoinTask<?>> tasks = new ArrayList<>(work.length - 1);
        for (int k = 1; k < work.length; k++) tasks.add(samplers.submit(work[k]));
        work[0].run();
        for (java.util.concurrent.ForkJoinTask<?> t : tasks) t.join();
    }

    /** The request's next token: records it, ends the request or keeps it decoding. */
    private void accept(Active a, int token, long now) {
        if (a.generated == 0) {
            a.job.firstTokenNanos = now;
            ttftSumNanos += now - a.job.submitNanos;
            ttftCount++;
        }
        a.add(token);
        Generation g = a.job.generation;
        if (token == eos && !a.job.request.ignoreEos()) {
            g.onEos();
            end(a, FinishReason.STOP);
            return;
        }
        if (g.onText(a.decoder.push(token))) {
            end(a, FinishReason.STOP_STRING);
            return;
        }
        if (a.generated >= a.job.request.maxTokens() || a.seq.length() + 1 > maxContext) {
            end(a, FinishReason.LENGTH);
            return;
        }
        a.lastToken = token;
    }

    private void end(Active a, FinishReason r) {
        active.remove(a);
        finish(a, r);
    }

    /** Frees the request's sequence (a session keeps its own) and completes it. */
    private void finish(Active a, FinishReason reason) {
        release(a, false);
        if (reason != FinishReason.STOP && reason != FinishReason.STOP_STRING) {
            String rest = a.decoder.finish();
            if (!rest.isEmpty()) a.job.generation.onText(rest);
        }
        completed++;
        activeCount = active.size();
        cache = engine.cacheStats();
        a.job.complete(reason, Arrays.copyOf(a.out, a.generated));
    }

    private void fail(Active a, Throwable e) {
        release(a, true);
        failed++;
        activeCount = active.size();
        cache = engine.cacheStats();
        a.job.fail(e);
    }

    private void release(Active a, boolean broken) {
        SessionState s = a.job.session;
        if (s == null) {
            if (a.seq != null && a.ownsSeq) a.seq.close();
            a.seq = null;
            return;
        }
        synchronized (s) { // against Session.close()
            if (a.seq != null && (s.closed || broken)) {
                // A failed step leaves the cache in an unknown state; a closed session has no more use for it.
                a.seq.close();
                s.sequence = null;
                s.truncate(0);
            }
            a.seq = null;
            s.current = null;
            s.busy = false;
        }
    }

    private void updateRate(long now) {
        rate.addLast(new long[] {now, completionTokens});
        while (rate.size() > 2 && now - rate.peekFirst()[0] > RATE_WINDOW_NANOS) rate.pollFirst();
        long[] first = rate.peekFirst();
        double dt = (now - first[0]) / 1e9;
        tokensPerSecond = dt > 0 ? (completionTokens - first[1]) / dt : 0;
    }

    private void failAll(Throwable e) {
        List<Job> rest = new ArrayList<>();
        lock.lock();
        try {
            rest.addAll(inbox);
            inbox.clear();
        } finally {
            lock.unlock();
        }
        for (Job j : rest) j.fail(e);
        for (Active a : waiting) fail(a, e);
        waiting.clear();
        for (Active a : active) fail(a, e);
        active.clear();
        queueLength = 0;
        activeCount = 0;
    }
}
