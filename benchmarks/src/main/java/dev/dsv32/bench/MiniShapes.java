package dev.dsv32.bench;

import java.util.Map;

/**
 * The linear layers of the synthetic {@code mini} model (architecture.md §17: hidden 1024, 16 heads, q_lora 384,
 * kv_lora 512, nope/rope/v 128/64/128, dense inter 2816, expert inter 256) as [n, k] = [out, in] weight shapes.
 */
final class MiniShapes {
    private MiniShapes() {}

    /** Layer name (as in the benchmarks' {@code shape} parameter) to {n, k}. */
    static final Map<String, int[]> LINEAR = Map.of(
            "wq_b", new int[] {16 * 192, 384},
            "wkv_b", new int[] {16 * 256, 512},
            "wo", new int[] {1024, 16 * 128},
            "dense_w1", new int[] {2816, 1024},
            "dense_w2", new int[] {1024, 2816},
            "expert_w1", new int[] {256, 1024},
            "expert_w2", new int[] {1024, 256});

    static int[] linear(String name) {
        int[] nk = LINEAR.get(name);
        if (nk == null) throw new IllegalArgumentException("unknown mini layer " + name + "; known: " + LINEAR.keySet());
        return nk;
    }

    /** mini's indexer and attention: 64 indexer heads x 128, top-k 512; 16 attention heads. */
    static final int INDEX_HEADS = 64, INDEX_HEAD_DIM = 128, INDEX_TOPK = 512, HEADS = 16;
}
