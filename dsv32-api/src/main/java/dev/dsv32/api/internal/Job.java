package dev.dsv32.api.internal;

import dev.dsv32.api.Event;
import dev.dsv32.api.FinishReason;
import dev.dsv32.api.GenerateRequest;
import dev.dsv32.api.GenerateResult;
import dev.dsv32.api.Usage;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * One request on its way through a runtime: the encoded prompt, the text pipeline, the deadline, and where the result
 * goes. A runtime calls {@link #complete} or {@link #fail} exactly once (later calls are ignored).
 */
public final class Job {
    /** Where the outcome goes: the last event and the result, or the failure. Called once, on a runtime thread. */
    public interface Outcome {
        void completed(GenerateResult result);

        void failed(Throwable error);
    }

    public final long id;
    public final GenerateRequest request;
    public final String prompt;
    /** The prompt's token ids (local runtime; may be null for the remote one). */
    public final int[] promptTokens;
    public final Generation generation;
    public final SessionState session;
    public final long submitNanos;
    /** System.nanoTime() after which the request ends with TIMEOUT; Long.MAX_VALUE for none. */
    public final long deadlineNanos;
    private final Outcome outcome;
    private final AtomicBoolean done = new AtomicBoolean();
    private volatile boolean cancelled;
    private volatile Runnable cancelHook;

    // Filled in by the runtime.
    public volatile long admittedNanos;
    public volatile long firstTokenNanos;
    public volatile int cachedTokens;
    public volatile int prefilledTokens;
    public volatile int promptTokenCount;

    public Job(long id, GenerateRequest request, String prompt, int[] promptTokens, Generation generation,
               SessionState session, Outcome outcome) {
        this.id = id;
        this.request = request;
        this.prompt = prompt;
        this.promptTokens = promptTokens;
        this.promptTokenCount = promptTokens == null ? 0 : promptTokens.length;
        this.generation = generation;
        this.session = session;
        this.outcome = outcome;
        this.submitNanos = System.nanoTime();
        Duration t = request.timeout();
        long d = Long.MAX_VALUE;
        if (t != null) {
            long n = saturatedNanos(t);
            d = n > Long.MAX_VALUE - submitNanos ? Long.MAX_VALUE : submitNanos + n;
        }
        this.deadlineNanos = d;
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /** Asks the runtime to stop this request (it ends within one step with CANCELLED). */
    public void cancel() {
        cancelled = true;
        Runnable h = cancelHook;
        if (h != null) h.run();
    }

    public boolean isCancelled() {
        return cancelled;
    }

    /** Runs when the request is cancelled (the remote runtime closes its connection). */
    public void onCancel(Runnable hook) {
        this.cancelHook = hook;
        if (cancelled) hook.run();
    }

    public boolean isDone() {
        return done.get();
    }

    public boolean timedOut(long now) {
        return now - deadlineNanos >= 0 && deadlineNanos != Long.MAX_VALUE;
    }

    /** Finishes the text, builds the result and hands it over (events, then the final event, then the result). */
    public void complete(FinishReason reason, int[] tokenIds) {
        if (!done.compareAndSet(false, true)) return;
        GenerateResult r;
        try {
            r = generation.finish(reason, usage(tokenIds.length), tokenIds);
        } catch (RuntimeException e) {
            outcome.failed(e);
            return;
        }
        outcome.completed(r);
    }

    public void fail(Throwable error) {
        if (!done.compareAndSet(false, true)) return;
        outcome.failed(error);
    }

    private Usage usage(int completionTokens) {
        long now = System.nanoTime();
        long admitted = admittedNanos == 0 ? now : admittedNanos;
        long first = firstTokenNanos;
        return new Usage(promptTokenCount, cachedTokens, prefilledTokens, completionTokens,
                Duration.ofNanos(Math.max(0, admitted - submitNanos)),
                first == 0 ? Duration.ZERO : Duration.ofNanos(first - submitNanos),
                Duration.ofNanos(now - submitNanos));
    }

    /** An outcome that sends the final event to {@code events} and then calls {@code then}. */
    public static Outcome toEvents(Consumer<Event> events, Outcome then) {
        return new Outcome() {
            @Override
            public void completed(GenerateResult result) {
                events.accept(new Event.Final(result));
                then.completed(result);
            }

            @Override
            public void failed(Throwable error) {
                then.failed(error);
            }
        };
    }
}
