package dev.dsv32.tools.serve;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Requests per client (by remote address): a token bucket per client that holds {@code burst} requests and refills at
 * {@code perSecond}. Thread-safe. Buckets that are full again are forgotten when the table grows, so a flood of
 * addresses cannot grow it without bound.
 */
final class RateLimiter {
    private static final int MAX_CLIENTS = 10_000;

    private final double perSecond;
    private final double burst;
    private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

    private static final class Bucket {
        double tokens;
        long last;

        Bucket(double tokens, long now) {
            this.tokens = tokens;
            this.last = now;
        }
    }

    RateLimiter(double perSecond, int burst) {
        if (!(perSecond > 0) || Double.isInfinite(perSecond)) throw new IllegalArgumentException("perSecond must be > 0, got " + perSecond);
        if (burst < 1) throw new IllegalArgumentException("burst must be >= 1, got " + burst);
        this.perSecond = perSecond;
        this.burst = burst;
    }

    /**
     * Takes one request of {@code client}'s allowance: 0 when allowed, else the seconds (at least 1) until one would be
     * (for {@code Retry-After}).
     */
    long acquire(String client, long nowNanos) {
        if (buckets.size() > MAX_CLIENTS) forgetFull(nowNanos);
        Bucket b = buckets.computeIfAbsent(client, c -> new Bucket(burst, nowNanos));
        synchronized (b) {
            refill(b, nowNanos);
            if (b.tokens >= 1) {
                b.tokens -= 1;
                return 0;
            }
            return Math.max(1, (long) Math.ceil((1 - b.tokens) / perSecond));
        }
    }

    private void refill(Bucket b, long now) {
        if (now > b.last) {
            b.tokens = Math.min(burst, b.tokens + (now - b.last) / 1e9 * perSecond);
            b.last = now;
        }
    }

    private void forgetFull(long now) {
        buckets.entrySet().removeIf(e -> {
            synchronized (e.getValue()) {
                refill(e.getValue(), now);
                return e.getValue().tokens >= burst;
            }
        });
    }

    int clients() {
        return buckets.size();
    }
}
