// test_gpu_kernels.cu: every GPU kernel family (gpu/gpu_kernels.h) against the CPU scalar references on random
// inputs with ragged sizes. Host-side argument validation runs first (it needs no device); then, without a CUDA
// device, the program prints "no CUDA device: skipped" and exits 77 (ctest SKIP_RETURN_CODE).
//
// Tolerances (each check says which applies):
//  * exact (bit for bit): embedding, act_quant / e4m3 / round_bf16, Hadamard-128, top-k, MoE routing ids, bucketing,
//    combine, argmax -- the GPU performs the same IEEE operations in the same order (max reductions are
//    order-independent);
//  * reductions whose summation order differs (norms in double: ~1e-15 relative before the f32 rounding of the scale,
//    so at most 1 ulp of f32; dot products in f32 over K terms: |err| <= ~K * 2^-24 * sum|x w|, bounded here by
//    1e-5 * sum|x w| for K <= 1000): relative to the magnitude sum;
//  * exp / cos / sin: the GPU rounds double results to f32, the CPU's libm f32 functions are within 1 ulp: 2-4 ulp;
//  * sampling: the token must equal sampling::sample's for the same uniform (a mismatch would need u within ~1e-15
//    of a cumulative boundary: probability ~1e-13 per draw).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "../test_util.h"
#include "dsv32/config.h"
#include "gpu/gpu_kernels.h"
#include "kernels/kernels.h"
#include "model/model.h"
#include "sampling/sampling.h"

using namespace dsv32;
using gpu::GpuWeight;
using gpu::GpuWType;

