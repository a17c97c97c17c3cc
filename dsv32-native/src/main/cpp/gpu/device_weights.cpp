// device_weights.cpp: the weight upload (device_weights.h).
#include "gpu/device_weights.h"

#include "gpu/host_runtime.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace dsv32 {
namespace gpu {

GpuWeight device_view(const Linear& L, const void* data, const float* scale) {
    GpuWeight g;
    g.type = L.type == kernels::WType::FP8 ? GpuWType::FP8 : L.type == kernels::WType::BF16 ? GpuWType::BF16 : GpuWType::F32;
    g.out = L.out;
    g.in = L.in;
    g.ld = 0;  // uploaded rows are contiguous
    g.data = data;
    g.scale = scale;
    g.scale_cols = L.type == kernels::WType::FP8 ? L.scale_ld : 0;
    return g;
}

namespace {

// What goes into the arena: host source bytes at an aligned offset. A Linear's rows are copied one by one when its
// view has a row stride (ld > in: a column shard; not at mp 1, kept general).
struct Item {
    const void* src = nullptr;
    size_t bytes = 0;
    size_t off = 0;
    size_t rows = 1, row_bytes = 0, src_stride = 0;  // rows > 1 with src_stride != row_bytes: strided source
};

class Planner {
public:
    size_t add(const void* src, size_t bytes) { return add_rows(src, 1, bytes, bytes); }
    size_t add_rows(const void* src, size_t rows, size_t row_bytes, size_t src_stride) {
        Item it;
        it.src = src;
        it.rows = rows;
        it.row_bytes = row_bytes;
        it.src_stride = src_stride;
        it.bytes = rows * row_bytes;
        it.off = size_;
        size_ = (size_ + it.bytes + 255) / 256 * 256;
        items.push_back(it);
        return it.off;
    }
    size_t size() const { return std::max<size_t>(size_, 256); }
    std::vector<Item> items;

private:
    size_t size_ = 0;
};

// Offsets of one Linear (data, scales) in the arena.
struct LinOff {
    const Linear* L = nullptr;
    size_t data = 0, scale = 0;
};

}  // namespace

DeviceWeights upload_weights(const Config& cfg, const Weights& w, const std::vector<float>& rope_freqs, const Stream& stream,
                             const Progress& progress) {
    Planner plan;
    auto lin = [&](const Linear& L) {
        LinOff o;
        o.L = &L;
        const size_t row = size_t(L.in) * kernels::wtype_bytes(L.type);
        const size_t stride = size_t(L.ld > 0 ? L.ld : L.in) * kernels::wtype_bytes(L.type);
        o.data = stride == row ? plan.add(L.raw, size_t(L.out) * row) : plan.add_rows(L.raw, size_t(L.out), row, stride);
        if (L.type == kernels::WType::FP8) {
            const size_t br = size_t((L.out + 127) / 128);
            o.scale = plan.add(L.scale, br * size_t(L.scale_ld) * sizeof(float));
        }
        return o;
    };
    auto vec = [&](const std::vector<float>& v) { return v.empty() ? size_t(-1) : plan.add(v.data(), v.size() * sizeof(float)); };

    struct LayerOff {
        size_t attn_norm, ffn_norm, q_norm, kv_norm, knw, knb, gate_bias;
        LinOff wq_a, wq_b, wkv_a, wkv_b, wo, iq, ik, ip, gate;
        LinOff dense[3], shared[3];
        std::vector<LinOff> ex[3];
        size_t ex_tab[3] = {0, 0, 0};
    };
    const LinOff embed = lin(w.embed), head = lin(w.head);
    const size_t norm = vec(w.norm), freqs = vec(rope_freqs);
    std::vector<LayerOff> lo(w.layers.size());
    std::vector<std::vector<GpuWeight>> tables;  // per layer and matrix: the expert views (filled after allocation)
    tables.reserve(w.layers.size() * 3);
    for (size_t l = 0; l < w.layers.size(); ++l) {
        const LayerWeights& L = w.layers[l];
        LayerOff& o = lo[l];
        o.attn_norm = vec(L.attn_norm);
        o.ffn_norm = vec(L.ffn_norm);
        o.wq_a = lin(L.wq_a);
        o.q_norm = vec(L.q_norm);
        o.wq_b = lin(L.wq_b);
        o.wkv_a = lin(L.wkv_a);
        o.kv_norm = vec(L.kv_norm);
        o.wkv_b = lin(L.wkv_b);
        o.wo = lin(L.wo);
        o.iq = lin(L.idx_wq_b);
        o.ik = lin(L.idx_wk);
        o.knw = vec(L.idx_knorm_w);
        o.knb = vec(L.idx_knorm_b);
        o.ip = lin(L.idx_wproj);
        o.gate_bias = size_t(-1);
        if (!L.moe) {
            o.dense[0] = lin(L.dense.w1);
            o.dense[1] = lin(L.dense.w2);
            o.dense[2] = lin(L.dense.w3);
        } else {
            o.gate = lin(L.gate);
            o.gate_bias = vec(L.gate_bias);
            if (cfg.n_shared_experts > 0) {
                o.shared[0] = lin(L.shared.w1);
                o.shared[1] = lin(L.shared.w2);
                o.shared[2] = lin(L.shared.w3);
            }
            for (const Ffn& f : L.experts) {
                o.ex[0].push_back(lin(f.w1));
                o.ex[1].push_back(lin(f.w2));
                o.ex[2].push_back(lin(f.w3));
            }
        }
    }
    // The expert view tables come last (their contents depend on the arena's address): reserve room now.
    for (size_t l = 0; l < w.layers.size(); ++l)
        if (w.layers[l].moe)
            for (int m = 0; m < 3; ++m) lo[l].ex_tab[m] = plan.add(nullptr, lo[l].ex[m].size() * sizeof(GpuWeight));

    DeviceWeights d;
    d.arena = DeviceBuffer(plan.size());
    char* base = d.arena.as<char>();
    auto view = [&](const LinOff& o) {
        return device_view(*o.L, base + o.data, o.L->type == kernels::WType::FP8 ? reinterpret_cast<const float*>(base + o.scale) : nullptr);
    };
    auto fptr = [&](size_t off) { return off == size_t(-1) ? nullptr : reinterpret_cast<const float*>(base + off); };
    d.embed = view(embed);
    d.head = view(head);
    d.norm = fptr(norm);
    d.rope_freqs = fptr(freqs);
    std::vector<std::vector<GpuWeight>> ex_views(w.layers.size() * 3);
    for (size_t l = 0; l < w.layers.size(); ++l) {
        const LayerOff& o = lo[l];
        DeviceLayer D;
        D.attn_norm = fptr(o.attn_norm);
        D.ffn_norm = fptr(o.ffn_norm);
        D.wq_a = view(o.wq_a);
        D.q_norm = fptr(o.q_norm);
        D.wq_b = view(o.wq_b);
        D.wkv_a = view(o.wkv_a);
        D.kv_norm = fptr(o.kv_norm);
        D.wkv_b = view(o.wkv_b);
        D.wo = view(o.wo);
        D.idx_wq_b = view(o.iq);
        D.idx_wk = view(o.ik);
        D.idx_knorm_w = fptr(o.knw);
        D.idx_knorm_b = fptr(o.knb);
        D.idx_wproj = view(o.ip);
        D.moe = w.layers[l].moe;
        if (!D.moe) {
            D.dense = {view(o.dense[0]), view(o.dense[1]), view(o.dense[2])};
        } else {
            D.gate = view(o.gate);
            D.gate_bias = fptr(o.gate_bias);
            if (cfg.n_shared_experts > 0) D.shared = {view(o.shared[0]), view(o.shared[1]), view(o.shared[2])};
            for (int m = 0; m < 3; ++m) {
                std::vector<GpuWeight>& v = ex_views[l * 3 + size_t(m)];
                for (const LinOff& e : o.ex[m]) {
                    v.push_back(view(e));
                    validate_weight(v.back(), "upload_weights: routed expert");
                }
            }
            D.experts_fp8 = !w.layers[l].experts.empty() && w.layers[l].experts[0].w1.type == kernels::WType::FP8;
            D.experts_w1 = reinterpret_cast<const GpuWeight*>(base + o.ex_tab[0]);
            D.experts_w2 = reinterpret_cast<const GpuWeight*>(base + o.ex_tab[1]);
            D.experts_w3 = reinterpret_cast<const GpuWeight*>(base + o.ex_tab[2]);
        }
        d.layers.push_back(D);
    }
    // Fill the expert tables' sources now that the views exist.
    for (size_t l = 0; l < w.layers.size(); ++l)
        if (w.layers[l].moe)
            for (int m = 0; m < 3; ++m)
                for (Item& it : plan.items)
                    if (it.off == lo[l].ex_tab[m] && it.src == nullptr) it.src = ex_views[l * 3 + size_t(m)].data();

    // Stream the bytes: fill a pinned buffer, copy it asynchronously, fill the other meanwhile.
    int64_t total = 0;
    for (const Item& it : plan.items) total += int64_t(it.bytes);
    const size_t chunk = size_t(32) << 20;
    PinnedBuffer pin[2] = {PinnedBuffer(chunk), PinnedBuffer(chunk)};
    gpuEvent_t done[2] = {nullptr, nullptr};
    for (auto& e : done) check(gpuEventCreateWithFlags(&e, gpuEventDisableTiming), "gpuEventCreate");
    struct Events {
        gpuEvent_t* e;
        ~Events() {
            for (int i = 0; i < 2; ++i)
                if (e[i]) (void)gpuEventDestroy(e[i]);
        }
    } events{done};
    const gpuStream_t s = static_cast<gpuStream_t>(stream.handle());
    int cur = 0;
    size_t fill = 0;   // bytes in pin[cur]
    size_t dst0 = 0;   // arena offset where pin[cur]'s bytes go (contiguous run)
    int64_t payload = 0;  // checkpoint bytes staged so far (padding not counted)
    int64_t reported = -1;
    auto report = [&](int64_t v) {
        if (progress && v != reported) progress("upload", v, total);
        reported = v;
    };
    auto flush = [&]() {
        if (fill == 0) return;
        check(gpuMemcpyAsync(base + dst0, pin[cur].get(), fill, gpuMemcpyHostToDevice, s), "gpuMemcpyAsync (weights)");
        check(gpuEventRecord(done[cur], s), "gpuEventRecord");
        cur ^= 1;
        check(gpuEventSynchronize(done[cur]), "gpuEventSynchronize (weights)");  // the other buffer is free again
        fill = 0;
        report(std::min(payload, total));
    };
    report(0);
    // Items are in arena order; bytes between items (alignment padding) are never read.
    for (const Item& it : plan.items) {
        if (it.bytes == 0) continue;
        size_t done_bytes = 0;
        while (done_bytes < it.bytes) {
            // The alignment gap before this item rides along (zeros) when it fits: one copy for many small tensors.
            const size_t want = it.off + done_bytes, at = dst0 + fill;
            if (fill > 0 && want > at && want - at < chunk - fill) {
                std::memset(static_cast<char*>(pin[cur].get()) + fill, 0, want - at);
                fill += want - at;
            }
            if (fill == chunk || (fill > 0 && dst0 + fill != it.off + done_bytes)) flush();
            if (fill == 0) dst0 = it.off + done_bytes;
            const size_t n = std::min(chunk - fill, it.bytes - done_bytes);
            char* dst = static_cast<char*>(pin[cur].get()) + fill;
            if (it.rows == 1 || it.src_stride == it.row_bytes) {
                std::memcpy(dst, static_cast<const char*>(it.src) + done_bytes, n);
            } else {
                for (size_t k = 0; k < n;) {  // strided rows
                    const size_t r = (done_bytes + k) / it.row_bytes, c = (done_bytes + k) % it.row_bytes;
                    const size_t m = std::min(n - k, it.row_bytes - c);
                    std::memcpy(dst + k, static_cast<const char*>(it.src) + r * it.src_stride + c, m);
                    k += m;
                }
            }
            fill += n;
            done_bytes += n;
            payload += int64_t(n);
        }
    }
    flush();
    check(gpuStreamSynchronize(s), "gpuStreamSynchronize (weights)");
    report(total);
    d.bytes = total;
    return d;
}

}  // namespace gpu
}  // namespace dsv32
