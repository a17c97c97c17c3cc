package dev.dsv32.nativ.synth;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The small DeepSeek-V3.2 configurations of architecture.md §16-§17: the 671B architecture with only the sizes changed.
 * {@link #configJson()} is the Hugging Face {@code config.json} (field names and order as DeepSeek's own, formatted as
 * the golden checkpoints' files); {@link #tensors()} the Hugging Face tensor list (§2.1).
 */
public enum SynthConfig {
    /** Unit and golden tests: 2.57 M parameters, vocabulary 512. */
    TINY("tiny", 512, 128, 3, 1, 128, 128, 32, 64, 32, 16, 1, 4, 4, 2, 4, 128, 32, 4, 256, 128, 4.0, 512),
    /** tiny with 8 heads and doubled FFN widths: every per-rank GEMM K and scale split stays exact at MP=2. */
    TINY_MP2("tiny_mp2", 512, 128, 3, 1, 128, 128, 32, 64, 32, 16, 1, 4, 4, 2, 4, 128, 32, 8, 512, 256, 4.0, 512),
    /** tiny with the real vocabulary (129280), so real token ids work: the SDK's default model. */
    TINY_CHAT("tiny_chat", 129280, 128, 3, 1, 128, 128, 32, 64, 32, 16, 1, 4, 4, 2, 4, 128, 32, 4, 256, 128, 4.0, 512),
    /** CPU speed benchmarks: 709 M parameters with the real per-head shapes (975 MB FP8). */
    MINI("mini", 129280, 1024, 8, 1, 384, 512, 128, 64, 128, 64, 1, 8, 8, 4, 64, 128, 512, 16, 2816, 256, 40.0, 4096);

    public static final int BLOCK = 128;

    public final String id;
    public final int vocab, hidden, layers, firstDense, qLora, kvLora, nope, rope, vDim;
    public final int experts, sharedExperts, expertsPerToken, groups, topkGroups;
    public final int indexHeads, indexDim, indexTopk, heads, inter, moeInter;
    public final double ropeFactor;
    public final int originalMaxPos;

    SynthConfig(String id, int vocab, int hidden, int layers, int firstDense, int qLora, int kvLora, int nope, int rope,
                int vDim, int experts, int sharedExperts, int expertsPerToken, int groups, int topkGroups, int indexHeads,
                int indexDim, int indexTopk, int heads, int inter, int moeInter, double ropeFactor, int originalMaxPos) {
        this.id = id;
        this.vocab = vocab;
        this.hidden = hidden;
        this.layers = layers;
        this.firstDense = firstDense;
        this.qLora = qLora;
        this.kvLora = kvLora;
        this.nope = nope;
        this.rope = rope;
        this.vDim = vDim;
        this.experts = experts;
        this.sharedExperts = sharedExperts;
        this.expertsPerToken = expertsPerToken;
        this.groups = groups;
        this.topkGroups = topkGroups;
        this.indexHeads = indexHeads;
        this.indexDim = indexDim;
        this.indexTopk = indexTopk;
        this.heads = heads;
        this.inter = inter;
        this.moeInter = moeInter;
        this.ropeFactor = ropeFactor;
        this.originalMaxPos = originalMaxPos;
    }

    /** {@code max_position_embeddings} = original_max_position_embeddings × factor, the real model's ratio. */
    public int maxPositions() {
        return (int) Math.round(originalMaxPos * ropeFactor);
    }

    /** The configuration named {@code id} ({@code tiny}, {@code tiny_mp2}, {@code tiny_chat}, {@code mini}). */
    public static SynthConfig of(String id) {
        for (SynthConfig c : values()) {
            if (c.id.equals(id)) return c;
        }
        throw new IllegalArgumentException("unknown synthetic config '" + id + "' (expected tiny, tiny_mp2, tiny_chat or mini)");
    }

    @Override
    public String toString() {
        return id;
    }

    /** Element types of the checkpoint. */
    public enum DType {
        F32("F32", 4), BF16("BF16", 2), F8_E4M3("F8_E4M3", 1);

        public final String safetensorsName;
        public final int size;

        DType(String safetensorsName, int size) {
            this.safetensorsName = safetensorsName;
            this.size = size;
        }
    }

    /** How a tensor's values are drawn. */
    public enum Kind {
        /** N(mean, std) stored as the dtype. */
        NORMAL,
        /** An FP8 projection: N(0, std) quantised per 128×128 block; its scales are the next tensor. */
        FP8_WEIGHT,
        /** The f32 {@code weight_scale_inv} of the preceding FP8 weight (written together with it). */
        FP8_SCALE
    }

    /** One tensor: HF name, dtype, shape ([out, in] for matrices) and distribution. */
    public record Tensor(String name, DType dtype, long[] shape, Kind kind, double mean, double std) {
        public long elements() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }

        public long bytes() {
            return elements() * dtype.size;
        }

        /** True for the weights and scales of routed experts ({@code mlp.experts.J.*}). */
        public boolean routedExpert() {
            return name.contains(".mlp.experts.");
        }
    }

    /** Every tensor of the checkpoint, in the reference generator's order (an FP8 weight is followed by its scale). */
    public List<Tensor> tensors() {
        List<Tensor> t = new ArrayList<>();
        int dq = nope + rope;
        t.add(normal("model.embed_tokens.weight", DType.BF16, 0, 1, vocab, hidden));
        for (int i = 0; i < layers; i++) {
            String p = "model.layers." + i + ".";
            rmsnorm(t, p + "input_layernorm", hidden);
            rmsnorm(t, p + "post_attention_layernorm", hidden);
            String a = p + "self_attn.";
            proj(t, a + "q_a_proj", qLora, hidden);
            rmsnorm(t, a + "q_a_layernorm", qLora);
            proj(t, a + "q_b_proj", (long) heads * dq, qLora);
            proj(t, a + "kv_a_proj_with_mqa", kvLora + rope, hidden);
            rmsnorm(t, a + "kv_a_layernorm", kvLora);
            proj(t, a + "kv_b_proj", (long) heads * (nope + vDim), kvLora);
            proj(t, a + "o_proj", hidden, (long) heads * vDim);
            String x = a + "indexer.";
            proj(t, x + "wq_b", (long) indexHeads * indexDim, qLora);
            proj(t, x + "wk", indexDim, hidden);
            t.add(normal(x + "k_norm.weight", DType.F32, 1, 0.1, indexDim));
            t.add(normal(x + "k_norm.bias", DType.F32, 0, 0.1, indexDim));
            t.add(normal(x + "weights_proj.weight", DType.BF16, 0, Math.pow(hidden, -0.5), indexHeads, hidden));
            String m = p + "mlp";
            if (i < firstDense) {
                swiglu(t, m, inter);
            } else {
                t.add(normal(m + ".gate.weight", DType.BF16, 0, Math.pow(hidden, -0.5), experts, hidden));
                t.add(normal(m + ".gate.e_score_correction_bias", DType.F32, 0, 0.05, experts));
                for (int j = 0; j < experts; j++) swiglu(t, m + ".experts." + j, moeInter);
                swiglu(t, m + ".shared_experts", (long) moeInter * sharedExperts);
            }
        }
        rmsnorm(t, "model.norm", hidden);
        t.add(normal("lm_head.weight", DType.BF16, 0, Math.pow(hidden, -0.5), vocab, hidden));
        return t;
    }

    private static Tensor normal(String name, DType dtype, double mean, double std, long... shape) {
        return new Tensor(name, dtype, shape, Kind.NORMAL, mean, std);
    }

    private static void rmsnorm(List<Tensor> t, String name, long n) {
        t.add(normal(name + ".weight", DType.F32, 1, 0.1, n));
    }

    private static void proj(List<Tensor> t, String name, long out, long in) {
        t.add(new Tensor(name + ".weight", DType.F8_E4M3, new long[] {out, in}, Kind.FP8_WEIGHT, 0, Math.pow(in, -0.5)));
        t.add(new Tensor(name + ".weight_scale_inv", DType.F32, new long[] {ceilDiv(out, BLOCK), ceilDiv(in, BLOCK)},
                Kind.FP8_SCALE, 0, 0));
    }

    private void swiglu(List<Tensor> t, String prefix, long width) {
        proj(t, prefix + ".gate_proj", width, hidden);
        proj(t, prefix + ".up_proj", width, hidden);
        proj(t, prefix + ".down_proj", hidden, width);
    }

    static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    /** Parameters (every element except the FP8 scales). */
    public long parameters() {
        long n = 0;
        for (Tensor t : tensors()) if (t.kind() != Kind.FP8_SCALE) n += t.elements();
        return n;
    }

    /** {@code config.json}: Hugging Face field names, in the order and layout of the golden checkpoints' files. */
    public String configJson() {
        JsonText j = new JsonText();
        j.begin();
        j.field("architectures", List.of("DeepseekV32ForCausalLM"));
        j.field("model_type", "deepseek_v32");
        j.field("vocab_size", vocab);
        j.field("hidden_size", hidden);
        j.field("num_hidden_layers", layers);
        j.field("first_k_dense_replace", firstDense);
        j.field("moe_layer_freq", 1);
        j.field("q_lora_rank", qLora);
        j.field("kv_lora_rank", kvLora);
        j.field("qk_nope_head_dim", nope);
        j.field("qk_rope_head_dim", rope);
        j.field("v_head_dim", vDim);
        j.field("n_routed_experts", experts);
        j.field("n_shared_experts", sharedExperts);
        j.field("num_experts_per_tok", expertsPerToken);
        j.field("n_group", groups);
        j.field("topk_group", topkGroups);
        j.field("scoring_func", "sigmoid");
        j.field("topk_method", "noaux_tc");
        j.field("norm_topk_prob", true);
        j.field("routed_scaling_factor", new JsonText.Raw("2.5"));
        j.field("rope_theta", new JsonText.Raw("10000.0"));
        j.key("rope_scaling");
        j.begin();
        j.field("type", "yarn");
        j.field("factor", new JsonText.Raw(String.format(Locale.ROOT, "%.1f", ropeFactor)));
        j.field("original_max_position_embeddings", originalMaxPos);
        j.field("beta_fast", 32);
        j.field("beta_slow", 1);
        j.field("mscale", new JsonText.Raw("1.0"));
        j.field("mscale_all_dim", new JsonText.Raw("1.0"));
        j.end();
        j.field("index_n_heads", indexHeads);
        j.field("index_head_dim", indexDim);
        j.field("index_topk", indexTopk);
        j.field("rms_norm_eps", new JsonText.Raw("1e-06"));
        j.field("max_position_embeddings", maxPositions());
        j.field("bos_token_id", 0);
        j.field("eos_token_id", 1);
        j.field("tie_word_embeddings", false);
        j.field("hidden_act", "silu");
        j.field("attention_bias", false);
        j.field("attention_dropout", new JsonText.Raw("0.0"));
        j.field("num_nextn_predict_layers", 0);
        j.field("torch_dtype", "bfloat16");
        j.key("quantization_config");
        j.begin();
        j.field("quant_method", "fp8");
        j.field("fmt", "e4m3");
        j.field("weight_block_size", List.of(BLOCK, BLOCK));
        j.field("activation_scheme", "dynamic");
        j.field("scale_fmt", "ue8m0");
        j.end();
        j.field("num_attention_heads", heads);
        j.field("num_key_value_heads", heads);
        j.field("intermediate_size", inter);
        j.field("moe_intermediate_size", moeInter);
        j.end();
        return j.toString() + "\n";
    }
}