namespace {

// ---- device buffers ----
template <typename T>
struct Dev {
    T* p = nullptr;
    size_t n = 0;
    Dev() = default;
    explicit Dev(size_t count) : n(count) { DSV32_GPU_CHECK(gpuMalloc(reinterpret_cast<void**>(&p), std::max<size_t>(count, 1) * sizeof(T))); }
    explicit Dev(const std::vector<T>& h) : Dev(h.size()) { put(h); }
    Dev(const Dev&) = delete;
    Dev& operator=(const Dev&) = delete;
    ~Dev() {
        if (p) (void)gpuFree(p);
    }
    void put(const std::vector<T>& h) {
        if (!h.empty()) DSV32_GPU_CHECK(gpuMemcpy(p, h.data(), h.size() * sizeof(T), gpuMemcpyHostToDevice));
    }
    std::vector<T> get() const {
        DSV32_GPU_CHECK(gpuDeviceSynchronize());
        std::vector<T> h(n);
        if (n) DSV32_GPU_CHECK(gpuMemcpy(h.data(), p, n * sizeof(T), gpuMemcpyDeviceToHost));
        return h;
    }
};

std::mt19937_64 rng(20261204);

std::vector<float> randn(size_t n, float sd = 1.0f) {
    std::normal_distribution<float> d(0.0f, sd);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

bool same_bits(float a, float b) {
    uint32_t x, y;
    std::memcpy(&x, &a, 4);
    std::memcpy(&y, &b, 4);
    return x == y || (std::isnan(a) && std::isnan(b));
}

// Counts mismatches of got vs ref under |got - ref| <= tol(i); reports the first few.
template <typename Tol>
int compare(const char* what, const std::vector<float>& got, const std::vector<float>& ref, Tol tol) {
    int bad = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        const bool ok = same_bits(got[i], ref[i]) || std::fabs(double(got[i]) - double(ref[i])) <= tol(i);
        if (!ok && bad++ < 5)
            std::fprintf(stderr, "  %s[%zu]: gpu %.9g cpu %.9g (tol %.3g)\n", what, i, double(got[i]), double(ref[i]), double(tol(i)));
    }
    return bad;
}
int compare_exact(const char* what, const std::vector<float>& got, const std::vector<float>& ref) {
    return compare(what, got, ref, [](size_t) { return -1.0; });
}
// Within ulps units in the last place of the reference (plus an absolute floor for values near 0).
int compare_ulps(const char* what, const std::vector<float>& got, const std::vector<float>& ref, double ulps, double floor = 1e-30) {
    return compare(what, got, ref, [&](size_t i) { return std::max(ulps * std::ldexp(1.0, std::ilogb(std::fabs(ref[i]) + 1e-38f) - 23), floor); });
}

// ---- host weights in the three formats, mirrored on the device ----
struct HostWeight {
    kernels::WeightMat mat;
    std::vector<float> f32;
    std::vector<uint16_t> bf16;
    std::vector<uint8_t> fp8;
    std::vector<float> scale;
};

HostWeight make_weight(GpuWType t, int out, int in, int ld) {
    HostWeight h;
    const size_t stride = size_t(ld > 0 ? ld : in);
    const size_t n = size_t(out) * stride;
    std::uniform_int_distribution<int> byte(0, 255);
    h.mat.type = kernels::WType(int(t));
    h.mat.out = out;
    h.mat.in = in;
    h.mat.ld = ld;
    if (t == GpuWType::F32) {
        h.f32 = randn(n, 0.1f);
        h.mat.data = h.f32.data();
    } else if (t == GpuWType::BF16) {
        const auto v = randn(n, 0.1f);
        h.bf16.resize(n);
        for (size_t i = 0; i < n; ++i) h.bf16[i] = kernels::f32_to_bf16(v[i]);
        h.mat.data = h.bf16.data();
    } else {
        h.fp8.resize(n);
        for (auto& c : h.fp8) {
            c = uint8_t(byte(rng));
            if ((c & 0x7F) == 0x7F) c = 0x3A;  // no NaN codes in weights
        }
        const int sc = (int(stride) + 127) / 128 + 1;  // a wider scale row than needed: scale_cols is a stride
        h.scale.resize(size_t((out + 127) / 128) * sc);
        std::uniform_int_distribution<int> ex(-12, -4);
        for (auto& s : h.scale) s = std::ldexp(1.0f, ex(rng));
        h.mat.data = h.fp8.data();
        h.mat.scale = h.scale.data();
        h.mat.scale_cols = sc;
    }
    return h;
}

struct DeviceWeight {
    Dev<uint8_t> data;
    Dev<float> scale;
    GpuWeight view;
    explicit DeviceWeight(const HostWeight& h)
        : data(h.fp8.size() + h.bf16.size() * 2 + h.f32.size() * 4), scale(h.scale) {
        std::vector<uint8_t> bytes(data.n);
        if (!h.f32.empty()) std::memcpy(bytes.data(), h.f32.data(), bytes.size());
        if (!h.bf16.empty()) std::memcpy(bytes.data(), h.bf16.data(), bytes.size());
        if (!h.fp8.empty()) std::memcpy(bytes.data(), h.fp8.data(), bytes.size());
        data.put(bytes);
        view.type = GpuWType(int(h.mat.type));
        view.out = h.mat.out;
        view.in = h.mat.in;
        view.ld = h.mat.ld;
        view.data = data.p;
        view.scale = h.scale.empty() ? nullptr : scale.p;
        view.scale_cols = h.mat.scale_cols;
    }
};

const char* type_name(GpuWType t) { return t == GpuWType::F32 ? "f32" : t == GpuWType::BF16 ? "bf16" : "fp8"; }

// ================================ host-only: argument validation ================================

template <typename F>
void expect_invalid(const char* what, const std::string& needle, F f) {
    ++g_checks;
    try {
        f();
        ++g_failures;
        std::fprintf(stderr, "%s: no exception (expected invalid_argument naming '%s')\n", what, needle.c_str());
    } catch (const std::invalid_argument& e) {
        if (std::string(e.what()).find(needle) == std::string::npos) {
            ++g_failures;
            std::fprintf(stderr, "%s: message '%s' does not name '%s'\n", what, e.what(), needle.c_str());
        }
    } catch (const std::exception& e) {
        ++g_failures;
        std::fprintf(stderr, "%s: wrong exception: %s\n", what, e.what());
    }
}

void test_validation() {
    float* fp = reinterpret_cast<float*>(uintptr_t(256));  // never dereferenced: validation throws before launching
    int32_t* ip = reinterpret_cast<int32_t*>(uintptr_t(256));
    uint8_t* bp = reinterpret_cast<uint8_t*>(uintptr_t(256));
    GpuWeight w;
    w.type = GpuWType::F32;
    w.out = 4;
    w.in = 8;
    w.data = fp;
    expect_invalid("embedding tokens", "tokens", [&] { gpu::embedding(w, nullptr, 2, 0, fp, nullptr); });
    expect_invalid("embedding M", "M", [&] { gpu::embedding(w, ip, -1, 0, fp, nullptr); });
    expect_invalid("rmsnorm n", "n", [&] { gpu::rmsnorm(fp, fp, fp, 1, 0, 1e-6f, nullptr); });
    expect_invalid("rmsnorm w", "w is null", [&] { gpu::rmsnorm(fp, nullptr, fp, 1, 4, 1e-6f, nullptr); });
    expect_invalid("add_rmsnorm alias", "alias", [&] { gpu::add_rmsnorm(fp, fp, fp, fp, 1, 4, 1e-6f, false, nullptr); });
    expect_invalid("layernorm b", "b is null", [&] { gpu::layernorm(fp, fp, nullptr, fp, 1, 4, 1e-6f, nullptr); });
    expect_invalid("linear x", "x is null", [&] { gpu::linear(nullptr, w, fp, 1, nullptr); });
    expect_invalid("linear ldx", "ldx", [&] { gpu::linear(fp, w, fp, 1, nullptr, 4, 0); });
    GpuWeight nd = w;
    nd.data = nullptr;
    expect_invalid("linear data", "data is null", [&] { gpu::linear(fp, nd, fp, 1, nullptr); });
    GpuWeight f8 = w;
    f8.type = GpuWType::FP8;
    expect_invalid("fp8 without scale", "scale", [&] { gpu::linear(fp, f8, fp, 1, nullptr); });
    f8.scale = fp;
    f8.scale_cols = 0;
    expect_invalid("fp8 scale_cols", "scale_cols", [&] { gpu::linear(fp, f8, fp, 1, nullptr); });
    GpuWeight badld = w;
    badld.ld = 3;
    expect_invalid("weight ld", "ld 3 < in 8", [&] { gpu::linear(fp, badld, fp, 1, nullptr); });
    expect_invalid("grouped offsets", "offsets", [&] { gpu::grouped_linear(fp, &w, 2, nullptr, ip, fp, 4, 8, 4, 4, nullptr); });
    expect_invalid("grouped N", "N", [&] { gpu::grouped_linear(fp, &w, 2, ip, ip, fp, 0, 8, 4, 4, nullptr); });
    expect_invalid("act_quant n", "multiple of 128", [&] { gpu::act_quant(fp, 1, 100, true, bp, fp, nullptr); });
    expect_invalid("act_quant scales", "scales", [&] { gpu::act_quant(fp, 1, 128, true, bp, nullptr, nullptr); });
    expect_invalid("fp8_gemm type", "FP8", [&] { gpu::fp8_gemm(bp, fp, w, fp, 1, nullptr); });
    expect_invalid("rope dim", "dim must be even", [&] { gpu::rope(fp, 1, 1, 8, 0, 5, ip, fp, true, nullptr); });
    expect_invalid("rope stride", "stride", [&] { gpu::rope(fp, 1, 1, 8, 4, 8, ip, fp, true, nullptr); });
    expect_invalid("rope positions", "positions", [&] { gpu::rope(fp, 1, 1, 8, 0, 8, nullptr, fp, true, nullptr); });
    expect_invalid("hadamard x", "x is null", [&] { gpu::hadamard128(nullptr, 1, nullptr); });
    expect_invalid("softmax rows", "rows", [&] { gpu::softmax(fp, -2, 4, nullptr); });
    expect_invalid("swiglu b", "b is null", [&] { gpu::swiglu(fp, nullptr, fp, 4, false, nullptr); });
    expect_invalid("moe_route groups", "n_group", [&] { gpu::moe_route(fp, nullptr, 1, 10, 3, 1, 1, 1.0, gpu::GateScore::Sigmoid, ip, fp, nullptr); });
    expect_invalid("moe_route topk", "topk must be", [&] { gpu::moe_route(fp, nullptr, 1, 16, 4, 1, 5, 1.0, gpu::GateScore::Sigmoid, ip, fp, nullptr); });
    expect_invalid("moe_route topk_group", "topk_group", [&] { gpu::moe_route(fp, nullptr, 1, 16, 4, 5, 1, 1.0, gpu::GateScore::Sigmoid, ip, fp, nullptr); });
    expect_invalid("moe_bucket slot_of", "slot_of", [&] { gpu::moe_bucket(ip, fp, 2, 2, 4, ip, ip, fp, nullptr, nullptr); });
    expect_invalid("moe_combine topk", "topk", [&] { gpu::moe_combine(fp, fp, ip, fp, ip, 1, 64, 8, nullptr); });
    expect_invalid("topk k", "k must be", [&] { gpu::topk_select(fp, 1, 10, 10, nullptr, 11, ip, ip, nullptr); });
    expect_invalid("topk ld", "ld", [&] { gpu::topk_select(fp, 1, 10, 9, nullptr, 2, ip, ip, nullptr); });
    expect_invalid("sample params", "params", [&] { gpu::sample(fp, 1, 10, 10, nullptr, ip, ip, nullptr); });
    expect_invalid("linear_fp8 scratch", "scratch is null", [&] { gpu::linear_fp8(fp, w, fp, 1, nullptr, 1024, nullptr); });
    expect_invalid("argmax vocab", "vocab", [&] { gpu::argmax(fp, 1, 0, 0, ip, nullptr); });
    // A valid weight passes validate_weight.
    ++g_checks;
    try {
        gpu::validate_weight(w, "ok");
    } catch (const std::exception& e) {
        ++g_failures;
        std::fprintf(stderr, "validate_weight rejected a valid view: %s\n", e.what());
    }
}

// ================================ device tests ================================

void test_embedding() {
    for (GpuWType t : {GpuWType::F32, GpuWType::BF16, GpuWType::FP8}) {
        const int V = 300, D = 200, ld = 232, vocab0 = 1000;
        HostWeight h = make_weight(t, V, D, ld);
        DeviceWeight d(h);
        std::vector<int32_t> tok = {1000, 1299, 999, 1300, 1150, -5, 1001};  // incl. rows not in this shard
        Dev<int32_t> dtok(tok);
        Dev<float> y(tok.size() * D);
        gpu::embedding(d.view, dtok.p, int(tok.size()), vocab0, y.p, nullptr);
        std::vector<float> ref(tok.size() * D, 0.0f);
        for (size_t m = 0; m < tok.size(); ++m) {
            const int row = tok[m] - vocab0;
            if (row >= 0 && row < V) kernels::dequant_row(h.mat, row, 0, D, ref.data() + m * D);
        }
        CHECK_MSG(compare_exact("embedding", y.get(), ref) == 0, "embedding %s: exact", type_name(t));
    }
}

void test_norms() {
    for (int n : {1, 7, 129, 7168}) {
        const int rows = 5;
        const float eps = 1e-6f;
        auto x = randn(size_t(rows) * n, 3.0f), w = randn(size_t(n)), b = randn(size_t(n)), t = randn(size_t(rows) * n);
        Dev<float> dx(x), dw(w), db(b), dy(x.size()), dt(t);
        std::vector<float> ref(x.size());
        gpu::rmsnorm(dx.p, dw.p, dy.p, rows, n, eps, nullptr);
        kernels::rmsnorm(x.data(), w.data(), ref.data(), rows, n, eps);
        // The scale factor differs by at most 1 ulp (double sum order), then two f32 products: 3 ulp.
        CHECK_MSG(compare_ulps("rmsnorm", dy.get(), ref, 3) == 0, "rmsnorm n=%d", n);
        for (bool round : {false, true}) {
            Dev<float> dr(x);
            std::vector<float> resid = x, yref(x.size());
            gpu::add_rmsnorm(dr.p, dt.p, dw.p, dy.p, rows, n, eps, round, nullptr);
            for (size_t i = 0; i < resid.size(); ++i) resid[i] += t[i];
            if (round) kernels::round_bf16(resid.data(), resid.size());
            kernels::rmsnorm(resid.data(), w.data(), yref.data(), rows, n, eps);
            if (round) kernels::round_bf16(yref.data(), yref.size());
            CHECK_MSG(compare_exact("add_rmsnorm resid", dr.get(), resid) == 0, "add_rmsnorm resid n=%d round=%d", n, int(round));
            // bf16 output: a 3-ulp f32 difference can cross a bf16 rounding boundary: 1 bf16 ulp = 2^16 f32 ulps.
            CHECK_MSG(compare_ulps("add_rmsnorm y", dy.get(), yref, round ? 65536.0 : 3.0) == 0, "add_rmsnorm y n=%d round=%d", n, int(round));
        }
        gpu::layernorm(dx.p, dw.p, db.p, dy.p, rows, n, eps, nullptr);
        kernels::layernorm(x.data(), w.data(), b.data(), ref.data(), rows, n, eps);
        // mean / var in double in another order: the f32 normalised value within 1 ulp; then * w + b (cancellation
        // possible): relative to |t w| + |b|.
        {
            std::vector<float> xn(x.size());
            CHECK_MSG(compare("layernorm", dy.get(), ref, [&](size_t i) {
                          const size_t c = i % size_t(n);
                          return 4e-7 * (std::fabs(double(ref[i]) - b[c]) + std::fabs(double(b[c]))) + 1e-30;
                      }) == 0,
                      "layernorm n=%d", n);
        }
    }
}

// Tolerance of a dot product of K terms in f32 in a different order: 1e-5 * sum |x w| (+ tiny).
std::vector<double> abs_dot(const std::vector<float>& x, const HostWeight& h, int M, int ldx) {
    const int N = h.mat.out, K = h.mat.in;
    std::vector<double> s(size_t(M) * N);
    std::vector<float> row(static_cast<size_t>(K));
    for (int n = 0; n < N; ++n) {
        kernels::dequant_row(h.mat, n, 0, K, row.data());
        for (int m = 0; m < M; ++m) {
            double a = 0;
            for (int k = 0; k < K; ++k) a += std::fabs(double(x[size_t(m) * ldx + k]) * row[size_t(k)]);
            s[size_t(m) * N + n] = a;
        }
    }
    return s;
}

void test_linear() {
    struct Case {
        GpuWType t;
        int M, N, K, ld;
    };
    const Case cases[] = {{GpuWType::F32, 1, 200, 300, 0},   {GpuWType::BF16, 3, 129, 257, 300}, {GpuWType::FP8, 8, 256, 384, 0},
                          {GpuWType::FP8, 1, 130, 200, 256}, {GpuWType::F32, 9, 65, 33, 40},     {GpuWType::BF16, 70, 200, 300, 0},
                          {GpuWType::FP8, 131, 300, 512, 640},
                          // the FP8 streaming GEMV (kernels/gemv_fp8.cuh): several x stages of 1024 columns, a scalar
                          // tail (K % 16 != 0), scale rows crossed (N > 128), M = 1 and the largest M of the path
                          {GpuWType::FP8, 3, 260, 2100, 2112}, {GpuWType::FP8, 8, 136, 1040, 0}, {GpuWType::FP8, 1, 129, 3072, 0},
                          // FP8 rows not 16-byte aligned (ld 200): the per-element GEMV
                          {GpuWType::FP8, 2, 70, 196, 200}};
    for (const Case& c : cases) {
        HostWeight h = make_weight(c.t, c.N, c.K, c.ld);
        DeviceWeight d(h);
        const int ldx = c.K + 3, ldy = c.N + 5;  // strided activations
        auto x = randn(size_t(c.M) * ldx);
        Dev<float> dx(x), dy(size_t(c.M) * ldy);
        gpu::linear(dx.p, d.view, dy.p, c.M, nullptr, ldx, ldy);
        std::vector<float> xc(size_t(c.M) * c.K), ref(size_t(c.M) * c.N);
        for (int m = 0; m < c.M; ++m) std::copy_n(x.data() + size_t(m) * ldx, c.K, xc.data() + size_t(m) * c.K);
        kernels::linear_rows_scalar(xc.data(), h.mat, ref.data(), c.M, 0, c.N);
        const auto got = dy.get();
        std::vector<float> g(ref.size());
        for (int m = 0; m < c.M; ++m) std::copy_n(got.data() + size_t(m) * ldy, c.N, g.data() + size_t(m) * c.N);
        const auto mag = abs_dot(x, h, c.M, ldx);
        CHECK_MSG(compare("linear", g, ref, [&](size_t i) { return 1e-5 * mag[i] + 1e-30; }) == 0, "linear %s M=%d N=%d K=%d ld=%d",
                  type_name(c.t), c.M, c.N, c.K, c.ld);
    }
}

void test_grouped_linear() {
    for (GpuWType t : {GpuWType::BF16, GpuWType::FP8}) {
        const int G = 5, N = 96, K = 256, S = 70;
        std::vector<HostWeight> hs;
        std::vector<std::unique_ptr<DeviceWeight>> ds;
        std::vector<GpuWeight> views;
        for (int g = 0; g < G; ++g) {
            hs.push_back(make_weight(t, N, K, 0));
            ds.push_back(std::make_unique<DeviceWeight>(hs.back()));
            views.push_back(ds.back()->view);
        }
        for (auto& h : hs) {  // the vectors moved: re-point the views' host data
            h.mat.data = t == GpuWType::FP8 ? static_cast<const void*>(h.fp8.data()) : static_cast<const void*>(h.bf16.data());
            if (t == GpuWType::FP8) h.mat.scale = h.scale.data();
        }
        // Group sizes 3, 0, 70 (> one 64-row tile), 1, 5; rows = token ids (gather).
        const std::vector<int32_t> sizes = {3, 0, 70, 1, 5};
        std::vector<int32_t> offsets(1, 0), rows;
        std::uniform_int_distribution<int> tk(0, S - 1);
        for (int g = 0; g < G; ++g) {
            offsets.push_back(offsets.back() + sizes[size_t(g)]);
            for (int j = 0; j < sizes[size_t(g)]; ++j) rows.push_back(tk(rng));
        }
        const int slots = offsets.back();
        auto x = randn(size_t(S) * K);
        Dev<float> dx(x), dy(size_t(slots) * N);
        Dev<GpuWeight> dviews(views);
        Dev<int32_t> doff(offsets), drows(rows);
        gpu::grouped_linear(dx.p, dviews.p, G, doff.p, drows.p, dy.p, N, K, slots, S, nullptr);
        std::vector<float> ref(size_t(slots) * N);
        std::vector<double> mag(ref.size());
        for (int g = 0; g < G; ++g)
            for (int j = offsets[size_t(g)]; j < offsets[size_t(g) + 1]; ++j) {
                std::vector<float> xr(x.begin() + long(rows[size_t(j)]) * K, x.begin() + long(rows[size_t(j)] + 1) * K);
                kernels::linear_rows_scalar(xr.data(), hs[size_t(g)].mat, ref.data() + size_t(j) * N, 1, 0, N);
                const auto m = abs_dot(xr, hs[size_t(g)], 1, K);
                std::copy(m.begin(), m.end(), mag.begin() + long(j) * N);
            }
        CHECK_MSG(compare("grouped_linear", dy.get(), ref, [&](size_t i) { return 1e-5 * mag[i] + 1e-30; }) == 0, "grouped_linear %s",
                  type_name(t));
    }
}

void test_fp8() {
    // e4m3 rounding: every code's value, the midpoints between neighbours (ties to even), beyond-range and random.
    std::vector<float> v;
    for (int c = 0; c < 0x7F; ++c) {
        const float a = kernels::e4m3_to_f32(uint8_t(c)), b = kernels::e4m3_to_f32(uint8_t(c + 1));
        for (float s : {1.0f, -1.0f}) {
            v.push_back(s * a);
            if (c + 1 < 0x7F) {
                v.push_back(s * (a + b) / 2);
                v.push_back(s * std::nextafter((a + b) / 2, 0.0f));
                v.push_back(s * std::nextafter((a + b) / 2, 1e9f));
            }
        }
    }
    for (float f : {448.0f, 449.0f, 464.0f, 1e30f, INFINITY, -INFINITY, NAN, -0.0f, 1e-30f, std::ldexp(1.0f, -10), std::ldexp(3.0f, -11)})
        v.push_back(f);
    for (float f : randn(4096, 30.0f)) v.push_back(f);
    {
        Dev<float> dv(v);
        Dev<uint8_t> dc(v.size());
        gpu::f32_to_e4m3(dv.p, dc.p, v.size(), nullptr);
        const auto got = dc.get();
        int bad = 0;
        for (size_t i = 0; i < v.size(); ++i)
            if (got[i] != kernels::f32_to_e4m3(v[i]) && bad++ < 5)
                std::fprintf(stderr, "  e4m3(%.9g): gpu 0x%02x cpu 0x%02x\n", double(v[i]), got[i], kernels::f32_to_e4m3(v[i]));
        CHECK_MSG(bad == 0, "f32_to_e4m3 exact over %zu values", v.size());
    }
    // act_quant and its round trip (both scale modes), with blocks of zeros, huge and tiny values.
    for (bool ue8m0 : {true, false}) {
        const int rows = 7, n = 512;
        auto x = randn(size_t(rows) * n, 2.0f);
        std::fill(x.begin(), x.begin() + 128, 0.0f);                   // all-zero block: amax floor 1e-4
        for (int i = 128; i < 256; ++i) x[size_t(i)] *= 1e5f;          // large
        for (int i = 256; i < 384; ++i) x[size_t(i)] *= 1e-7f;         // tiny (subnormal e4m3 codes)
        Dev<float> dx(x), dq(x), ds(size_t(rows) * n / 128);
        Dev<uint8_t> dc(x.size());
        gpu::act_quant(dx.p, rows, n, ue8m0, dc.p, ds.p, nullptr);
        std::vector<uint8_t> codes(x.size());
        std::vector<float> scales(size_t(rows) * n / 128);
        kernels::act_quant(x.data(), rows, n, ue8m0, codes.data(), scales.data());
        CHECK_MSG(dc.get() == codes, "act_quant codes exact (ue8m0=%d)", int(ue8m0));
        CHECK_MSG(compare_exact("act_quant scales", ds.get(), scales) == 0, "act_quant scales exact (ue8m0=%d)", int(ue8m0));
        gpu::act_quant_roundtrip(dq.p, rows, n, ue8m0, nullptr);
        std::vector<float> rt = x;
        kernels::act_quant_roundtrip(rt.data(), rows, n, ue8m0);
        CHECK_MSG(compare_exact("act_quant_roundtrip", dq.get(), rt) == 0, "act_quant_roundtrip exact (ue8m0=%d)", int(ue8m0));
    }
    // round_bf16: exact, incl. ties, NaN, inf.
    {
        auto x = randn(10000, 5.0f);
        x.push_back(1.00390625f);
        x.push_back(1.01171875f);
        x.push_back(NAN);
        x.push_back(INFINITY);
        x.push_back(-0.0f);
        Dev<float> dx(x);
        gpu::round_bf16(dx.p, x.size(), nullptr);
        kernels::round_bf16(x.data(), x.size());
        CHECK_MSG(compare_exact("round_bf16", dx.get(), x) == 0, "round_bf16 exact");
    }
    // fp8_gemm vs fp8_gemm_ref: per-K-block f32 sums in another order, then bf16: within one bf16 ulp of the
    // reference, or 1e-5 of the magnitude sum (a sum near a bf16 rounding boundary).
    for (int M : {1, 5, 67}) {
        const int N = 200, K = 384;
        HostWeight h = make_weight(GpuWType::FP8, N, K, 512);
        DeviceWeight d(h);
        auto x = randn(size_t(M) * K, 3.0f);
        std::vector<uint8_t> a8(x.size());
        std::vector<float> as(size_t(M) * K / 128), ref(size_t(M) * N);
        kernels::act_quant(x.data(), M, K, true, a8.data(), as.data());
        kernels::fp8_gemm_ref(a8.data(), as.data(), h.mat, ref.data(), M);
        Dev<uint8_t> da(a8);
        Dev<float> das(as), dc(ref.size());
        gpu::fp8_gemm(da.p, das.p, d.view, dc.p, M, nullptr);
        std::vector<double> mag(ref.size());
        const float* tab = kernels::e4m3_table();
        for (int m = 0; m < M; ++m)
            for (int n = 0; n < N; ++n) {
                double s = 0;
                for (int k = 0; k < K; ++k)
                    s += std::fabs(double(tab[a8[size_t(m) * K + k]]) * tab[h.fp8[size_t(n) * 512 + k]] * as[size_t(m) * 3 + k / 128] *
                                   h.scale[size_t(n / 128) * h.mat.scale_cols + k / 128]);
                mag[size_t(m) * N + n] = s;
            }
        CHECK_MSG(compare("fp8_gemm", dc.get(), ref, [&](size_t i) { return std::fabs(ref[i]) / 128.0 + 1e-5 * mag[i] + 1e-30; }) == 0,
                  "fp8_gemm M=%d", M);
    }
}

// gpu::linear_fp8 vs kernels::linear_fp8 (the engine's fp8-mode linear), FP8 (act_quant + fp8_gemm) and BF16 paths:
// bf16 outputs within one bf16 ulp, or 1e-5 of the magnitude sum (f32 sums in another order near a rounding edge).
void test_linear_fp8() {
    struct Case {
        GpuWType t;
        int M, N, K, ld;
    };
    const Case cases[] = {{GpuWType::FP8, 1, 200, 256, 384}, {GpuWType::FP8, 20, 130, 384, 0}, {GpuWType::BF16, 3, 70, 100, 0},
                          {GpuWType::FP8, 2, 64, 200, 0}};  // FP8 with in % 128 != 0: the bf16 path
    for (const Case& c : cases) {
        HostWeight h = make_weight(c.t, c.N, c.K, c.ld);
        DeviceWeight d(h);
        auto x = randn(size_t(c.M) * c.K, 2.0f);
        Dev<float> dx(x), dy(size_t(c.M) * c.N);
        const size_t sb = gpu::linear_fp8_scratch_bytes(d.view, c.M);
        Dev<uint8_t> scratch(sb);
        gpu::linear_fp8(dx.p, d.view, dy.p, c.M, scratch.p, sb, nullptr);
        std::vector<float> ref(size_t(c.M) * c.N);
        kernels::linear_fp8(x.data(), h.mat, ref.data(), c.M, 1);
        const auto mag = abs_dot(x, h, c.M, c.K);
        CHECK_MSG(compare("linear_fp8", dy.get(), ref, [&](size_t i) { return std::fabs(ref[i]) / 128.0 + 1e-5 * mag[i] + 1e-30; }) == 0,
                  "linear_fp8 %s M=%d N=%d K=%d", type_name(c.t), c.M, c.N, c.K);
        expect_invalid("linear_fp8 scratch", "scratch_bytes", [&] { gpu::linear_fp8(dx.p, d.view, dy.p, c.M, scratch.p, sb - 1, nullptr); });
    }
}

void test_rope() {
    Config cfg;
    cfg.qk_rope_head_dim = 64;
    cfg.rope_theta = 10000.0;
    cfg.rope_factor = 40;
    cfg.original_max_position_embeddings = 4096;
    cfg.beta_fast = 32;
    cfg.beta_slow = 1;
    for (bool yarn : {false, true})
        for (bool inter : {true, false}) {
            Rope r;
            r.init(cfg, yarn);
            const int rows = 9, heads = 3, stride = 192, offset = 128, dim = 64;
            auto x = randn(size_t(rows) * heads * stride);
            std::vector<int32_t> pos = {0, 1, 2, 7, 100, 4095, 4096, 65000, 163839};
            Dev<float> dx(x), df(r.freqs);
            Dev<int32_t> dp(pos);
            gpu::rope(dx.p, rows, heads, stride, offset, dim, dp.p, df.p, inter, nullptr);
            for (int i = 0; i < rows; ++i)
                for (int h = 0; h < heads; ++h) r.apply(x.data() + (size_t(i) * heads + h) * stride + offset, pos[size_t(i)], inter);
            // cos / sin in double (CUDA: within 2 ulp of double) rounded to f32: the same f32 but at rounding
            // boundaries (1 ulp); then two products and a sum: 4 ulp of the larger input.
            CHECK_MSG(compare("rope", dx.get(), x, [&](size_t) { return 1e-6 * 4.0; }) == 0, "rope yarn=%d interleaved=%d", int(yarn), int(inter));
        }
}

void test_hadamard() {
    const int rows = 11;
    auto x = randn(size_t(rows) * 128);
    Dev<float> dx(x);
    gpu::hadamard128(dx.p, rows, nullptr);
    for (int r = 0; r < rows; ++r) kernels::hadamard128(x.data() + size_t(r) * 128);
    CHECK_MSG(compare_exact("hadamard128", dx.get(), x) == 0, "hadamard128 exact");
}

void test_elementwise() {
    {  // softmax, incl. -inf entries and an all -inf row
        const int rows = 4, n = 1000;
        auto x = randn(size_t(rows) * n, 4.0f);
        for (int i = 0; i < n; i += 3) x[size_t(i)] = -INFINITY;
        for (int i = 0; i < n; ++i) x[size_t(2 * n + i)] = -INFINITY;
        Dev<float> dx(x);
        gpu::softmax(dx.p, rows, n, nullptr);
        for (int r = 0; r < rows; ++r) kernels::softmax(x.data() + size_t(r) * n, n);
        // exp within 1 ulp either side, the sum in double in another order: 4 ulp.
        CHECK_MSG(compare_ulps("softmax", dx.get(), x, 4) == 0, "softmax");
    }
    {
        auto a = randn(5000, 4.0f), b = randn(5000);
        Dev<float> da(a), db(b), dy(a.size()), ds(a);
        gpu::silu(ds.p, a.size(), nullptr);
        std::vector<float> s(a.size()), y(a.size());
        for (size_t i = 0; i < a.size(); ++i) s[i] = kernels::silu(a[i]);
        CHECK_MSG(compare_ulps("silu", ds.get(), s, 2, 1e-37) == 0, "silu (2 ulp: expf)");
        for (bool round : {false, true}) {
            gpu::swiglu(da.p, db.p, dy.p, a.size(), round, nullptr);
            for (size_t i = 0; i < a.size(); ++i) y[i] = kernels::silu(a[i]) * b[i];
            if (round) kernels::round_bf16(y.data(), y.size());
            CHECK_MSG(compare_ulps("swiglu", dy.get(), y, round ? 65536.0 : 3.0, 1e-37) == 0, "swiglu round=%d", int(round));
        }
        Dev<float> dacc(a);
        gpu::add_scaled(dacc.p, db.p, 0.37f, a.size(), nullptr);
        std::vector<float> acc = a;
        for (size_t i = 0; i < a.size(); ++i) {
            const float p = 0.37f * b[i];
            acc[i] = acc[i] + p;
        }
        CHECK_MSG(compare_exact("add_scaled", dacc.get(), acc) == 0, "add_scaled exact");
        gpu::scale(dacc.p, -1.5f, a.size(), nullptr);
        for (auto& v : acc) v *= -1.5f;
        CHECK_MSG(compare_exact("scale", dacc.get(), acc) == 0, "scale exact");
    }
}

// The routing of model/moe.cpp (Model::moe, the per-token loop), for one token: ids in selection order, weights.
void route_ref(const float* logits, const float* bias, int E, int G, int kg, int ke, double rsf, bool softmax_scores,
               std::vector<int>* ids, std::vector<float>* wts) {
    const int per = E / G;
    std::vector<float> sc(static_cast<size_t>(E)), sb(static_cast<size_t>(E)), gs(static_cast<size_t>(G));
    if (softmax_scores) {
        std::copy(logits, logits + E, sc.begin());
        kernels::softmax(sc.data(), E);
    } else {
        for (int e = 0; e < E; ++e) sc[size_t(e)] = 1.0f / (1.0f + std::exp(-logits[e]));
    }
    for (int e = 0; e < E; ++e) sb[size_t(e)] = bias ? sc[size_t(e)] + bias[e] : sc[size_t(e)];
    for (int g = 0; g < G; ++g) {
        const float* v = sb.data() + size_t(g) * per;
        if (bias) {
            float a = -INFINITY, b = -INFINITY;
            for (int j = 0; j < per; ++j) {
                if (v[j] > a) {
                    b = a;
                    a = v[j];
                } else if (v[j] > b) {
                    b = v[j];
                }
            }
            gs[size_t(g)] = a + b;
        } else {
            gs[size_t(g)] = *std::max_element(v, v + per);
        }
    }
    std::vector<int> gorder(static_cast<size_t>(G)), eorder(static_cast<size_t>(E));
    std::iota(gorder.begin(), gorder.end(), 0);
    std::stable_sort(gorder.begin(), gorder.end(), [&](int a, int b) { return gs[size_t(a)] > gs[size_t(b)]; });
    std::vector<char> keep(size_t(G), 0);
    for (int i = 0; i < kg; ++i) keep[size_t(gorder[size_t(i)])] = 1;
    std::iota(eorder.begin(), eorder.end(), 0);
    auto key = [&](int e) { return keep[size_t(e / per)] ? sb[size_t(e)] : -INFINITY; };
    std::stable_sort(eorder.begin(), eorder.end(), [&](int a, int b) { return key(a) > key(b); });
    double sum = 0;
    for (int i = 0; i < ke; ++i) sum += sc[size_t(eorder[size_t(i)])];
    ids->assign(eorder.begin(), eorder.begin() + ke);
    wts->clear();
    for (int i = 0; i < ke; ++i) {
        const double s = sc[size_t(eorder[size_t(i)])];
        wts->push_back(softmax_scores ? float(s * rsf) : float(s / sum * rsf));
    }
}

void test_moe() {
    struct Case {
        int E, G, kg, ke;
        bool bias, softmax;
    };
    const Case cases[] = {{64, 8, 3, 6, true, false}, {256, 8, 4, 8, true, false}, {64, 8, 3, 6, false, false}, {16, 1, 1, 4, false, true},
                          {32, 4, 2, 5, true, true}};
    for (const Case& c : cases) {
        const int S = 37, D = 96;
        auto logits = randn(size_t(S) * c.E, 2.0f);
        for (int i = 0; i < 40; ++i) logits[size_t(i) * 3] = 0.5f;  // ties among the scores
        auto bias = randn(size_t(c.E), 0.05f);
        const double rsf = 2.5;
        Dev<float> dl(logits), db(bias), dw(size_t(S) * c.ke);
        Dev<int32_t> di(size_t(S) * c.ke);
        gpu::moe_route(dl.p, c.bias ? db.p : nullptr, S, c.E, c.G, c.kg, c.ke, rsf,
                       c.softmax ? gpu::GateScore::Softmax : gpu::GateScore::Sigmoid, di.p, dw.p, nullptr);
        const auto gid = di.get();
        const auto gw = dw.get();
        std::vector<int32_t> rid;
        std::vector<float> rw;
        for (int s = 0; s < S; ++s) {
            std::vector<int> ids;
            std::vector<float> w;
            route_ref(logits.data() + size_t(s) * c.E, c.bias ? bias.data() : nullptr, c.E, c.G, c.kg, c.ke, rsf, c.softmax, &ids, &w);
            rid.insert(rid.end(), ids.begin(), ids.end());
            rw.insert(rw.end(), w.begin(), w.end());
        }
        // ids exact (the scores agree to the bit except where libm's expf and the GPU's double exp round differently:
        // then by 1 ulp, which changes a selection only at an exact tie of distinct logits); weights 4 ulp.
        CHECK_MSG(gid == rid, "moe_route ids exact (E=%d bias=%d softmax=%d)", c.E, int(c.bias), int(c.softmax));
        CHECK_MSG(compare_ulps("moe_route weights", gw, rw, 4) == 0, "moe_route weights (E=%d)", c.E);

        // Bucketing: the CPU's per-expert token lists (tokens ascending), with the weights.
        Dev<int32_t> doff(size_t(c.E) + 1), drows(size_t(S) * c.ke), dslot(size_t(S) * c.ke);
        Dev<float> dsw(size_t(S) * c.ke);
        gpu::moe_bucket(di.p, dw.p, S, c.ke, c.E, doff.p, drows.p, dsw.p, dslot.p, nullptr);
        std::vector<int32_t> off(1, 0), rows, slot_of(size_t(S) * c.ke, -1);
        std::vector<float> sw;
        for (int e = 0; e < c.E; ++e) {
            for (int s = 0; s < S; ++s)
                for (int i = 0; i < c.ke; ++i)
                    if (gid[size_t(s) * c.ke + i] == e) {
                        slot_of[size_t(s) * c.ke + i] = int32_t(rows.size());
                        rows.push_back(s);
                        sw.push_back(gw[size_t(s) * c.ke + i]);
                    }
            off.push_back(int32_t(rows.size()));
        }
        CHECK_MSG(doff.get() == off, "moe_bucket offsets (E=%d)", c.E);
        CHECK_MSG(drows.get() == rows, "moe_bucket rows (E=%d)", c.E);
        CHECK_MSG(dslot.get() == slot_of, "moe_bucket slot_of (E=%d)", c.E);
        CHECK_MSG(compare_exact("moe_bucket weights", dsw.get(), sw) == 0, "moe_bucket weights (E=%d)", c.E);

        // Combine: out (the shared expert's output) += w * y per expert in ascending expert order (moe.cpp).
        auto out = randn(size_t(S) * D), y = randn(size_t(S) * c.ke * D);
        Dev<float> dout(out), dy(y);
        gpu::moe_combine(dout.p, dy.p, di.p, dw.p, dslot.p, S, c.ke, D, nullptr);
        for (int e = 0; e < c.E; ++e)
            for (int j = off[size_t(e)]; j < off[size_t(e) + 1]; ++j) {
                float* o = out.data() + size_t(rows[size_t(j)]) * D;
                for (int d = 0; d < D; ++d) {
                    const float p = sw[size_t(j)] * y[size_t(j) * D + d];
                    o[d] = o[d] + p;
                }
            }
        CHECK_MSG(compare_exact("moe_combine", dout.get(), out) == 0, "moe_combine exact (E=%d)", c.E);
    }
}

// The selection of model/indexer.cpp for one row of scores (nkeys > topk): partial_sort by (score desc,
// position asc), the first k, sorted ascending. Here extended to the GPU's contract: -inf / NaN never selected.
std::vector<int> topk_ref(const float* s, int len, int k) {
    std::vector<int> order;
    for (int t = 0; t < len; ++t)
        if (!std::isnan(s[t]) && s[t] != -INFINITY) order.push_back(t);
    const size_t kk = std::min(size_t(k), order.size());
    std::partial_sort(order.begin(), order.begin() + long(kk), order.end(),
                      [&](int a, int b) { return s[a] > s[b] || (s[a] == s[b] && a < b); });
    std::vector<int> sel(order.begin(), order.begin() + long(kk));
    std::sort(sel.begin(), sel.end());
    return sel;
}

void test_topk() {
    struct Case {
        int rows, n, k;
        bool ties, ragged, masked;
    };
    const Case cases[] = {{3, 1, 1, false, false, false},      {5, 100, 7, false, true, false},   {4, 3000, 2048, true, true, true},
                          {3, 5000, 2048, false, false, false}, {2, 131072 + 77, 2048, false, true, false},
                          {3, 40000, 512, true, false, true},   {6, 300, 300, true, true, true}};
    for (const Case& c : cases) {
        const int ld = c.n + 13;
        auto sc = randn(size_t(c.rows) * ld, 10.0f);
        if (c.ties)
            for (auto& v : sc) v = std::round(v);  // ~60 distinct values: heavy ties at the k-th
        if (c.masked)
            for (size_t i = 0; i < sc.size(); i += 5) sc[i] = -INFINITY;
        if (c.rows > 1 && c.masked) sc[size_t(ld) + 1] = NAN;
        sc[0] = -0.0f;
        if (c.n > 2) sc[1] = 0.0f;  // -0 and +0 are equal scores
        std::vector<int32_t> len(static_cast<size_t>(c.rows));
        std::uniform_int_distribution<int> ln(1, c.n);
        for (auto& l : len) l = c.ragged ? ln(rng) : c.n;
        if (c.ragged) len[0] = std::min(c.n, std::max(1, c.k / 2));  // fewer keys than k
        Dev<float> ds(sc);
        Dev<int32_t> dl(len), di(size_t(c.rows) * c.k), dc(size_t(c.rows));
        gpu::topk_select(ds.p, c.rows, c.n, ld, c.ragged ? dl.p : nullptr, c.k, di.p, dc.p, nullptr);
        const auto idx = di.get();
        const auto cnt = dc.get();
        int bad = 0;
        for (int r = 0; r < c.rows; ++r) {
            const auto ref = topk_ref(sc.data() + size_t(r) * ld, len[size_t(r)], c.k);
            std::vector<int> got(idx.begin() + long(r) * c.k, idx.begin() + long(r) * c.k + cnt[size_t(r)]);
            bool ok = cnt[size_t(r)] == int(ref.size()) && got == ref;
            for (int j = cnt[size_t(r)]; j < c.k; ++j) ok = ok && idx[size_t(r) * c.k + j] == -1;
            if (!ok && bad++ < 3)
                std::fprintf(stderr, "  topk row %d: count gpu %d cpu %zu\n", r, cnt[size_t(r)], ref.size());
        }
        CHECK_MSG(bad == 0, "topk exact (rows=%d n=%d k=%d ties=%d ragged=%d masked=%d)", c.rows, c.n, c.k, int(c.ties), int(c.ragged),
                  int(c.masked));
    }
}

void test_sampling() {
    struct Case {
        int vocab;
        double T;
        int top_k;
        double top_p;
        float sd;
        bool ties, masked;
    };
    const Case cases[] = {{129280, 1.0, 0, 0.95, 3.0f, false, false}, {129280, 0.7, 50, 0.9, 3.0f, false, true},
                          {1000, 1.0, 0, 1.0, 1.0f, true, false},     {1000, 2.0, 5, 1.0, 1.0f, true, true},
                          {5000, 0.0, 0, 0.95, 3.0f, true, false},    {5000, 1.3, 1, 0.95, 3.0f, false, false},
                          {3000, 1.0, 3000, 0.5, 0.01f, false, false}, {3000, 0.5, 0, 1e-9, 5.0f, true, true},
                          {7, 1.0, 0, 0.95, 1.0f, false, false},      {1, 1.0, 0, 0.95, 1.0f, false, false}};
    const int rows = 24;
    for (const Case& c : cases) {
        auto lg = randn(size_t(rows) * c.vocab, c.sd);
        if (c.ties)
            for (auto& v : lg) v = std::round(v * 2) / 2;
        if (c.masked)
            for (size_t i = 0; i < lg.size(); i += 3) lg[i] = -INFINITY;
        std::vector<gpu::GpuSampleParams> ps(static_cast<size_t>(rows));
        std::vector<uint64_t> states(static_cast<size_t>(rows));
        for (int r = 0; r < rows; ++r) {
            states[size_t(r)] = 1000 + uint64_t(r) * 7919;
            uint64_t st = states[size_t(r)];
            ps[size_t(r)].temperature = c.T;
            ps[size_t(r)].top_k = c.top_k;
            ps[size_t(r)].top_p = c.top_p;
            ps[size_t(r)].u = sampling::uniform01(&st);  // the draw the CPU's sample() will make from the same state
        }
        Dev<float> dl(lg);
        Dev<gpu::GpuSampleParams> dp(ps);
        Dev<int32_t> dt(static_cast<size_t>(rows)), dst(static_cast<size_t>(rows));
        gpu::sample(dl.p, rows, c.vocab, c.vocab, dp.p, dt.p, dst.p, nullptr);
        const auto tok = dt.get();
        const auto st = dst.get();
        int bad = 0;
        sampling::Workspace ws;
        for (int r = 0; r < rows; ++r) {
            sampling::Params p;
            p.temperature = c.T;
            p.top_k = c.top_k;
            p.top_p = c.top_p;
            uint64_t s = states[size_t(r)];
            int32_t ref = -2;
            std::string err;
            const bool ok = sampling::sample(lg.data() + size_t(r) * c.vocab, c.vocab, p, &s, ws, &ref, &err);
            if ((!ok || st[size_t(r)] != gpu::SAMPLE_OK || tok[size_t(r)] != ref) && bad++ < 3)
                std::fprintf(stderr, "  sample row %d: gpu %d (status %d) cpu %d (%s)\n", r, tok[size_t(r)], st[size_t(r)], ref, err.c_str());
        }
        CHECK_MSG(bad == 0, "sample == sampling::sample (vocab=%d T=%g top_k=%d top_p=%g ties=%d masked=%d)", c.vocab, c.T, c.top_k, c.top_p,
                  int(c.ties), int(c.masked));
    }
    {  // statuses: NaN, +inf, all -inf, bad params; argmax with ties and masks
        const int V = 64, R = 6;
        auto lg = randn(size_t(R) * V);
        lg[3] = NAN;
        lg[size_t(V) + 9] = INFINITY;
        for (int i = 0; i < V; ++i) lg[size_t(2 * V + i)] = -INFINITY;
        lg[size_t(4 * V) + 10] = lg[size_t(4 * V) + 20] = 9.0f;  // tie at the max: the lower id
        std::vector<gpu::GpuSampleParams> ps(static_cast<size_t>(R));
        ps[3].top_p = 0.0;     // bad
        ps[4].temperature = 0; // greedy
        ps[5].u = 1.0;         // bad: u must be < 1
        Dev<float> dl(lg);
        Dev<gpu::GpuSampleParams> dp(ps);
        Dev<int32_t> dt(static_cast<size_t>(R)), dst(static_cast<size_t>(R)), da(static_cast<size_t>(R));
        gpu::sample(dl.p, R, V, V, dp.p, dt.p, dst.p, nullptr);
        const auto st = dst.get();
        const auto tok = dt.get();
        CHECK(st[0] == gpu::SAMPLE_NAN_LOGIT && tok[0] == -1);
        CHECK(st[1] == gpu::SAMPLE_POS_INF_LOGIT && tok[1] == -1);
        CHECK(st[2] == gpu::SAMPLE_ALL_NEG_INF && tok[2] == -1);
        CHECK(st[3] == gpu::SAMPLE_BAD_PARAMS && tok[3] == -1);
        CHECK(st[4] == gpu::SAMPLE_OK && tok[4] == 10);
        CHECK(st[5] == gpu::SAMPLE_BAD_PARAMS);
        gpu::argmax(dl.p, R, V, V, da.p, nullptr);
        const auto am = da.get();
        CHECK(am[0] == -1 && am[2] == -1 && am[4] == 10);
        CHECK(am[1] == 9);  // +inf is the maximum for argmax
        const int a3 = int(std::max_element(lg.begin() + 3 * V, lg.begin() + 4 * V) - (lg.begin() + 3 * V));
        CHECK(am[3] == a3);
    }
}

}  // namespace

