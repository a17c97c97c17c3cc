// gpu_model.cpp: the GPU engine's forward pass (CUDA in libdsv32, HIP in libdsv32_hip.so: host_runtime.h names) (architecture.md §5-§8), in transformer.cpp / mla.cpp / indexer.cpp /
// moe.cpp order so that one layer reads top to bottom like the CPU's. Host code: every device computation is a
// launcher of gpu_kernels.h (shared kernels) or engine_kernels.h (cache, indexer scores, attention), enqueued on the
// model's stream; the step synchronises once, when the logits are copied back.
#include "gpu/gpu_model.h"

#include "gpu/host_runtime.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "checkpoint/safetensors.h"
#include "gpu/device.h"
#include "gpu/device_kv_cache.h"
#include "gpu/device_weights.h"
#include "gpu/engine_kernels.h"
#include "gpu/gpu_kernels.h"

namespace dsv32 {
namespace gpu {

namespace {

// Scratch device memory of the step, grown on demand and kept between steps (one buffer per role).
struct Scratch {
    DeviceBuffer buf;
    float* f(size_t n) {
        buf.reserve(n * sizeof(float) + 1);
        return buf.as<float>();
    }
    int32_t* i32(size_t n) {
        buf.reserve(n * sizeof(int32_t) + 1);
        return buf.as<int32_t>();
    }
};

class GpuModel final : public GpuEngine {
public:
    explicit GpuModel(const EngineOptions& o);
    ~GpuModel() override {
        (void)gpuSetDevice(device_);
        (void)gpuDeviceSynchronize();
    }
#if defined(DSV32_GPU_HIP)
    BackendKind backend() const override { return BackendKind::Hip; }
#else
    BackendKind backend() const override { return BackendKind::Cuda; }
#endif
    std::string device_name() const override { return device_name_; }
    const Config& config() const override { return cfg_; }
    int max_seq_len() const override { return max_seq_len_; }
    int mp() const override { return 1; }
    bool fp8_numerics() const override { return fp8_; }
    double decode_weight_bytes() const override { return decode_bytes_; }
    std::unique_ptr<KvCache> make_cache(int block_size, int64_t max_blocks, int max_sequences) const override {
        return std::make_unique<KvCache>(cfg_, block_size, max_blocks, max_sequences, make_device_block_store(device_));
    }
    void forward(KvCache& cache, const std::vector<StepEntry>& entries, float* logits, bool last_only) override {
        forward_step(make_step_input(cache, entries), logits, last_only);
    }
    void forward_step(const StepInput& in, float* logits, bool last_only) override;

private:
    gpuStream_t s() const { return static_cast<gpuStream_t>(stream_.handle()); }
    // y = W x over M rows (Model::linear): in fp8 numerics an FP8 W takes the act_quant round trip of x and a bf16
    // output (kernels::linear_fp8); everything else runs in f32.
    void linear(const GpuWeight& W, const float* x, int M, float* y);
    void attention(int l, const float* x, float* out);
    void indexer(int l, const float* x, const float* qr);
    void ffn(int l, const float* x, float* out);
    void swiglu(const DeviceFfn& f, const float* x, int M, float* out);
    void moe(int l, const float* x, float* out);
    void bf16(float* x, size_t n) {
        if (fp8_) round_bf16(x, n, s());
    }

    // The device, selected on construction (before stream_ and the weights are created) and again at each step: the
    // current device is per host thread, and the C API may be called from any thread.
    struct DeviceSelect {
        explicit DeviceSelect(int d) { check(gpuSetDevice(d), "gpuSetDevice"); }
    };
    int device_;
    DeviceSelect select_;
    Config cfg_;
    int max_seq_len_ = 0;
    int debug_flags_ = 0;
    bool fp8_ = false;
    bool inter_idx_rope_ = false;  // the indexer's RoPE layout (config, or the debug flag's bug)
    float softmax_scale_ = 0;
    double decode_bytes_ = 0;
    std::string device_name_;
    Stream stream_;
    DeviceWeights w_;

