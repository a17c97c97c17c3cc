package dev.dsv32.nativ;

/**
 * The paged KV cache of a {@link NativeModel} ({@code dsv32_kv_cache_stats}): one pool of blocks of
 * {@code blockSize} positions shared by all sequences. Blocks are allocated on first use up to {@code totalBlocks}
 * and reused after a sequence frees them (closed or truncated); forked sequences share their common blocks.
 *
 * @param blockSize positions per block
 * @param totalBlocks the pool's capacity in blocks
 * @param freeBlocks blocks no sequence holds; a step that needs more fails with a capacity {@link NativeException}
 * @param allocatedBlocks blocks whose memory has been allocated so far (at most {@code totalBlocks}; kept for reuse)
 * @param usedTokens cached positions of all open sequences (a shared prefix counts once per sequence)
 * @param openSequences sequences open now
 * @param blockBytes bytes of one block (all layers)
 */
public record CacheStats(int blockSize, long totalBlocks, long freeBlocks, long allocatedBlocks, long usedTokens,
                         int openSequences, long blockBytes) {
    /** Blocks held by at least one sequence. */
    public long usedBlocks() {
        return totalBlocks - freeBlocks;
    }

    /** Positions that still fit in free blocks (a sequence's partly filled last block is not counted). */
    public long freeTokens() {
        return freeBlocks * blockSize;
    }
}
