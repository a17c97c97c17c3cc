package dev.dsv32.api.internal;

import dev.dsv32.api.Event;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Delivers one generation's events to one {@link Flow.Subscriber}, honouring its demand, on an executor (never on the
 * engine thread), in order and serially. Events are buffered without bound (a generation's events are bounded by its
 * max tokens). Cancelling the subscription runs the cancel hook (which stops the generation).
 */
public final class EventChannel implements Flow.Subscription {
    private static final Object COMPLETE = new Object();

    private record Failure(Throwable error) {}

    private final Flow.Subscriber<? super Event> subscriber;
    private final Executor executor;
    private final ConcurrentLinkedQueue<Object> queue = new ConcurrentLinkedQueue<>();
    private final AtomicLong demand = new AtomicLong();
    private final AtomicInteger wip = new AtomicInteger();
    private volatile boolean cancelled;
    private volatile Runnable cancelHook = () -> {};
    private boolean terminated; // drain thread only

    public EventChannel(Flow.Subscriber<? super Event> subscriber, Executor executor) {
        this.subscriber = Objects.requireNonNull(subscriber, "subscriber");
        this.executor = executor;
    }

    public void onCancel(Runnable hook) {
        this.cancelHook = hook;
    }

    public void offer(Event e) {
        queue.add(e);
        schedule();
    }

    public void complete() {
        queue.add(COMPLETE);
        schedule();
    }

    public void error(Throwable t) {
        queue.add(new Failure(t));
        schedule();
    }

    @Override
    public void request(long n) {
        if (n <= 0) { // rule 3.9: signal onError and stop the generation
            cancelHook.run();
            queue.clear();
            queue.add(new Failure(new IllegalArgumentException("Subscription.request(" + n + "): demand must be > 0 (rule 3.9)")));
            schedule();
            return;
        }
        demand.getAndAccumulate(n, (a, b) -> a + b < 0 ? Long.MAX_VALUE : a + b);
        schedule();
    }

    @Override
    public void cancel() {
        if (cancelled) return;
        cancelled = true;
        cancelHook.run();
    }

    private void schedule() {
        if (wip.getAndIncrement() == 0) {
            try {
                executor.execute(this::drain);
            } catch (RuntimeException e) { // executor shut down: deliver here
                drain();
            }
        }
    }

    private void drain() {
        int missed = 1;
        while (true) {
            while (!cancelled && !terminated) {
                Object head = queue.peek();
                if (head == null) break;
                if (head == COMPLETE) {
                    queue.poll();
                    terminated = true;
                    subscriber.onComplete();
                } else if (head instanceof Failure f) {
                    queue.poll();
                    terminated = true;
                    subscriber.onError(f.error());
                } else if (demand.get() > 0) {
                    queue.poll();
                    if (demand.get() != Long.MAX_VALUE) demand.decrementAndGet();
                    try {
                        subscriber.onNext((Event) head);
                    } catch (Throwable t) { // rule 2.13: a throwing subscriber is cancelled
                        cancel();
                    }
                } else {
                    break;
                }
            }
            if (cancelled || terminated) queue.clear();
            missed = wip.addAndGet(-missed);
            if (missed == 0) return;
        }
    }
}