    // ---- the current step ----
    int M_ = 0;                      // stacked rows
    std::vector<StepSegment> segs_;
    StepTables tab_;
    CacheRef cref_;                  // layer_off set per layer
    size_t layer_floats_ = 0;
    DeviceBuffer d_tokens_, d_pos_, d_block_ptr_, d_tab0_, d_row_seg_;
    // indexer output: the selected keys of every row [M, K], their counts [M]
    int K_ = 0;
    Scratch sel_, sel_count_;
    // activations
    Scratch h_, xn_, t_, qa_, qr_, q_, kv_, lat_, kpe_, o_, xq_;
    Scratch iq_, ik_, iw_, iscore_;
    Scratch glat_, kvb_, kvb_row0_, mha_rows_, dec_rows_, gseg_, gpos_;
    Scratch ff_a_, ff_b_, gate_, ids_, wts_, offs_, brows_, bw_, slot_of_, ex_a_, ex_b_, ex_y_, ex_xq_;
    Scratch last_, lg_;
};

GpuModel::GpuModel(const EngineOptions& o) : device_(o.device), select_(o.device), debug_flags_(o.debug_flags), fp8_(o.fp8) {
    if (o.mp > 1)
        throw std::invalid_argument(std::string("backend ") + kGpuBackend + " runs on one GPU (mp 1); mp " + std::to_string(o.mp) +
                                    " is not supported yet");
    if (o.debug_flags & DEBUG_DENSE_ATTENTION)  // the CPU benchmark switch (bench report); the GPU indexer always selects
        throw BackendOptionError(std::string("debug flag DENSE_ATTENTION is not supported on the ") + kGpuPlatform + " backend (CPU only)");
    device_name_ = describe_device(o.device);
    if (is_converted_dir(o.dir))
        throw BackendOptionError(o.dir + " is a converted (pre-sharded) directory: the " + kGpuPlatform + " backend loads Hugging Face "
                                 "checkpoint directories (open the original checkpoint)");
    const std::string cfg_path = o.dir + "/config.json";
    std::ifstream in(cfg_path, std::ios::binary);
    if (!in) throw std::runtime_error(cfg_path + ": cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    cfg_ = parse_config(ss.str(), cfg_path);
    if (cfg_.index_head_dim != 128)
        throw std::runtime_error(cfg_path + ": index_head_dim " + std::to_string(cfg_.index_head_dim) +
                                 ": the " + kGpuPlatform + " backend's Hadamard transform is 128 wide (architecture.md §7)");
    max_seq_len_ = o.max_seq_len > 0 ? o.max_seq_len : cfg_.max_position_embeddings;
    const bool yarn = cfg_.yarn && !(debug_flags_ & DEBUG_NO_YARN);
    Rope rope;
    rope.init(cfg_, yarn);
    double scale = 1.0 / std::sqrt(double(cfg_.qk_nope_head_dim + cfg_.qk_rope_head_dim));  // §6.4, as transformer.cpp
    if (yarn && cfg_.rope_factor > 1.0) {
        const double m = 0.1 * cfg_.mscale_all_dim * std::log(cfg_.rope_factor) + 1.0;
        scale *= m * m;
    }
    softmax_scale_ = float(scale);
    inter_idx_rope_ = cfg_.indexer_rope_interleaved != bool(debug_flags_ & DEBUG_INDEXER_ROPE_INTERLEAVED);
    // Host side: map and validate with the CPU loader (stages "map", "validate"), then upload ("upload"). The
    // mapping and the host views are dropped afterwards: the device arena is the one copy.
    SafetensorsSet st(o.dir, o.progress);
    const Weights hw = load_weights(cfg_, st, o.dir, o.progress);
    w_ = upload_weights(cfg_, hw, rope.freqs, stream_, o.progress);
    auto b = [](const Linear& L) { return double(L.mat().nbytes()); };
    auto f = [&](const Ffn& x) { return b(x.w1) + b(x.w2) + b(x.w3); };
    decode_bytes_ = double(hw.embed.mat().nbytes()) / std::max(1, cfg_.vocab_size) + b(hw.head);
    for (const LayerWeights& L : hw.layers) {
        decode_bytes_ += b(L.wq_a) + b(L.wq_b) + b(L.wkv_a) + b(L.wkv_b) + b(L.wo) + b(L.idx_wq_b) + b(L.idx_wk) + b(L.idx_wproj);
        if (!L.moe) decode_bytes_ += f(L.dense);
        else decode_bytes_ += b(L.gate) + f(L.shared) + (L.experts.empty() ? 0.0 : f(L.experts[0]) * cfg_.num_experts_per_tok);
    }
}

void GpuModel::linear(const GpuWeight& W, const float* x, int M, float* y) {
    if (!fp8_ || W.type != GpuWType::FP8) {
        gpu::linear(x, W, y, M, s());
        return;
    }
    float* xq = xq_.f(size_t(M) * W.in);
    copy_on_device(xq, x, size_t(M) * W.in * sizeof(float), stream_);
    if (W.in % 128 == 0) act_quant_roundtrip(xq, M, W.in, true, s());
    else round_bf16(xq, size_t(M) * W.in, s());
    gpu::linear(xq, W, y, M, s());
    round_bf16(y, size_t(M) * W.out, s());
}

void GpuModel::forward_step(const StepInput& in, float* logits, bool last_only) {
    check(gpuSetDevice(device_), "gpuSetDevice");
    segs_ = in.segs;
    M_ = int(in.tokens.size());
    tab_ = in.tables;
    upload(d_tokens_, in.tokens, stream_);
    upload(d_pos_, tab_.row_pos, stream_);
    upload(d_block_ptr_, tab_.block_ptr, stream_);
    upload(d_tab0_, tab_.tab0, stream_);
    upload(d_row_seg_, tab_.row_seg, stream_);
    cref_ = CacheRef{};
    cref_.block_ptr = d_block_ptr_.as<uint64_t>();
    cref_.tab0 = d_tab0_.as<int32_t>();
    cref_.row_seg = d_row_seg_.as<int32_t>();
    cref_.row_pos = d_pos_.as<int32_t>();
    cref_.bs = in.block_size;
    cref_.kvr = cfg_.kv_lora_rank;
    cref_.dr = cfg_.qk_rope_head_dim;
    cref_.ihd = cfg_.index_head_dim;
    layer_floats_ = in.layer_floats;

    const int D = cfg_.hidden_size, V = cfg_.vocab_size, M = M_;
    const float eps = float(cfg_.rms_norm_eps);
    float* h = h_.f(size_t(M) * D);
    float* xn = xn_.f(size_t(M) * D);
    float* t = t_.f(size_t(M) * D);
    embedding(w_.embed, d_tokens_.as<int32_t>(), M, 0, h, s());  // §5 step 2
    for (int l = 0; l < cfg_.num_hidden_layers; ++l) {
        const DeviceLayer& L = w_.layers[size_t(l)];
        cref_.layer_off = int64_t(size_t(l) * layer_floats_);
        // xn = bf16?(rmsnorm(h)): the first layer from the embedding, later ones fused with the previous residual add.
        if (l == 0) {
            rmsnorm(h, L.attn_norm, xn, M, D, eps, s());
            bf16(xn, size_t(M) * D);
        } else {
            add_rmsnorm(h, t, L.attn_norm, xn, M, D, eps, fp8_, s());  // h += ffn out; bf16?(h); xn = rmsnorm(h)
        }
        attention(l, xn, t);
        add_rmsnorm(h, t, L.ffn_norm, xn, M, D, eps, fp8_, s());  // h += attention out; bf16?(h); xn = rmsnorm(h)
        ffn(l, xn, t);
    }
    // h += last ffn out; final norm (§5 step 5) on every row; the head on every row or on each entry's last row.
    add_rmsnorm(h, t, w_.norm, xn, M, D, eps, fp8_, s());
    int S = M;
    const float* hf = xn;
    if (last_only) {
        S = int(segs_.size());
        float* last = last_.f(size_t(S) * D);
        for (int i = 0; i < S; ++i)
            copy_on_device(last + size_t(i) * D, xn + size_t(segs_[size_t(i)].row0 + segs_[size_t(i)].n - 1) * D, size_t(D) * sizeof(float), stream_);
        hf = last;
    }
    float* lg = lg_.f(size_t(S) * V);
    gpu::linear(hf, w_.head, lg, S, s());  // the head (plain BF16 / F32) runs in f32 in both numerics modes
    copy_to_host(logits, lg, size_t(S) * V * sizeof(float), stream_);
    stream_.sync("GpuModel::forward");
}

// MLA (architecture.md §6, mla.cpp).
void GpuModel::attention(int l, const float* x, float* out) {
    const DeviceLayer& L = w_.layers[size_t(l)];
    const int dn = cfg_.qk_nope_head_dim, dr = cfg_.qk_rope_head_dim, dv = cfg_.v_head_dim, kvr = cfg_.kv_lora_rank;
    const int qlr = cfg_.q_lora_rank, dq = dn + dr, kvw = dn + dv;
    const int H = cfg_.num_attention_heads, M = M_;
    const float eps = float(cfg_.rms_norm_eps);
    const int32_t* pos = d_pos_.as<int32_t>();

    float* qa = qa_.f(size_t(M) * qlr);
    float* qr = qr_.f(size_t(M) * qlr);
    float* q = q_.f(size_t(M) * H * dq);
    linear(L.wq_a, x, M, qa);
    rmsnorm(qa, L.q_norm, qr, M, qlr, eps, s());
    bf16(qr, size_t(M) * qlr);
    linear(L.wq_b, qr, M, q);
    float* kv = kv_.f(size_t(M) * (kvr + dr));
    linear(L.wkv_a, x, M, kv);
    rope(q, M, H, dq, dn, dr, pos, w_.rope_freqs, true, s());  // q_pe, interleaved (§6.1)
    // The latent c = kv_norm(kv[:kvr]) and k_pe = rope(kv[kvr:]) of every row, written to its cache position.
    float* lat = lat_.f(size_t(M) * kvr);
    float* kpe = kpe_.f(size_t(M) * dr);
    check(gpuMemcpy2DAsync(lat, size_t(kvr) * sizeof(float), kv, size_t(kvr + dr) * sizeof(float), size_t(kvr) * sizeof(float),
                            size_t(M), gpuMemcpyDeviceToDevice, s()), "gpuMemcpy2DAsync (latent)");
    check(gpuMemcpy2DAsync(kpe, size_t(dr) * sizeof(float), kv + kvr, size_t(kvr + dr) * sizeof(float), size_t(dr) * sizeof(float),
                            size_t(M), gpuMemcpyDeviceToDevice, s()), "gpuMemcpy2DAsync (k_pe)");
    rmsnorm(lat, L.kv_norm, lat, M, kvr, eps, s());
    rope(kpe, M, 1, dr, 0, dr, pos, w_.rope_freqs, true, s());
    if (fp8_) {  // latent: bf16, then the per-128-block FP8 round trip (ue8m0); k_pe stays bf16
        round_bf16(lat, size_t(M) * kvr, s());
        if (kvr % 128 == 0) act_quant_roundtrip(lat, M, kvr, true, s());
        round_bf16(kpe, size_t(M) * dr, s());
    }
    cache_store(lat, M, 0, CacheSlot::Latent, cref_, s());
    cache_store(kpe, M, 0, CacheSlot::KPe, cref_, s());

    indexer(l, x, qr);  // sel_ [M, K_], sel_count_ [M]

    float* o = o_.f(size_t(M) * H * dv);
    // Which path each entry takes: n > 1 a prefill chunk (MHA form), n == 1 a decode token (absorbed form).
    std::vector<int32_t> mha_rows, dec_rows, gseg, gpos;
    std::vector<int64_t> kvb_row0(segs_.size(), 0);
    int64_t total = 0;
    for (size_t i = 0; i < segs_.size(); ++i) {
        const StepSegment& g = segs_[i];
        if (g.n == 1) {
            dec_rows.push_back(g.row0);
            continue;
        }
        kvb_row0[i] = total;
        for (int k = 0; k < g.start + g.n; ++k) {  // every cached position 0 .. end-1 of the chunk's sequence
            gseg.push_back(int32_t(i));
            gpos.push_back(k);
        }
        total += g.start + g.n;
        for (int r = 0; r < g.n; ++r) mha_rows.push_back(g.row0 + r);
    }
    if (!mha_rows.empty()) {
        // k_nope / v = wkv_b(latent) of every cached position of each chunk: one GEMM over the stacked latents.
        int32_t* dseg = gseg_.i32(gseg.size());
        int32_t* dpos = gpos_.i32(gpos.size());
        copy_to_device(dseg, gseg.data(), gseg.size() * sizeof(int32_t), stream_);
        copy_to_device(dpos, gpos.data(), gpos.size() * sizeof(int32_t), stream_);
        float* glat = glat_.f(size_t(total) * kvr);
        cache_gather(CacheSlot::Latent, cref_, dseg, dpos, int(total), glat, s());
        float* kvb = kvb_.f(size_t(total) * H * kvw);
        linear(L.wkv_b, glat, int(total), kvb);
        kvb_row0_.buf.reserve(kvb_row0.size() * sizeof(int64_t));
        copy_to_device(kvb_row0_.buf.get(), kvb_row0.data(), kvb_row0.size() * sizeof(int64_t), stream_);
        int32_t* drows = mha_rows_.i32(mha_rows.size());
        copy_to_device(drows, mha_rows.data(), mha_rows.size() * sizeof(int32_t), stream_);
        mla_prefill(q, drows, int(mha_rows.size()), H, dn, dr, dv, kvb, kvb_row0_.buf.as<int64_t>(), cref_, sel_.buf.as<int32_t>(),
                    sel_count_.buf.as<int32_t>(), K_, softmax_scale_, o, s());
    }
    if (!dec_rows.empty()) {
        int32_t* drows = dec_rows_.i32(dec_rows.size());
        copy_to_device(drows, dec_rows.data(), dec_rows.size() * sizeof(int32_t), stream_);
        mla_decode(q, drows, int(dec_rows.size()), H, dn, dr, dv, L.wkv_b, cref_, sel_.buf.as<int32_t>(), sel_count_.buf.as<int32_t>(),
                   K_, softmax_scale_, fp8_, o, s());
    }
    bf16(o, size_t(M) * H * dv);
    linear(L.wo, o, M, out);
}

// The DSA indexer (architecture.md §7, indexer.cpp): keys of every row into the cache, scores over each row's causal
// keys, top-k selection (ties: the lower position) into sel_ / sel_count_.
void GpuModel::indexer(int l, const float* x, const float* qr) {
    const DeviceLayer& L = w_.layers[size_t(l)];
    const int nh = cfg_.index_n_heads, hd = cfg_.index_head_dim, dr = cfg_.qk_rope_head_dim, M = M_;
    const int32_t* pos = d_pos_.as<int32_t>();
    float* q = iq_.f(size_t(M) * nh * hd);
    float* k = ik_.f(size_t(M) * hd);
    float* wts = iw_.f(size_t(M) * nh);
    linear(L.idx_wq_b, qr, M, q);
    linear(L.idx_wk, x, M, k);
    layernorm(k, L.idx_knorm_w, L.idx_knorm_b, k, M, hd, float(cfg_.rms_norm_eps), s());
    linear(L.idx_wproj, x, M, wts);
    scale(wts, float(1.0 / std::sqrt(double(nh)) / std::sqrt(double(hd))), size_t(M) * nh, s());
    rope(q, M, nh, hd, 0, dr, pos, w_.rope_freqs, inter_idx_rope_, s());  // rope FIRST in the indexer's layout
    hadamard128(q, M * nh, s());
    rope(k, M, 1, hd, 0, dr, pos, w_.rope_freqs, inter_idx_rope_, s());
    hadamard128(k, M, s());
    if (fp8_ && hd % 128 == 0) {  // q8 / k8 = act_quant of the bf16 rotated q, k
        round_bf16(q, size_t(M) * nh * hd, s());
        act_quant_roundtrip(q, M * nh, hd, true, s());
        round_bf16(k, size_t(M) * hd, s());
        act_quant_roundtrip(k, M, hd, true, s());
    }
    cache_store(k, M, 0, CacheSlot::IndexKey, cref_, s());

    // Scores in groups of rows (at most ~16M scores at a time), each group's selection right after.
    const int ld = std::max(1, tab_.max_keys);
    K_ = std::max(1, std::min(cfg_.index_topk, ld));
    int32_t* sel = sel_.i32(size_t(M) * K_);
    int32_t* cnt = sel_count_.i32(size_t(M));
    const int group = int(std::max<int64_t>(1, std::min<int64_t>(65535, (int64_t(1) << 24) / ld)));
    float* sc = iscore_.f(size_t(std::min(group, M)) * ld);
    for (int r0 = 0; r0 < M; r0 += group) {
        const int n = std::min(group, M - r0);
        indexer_logits(q + size_t(r0) * nh * hd, wts + size_t(r0) * nh, n, r0, nh, hd, cref_, sc, ld, s());
        topk_select(sc, n, ld, ld, nullptr, K_, sel + size_t(r0) * K_, cnt + r0, s());
    }
}

void GpuModel::swiglu(const DeviceFfn& f, const float* x, int M, float* out) {
    const int I = f.w1.out;
    float* a = ff_a_.f(size_t(M) * I);
    float* b = ff_b_.f(size_t(M) * I);
    linear(f.w1, x, M, a);
    linear(f.w3, x, M, b);
    gpu::swiglu(a, b, a, size_t(M) * I, fp8_, s());
    linear(f.w2, a, M, out);
}

void GpuModel::ffn(int l, const float* x, float* out) {
    const DeviceLayer& L = w_.layers[size_t(l)];
    if (L.moe) moe(l, x, out);
    else swiglu(L.dense, x, M_, out);
}

// MoE (architecture.md §8, moe.cpp): route, shared expert, routed experts as grouped GEMMs over the bucketed tokens.
void GpuModel::moe(int l, const float* x, float* out) {
    const DeviceLayer& L = w_.layers[size_t(l)];
    const int E = cfg_.n_routed_experts, D = cfg_.hidden_size, ke = cfg_.num_experts_per_tok, I = cfg_.moe_intermediate_size;
    const int S = M_, slots = S * ke;
    float* logits = gate_.f(size_t(S) * E);
    gpu::linear(x, L.gate, logits, S, s());  // the gate (plain weights) in f32 in both modes
    const float* bias = (debug_flags_ & DEBUG_NO_GATE_BIAS) ? nullptr : L.gate_bias;
    int32_t* ids = ids_.i32(size_t(slots));
    float* wts = wts_.f(size_t(slots));
    moe_route(logits, bias, S, E, cfg_.n_group, cfg_.topk_group, ke, cfg_.routed_scaling_factor, GateScore::Sigmoid, ids, wts, s());
    int32_t* offs = offs_.i32(size_t(E) + 1);
    int32_t* rows = brows_.i32(size_t(slots));
    float* sw = bw_.f(size_t(slots));
    int32_t* slot_of = slot_of_.i32(size_t(slots));
    moe_bucket(ids, wts, S, ke, E, offs, rows, sw, slot_of, s());
    if (cfg_.n_shared_experts > 0) swiglu(L.shared, x, S, out);
    else check(gpuMemsetAsync(out, 0, size_t(S) * D * sizeof(float), s()), "gpuMemsetAsync");
    // Routed experts: w1 / w3 over the gathered tokens, SwiGLU, w2; in fp8 numerics each GEMM as linear_fp8 (the
    // input's act_quant round trip, bf16 output) since the experts are FP8.
    const bool q8 = fp8_ && L.experts_fp8;
    const float* xin = x;
    if (q8) {
        float* xq = ex_xq_.f(size_t(S) * D);
        copy_on_device(xq, x, size_t(S) * D * sizeof(float), stream_);
        if (D % 128 == 0) act_quant_roundtrip(xq, S, D, true, s());
        else round_bf16(xq, size_t(S) * D, s());
        xin = xq;
    }
    float* a = ex_a_.f(size_t(slots) * I);
    float* b = ex_b_.f(size_t(slots) * I);
    float* y = ex_y_.f(size_t(slots) * D);
    grouped_linear(xin, L.experts_w1, E, offs, rows, a, I, D, slots, S, s());
    grouped_linear(xin, L.experts_w3, E, offs, rows, b, I, D, slots, S, s());
    if (q8) {
        round_bf16(a, size_t(slots) * I, s());
        round_bf16(b, size_t(slots) * I, s());
    }
    gpu::swiglu(a, b, a, size_t(slots) * I, fp8_, s());
    if (q8) {
        if (I % 128 == 0) act_quant_roundtrip(a, slots, I, true, s());
        else round_bf16(a, size_t(slots) * I, s());
    }
    grouped_linear(a, L.experts_w2, E, offs, nullptr, y, D, I, slots, S, s());
    if (q8) round_bf16(y, size_t(slots) * D, s());
    moe_combine(out, y, ids, wts, slot_of, S, ke, D, s());
    bf16(out, size_t(S) * D);  // fp8 numerics: the MoE output is bf16
}

}  // namespace

std::unique_ptr<GpuEngine> open_engine(const EngineOptions& o) { return std::make_unique<GpuModel>(o); }

}  // namespace gpu
}  // namespace dsv32
