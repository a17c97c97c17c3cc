package dev.dsv32.api.spi;

/** A paged KV cache: block size in tokens, total and free blocks. */
public record CacheStats(int blockSize, long totalBlocks, long freeBlocks) {
    /** Blocks in use. */
    public long usedBlocks() {
        return totalBlocks - freeBlocks;
    }
}
