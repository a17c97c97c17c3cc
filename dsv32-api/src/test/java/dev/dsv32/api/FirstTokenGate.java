package dev.dsv32.api;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A logits listener that holds its request's first completion token (on the engine thread) until {@link #open()}, at
 * most 10 s: a test submits a second request, then opens the gate, so the two requests overlap whatever the engine's
 * speed (after a fixed sleep instead, a fast engine can finish the first before the second arrives).
 */
final class FirstTokenGate implements LogitsListener {
    private final CountDownLatch open = new CountDownLatch(1);

    @Override
    public void onLogits(int step, float[] logits, int offset, int vocab) {
        if (step != 0) return;
        try {
            open.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    void open() {
        open.countDown();
    }
}
