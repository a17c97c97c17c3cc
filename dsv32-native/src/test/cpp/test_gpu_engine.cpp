// The CUDA engine's own pieces against the CPU engine:
//   test_gpu_engine host DIR      host-side logic, runs everywhere (no device needed): the step tables (block tables
//                                 of forked / truncated sequences, several block sizes), backend selection through the
//                                 C API (cuda unavailable -> DSV32_ERR_UNAVAILABLE naming the reason, auto -> cpu
//                                 without a device, bad values), the launchers' argument checks.
//   test_gpu_engine kernels       the cache store / gather, indexer-logits and MLA prefill / decode kernels against
//                                 the CPU formulas of model/indexer.cpp and model/mla.cpp on random data in a paged
//                                 cache (block sizes 16 and 7); exit 77 (skipped) without a CUDA device.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "dsv32/dsv32.h"
#if defined(DSV32_HAVE_CUDA)
#include "gpu/host_runtime.h"

#include "gpu/device.h"
#include "gpu/device_kv_cache.h"
#include "gpu/engine_kernels.h"
#endif
#include "kernels/kernels.h"
#include "model/backend.h"
#include "model/kv_cache.h"
#include "test_util.h"

using namespace dsv32;

namespace {

Config small_config(int kvr, int dr, int ihd, int layers) {
    Config c;
    c.kv_lora_rank = kvr;
    c.qk_rope_head_dim = dr;
    c.index_head_dim = ihd;
    c.num_hidden_layers = layers;
    return c;
}

// ---- host ----

#if defined(DSV32_HAVE_CUDA)
void test_step_tables(int bs) {
    const Config cfg = small_config(8, 4, 4, 2);
    KvCache cache(cfg, bs, 64, 4);
    const int a = cache.open();
    cache.reserve(a, 2 * bs + 3);
    cache.commit(a, 2 * bs + 3);
    const int b = cache.fork(a);  // shares a's blocks; its next write copies the partly filled last block
    cache.truncate(a, bs);        // a keeps one block
    cache.reserve(a, 1);
    cache.reserve(b, 2);
    std::vector<gpu::StepSegment> segs = {{a, 0, 1, cache.len(a)}, {b, 1, 2, cache.len(b)}};
    const gpu::StepTables t = gpu::build_step_tables(cache, segs);
    CHECK(t.tab0.size() == 2 && t.tab0[0] == 0);
    CHECK(t.row_seg == std::vector<int32_t>({0, 1, 1}));
    CHECK(t.row_pos == std::vector<int32_t>({bs, 2 * bs + 3, 2 * bs + 4}));
    CHECK(t.max_keys == 2 * bs + 5);
    // Every position's rows are where KvCache::View puts them (the kernels' address arithmetic on the same table).
    for (size_t i = 0; i < segs.size(); ++i) {
        const int seq = segs[i].seq, end = segs[i].start + segs[i].n;
        for (int layer = 0; layer < cfg.num_hidden_layers; ++layer) {
            const KvCache::View v = cache.view(seq, layer);
            for (int p = 0; p < end; ++p) {
                float* base = reinterpret_cast<float*>(t.block_ptr[size_t(t.tab0[i] + p / bs)]) + size_t(layer) * cache.layer_floats();
                CHECK(v.latent(p) == base + size_t(p % bs) * 8);
                CHECK(v.k_pe(p) == base + size_t(bs) * 8 + size_t(p % bs) * 4);
                CHECK(v.idx_k(p) == base + size_t(bs) * 12 + size_t(p % bs) * 4);
            }
        }
    }
    // b's shared partly filled block was copied on write: its table differs from a's there.
    CHECK(cache.table(b)[2] != cache.table(a).back() || cache.table(a).size() < 3);
    // Unreserved positions are an error, not an out-of-bounds table.
    std::vector<gpu::StepSegment> bad = {{a, 0, bs + 5, cache.len(a)}};
    bool threw = false;
    try {
        gpu::build_step_tables(cache, bad);
    } catch (const std::logic_error& e) {
        threw = std::string(e.what()).find("blocks") != std::string::npos;
    }
    CHECK(threw);
}

#endif

// A KvCache over a BlockStore that counts its calls (the store interface the device cache plugs into).
struct CountingStore : BlockStore {
    int allocs = 0, copies = 0, releases = 0;
    float* allocate(size_t n) override { ++allocs; return new float[n]; }
    void copy(float* d, const float* s, size_t n) override { ++copies; std::memcpy(d, s, n * sizeof(float)); }
    void release(float* b, size_t) override { ++releases; delete[] b; }
};

void test_block_store() {
    const Config cfg = small_config(8, 4, 4, 1);
    auto store = std::make_shared<CountingStore>();
    {
        KvCache cache(cfg, 4, 16, 2, store);
        const int a = cache.open();
        cache.reserve(a, 6);
        cache.commit(a, 6);
        cache.view(a, 0).latent(5)[0] = 42.0f;
        const int b = cache.fork(a);
        cache.reserve(b, 1);  // copy on write of the shared block holding positions 4..5
        CHECK(store->allocs == 3 && store->copies == 1);
        CHECK(cache.view(b, 0).latent(5)[0] == 42.0f);
        CHECK(cache.view(b, 0).latent(5) != cache.view(a, 0).latent(5));
    }
    CHECK(store->releases == 3);  // every block back to the store with the cache
}

void test_backend_selection(const std::string& dir) {
    dsv32_open_options o{};
    dsv32_model* m = nullptr;
    o.backend = 9;
    CHECK(dsv32_model_open(dir.c_str(), &o, &m) == DSV32_ERR_INVALID_ARGUMENT && m == nullptr);
    CHECK(std::strstr(dsv32_last_error(), "unknown backend 9") != nullptr);
    CHECK(dsv32_backend_available(9) == DSV32_ERR_INVALID_ARGUMENT);
    CHECK(dsv32_backend_available(DSV32_BACKEND_CPU) == DSV32_OK);
    CHECK(dsv32_backend_available(DSV32_BACKEND_AUTO) == DSV32_OK);
    o = dsv32_open_options{};
    o.device = -1;
    CHECK(dsv32_model_open(dir.c_str(), &o, &m) == DSV32_ERR_INVALID_ARGUMENT);
    const std::string why = cuda_unavailable_reason();
    std::printf("cuda: %s\n", why.empty() ? "available" : why.c_str());
#if defined(DSV32_HAVE_CUDA)
    CHECK(cuda_compiled());
    CHECK(why.empty() || why.find("backend cuda is not available") == 0);
    CHECK(why.find("in this build") == std::string::npos);
#else
    CHECK(!cuda_compiled());
    CHECK(why.find("backend cuda is not available in this build") == 0);
#endif
    o = dsv32_open_options{};
    o.backend = DSV32_BACKEND_CUDA;
    const int rc = dsv32_model_open(dir.c_str(), &o, &m);
    if (!why.empty()) {
        CHECK(rc == DSV32_ERR_UNAVAILABLE && m == nullptr);
        CHECK(std::string(dsv32_last_error()).find(why) != std::string::npos);
        CHECK(dsv32_backend_available(DSV32_BACKEND_CUDA) == DSV32_ERR_UNAVAILABLE);
        CHECK(std::string(dsv32_last_error()) == why);
        std::printf("open with backend cuda: %s\n", dsv32_last_error());
    } else {
        CHECK(rc == DSV32_OK);
        dsv32_model_info info{};
        CHECK(dsv32_model_get_info(m, &info) == DSV32_OK && info.backend == DSV32_BACKEND_CUDA);
        std::printf("device: %s\n", dsv32_model_device(m));
        dsv32_model_close(m);
        m = nullptr;
        o.mp = 2;  // multi-GPU is a later issue: a clear option error
        CHECK(dsv32_model_open(dir.c_str(), &o, &m) == DSV32_ERR_INVALID_ARGUMENT);
        CHECK(std::strstr(dsv32_last_error(), "mp 2") != nullptr);
    }
    // auto: cuda when usable, else cpu; the info says which.
    o = dsv32_open_options{};
    o.backend = DSV32_BACKEND_AUTO;
    o.max_seq_len = 64;
    CHECK(dsv32_model_open(dir.c_str(), &o, &m) == DSV32_OK);
    dsv32_model_info info{};
    CHECK(dsv32_model_get_info(m, &info) == DSV32_OK);
    CHECK(info.backend == (why.empty() ? DSV32_BACKEND_CUDA : DSV32_BACKEND_CPU));
    std::printf("auto chose %s: %s\n", info.backend == DSV32_BACKEND_CUDA ? "cuda" : "cpu", dsv32_model_device(m));
    // The chosen engine runs a step.
    int32_t seq = -1;
    CHECK(dsv32_seq_open(m, &seq) == DSV32_OK);
    std::vector<int32_t> toks = {5, 46, 121};
    std::vector<float> lg(3 * size_t(info.vocab_size));
    dsv32_batch_entry e{seq, 0, 3, toks.data()};
    CHECK(dsv32_forward(m, &e, 1, lg.data(), lg.size()) == DSV32_OK);
    dsv32_model_close(m);
    CHECK(std::string(dsv32_model_device(nullptr)).empty());
    // The default (0) stays the CPU.
    o = dsv32_open_options{};
    CHECK(dsv32_model_open(dir.c_str(), &o, &m) == DSV32_OK);
    CHECK(dsv32_model_get_info(m, &info) == DSV32_OK && info.backend == DSV32_BACKEND_CPU);
    dsv32_model_close(m);
}

#if defined(DSV32_HAVE_CUDA)
template <class F>
bool throws_invalid(F f, const char* needle) {
    try {
        f();
    } catch (const std::invalid_argument& e) {
        return std::strstr(e.what(), needle) != nullptr;
    }
    return false;
}

// Host-side argument checks: these throw before any runtime call, so they run without a device.
void test_launcher_checks() {
    gpu::CacheRef c;
    float x = 0;
    CHECK(throws_invalid([&] { gpu::cache_store(&x, 1, 0, gpu::CacheSlot::Latent, c, nullptr); }, "cache_store: cache tables are null"));
    CHECK(throws_invalid([&] { gpu::cache_store(&x, -1, 0, gpu::CacheSlot::Latent, c, nullptr); }, "rows -1"));
    gpu::cache_store(nullptr, 0, 0, gpu::CacheSlot::Latent, c, nullptr);  // zero rows: nothing to check, nothing launched
    const uint64_t bp = 0;
    const int32_t i0 = 0;
    c.block_ptr = &bp;
    c.tab0 = c.row_seg = c.row_pos = &i0;
    c.bs = 16;
    c.kvr = 128;
    c.dr = 64;
    c.ihd = 128;
    CHECK(throws_invalid([&] { gpu::cache_store(&x, 1, 100, gpu::CacheSlot::Latent, c, nullptr); }, "ld 100 < slot width 128"));
    CHECK(throws_invalid([&] { gpu::indexer_logits(&x, &x, 1, 0, 4, 64, c, &x, 10, nullptr); }, "hd 64"));
    CHECK(throws_invalid([&] { gpu::mla_prefill(&x, &i0, 1, 4, 32, 32, 32, &x, nullptr, c, &i0, &i0, 8, 1.0f, &x, nullptr); },
                         "dr 32 vs cache 64"));
    gpu::GpuWeight w;
    CHECK(throws_invalid([&] { gpu::mla_decode(&x, &i0, 1, 4, 32, 64, 32, w, c, &i0, &i0, 8, 1.0f, false, &x, nullptr); }, "wkv_b"));
}
#endif

int cmd_host(const std::string& dir) {
#if defined(DSV32_HAVE_CUDA)
    for (int bs : {16, 7, 1}) test_step_tables(bs);
#endif
    test_block_store();
    test_backend_selection(dir);
#if defined(DSV32_HAVE_CUDA)
    test_launcher_checks();
#endif
    return test_summary("test_gpu_engine host");
}

#if defined(DSV32_HAVE_CUDA)
// ---- kernels (device) ----

struct Rng {
    std::mt19937 g{1234};
    float u(float a, float b) { return std::uniform_real_distribution<float>(a, b)(g); }
    int i(int n) { return std::uniform_int_distribution<int>(0, n - 1)(g); }
};

double max_rel(const std::vector<float>& ref, const std::vector<float>& got) {
    double m = 0, scale = 1e-6;
    for (float v : ref) scale = std::max(scale, double(std::fabs(v)));
    for (size_t i = 0; i < ref.size(); ++i) {
        if (std::isinf(ref[i]) || std::isinf(got[i])) {
            if (ref[i] != got[i]) return INFINITY;
            continue;
        }
        m = std::max(m, std::fabs(double(ref[i]) - got[i]) / scale);
    }
    return m;
}

template <class T>
gpu::DeviceBuffer to_device(const std::vector<T>& v) {
    gpu::DeviceBuffer b(v.size() * sizeof(T) + 1);
    gpu::check(gpuMemcpy(b.get(), v.data(), v.size() * sizeof(T), gpuMemcpyHostToDevice), "gpuMemcpy");
    return b;
}

template <class T>
std::vector<T> to_host(const gpu::DeviceBuffer& b, size_t n) {
    std::vector<T> v(n);
    gpu::check(gpuDeviceSynchronize(), "gpuDeviceSynchronize");
    gpu::check(gpuMemcpy(v.data(), b.get(), n * sizeof(T), gpuMemcpyDeviceToHost), "gpuMemcpy");
    return v;
}

// One mixed step (a prefill chunk at start 37, a decode token at 20, a 3-token chunk of a fork) in a host cache and a
// device cache that went through the same operations; host rows random, copied block by block to the device.
void test_kernels(int bs, bool fp8_weight) {
    const int kvr = 128, dr = 64, ihd = 128, layers = 2, layer = 1;
    const int H = 4, dn = 32, dv = 32, dq = dn + dr, kvw = dn + dv, nh = 4, topk = 16;
    const Config cfg = small_config(kvr, dr, ihd, layers);
    KvCache hc(cfg, bs, 256, 4);
    KvCache dc(cfg, bs, 256, 4, gpu::make_device_block_store());
    auto both = [&](auto f) {
        f(hc);
        f(dc);
    };
    int s0 = 0, s1 = 0, s2 = 0;
    both([&](KvCache& c) { s0 = c.open(); c.reserve(s0, 37); c.commit(s0, 37); });
    both([&](KvCache& c) { s1 = c.open(); c.reserve(s1, 20); c.commit(s1, 20); });
    both([&](KvCache& c) { s2 = c.fork(s0); c.truncate(s2, 30); });
    const std::vector<gpu::StepSegment> segs = {{s0, 0, 5, 37}, {s1, 5, 1, 20}, {s2, 6, 3, 30}};
    both([&](KvCache& c) { for (const auto& g : segs) c.reserve(g.seq, g.n); });
    const int M = 9;
    Rng rng;
    for (const auto& g : segs) {
        const KvCache::View v = hc.view(g.seq, layer);
        for (int t = 0; t < g.start + g.n; ++t) {
            if (g.seq == s2 && t < 30 && t / bs < 30 / bs) continue;  // shared with s0 (written once through s0)
            for (int i = 0; i < kvr; ++i) v.latent(t)[i] = rng.u(-1, 1);
            for (int i = 0; i < dr; ++i) v.k_pe(t)[i] = rng.u(-1, 1);
            for (int i = 0; i < ihd; ++i) v.idx_k(t)[i] = rng.u(-1, 1);
        }
    }
    // Same tables in both caches (same operations): copy every block of the step's sequences.
    for (const auto& g : segs) {
        CHECK(hc.table(g.seq) == dc.table(g.seq));
        for (int32_t b : hc.table(g.seq))
            gpu::check(gpuMemcpy(dc.block_data(b), hc.block_data(b), hc.block_bytes(), gpuMemcpyHostToDevice), "gpuMemcpy");
    }
    const gpu::StepTables tab = gpu::build_step_tables(dc, segs);
    gpu::DeviceBuffer bp = to_device(tab.block_ptr), t0 = to_device(tab.tab0), rs = to_device(tab.row_seg), rp = to_device(tab.row_pos);
    gpu::CacheRef c;
    c.block_ptr = bp.as<uint64_t>();
    c.tab0 = t0.as<int32_t>();
    c.row_seg = rs.as<int32_t>();
    c.row_pos = rp.as<int32_t>();
    c.bs = bs;
    c.kvr = kvr;
    c.dr = dr;
    c.ihd = ihd;
    c.layer_off = int64_t(size_t(layer) * dc.layer_floats());

    // cache_store of the step's new rows (latent slot) and gather back.
    std::vector<float> newlat(size_t(M) * kvr);
    for (float& v : newlat) v = rng.u(-1, 1);
    gpu::DeviceBuffer dnew = to_device(newlat);
    gpu::cache_store(dnew.as<float>(), M, 0, gpu::CacheSlot::Latent, c, nullptr);
    for (int r = 0; r < M; ++r) {  // the host cache gets the same rows
        const auto& g = segs[size_t(tab.row_seg[size_t(r)])];
        std::copy_n(newlat.data() + size_t(r) * kvr, kvr, hc.view(g.seq, layer).latent(tab.row_pos[size_t(r)]));
    }
    std::vector<int32_t> gseg, gpos;
    for (size_t i = 0; i < segs.size(); ++i)
        for (int t = 0; t < segs[i].start + segs[i].n; ++t) {
            gseg.push_back(int32_t(i));
            gpos.push_back(t);
        }
    gpu::DeviceBuffer dgs = to_device(gseg), dgp = to_device(gpos), dg(gseg.size() * kvr * sizeof(float));
    gpu::cache_gather(gpu::CacheSlot::Latent, c, dgs.as<int32_t>(), dgp.as<int32_t>(), int(gseg.size()), dg.as<float>(), nullptr);
    std::vector<float> gathered = to_host<float>(dg, gseg.size() * kvr), gref;
    for (size_t j = 0; j < gseg.size(); ++j) {
        const float* src = hc.view(segs[size_t(gseg[j])].seq, layer).latent(gpos[j]);
        gref.insert(gref.end(), src, src + kvr);
    }
    CHECK_MSG(gathered == gref, "cache_store / cache_gather (block %d): rows differ", bs);

    // Indexer scores (indexer.cpp): sum_h w_h ReLU(q_h . k_t) over t <= pos, -inf after.
    std::vector<float> q(size_t(M) * nh * ihd), w(size_t(M) * nh);
    for (float& v : q) v = rng.u(-1, 1);
    for (float& v : w) v = rng.u(-0.5f, 1);
    const int ld = tab.max_keys;
    std::vector<float> sref(size_t(M) * ld);
    for (int r = 0; r < M; ++r) {
        const auto& g = segs[size_t(tab.row_seg[size_t(r)])];
        const KvCache::View v = hc.view(g.seq, layer);
        for (int t = 0; t < ld; ++t) {
            float acc = 0;
            if (t <= tab.row_pos[size_t(r)]) {
                for (int h = 0; h < nh; ++h) {
                    const float d = kernels::dot_scalar(q.data() + (size_t(r) * nh + h) * ihd, v.idx_k(t), ihd);
                    if (d > 0) acc += w[size_t(r) * nh + h] * d;
                }
            } else {
                acc = -INFINITY;
            }
            sref[size_t(r) * ld + t] = acc;
        }
    }
    gpu::DeviceBuffer dq_ = to_device(q), dw = to_device(w), dsc(size_t(M) * ld * sizeof(float));
    // Rows in two groups (row0 = 0 and 4), as the engine splits long steps.
    gpu::indexer_logits(dq_.as<float>(), dw.as<float>(), 4, 0, nh, ihd, c, dsc.as<float>(), ld, nullptr);
    gpu::indexer_logits(dq_.as<float>() + 4 * nh * ihd, dw.as<float>() + 4 * nh, M - 4, 4, nh, ihd, c, dsc.as<float>() + 4 * ld, ld, nullptr);
    const double ie = max_rel(sref, to_host<float>(dsc, size_t(M) * ld));
    std::printf("indexer_logits (block %d): max |d| / max |ref| = %.3e\n", bs, ie);
    CHECK_MSG(ie < 1e-5, "indexer_logits error %.3e", ie);

    // Selections: random sorted subsets of each row's causal keys (at most topk), as the indexer gives.
    std::vector<int32_t> sel(size_t(M) * topk, -1), cnt(static_cast<size_t>(M));
    for (int r = 0; r < M; ++r) {
        const int nkeys = tab.row_pos[size_t(r)] + 1;
        std::vector<int32_t> all(static_cast<size_t>(nkeys));
        for (int t = 0; t < nkeys; ++t) all[size_t(t)] = t;
        std::shuffle(all.begin(), all.end(), rng.g);
        const int n = std::min(topk, nkeys);
        std::sort(all.begin(), all.begin() + n);
        std::copy_n(all.begin(), n, sel.begin() + long(r) * topk);
        cnt[size_t(r)] = n;
    }
    gpu::DeviceBuffer dsel = to_device(sel), dcnt = to_device(cnt);
    std::vector<float> qa(size_t(M) * H * dq);
    for (float& v : qa) v = rng.u(-1, 1);
    gpu::DeviceBuffer dqa = to_device(qa);
    const float scale = 0.1323f;

    // MLA prefill (mla.cpp MHA form) for the chunk rows: kvb = random [keys, H, kvw] per entry.
    std::vector<int32_t> prows = {0, 1, 2, 3, 4, 6, 7, 8};
    std::vector<int64_t> row0 = {0, 0, 0};
    std::vector<float> kvb;
    for (size_t i = 0; i < segs.size(); ++i) {
        row0[i] = int64_t(kvb.size() / (size_t(H) * kvw));
        for (int k = 0; k < (segs[i].start + segs[i].n) * H * kvw; ++k) kvb.push_back(rng.u(-1, 1));
    }
    std::vector<float> oref(size_t(M) * H * dv, 0.0f);
    for (int r : prows) {
        const int si = tab.row_seg[size_t(r)];
        const KvCache::View v = hc.view(segs[size_t(si)].seq, layer);
        const float* kb = kvb.data() + size_t(row0[size_t(si)]) * H * kvw;
        for (int h = 0; h < H; ++h) {
            const float* qh = qa.data() + (size_t(r) * H + h) * dq;
            std::vector<float> p(size_t(cnt[size_t(r)]));
            for (size_t j = 0; j < p.size(); ++j) {
                const int t = sel[size_t(r) * topk + j];
                p[j] = (kernels::dot_scalar(qh, kb + (size_t(t) * H + h) * kvw, dn) + kernels::dot_scalar(qh + dn, v.k_pe(t), dr)) * scale;
            }
            kernels::softmax(p.data(), int(p.size()));
            for (size_t j = 0; j < p.size(); ++j)
                kernels::axpy_scalar(p[j], kb + (size_t(sel[size_t(r) * topk + j]) * H + h) * kvw + dn, oref.data() + (size_t(r) * H + h) * dv, dv);
        }
    }
    gpu::DeviceBuffer dkvb = to_device(kvb), drow0 = to_device(row0), dpr = to_device(prows);
    std::vector<float> zero(size_t(M) * H * dv, 0.0f);
    gpu::DeviceBuffer dout = to_device(zero);
    gpu::mla_prefill(dqa.as<float>(), dpr.as<int32_t>(), int(prows.size()), H, dn, dr, dv, dkvb.as<float>(), drow0.as<int64_t>(), c,
                     dsel.as<int32_t>(), dcnt.as<int32_t>(), topk, scale, dout.as<float>(), nullptr);
    const double pe = max_rel(oref, to_host<float>(dout, oref.size()));
    std::printf("mla_prefill (block %d): max |d| / max |ref| = %.3e\n", bs, pe);
    CHECK_MSG(pe < 1e-5, "mla_prefill error %.3e", pe);

    // MLA absorbed decode (mla.cpp) for row 5, wkv_b FP8 (random codes, power-of-two block scales) or BF16.
    std::vector<uint8_t> w8(size_t(H) * kvw * kvr);
    std::vector<uint16_t> wb(w8.size());
    for (auto& v : w8) { v = uint8_t(rng.i(256)); if ((v & 0x7F) == 0x7F) v = 0x3C; }
    for (auto& v : wb) v = kernels::f32_to_bf16(rng.u(-0.2f, 0.2f));
    const int br = (H * kvw + 127) / 128, bc = (kvr + 127) / 128;
    std::vector<float> ws(size_t(br) * bc);
    for (float& v : ws) v = std::ldexp(1.0f, -rng.i(6) - 4);
    kernels::WeightMat hm;
    hm.type = fp8_weight ? kernels::WType::FP8 : kernels::WType::BF16;
    hm.out = H * kvw;
    hm.in = kvr;
    hm.data = fp8_weight ? static_cast<const void*>(w8.data()) : static_cast<const void*>(wb.data());
    hm.scale = fp8_weight ? ws.data() : nullptr;
    hm.scale_cols = fp8_weight ? bc : 0;
    gpu::DeviceBuffer dw8 = to_device(w8), dwb = to_device(wb), dws = to_device(ws);
    gpu::GpuWeight gw;
    gw.type = fp8_weight ? gpu::GpuWType::FP8 : gpu::GpuWType::BF16;
    gw.out = hm.out;
    gw.in = kvr;
    gw.data = fp8_weight ? dw8.get() : dwb.get();
    gw.scale = fp8_weight ? dws.as<float>() : nullptr;
    gw.scale_cols = fp8_weight ? bc : 0;
    std::vector<int32_t> drows = {5};
    auto rb = [](float v) { return kernels::bf16_to_f32(kernels::f32_to_bf16(v)); };
    for (const bool b16 : {false, true}) {  // f32 numerics, and fp8's bf16 q_lat / q_pe / p (model/mla.cpp)
        std::vector<float> dref(size_t(M) * H * dv, 0.0f), wr(static_cast<size_t>(kvr));
        for (int r : drows) {
            const KvCache::View v = hc.view(segs[size_t(tab.row_seg[size_t(r)])].seq, layer);
            for (int h = 0; h < H; ++h) {
                std::vector<float> qlat(size_t(kvr), 0.0f), olat(size_t(kvr), 0.0f), qpe(static_cast<size_t>(dr));
                const float* qh = qa.data() + (size_t(r) * H + h) * dq;
                for (int d = 0; d < dn; ++d) {
                    kernels::dequant_row(hm, h * kvw + d, 0, kvr, wr.data());
                    kernels::axpy_scalar(qh[d], wr.data(), qlat.data(), kvr);
                }
                for (int d = 0; d < dr; ++d) qpe[size_t(d)] = b16 ? rb(qh[dn + d]) : qh[dn + d];
                if (b16)
                    for (float& x : qlat) x = rb(x);
                std::vector<float> p(size_t(cnt[size_t(r)]));
                for (size_t j = 0; j < p.size(); ++j) {
                    const int t = sel[size_t(r) * topk + j];
                    p[j] = (kernels::dot_scalar(qlat.data(), v.latent(t), kvr) + kernels::dot_scalar(qpe.data(), v.k_pe(t), dr)) * scale;
                }
                kernels::softmax(p.data(), int(p.size()));
                if (b16)
                    for (float& x : p) x = rb(x);
                for (size_t j = 0; j < p.size(); ++j) kernels::axpy_scalar(p[j], v.latent(sel[size_t(r) * topk + j]), olat.data(), kvr);
                for (int d = 0; d < dv; ++d) {
                    kernels::dequant_row(hm, h * kvw + dn + d, 0, kvr, wr.data());
                    dref[(size_t(r) * H + h) * dv + d] = kernels::dot_scalar(wr.data(), olat.data(), kvr);
                }
            }
        }
        gpu::DeviceBuffer ddr = to_device(drows), dout2 = to_device(zero);
        gpu::mla_decode(dqa.as<float>(), ddr.as<int32_t>(), 1, H, dn, dr, dv, gw, c, dsel.as<int32_t>(), dcnt.as<int32_t>(), topk, scale,
                        b16, dout2.as<float>(), nullptr);
        const double de = max_rel(dref, to_host<float>(dout2, dref.size()));
        std::printf("mla_decode (block %d, wkv_b %s%s): max |d| / max |ref| = %.3e\n", bs, fp8_weight ? "FP8" : "BF16",
                    b16 ? ", bf16 operands" : "", de);
        CHECK_MSG(de < 1e-5, "mla_decode (bf16 operands %d) error %.3e", int(b16), de);
    }
}
#endif

int cmd_kernels() {
    const std::string why = cuda_unavailable_reason();
    if (!why.empty()) {
        std::printf("test_gpu_engine kernels: skipped: %s\n", why.c_str());
        return 77;
    }
#if defined(DSV32_HAVE_CUDA)
    std::printf("device: %s\n", gpu::describe_device(0).c_str());
    test_kernels(16, true);
    test_kernels(7, false);
#endif
    return test_summary("test_gpu_engine kernels");
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::string cmd = argc > 1 ? argv[1] : "";
        if (cmd == "host" && argc == 3) return cmd_host(argv[2]);
        if (cmd == "kernels" && argc == 2) return cmd_kernels();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "test_gpu_engine: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr, "usage: test_gpu_engine host GOLDEN_DIR | test_gpu_engine kernels\n");
    return 2;
}
