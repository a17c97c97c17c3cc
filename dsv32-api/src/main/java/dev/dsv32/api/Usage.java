package dev.dsv32.api;

import java.time.Duration;
import java.util.Objects;

/**
 * Token counts and timings of one generation.
 *
 * @param promptTokens tokens of the encoded prompt
 * @param cachedTokens prompt tokens already in the session's KV cache (not computed again)
 * @param prefilledTokens prompt tokens computed for this request ({@code promptTokens - cachedTokens} locally)
 * @param completionTokens tokens generated (including the end-of-sentence token when there was one)
 * @param queueTime from the call until the request joined the running batch
 * @param timeToFirstToken from the call until the first completion token was sampled ({@link Duration#ZERO} if none)
 * @param totalTime from the call until the result
 */
public record Usage(int promptTokens, int cachedTokens, int prefilledTokens, int completionTokens, Duration queueTime,
                    Duration timeToFirstToken, Duration totalTime) {
    public Usage {
        Objects.requireNonNull(queueTime, "queueTime");
        Objects.requireNonNull(timeToFirstToken, "timeToFirstToken");
        Objects.requireNonNull(totalTime, "totalTime");
    }

    /** Completion tokens per second after the first one (0 when fewer than two tokens). */
    public double decodeTokensPerSecond() {
        double s = (totalTime.toNanos() - timeToFirstToken.toNanos()) / 1e9;
        return completionTokens > 1 && s > 0 ? (completionTokens - 1) / s : 0;
    }
}
