package dev.dsv32.tools;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Bytes one decode step must read from memory, from a checkpoint's config.json, for the bandwidth roofline
 * (tok/s ≤ bandwidth / bytes per token). Weights are counted in their checkpoint format: FP8 e4m3 projections plus
 * their f32 block scales, bf16 embedding row, gate, indexer {@code weights_proj} and head, f32 norms. Per step of a
 * batch of B tokens (one per sequence, each at context L):
 * <ul>
 *   <li>dense weights (attention with its indexer, dense MLP layers, shared experts, gates, norms, head): once;</li>
 *   <li>routed experts: the expected number of distinct experts the B tokens pick, E·(1 − (1 − k/E)^B) per MoE layer
 *       (uniform routing; k = num_experts_per_tok, E = n_routed_experts), so k experts at B = 1;</li>
 *   <li>KV cache, per token and layer: every cached indexer key (index_head_dim FP8 bytes + one f32 scale) and the
 *       min(L, index_topk) selected latent entries ((kv_lora_rank + qk_rope_head_dim) bf16), the demo's format.</li>
 * </ul>
 * A token with at most index_topk causal keys (context L + 1 <= top-k) is not scored: its selection is every key, so the
 * engine computes no index query for it (the indexer's {@code wq_b} and {@code weights_proj} are not read, nor its
 * cached keys) and the bytes and FLOPs here leave them out ({@link #scored}).
 */
final class DecodeRoofline {
    final long denseBytes, expertBytes, headBytes;
    final int moeLayers, experts, expertsPerToken, layers, hidden, indexDim, indexTopk, kvEntry;
    /** Weight elements one token multiplies (dense parts, attention with its indexer, head, k routed experts). */
    final long activeWeightElements;
    /** The index query's weights per layer ({@code wq_b}, {@code weights_proj}): elements and bytes as stored. */
    final long indexQueryElements, indexQueryBytes;
    private final int heads, indexHeads, qkDim, vDim, kvLora, ropeDim;

    DecodeRoofline(JsonNode c) {
        int h = c.get("hidden_size").asInt(), v = c.get("vocab_size").asInt();
        layers = c.get("num_hidden_layers").asInt();
        int dense = Math.min(layers, c.get("first_k_dense_replace").asInt());
        int qr = c.get("q_lora_rank").asInt(), kvr = c.get("kv_lora_rank").asInt();
        int dn = c.get("qk_nope_head_dim").asInt(), dr = c.get("qk_rope_head_dim").asInt(), dv = c.get("v_head_dim").asInt();
        int nh = c.get("num_attention_heads").asInt();
        int ih = c.get("index_n_heads").asInt();
        indexDim = c.get("index_head_dim").asInt();
        indexTopk = c.get("index_topk").asInt();
        experts = c.get("n_routed_experts").asInt();
        expertsPerToken = c.get("num_experts_per_tok").asInt();
        int shared = c.get("n_shared_experts").asInt();
        int inter = c.get("intermediate_size").asInt(), moeInter = c.get("moe_intermediate_size").asInt();
        hidden = h;
        moeLayers = layers - dense;
        indexQueryBytes = fp8((long) ih * indexDim, qr) + (long) ih * h * 2;
        indexQueryElements = (long) ih * indexDim * qr + (long) ih * h;
        long attn = fp8(qr, h) + fp8((long) nh * (dn + dr), qr) + fp8(kvr + dr, h) + fp8((long) nh * (dn + dv), kvr)
                + fp8(h, (long) nh * dv) + indexQueryBytes + fp8(indexDim, h) + 4L * (2L * h + qr + kvr + 2L * indexDim);
        long moeFixed = (long) experts * h * 2 + experts * 4L + ffn((long) moeInter * shared, h);
        expertBytes = ffn(moeInter, h);
        headBytes = (long) v * h * 2;
        denseBytes = layers * attn + dense * ffn(inter, h) + moeLayers * moeFixed + 4L * h + headBytes;
        kvEntry = (kvr + dr) * 2;
        heads = nh;
        indexHeads = ih;
        qkDim = dn + dr;
        vDim = dv;
        kvLora = kvr;
        ropeDim = dr;
        long attnEl = (long) qr * h + (long) nh * (dn + dr) * qr + (long) (kvr + dr) * h + (long) nh * (dn + dv) * kvr
                + (long) h * nh * dv + (long) ih * indexDim * qr + (long) indexDim * h + (long) ih * h;
        long ffnEl = 3L * inter * h, expertEl = 3L * moeInter * h;
        activeWeightElements = layers * attnEl + dense * ffnEl
                + moeLayers * ((long) experts * h + (long) shared * expertEl + (long) expertsPerToken * expertEl) + (long) v * h;
    }

    /** Whether the engine scores the indexer for a token at context {@code ctx}: it has ctx + 1 causal keys. */
    boolean scored(int ctx) {
        return ctx + 1 > indexTopk;
    }

    /** Weight bytes of one decode step of {@code batch} sequences (at context {@code ctx}: the index query or not). */
    double weightBytes(int batch, int ctx) {
        return denseBytes - (scored(ctx) ? 0 : (double) layers * indexQueryBytes)
                + (double) moeLayers * expertsTouched(batch) * expertBytes + (long) batch * hidden * 2;
    }

    /** Bytes of one decode step with dense attention (no indexer: no index query, every cached latent read). */
    double stepBytesDense(int batch, int ctx) {
        return weightBytes(batch, 0) + (double) batch * layers * (long) ctx * kvEntry;
    }

    /**
     * FLOPs of a prefill of {@code n} tokens from an empty cache (2 per multiply-add), as the engine runs it: every
     * token's matrix products over the active weights (last-token logits only: the head once; the index query only for
     * the tokens past top-k, the scored ones), attention in the MHA form over each token's selected keys (all its
     * causal keys up to top-k, then top-k; QK and PV per head) and the indexer's scores of each scored token over its
     * causal keys (architecture.md §6.2, §7), summed over positions 0..n-1.
     */
    double prefillFlops(int n) {
        long headEl = (long) headBytes / 2;
        long scoredRows = Math.max(0, n - indexTopk); // positions p >= top-k have p + 1 > top-k keys
        double matmul = 2.0 * n * (activeWeightElements - headEl) + 2.0 * headEl
                - 2.0 * (n - scoredRows) * layers * indexQueryElements;
        double selected = n <= indexTopk ? (double) n * (n + 1) / 2
                : (double) indexTopk * (indexTopk + 1) / 2 + (double) scoredRows * indexTopk; // (query, key) pairs
        double scoredKeys = (double) n * (n + 1) / 2 - (double) (n - scoredRows) * (n - scoredRows + 1) / 2;
        double attn = 2.0 * layers * (selected * heads * (qkDim + vDim) + scoredKeys * indexHeads * indexDim);
        return matmul + attn;
    }

    /**
     * FLOPs of one decode step of {@code batch} sequences at context {@code ctx} (2 per multiply-add, architecture.md
     * §12): each token's matrix products over the active weights (head included; W_UK and W_UV absorbed; the index
     * query only when {@link #scored}), the absorbed attention over its min(ctx, index_topk) selected latents (scores
     * over kv_lora_rank + qk_rope_head_dim columns, values over kv_lora_rank, per head) and, when scored, the indexer's
     * scores over every cached key.
     */
    double decodeFlops(int batch, int ctx) {
        boolean sc = scored(ctx);
        double attn = (double) heads * Math.min(ctx, indexTopk) * (2.0 * kvLora + ropeDim) + (sc ? (double) indexHeads * indexDim * ctx : 0);
        double weights = activeWeightElements - (sc ? 0 : (double) layers * indexQueryElements);
        return batch * (2.0 * weights + 2.0 * layers * attn);
    }

    private static long fp8(long out, long in) {
        return out * in + ((out + 127) / 128) * ((in + 127) / 128) * 4;
    }

    private static long ffn(long width, long h) {
        return 2 * fp8(width, h) + fp8(h, width);
    }

    /** Expected distinct routed experts per MoE layer for a batch of {@code batch} tokens. */
    double expertsTouched(int batch) {
        return experts * (1 - Math.pow(1 - (double) expertsPerToken / experts, batch));
    }

    /** KV bytes one token reads at context {@code ctx}, all layers (the indexer keys only when scored). */
    long kvBytes(int ctx) {
        return (long) layers * ((scored(ctx) ? (long) ctx * (indexDim + 4) : 0) + (long) Math.min(ctx, indexTopk) * kvEntry);
    }

    /** Bytes read by one decode step of {@code batch} sequences at context {@code ctx}. */
    double stepBytes(int batch, int ctx) {
        return weightBytes(batch, ctx) + (double) batch * kvBytes(ctx);
    }

    /** The bandwidth bound in tokens/s for that step at {@code bytesPerSecond}. */
    double tokensPerSecond(int batch, int ctx, double bytesPerSecond) {
        return batch * bytesPerSecond / stepBytes(batch, ctx);
    }
}
