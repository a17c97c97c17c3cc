// test_bench.cpp: the kernels the micro-benchmarks share with the engine (model/sparse_kernels.h) against scalar
// references, the benchmark entry points' argument checks (src/main/jni/dsv32_bench.h), and the BLAS baseline loader.
//   test_bench            every check; the BLAS-present checks run when a CBLAS library is installed
//   test_bench absent     run with DSV32_BLAS_LIB naming a missing library: the baseline must report itself
//                         unavailable (DSV32_ERR_UNAVAILABLE, "not available", the name) and the rest still work
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "../../main/jni/dsv32_bench.h"
#include "bench/bench_util.h"
#include "bench/blas_baseline.h"
#include "dsv32/dsv32.h"
#include "kernels/kernels.h"
#include "model/sparse_kernels.h"
#include "test_util.h"

namespace {

using namespace dsv32;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::vector<float> uniform(size_t n, std::mt19937& rng, float a = 1.0f) {
    std::uniform_real_distribution<float> u(-a, a);
    std::vector<float> v(n);
    for (float& x : v) x = u(rng);
    return v;
}

// select_topk against a stable full sort: few levels (many ties, the lower position must win them), continuous
// scores of both signs, ReLU-like ones (most exactly 0, some -0, which ties with +0), all equal, and lengths past the
// indexer's 4096.
void topk_matches_a_full_sort() {
    std::mt19937 rng(1);
    std::normal_distribution<float> nd;
    for (int trial = 0; trial < 80; ++trial) {
        const int n = 1 + int(rng() % (trial % 2 ? 700 : 6000)), k = 1 + int(rng() % n);
        std::vector<float> s(static_cast<size_t>(n));
        for (float& v : s) {
            switch (trial % 4) {
                case 0: v = float(int(rng() % 13)) * 0.5f; break;
                case 1: v = nd(rng) * 100.0f; break;
                case 2: v = rng() % 3 ? (rng() % 2 ? 0.0f : -0.0f) : std::fabs(nd(rng)); break;
                default: v = 1.5f; break;
            }
        }
        std::vector<int> ref(static_cast<size_t>(n));
        std::iota(ref.begin(), ref.end(), 0);
        std::stable_sort(ref.begin(), ref.end(), [&](int a, int b) { return s[size_t(a)] > s[size_t(b)]; });
        ref.resize(size_t(k));
        std::sort(ref.begin(), ref.end());
        std::vector<int> got;
        select_topk(s.data(), n, k, &got);
        CHECK_MSG(got == ref, "n %d k %d", n, k);
    }
}

void route_reference(const std::vector<float>& logits, const float* bias, int G, int kg, int ke, double scale,
                     std::vector<int>* experts, std::vector<float>* weights) {
    const int E = int(logits.size()), per = E / G;
    std::vector<double> sc(static_cast<size_t>(E)), sb(static_cast<size_t>(E)), gs(static_cast<size_t>(G));
    for (int e = 0; e < E; ++e) {
        sc[size_t(e)] = 1.0 / (1.0 + std::exp(-double(logits[size_t(e)])));
        sb[size_t(e)] = sc[size_t(e)] + (bias ? bias[e] : 0.0);
    }
    for (int g = 0; g < G; ++g) {
        std::vector<double> v(sb.begin() + g * per, sb.begin() + (g + 1) * per);
        std::sort(v.rbegin(), v.rend());
        gs[size_t(g)] = bias ? v[0] + (per > 1 ? v[1] : -INFINITY) : v[0];
    }
    std::vector<int> go(static_cast<size_t>(G));
    std::iota(go.begin(), go.end(), 0);
    std::stable_sort(go.begin(), go.end(), [&](int a, int b) { return gs[size_t(a)] > gs[size_t(b)]; });
    std::vector<int> cand;
    for (int e = 0; e < E; ++e)
        if (std::find(go.begin(), go.begin() + kg, e / per) != go.begin() + kg) cand.push_back(e);
    std::stable_sort(cand.begin(), cand.end(), [&](int a, int b) { return sb[size_t(a)] > sb[size_t(b)]; });
    cand.resize(size_t(ke));
    double sum = 0;
    for (int e : cand) sum += sc[size_t(e)];
    *experts = cand;
    weights->clear();
    for (int e : cand) weights->push_back(float(sc[size_t(e)] / sum * scale));
}

void router_matches_the_brute_force_reference() {
    std::mt19937 rng(4);
    RouteScratch scratch;
    const int G = 4, E = 16, kg = 2, ke = 4;
    // route_token against the reference on these logits, without and with the bias: the same experts in the same order.
    auto agree = [&](const std::vector<float>& logits, const std::vector<float>& bias, const char* what, int trial) {
        for (int with_bias = 0; with_bias < 2; ++with_bias) {
            std::vector<int> ref_e, got_e(ke);
            std::vector<float> ref_w, got_w(ke);
            const float* b = with_bias ? bias.data() : nullptr;
            route_reference(logits, b, G, kg, ke, 2.5, &ref_e, &ref_w);
            route_token(logits.data(), b, E, G, kg, ke, 2.5, &scratch, got_e.data(), got_w.data());
            CHECK_MSG(got_e == ref_e, "%s: trial %d bias %d", what, trial, with_bias);
            for (int i = 0; i < ke; ++i) CHECK(std::fabs(got_w[size_t(i)] - ref_w[size_t(i)]) <= 1e-6f);
        }
    };
    for (int trial = 0; trial < 50; ++trial) agree(uniform(E, rng, 3.0f), uniform(E, rng, 0.3f), "random", trial);
    // Ties everywhere (logits from {-1, 0, 1}, a constant bias): equal scores go by increasing index, for the groups
    // and for the experts, as the reference's stable sorts order them.
    for (int trial = 0; trial < 50; ++trial) {
        std::vector<float> logits(static_cast<size_t>(E));
        for (float& v : logits) v = float(int(rng() % 3) - 1);
        agree(logits, std::vector<float>(static_cast<size_t>(E), 0.25f), "ties", trial);
    }
    // By hand: group 0 has the single best expert, group 1 the best pair; with bias the pair's group wins (§8).
    std::vector<float> logits = {4.0f, -4.0f, 1.0f, 1.0f};
    const float zero_bias[4] = {0, 0, 0, 0};
    int e = -1;
    float w = 0;
    route_token(logits.data(), zero_bias, 4, 2, 1, 1, 1.0, &scratch, &e, &w);
    CHECK_MSG(e == 2, "top-2 sum scoring picks group 1, expert 2; got %d", e);
    route_token(logits.data(), nullptr, 4, 2, 1, 1, 1.0, &scratch, &e, &w);
    CHECK_MSG(e == 0 && std::fabs(w - 1.0f) < 1e-6f, "max scoring picks expert 0 with weight 1; got %d %g", e, w);
}

std::string last() { return dsv32_last_error(); }

void entry_points_validate_and_time() {
    double s = 0;
    CHECK(dsv32_bench_indexer(4, 128, 600, 64, 1, 1, &s) == DSV32_OK && s > 0);
    CHECK(dsv32_bench_indexer(4, 128, 30, 64, 1, 1, &s) == DSV32_OK);  // dense: every key selected
    CHECK(dsv32_bench_indexer(0, 128, 600, 64, 1, 1, &s) == DSV32_ERR_INVALID_ARGUMENT && contains(last(), "n_heads must be in [1, 256], got 0"));
    CHECK(dsv32_bench_indexer(4, 1024, 1 << 20, 64, 1, 1, &s) == DSV32_ERR_INVALID_ARGUMENT && contains(last(), "n_keys * head_dim"));
    CHECK(dsv32_bench_indexer(4, 128, 600, 0, 1, 1, &s) == DSV32_ERR_INVALID_ARGUMENT && contains(last(), "topk"));
    CHECK(dsv32_bench_indexer(4, 128, 600, 64, -1, 1, &s) == DSV32_ERR_INVALID_ARGUMENT && contains(last(), "n_threads"));
    CHECK(dsv32_bench_indexer(4, 128, 600, 64, 1, 0, &s) == DSV32_ERR_INVALID_ARGUMENT && contains(last(), "iters"));
    CHECK(dsv32_bench_indexer(4, 128, 600, 64, 1, 1, nullptr) == DSV32_ERR_INVALID_ARGUMENT && contains(last(), "NULL"));

    CHECK(dsv32_bench_sparse_attention(2, 100, 32, 1, 1, &s) == DSV32_OK && s > 0);
    CHECK(dsv32_bench_sparse_attention(2, 10, 32, 2, 1, &s) == DSV32_OK);  // top-k above the context: all keys
    CHECK(dsv32_bench_sparse_attention(2, 0, 32, 1, 1, &s) == DSV32_ERR_INVALID_ARGUMENT && contains(last(), "n_keys must be"));
    CHECK(dsv32_bench_sparse_attention(300, 10, 32, 1, 1, &s) == DSV32_ERR_INVALID_ARGUMENT && contains(last(), "n_heads"));

    CHECK(dsv32_bench_moe(3, 128, 16, 4, 2, 4, 64, 2, 1, &s) == DSV32_OK && s > 0);
    CHECK(dsv32_bench_moe(3, 128, 16, 5, 2, 4, 64, 1, 1, &s) == DSV32_ERR_INVALID_ARGUMENT && contains(last(), "n_groups must divide n_experts"));
    CHECK(dsv32_bench_moe(3, 128, 16, 4, 2, 9, 64, 1, 1, &s) == DSV32_ERR_INVALID_ARGUMENT && contains(last(), "n_active must be in [1, 8]"));
    CHECK(dsv32_bench_moe(3, 128, 16, 4, 5, 4, 64, 1, 1, &s) == DSV32_ERR_INVALID_ARGUMENT && contains(last(), "topk_groups"));
    CHECK(dsv32_bench_moe(3, 16384, 1024, 8, 4, 8, 4096, 1, 1, &s) == DSV32_ERR_INVALID_ARGUMENT && contains(last(), "2^31"));
    CHECK(dsv32_bench_moe(0, 128, 16, 4, 2, 4, 64, 1, 1, &s) == DSV32_ERR_INVALID_ARGUMENT && contains(last(), "m must be"));

    CHECK(dsv32_bench_blas_linear(DSV32_BENCH_FP8, 1, 8, 8, 1, 1, &s) == DSV32_ERR_INVALID_ARGUMENT && contains(last(), "no FP8"));
    CHECK(dsv32_bench_blas_linear(DSV32_BENCH_FP8_BF16X, 1, 8, 8, 1, 1, &s) == DSV32_ERR_INVALID_ARGUMENT && contains(last(), "no FP8"));
    CHECK(dsv32_bench_blas_linear(DSV32_BENCH_F32, 1, 8, 70000, 1, 1, &s) == DSV32_ERR_INVALID_ARGUMENT && contains(last(), "k must be"));
    CHECK(dsv32_bench_blas_linear(7, 1, 8, 8, 1, 1, &s) == DSV32_ERR_INVALID_ARGUMENT && contains(last(), "unknown dtype 7"));
    CHECK(dsv32_bench_blas_available(DSV32_BENCH_FP8) == 0);
}

void fixtures_are_kept_per_shape() {
    int made = 0;
    auto get = [&](int64_t a, int64_t b) {
        return bench::cached_fixture<std::vector<int64_t>>({a, b}, [&] {
            ++made;
            return std::make_shared<std::vector<int64_t>>(std::vector<int64_t>{a, b});
        });
    };
    auto [f1, fresh1] = get(1, 2);
    auto [f2, fresh2] = get(1, 2);
    CHECK(fresh1 && !fresh2 && f1 == f2 && made == 1);
    auto [f3, fresh3] = get(2, 1);
    CHECK(fresh3 && made == 2 && (*f3)[0] == 2 && (*f1)[0] == 1);  // a holder keeps the old one alive
    auto [f4, fresh4] = get(1, 2);
    CHECK(fresh4 && made == 3 && f4 != f1);
}

void loader_degrades_cleanly() {
    bench::BlasLibrary lib = bench::open_blas({"libdsv32-no-such-blas.so.0"});
    CHECK(!lib.ok && !lib.sgemm && contains(lib.description, "libdsv32-no-such-blas.so.0"));
    lib = bench::open_blas({"libm.so.6"});  // loads, but is no BLAS
    CHECK(!lib.ok && contains(lib.description, "exports no cblas_sgemm"));
    CHECK(!bench::open_blas({}).ok);
}

// With a BLAS installed: its y = x W^T (gemv and gemm) equals our scalar reference on the same dequantised weights.
void baseline_computes_what_our_kernel_computes() {
    const bench::BlasLibrary& lib = bench::blas();
    if (!lib.ok) {
        std::printf("test_bench: no CBLAS library here (%s): the BLAS-present checks are skipped\n", lib.description.c_str());
        return;
    }
    std::printf("test_bench: baseline %s (bf16 sbgemm: %s)\n", lib.description.c_str(), lib.sbgemm ? "yes" : "no");
    std::mt19937 rng(5);
    const int n = 200, k = 300;
    std::vector<uint8_t> codes(size_t(n) * k);
    for (uint8_t& c : codes) c = uint8_t(rng() & 0x7E);  // finite codes
    std::vector<float> scales(size_t((n + 127) / 128) * ((k + 127) / 128));
    for (float& v : scales) v = float(std::ldexp(1.0, -int(rng() % 6)));
    kernels::WeightMat w8;
    w8.type = kernels::WType::FP8;
    w8.out = n;
    w8.in = k;
    w8.data = codes.data();
    w8.scale = scales.data();
    w8.scale_cols = (k + 127) / 128;
    std::vector<float> wf(size_t(n) * k);
    for (int r = 0; r < n; ++r) kernels::dequant_row(w8, r, 0, k, wf.data() + size_t(r) * k);
    for (int m : {1, 3}) {
        std::vector<float> x = uniform(size_t(m) * k, rng), ref(size_t(m) * n), got(size_t(m) * n);
        kernels::linear_rows_scalar(x.data(), w8, ref.data(), m, 0, n);
        if (m == 1) lib.sgemv(bench::CBLAS_ROW_MAJOR, bench::CBLAS_NO_TRANS, n, k, 1.0f, wf.data(), k, x.data(), 1, 0.0f, got.data(), 1);
        else lib.sgemm(bench::CBLAS_ROW_MAJOR, bench::CBLAS_NO_TRANS, bench::CBLAS_TRANS, m, n, k, 1.0f, x.data(), k, wf.data(), k, 0.0f, got.data(), n);
        double worst = 0;
        for (size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, double(std::fabs(got[i] - ref[i])) / (1 + std::fabs(ref[i])));
        CHECK_MSG(worst < 1e-4, "m %d: worst relative error %g", m, worst);
    }
    double s = 0;
    CHECK(dsv32_bench_blas_available(DSV32_BENCH_F32) == 1);
    CHECK(dsv32_bench_blas_linear(DSV32_BENCH_F32, 1, 256, 256, 1, 2, &s) == DSV32_OK && s > 0);
    CHECK(dsv32_bench_blas_linear(DSV32_BENCH_F32, 4, 256, 256, 1, 2, &s) == DSV32_OK && s > 0);
    const int bf = dsv32_bench_blas_linear(DSV32_BENCH_BF16, 2, 64, 64, 1, 1, &s);
    CHECK(lib.sbgemm ? bf == DSV32_OK : (bf == DSV32_ERR_UNAVAILABLE && contains(last(), "cblas_sbgemm")));
    CHECK(contains(dsv32_bench_blas_describe(), lib.file));
}

void baseline_absent() {
    const char* env = std::getenv("DSV32_BLAS_LIB");
    CHECK_MSG(env && *env, "run `test_bench absent` with DSV32_BLAS_LIB naming a missing library");
    if (!env) return;
    CHECK(dsv32_bench_blas_available(DSV32_BENCH_F32) == 0);
    CHECK(contains(dsv32_bench_blas_describe(), env));
    double s = 0;
    CHECK(dsv32_bench_blas_linear(DSV32_BENCH_F32, 1, 64, 64, 1, 1, &s) == DSV32_ERR_UNAVAILABLE);
    CHECK_MSG(contains(last(), "not available") && contains(last(), env), "%s", last().c_str());
    CHECK(dsv32_bench_linear(DSV32_BENCH_FP8, 1, 64, 64, 1, 1, &s) == DSV32_OK && s > 0);  // ours still runs
    CHECK(dsv32_bench_linear(DSV32_BENCH_FP8_BF16X, 20, 64, 256, 2, 1, &s) == DSV32_OK && s > 0);  // fp8 numerics' linear
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::string(argv[1]) == "absent") {
        baseline_absent();
        return test_summary("test_bench absent");
    }
    topk_matches_a_full_sort();
    router_matches_the_brute_force_reference();
    entry_points_validate_and_time();
    fixtures_are_kept_per_shape();
    loader_degrades_cleanly();
    baseline_computes_what_our_kernel_computes();
    return test_summary("test_bench");
}
