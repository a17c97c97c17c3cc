package dev.dsv32.api;

import dev.dsv32.api.spi.CacheStats;
import java.time.Duration;
import java.util.Optional;

/**
 * A snapshot of a model's scheduler.
 *
 * @param queueLength requests waiting to join the batch
 * @param activeRequests requests in the running batch
 * @param lastBatchSize sequences in the last forward step
 * @param openSequences engine sequences open now (requests and sessions)
 * @param steps forward steps run
 * @param requestsCompleted requests that produced a result (any finish reason)
 * @param requestsFailed requests that ended with an exception (rejections included)
 * @param requestsRejected requests rejected for lack of capacity
 * @param promptTokens prompt tokens computed (prefilled)
 * @param completionTokens tokens generated
 * @param tokensPerSecond generated tokens per second over the last few seconds
 * @param meanTimeToFirstToken mean time to first token over all requests so far
 * @param cache the KV cache's blocks, where the engine pages it
 */
public record Metrics(int queueLength, int activeRequests, int lastBatchSize, int openSequences, long steps,
                      long requestsCompleted, long requestsFailed, long requestsRejected, long promptTokens,
                      long completionTokens, double tokensPerSecond, Duration meanTimeToFirstToken,
                      Optional<CacheStats> cache) {}