int main(int argc, char** argv) {
    test_validation();
    int n_dev = 0;
    const gpuError_t e = gpuGetDeviceCount(&n_dev);
    if (e != gpuSuccess || n_dev == 0) {
        std::printf("test_gpu_kernels: argument validation: %d checks, %d failures\n", g_checks, g_failures);
        if (g_failures) return 1;
        std::printf("no CUDA device: skipped (%s)\n", e != gpuSuccess ? gpuGetErrorString(e) : "0 devices");
        return 77;
    }
    gpuDeviceProp prop;
    DSV32_GPU_CHECK(gpuGetDeviceProperties(&prop, 0));
    std::printf("device 0: %s (sm_%d%d)\n", prop.name, prop.major, prop.minor);
    // Optional argument: run only the families whose name contains it (e.g. "topk"), for targeted runs.
    const std::string only = argc > 1 ? argv[1] : "";
    const std::pair<const char*, void (*)()> families[] = {
        {"embedding", test_embedding}, {"norms", test_norms},   {"linear", test_linear},       {"grouped_linear", test_grouped_linear},
        {"fp8", test_fp8},             {"linear_fp8", test_linear_fp8}, {"rope", test_rope},   {"hadamard", test_hadamard},
        {"elementwise", test_elementwise}, {"moe", test_moe},   {"topk", test_topk},           {"sampling", test_sampling}};
    try {
        for (const auto& f : families)
            if (only.empty() || std::string(f.first).find(only) != std::string::npos) f.second();
    } catch (const std::exception& ex) {
        std::fprintf(stderr, "test_gpu_kernels: exception: %s\n", ex.what());
        return 1;
    }
    return test_summary("test_gpu_kernels");
}
