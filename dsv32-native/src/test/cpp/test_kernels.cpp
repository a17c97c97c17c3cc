// Kernel unit tests against scalar / hand-computed references.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "dsv32/config.h"
#include "kernels/attention.h"
#include "kernels/kernels.h"
#include "kernels/pair_tiles.h"
#include "kernels/panels.h"
#include "model/model.h"
#include "test_util.h"

using namespace dsv32;

static void test_e4m3() {
    // Independent oracle: enumerate the e4m3fn value set from its definition with double arithmetic.
    for (int c = 0; c < 256; ++c) {
        const float v = kernels::e4m3_to_f32(uint8_t(c));
        const int s = c >> 7, e = (c >> 3) & 15, m = c & 7;
        if ((c & 0x7F) == 0x7F) {
            CHECK_MSG(std::isnan(v), "code 0x%02x must be NaN", c);
            continue;
        }
        double ref = e == 0 ? m * std::pow(2.0, -9) : (8 + m) * std::pow(2.0, e - 10);
        if (s) ref = -ref;
        CHECK_MSG(double(v) == ref, "code 0x%02x: %g vs %g", c, double(v), ref);
        CHECK(kernels::e4m3_table()[c] == v || (std::isnan(v) && std::isnan(kernels::e4m3_table()[c])));
    }
    CHECK(kernels::e4m3_to_f32(0x7E) == 448.0f);
    CHECK(kernels::e4m3_to_f32(0xFE) == -448.0f);
    CHECK(kernels::e4m3_to_f32(0x38) == 1.0f);
    CHECK(kernels::e4m3_to_f32(0x01) == std::ldexp(1.0f, -9));  // smallest subnormal
    CHECK(kernels::e4m3_to_f32(0x07) == 7.0f * std::ldexp(1.0f, -9));
    CHECK(kernels::e4m3_to_f32(0x08) == std::ldexp(1.0f, -6));  // smallest normal
    CHECK(kernels::e4m3_to_f32(0x00) == 0.0f && !std::signbit(kernels::e4m3_to_f32(0x00)));
    CHECK(kernels::e4m3_to_f32(0x80) == 0.0f && std::signbit(kernels::e4m3_to_f32(0x80)));
    CHECK(std::isnan(kernels::e4m3_to_f32(0x7F)) && std::isnan(kernels::e4m3_to_f32(0xFF)));
}

static void test_bf16_f16() {
    CHECK(kernels::bf16_to_f32(0x3F80) == 1.0f);
    CHECK(kernels::bf16_to_f32(0xC000) == -2.0f);
    CHECK(kernels::bf16_to_f32(0x0001) == std::ldexp(1.0f, -133));
    CHECK(std::isinf(kernels::bf16_to_f32(0x7F80)));
    CHECK(std::isnan(kernels::bf16_to_f32(0x7FC0)));
    for (uint32_t b = 0; b < 0x10000; b += 7) {  // round trip of every 7th pattern (non-NaN)
        float f = kernels::bf16_to_f32(uint16_t(b));
        if (!std::isnan(f)) CHECK(kernels::f32_to_bf16(f) == uint16_t(b));
    }
    CHECK(kernels::f32_to_bf16(1.00390625f) == 0x3F80);  // tie -> even
    CHECK(kernels::f32_to_bf16(1.01171875f) == 0x3F82);  // tie -> even (up)
    CHECK(kernels::f16_to_f32(0x3C00) == 1.0f);
    CHECK(kernels::f16_to_f32(0xC000) == -2.0f);
    CHECK(kernels::f16_to_f32(0x0001) == std::ldexp(1.0f, -24));
    CHECK(kernels::f16_to_f32(0x7BFF) == 65504.0f);
}

static void test_hadamard() {
    // Columns of the transform: H e_j / sqrt(128). Orthonormal, symmetric, matches (-1)^popcount(i&j).
    std::vector<std::vector<float>> cols(128, std::vector<float>(128, 0.0f));
    for (int j = 0; j < 128; ++j) {
        cols[j][j] = 1.0f;
        kernels::hadamard128(cols[j].data());
        for (int i = 0; i < 128; ++i) {
            const float ref = (__builtin_popcount(unsigned(i & j)) & 1 ? -1.0f : 1.0f) / std::sqrt(128.0f);
            CHECK_MSG(std::fabs(cols[j][i] - ref) < 1e-7f, "H[%d][%d]", i, j);
        }
    }
    double max_err = 0;
    for (int a = 0; a < 128; ++a)
        for (int b = 0; b < 128; ++b) {
            double d = 0;
            for (int i = 0; i < 128; ++i) d += double(cols[a][i]) * cols[b][i];
            max_err = std::max(max_err, std::fabs(d - (a == b ? 1.0 : 0.0)));
        }
    CHECK_MSG(max_err < 1e-6, "H H^T != I: %g", max_err);
    // Preserves dot products.
    std::mt19937 rng(7);
    std::normal_distribution<float> nd;
    std::vector<float> x(128), y(128);
    for (int i = 0; i < 128; ++i) { x[i] = nd(rng); y[i] = nd(rng); }
    const double d0 = kernels::dot(x.data(), y.data(), 128);
    kernels::hadamard128(x.data());
    kernels::hadamard128(y.data());
    CHECK(std::fabs(kernels::dot(x.data(), y.data(), 128) - d0) < 1e-4);
    // Every kernel path gives the scalar butterflies' bits.
    const kernels::KernelPath saved = kernels::kernel_path();
    for (int t = 0; t < 20; ++t) {
        std::vector<float> a(128);
        for (auto& v : a) v = std::ldexp(nd(rng), t % 9 - 4);
        std::vector<float> ref = a;
        CHECK(kernels::set_kernel_path(kernels::KernelPath::Scalar));
        kernels::hadamard128(ref.data());
        for (kernels::KernelPath p : {kernels::KernelPath::Avx2, kernels::KernelPath::Avx512}) {
            if (!kernels::set_kernel_path(p)) continue;
            std::vector<float> b = a;
            kernels::hadamard128(b.data());
            CHECK_MSG(std::memcmp(b.data(), ref.data(), 4 * 128) == 0, "hadamard128 on %s: not the scalar bits", kernels::kernel_path_name(p));
        }
    }
    kernels::set_kernel_path(saved);
}

static void test_norms_softmax_matmul() {
    const float x[4] = {1, 2, 3, 4}, w[4] = {1, 1, 2, 0.5f}, b[4] = {0, 1, 0, -1};
    float y[4];
    kernels::rmsnorm(x, w, y, 1, 4, 0.0f);
    const float r = std::sqrt(7.5f);
    CHECK(std::fabs(y[0] - 1 / r) < 1e-6f && std::fabs(y[2] - 6 / r) < 1e-6f && std::fabs(y[3] - 2 / r) < 1e-6f);
    // Widths with and without a tail of the 8-wide loops, against a double oracle, and in place (y == x) bitwise.
    {
        std::mt19937 rng(17);
        std::normal_distribution<float> nd;
        for (const int n : {1, 7, 8, 13, 384, 1027}) {
            const int rows = 3;
            std::vector<float> xs(size_t(rows) * n), ws(static_cast<size_t>(n)), ys(xs.size());
            for (auto& v : xs) v = nd(rng) * 5;
            for (auto& v : ws) v = 1 + nd(rng) * 0.1f;
            kernels::rmsnorm(xs.data(), ws.data(), ys.data(), rows, n, 1e-6f);
            for (int rr = 0; rr < rows; ++rr) {
                double ss = 0;
                for (int i = 0; i < n; ++i) ss += double(xs[size_t(rr) * n + i]) * xs[size_t(rr) * n + i];
                const double inv = 1 / std::sqrt(ss / n + 1e-6);
                for (int i = 0; i < n; ++i) {
                    const double ref = double(ws[size_t(i)]) * xs[size_t(rr) * n + i] * inv;
                    CHECK_MSG(std::fabs(ys[size_t(rr) * n + i] - ref) <= 1e-6 * std::fabs(ref) + 1e-30, "rmsnorm n %d row %d col %d", n, rr, i);
                }
            }
            kernels::rmsnorm(xs.data(), ws.data(), xs.data(), rows, n, 1e-6f);
            CHECK_MSG(std::memcmp(xs.data(), ys.data(), xs.size() * sizeof(float)) == 0, "rmsnorm in place n %d", n);
        }
    }
    kernels::layernorm(x, w, b, y, 1, 4, 0.0f);
    const float sd = std::sqrt(1.25f);
    CHECK(std::fabs(y[0] - (-1.5f / sd)) < 1e-6f && std::fabs(y[1] - (-0.5f / sd + 1)) < 1e-6f);
    CHECK(std::fabs(y[3] - (0.5f * 1.5f / sd - 1)) < 1e-6f);
    float p[3] = {0.0f, std::log(3.0f), -INFINITY};
    kernels::softmax(p, 3);
    CHECK(std::fabs(p[0] - 0.25f) < 1e-6f && std::fabs(p[1] - 0.75f) < 1e-6f && p[2] == 0.0f);
    const float A[6] = {1, 2, 3, 4, 5, 6}, W[6] = {1, 0, -1, 0.5f, 0.5f, 0.5f};
    float C[4];
    kernels::matmul(A, W, C, 2, 2, 3, 1);
    CHECK(C[0] == -2 && C[1] == 3 && C[2] == -2 && C[3] == 7.5f);
    CHECK(std::fabs(kernels::silu(1.0f) - 0.7310586f) < 1e-6f);
}

// softmax on every path against the scalar one (std::exp, double sum) and against an independent long double oracle:
// lengths around the vector width, masked (-inf) entries, spreads beyond exp's range, an all-masked row, a NaN row.
static void test_softmax_paths() {
    const kernels::KernelPath saved = kernels::kernel_path();
    std::mt19937 rng(7);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    for (kernels::KernelPath p : {kernels::KernelPath::Scalar, kernels::KernelPath::Avx2, kernels::KernelPath::Avx512}) {
        if (!kernels::set_kernel_path(p)) continue;
        const char* pn = kernels::kernel_path_name(p);
        for (int n : {1, 2, 15, 16, 17, 31, 33, 100, 512, 2049}) {
            for (float spread : {0.1f, 5.0f, 60.0f}) {
                std::vector<float> x(static_cast<size_t>(n));
                for (int i = 0; i < n; ++i) x[size_t(i)] = spread * nd(rng);
                if (n > 3) x[size_t(n / 3)] = -INFINITY;
                std::vector<float> a = x, ref = x;
                kernels::softmax(a.data(), n);
                kernels::softmax_scalar(ref.data(), n);
                // The oracle takes x - max rounded to float, as both paths do (that rounding alone moves e^(x - max) by
                // up to |x - max| * 2^-24 relative), then exp and the sum in long double.
                float mx = -INFINITY;
                for (float v : x) mx = std::max(mx, v);
                long double sum = 0;
                for (float v : x) sum += std::exp((long double)(v - mx));
                double worst = 0, worst_oracle = 0;
                for (int i = 0; i < n; ++i) {
                    const double o = double(std::exp((long double)(x[size_t(i)] - mx)) / sum);
                    const double tol = 4e-7 * std::fabs(o) + 1e-37;  // a few ulp; entries under 2^-126 may flush
                    worst = std::max(worst, std::fabs(double(a[size_t(i)]) - double(ref[size_t(i)])) / tol);
                    worst_oracle = std::max(worst_oracle, std::fabs(double(a[size_t(i)]) - o) / tol);
                }
                CHECK_MSG(worst <= 1.0, "%s softmax n %d spread %g: %g x tolerance from the scalar path", pn, n, double(spread), worst);
                CHECK_MSG(worst_oracle <= 1.0, "%s softmax n %d spread %g: %g x tolerance from the oracle", pn, n, double(spread), worst_oracle);
                if (n > 3) CHECK_MSG(a[size_t(n / 3)] == 0.0f, "%s softmax: a -inf entry must get 0", pn);
            }
        }
        std::vector<float> masked(37, -INFINITY);
        kernels::softmax(masked.data(), 37);
        CHECK_MSG(std::all_of(masked.begin(), masked.end(), [](float v) { return v == 0.0f; }), "%s softmax: all -inf -> zeros", pn);
        std::vector<float> withnan(40, 1.0f);
        withnan[21] = std::nanf("");
        kernels::softmax(withnan.data(), 40);
        CHECK_MSG(std::isnan(withnan[21]), "%s softmax: a NaN entry must stay NaN", pn);
    }
    kernels::set_kernel_path(saved);
}

// Random weights [n, k] in the three stored types (F32, BF16 bytes, FP8 codes without the NaN codes, power-of-two
// block scales 2^0 .. 2^-11) and the WeightMat view of each.
struct RandomWeights {
    int n, k;
    std::vector<float> f32, scale;
    std::vector<uint8_t> fp8, bf16;
    RandomWeights(int n_, int k_, std::mt19937& rng) : n(n_), k(k_) {
        std::normal_distribution<float> nd;
        std::uniform_int_distribution<int> code(0, 255);
        f32.resize(size_t(n) * k);
        fp8.resize(size_t(n) * k);
        bf16.resize(size_t(n) * k * 2);
        scale.resize(size_t((n + 127) / 128) * ((k + 127) / 128));
        for (auto& c : fp8) {
            c = uint8_t(code(rng));
            if ((c & 0x7F) == 0x7F) c ^= 1;
        }
        for (auto& v : scale) v = std::ldexp(1.0f, -(int(code(rng)) % 12));
        for (size_t i = 0; i < f32.size(); ++i) {
            f32[i] = nd(rng);
            const uint16_t b = kernels::f32_to_bf16(nd(rng));
            bf16[2 * i] = uint8_t(b & 0xFF);
            bf16[2 * i + 1] = uint8_t(b >> 8);
        }
    }
    kernels::WeightMat mat(int type) const {  // 0 F32, 1 BF16, 2 FP8 (kernels::WType)
        kernels::WeightMat W;
        W.type = kernels::WType(type);
        W.out = n;
        W.in = k;
        W.data = type == 0 ? static_cast<const void*>(f32.data()) : type == 1 ? static_cast<const void*>(bf16.data()) : fp8.data();
        W.scale = scale.data();
        W.scale_cols = (k + 127) / 128;
        return W;
    }
};

// kernels::linear on FP8 block-scaled, BF16 and F32 weights: the scalar reference against a double-precision oracle
// built from e4m3_to_f32 / bf16_to_f32, then every kernel path this CPU supports against the scalar reference.
// Batching does not change answers: on every kernel path, row m of linear over M rows is bitwise the row computed
// alone (M == 1 takes the GEMV, M > 1 the batched kernels; they must accumulate in the same order).
static void test_linear_batch_invariance() {
    std::mt19937 rng(23);
    std::normal_distribution<float> nd;
    const int shapes[][2] = {{37, 384}, {130, 256}, {9, 300}, {5, 7}, {260, 1024}, {6, 40}};  // N, K
    const int batch_sizes[] = {2, 3, 4, 5, 8, 9, 17, 32, 33, 64, 70};  // 8 | 9: the AVX2 small-M kernel's limit
    const kernels::KernelPath paths[] = {kernels::KernelPath::Scalar, kernels::KernelPath::Avx2, kernels::KernelPath::Avx512};
    const kernels::KernelPath saved = kernels::kernel_path();
    int compared = 0;
    for (const auto& sh : shapes) {
        const int N = sh[0], K = sh[1], Mmax = 70;
        std::vector<float> x(size_t(Mmax) * K);
        for (auto& v : x) v = nd(rng);
        const RandomWeights rw(N, K, rng);
        for (int type = 0; type < 3; ++type) {
            const kernels::WeightMat W = rw.mat(type);
            for (kernels::KernelPath p : paths) {
                if (!kernels::set_kernel_path(p)) continue;
                std::vector<float> alone(size_t(Mmax) * N);
                for (int m = 0; m < Mmax; ++m) kernels::linear(x.data() + size_t(m) * K, W, alone.data() + size_t(m) * N, 1, 1);
                for (int M : batch_sizes)
                    for (int threads : {1, 2}) {
                        std::vector<float> y(size_t(M) * N, NAN);
                        kernels::linear(x.data(), W, y.data(), M, threads);
                        size_t diff = 0;
                        for (size_t i = 0; i < y.size(); ++i) diff += std::memcmp(&y[i], &alone[i], 4) != 0;
                        CHECK_MSG(diff == 0, "path %s type %d N%d K%d: M = %d differs from M = 1 in %zu of %zu values",
                                  kernels::kernel_path_name(p), type, N, K, M, diff, y.size());
                        ++compared;
                    }
            }
        }
    }
    kernels::set_kernel_path(saved);
    CHECK(compared >= 6 * 3 * 11 * 2);  // the scalar path at least
}

// The AVX512-BF16 kernels (linear with XValues::Bf16, the fp8 numerics' linear and bf16 head): FP8 and BF16 weights
// on x of bf16 values against the double-precision oracle; row m bitwise the same for every M and thread count; a
// non-bf16 x, a K off the kernels' layout (FP8: K % 128, BF16: K % 64) and the kernels turned off all give exactly
// the f32 kernels' answer. With amx, the same checks of the AMX kernel (the FP8 weights' path then), which must also
// differ from the AVX512-BF16 kernels in some bits (its sums run in another order): it ran.
static void test_linear_bf16_dot(bool amx) {
    if (!kernels::bf16_dot_supported()) {
        std::printf("bf16 dot kernels: not supported here (AVX512-BF16 + VBMI), skipped\n");
        return;
    }
    if (amx && !kernels::amx_supported()) {
        std::printf("AMX kernel: not supported here (AMX-TILE + AMX-BF16, granted by the OS), skipped\n");
        return;
    }
    const bool amx_saved = kernels::amx_enabled();
    CHECK(kernels::set_amx_enabled(amx) && kernels::amx_enabled() == amx);
    size_t amx_differs = 0;
    const kernels::KernelPath saved = kernels::kernel_path();
    CHECK(kernels::set_kernel_path(kernels::KernelPath::Avx512));
    std::mt19937 rng(41);
    std::normal_distribution<float> nd;
    // type, N, K (FP8 300 and 192, BF16 300 and 96: not the layout; FP8 1030 x 1024: a task of 80 rows, converted in
    // chunks of 64 by the GEMM)
    const int shapes[][3] = {{2, 37, 384}, {2, 130, 256}, {2, 260, 1024}, {2, 1030, 1024}, {2, 5, 128}, {2, 9, 300},
                             {2, 11, 192}, {1, 37, 384}, {1, 130, 64}, {1, 260, 1024}, {1, 9, 192}, {1, 9, 300}, {1, 7, 96}};
    const int batch_sizes[] = {1, 2, 3, 4, 5, 8, 9, 16, 17, 33, 70};  // 2-4: the two-row kernels
    for (const auto& sh : shapes) {
        const int type = sh[0], N = sh[1], K = sh[2], Mmax = 70;
        const bool layout = type == 2 ? K % 128 == 0 : K % 64 == 0;
        std::vector<float> x(size_t(Mmax) * K);
        for (auto& v : x) v = nd(rng);
        if (K % 128 == 0) kernels::act_quant_roundtrip(x.data(), Mmax, K, true);  // e4m3 * 2^e: what fp8 numerics feeds
        else kernels::round_bf16(x.data(), x.size());
        const RandomWeights rw(N, K, rng);
        const kernels::WeightMat W = rw.mat(type);
        std::vector<float> alone(size_t(Mmax) * N), f32(size_t(Mmax) * N);
        for (int m = 0; m < Mmax; ++m)
            kernels::linear(x.data() + size_t(m) * K, W, alone.data() + size_t(m) * N, 1, 1, kernels::XValues::Bf16);
        kernels::linear(x.data(), W, f32.data(), Mmax, 1);
        double max_err = 0, max_ref = 1e-30;
        std::vector<float> dq(static_cast<size_t>(K));
        for (int n = 0; n < N; ++n) {
            kernels::dequant_row(W, n, 0, K, dq.data());
            for (int m = 0; m < Mmax; ++m) {
                double ref = 0;
                for (int k = 0; k < K; ++k) ref += double(x[size_t(m) * K + k]) * dq[size_t(k)];
                max_err = std::max(max_err, std::fabs(double(alone[size_t(m) * N + n]) - ref));
                max_ref = std::max(max_ref, std::fabs(ref));
            }
        }
        CHECK_MSG(max_err <= 1e-5 * max_ref * std::sqrt(double(K)), "bf16 dot type %d N%d K%d: err %g (max %g)", type, N,
                  K, max_err, max_ref);
        size_t same_as_f32 = 0;
        for (size_t i = 0; i < f32.size(); ++i) same_as_f32 += std::memcmp(&f32[i], &alone[i], 4) == 0;
        if (!layout) CHECK_MSG(same_as_f32 == f32.size(), "type %d K %d: not the f32 kernels' answer", type, K);
        else CHECK_MSG(same_as_f32 < f32.size(), "type %d K %d: the bf16 dot kernels did not run (every value as f32)", type, K);
        if (amx && layout && type == 2) {  // the AVX512-BF16 kernels' answer, for the count of differing outputs
            std::vector<float> other(size_t(Mmax) * N);
            CHECK(kernels::set_amx_enabled(false));
            kernels::linear(x.data(), W, other.data(), Mmax, 1, kernels::XValues::Bf16);
            CHECK(kernels::set_amx_enabled(true));
            for (size_t i = 0; i < other.size(); ++i) amx_differs += std::memcmp(&other[i], &alone[i], 4) != 0;
        }
        for (int M : batch_sizes)
            for (int threads : {1, 2}) {
                std::vector<float> y(size_t(M) * N, NAN);
                kernels::linear(x.data(), W, y.data(), M, threads, kernels::XValues::Bf16);
                size_t diff = 0;
                for (size_t i = 0; i < y.size(); ++i) diff += std::memcmp(&y[i], &alone[i], 4) != 0;
                CHECK_MSG(diff == 0, "bf16 dot type %d N%d K%d: M = %d, %d threads differs from M = 1 in %zu of %zu", type, N,
                          K, M, threads, diff, y.size());
            }
        // One value that is not a bf16: the whole call goes to the f32 kernels (their exact answer).
        std::vector<float> xb(x.begin(), x.begin() + 4 * K), y(size_t(4) * N), yf(size_t(4) * N);
        xb[size_t(K) + 5] = std::nextafter(xb[size_t(K) + 5], 1e30f);
        kernels::linear(xb.data(), W, y.data(), 4, 2, kernels::XValues::Bf16);
        kernels::linear(xb.data(), W, yf.data(), 4, 2);
        CHECK(std::memcmp(y.data(), yf.data(), 4 * y.size()) == 0);
        // Turned off: the f32 kernels.
        CHECK(kernels::set_bf16_dot_enabled(false) && !kernels::bf16_dot_enabled());
        kernels::linear(x.data(), W, y.data(), 4, 2, kernels::XValues::Bf16);
        CHECK(std::memcmp(y.data(), f32.data(), 4 * y.size()) == 0);
        CHECK(kernels::set_bf16_dot_enabled(true));
    }
    // A strided view (columns [128, 384) of a wider FP8 matrix): the kernel follows ld and the scale columns.
    {
        const RandomWeights wide(40, 512, rng);
        kernels::WeightMat V = wide.mat(2);
        V.in = 256;
        V.ld = 512;
        V.data = wide.fp8.data() + 128;
        V.scale = wide.scale.data() + 1;
        std::vector<float> x(size_t(3) * 256);
        for (auto& v : x) v = nd(rng);
        kernels::round_bf16(x.data(), x.size());
        std::vector<float> y(size_t(3) * 40), dq(256);
        kernels::linear(x.data(), V, y.data(), 3, 1, kernels::XValues::Bf16);
        for (int n = 0; n < 40; ++n) {
            kernels::dequant_row(V, n, 0, 256, dq.data());
            for (int m = 0; m < 3; ++m) {
                double ref = 0, mag = 0;
                for (int k = 0; k < 256; ++k) {
                    ref += double(x[size_t(m) * 256 + k]) * dq[size_t(k)];
                    mag += std::fabs(double(x[size_t(m) * 256 + k]) * dq[size_t(k)]);
                }
                CHECK_MSG(std::fabs(y[size_t(m) * 40 + n] - ref) <= 1e-6 * mag + 1e-30, "strided bf16 dot (%d, %d)", m, n);
            }
        }
    }
    if (amx) CHECK_MSG(amx_differs > 0, "AMX on: every FP8 output bitwise the AVX512-BF16 kernels' (did it run?)");
    kernels::set_amx_enabled(amx_saved);
    kernels::set_kernel_path(saved);
}

// One vector path's act_quant round trip, bf16 rounding and bf16 packing are bitwise the scalar ones, edge values
// included.
static void test_fp8_numerics_path(kernels::KernelPath vp) {
    const char* pn = kernels::kernel_path_name(vp);
    const kernels::KernelPath saved = kernels::kernel_path();
    std::mt19937 rng(5);
    std::normal_distribution<float> nd;
    std::uniform_int_distribution<int> ex(-40, 12);
    const int rows = 9, n = 384;
    std::vector<float> x(size_t(rows) * n);
    for (auto& v : x) v = std::ldexp(nd(rng), ex(rng));
    // Edge values: zeros of both signs, an f32 denormal, ties of the e4m3 and bf16 roundings, the largest values.
    const float edges[] = {0.0f, -0.0f, 1e-40f, -1e-40f, 1.0625f, 1.1875f, 3.0f * std::ldexp(1.0f, -10), 448.0f, -448.0f,
                           464.0f, 1.00390625f, 1.01171875f, std::ldexp(1.0f, -6), std::ldexp(1.0f, -7), 3e38f, -3e38f};
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); ++i) x[i * 7] = edges[i];
    for (int r = 0; r < 2; ++r)  // blocks of tiny values only: the 1e-4 floor of the scale
        for (int i = 0; i < 128; ++i) x[size_t(r + 3) * n + size_t(i)] = 1e-7f * nd(rng);
    for (int ue8m0 : {1, 0}) {
        std::vector<float> a = x, b = x;
        CHECK(kernels::set_kernel_path(kernels::KernelPath::Scalar));
        kernels::act_quant_roundtrip(a.data(), rows, n, ue8m0 != 0);
        CHECK(kernels::set_kernel_path(vp));
        kernels::act_quant_roundtrip(b.data(), rows, n, ue8m0 != 0);
        size_t diff = 0;
        for (size_t i = 0; i < a.size(); ++i) diff += std::memcmp(&a[i], &b[i], 4) != 0;
        CHECK_MSG(diff == 0, "act_quant_roundtrip ue8m0=%d: %s differs from scalar in %zu of %zu", ue8m0, pn, diff, a.size());
    }
    std::vector<float> a = x, b = x;
    a.push_back(std::numeric_limits<float>::quiet_NaN());
    a.push_back(-std::numeric_limits<float>::infinity());
    a.push_back(3.4e38f);
    b = a;
    CHECK(kernels::set_kernel_path(kernels::KernelPath::Scalar));
    kernels::round_bf16(a.data(), a.size());
    CHECK(kernels::set_kernel_path(vp));
    kernels::round_bf16(b.data(), b.size());
    CHECK(std::memcmp(a.data(), b.data(), 4 * a.size()) == 0);
    // pack_bf16: the same rounding into bit patterns, on both paths, for lengths with and without a 16-wide tail.
    a = x;
    a.push_back(std::numeric_limits<float>::quiet_NaN());
    a.push_back(-std::numeric_limits<float>::infinity());
    a.push_back(3.4e38f);
    a.push_back(1.00390625f);  // a tie: rounds to 1 (even)
    a.push_back(1.01171875f);  // a tie: rounds up to the even 1.015625
    for (const int len : {int(a.size()), 16, 13}) {
        std::vector<uint16_t> pa(static_cast<size_t>(len)), pb(static_cast<size_t>(len));
        CHECK(kernels::set_kernel_path(kernels::KernelPath::Scalar));
        kernels::pack_bf16(a.data() + a.size() - size_t(len), len, pa.data());
        CHECK(kernels::set_kernel_path(vp));
        kernels::pack_bf16(a.data() + a.size() - size_t(len), len, pb.data());
        CHECK_MSG(pa == pb, "pack_bf16 (%d values): %s differs from scalar", len, pn);
        for (int i = 0; i < len; ++i)
            CHECK(pa[size_t(i)] == kernels::f32_to_bf16(a[a.size() - size_t(len) + size_t(i)]));
    }
    CHECK(kernels::f32_to_bf16(1.00390625f) == 0x3F80 && kernels::f32_to_bf16(1.01171875f) == 0x3F82);
    kernels::set_kernel_path(saved);
}

// The fp8 numerics primitives' vector paths (AVX2: fp8_avx2.cpp, AVX-512: fp8_avx512.cpp) bitwise the scalar ones.
static void test_fp8_numerics_paths() {
    for (const kernels::KernelPath vp : {kernels::KernelPath::Avx2, kernels::KernelPath::Avx512}) {
        if (!kernels::kernel_path_supported(vp)) {
            std::printf("fp8 numerics %s path: not supported here, skipped\n", kernels::kernel_path_name(vp));
            continue;
        }
        test_fp8_numerics_path(vp);
    }
}

static void test_linear_paths() {
    std::mt19937 rng(11);
    std::normal_distribution<float> nd;
    // M, N, K: the M == 1 GEMV and the batched M > 1 kernels (small M as in batched decode, and more than the 32 rows
    // of x one FP8 pass holds), N with partial 4-row tiles, K with and without tails.
    const int shapes[][3] = {{1, 37, 300}, {3, 130, 256}, {5, 16, 128}, {1, 5, 7}, {2, 260, 1000}, {4, 39, 384},
                             {33, 21, 256}, {64, 9, 128}, {70, 6, 300}, {2, 3, 7}};
    const kernels::KernelPath paths[] = {kernels::KernelPath::Scalar, kernels::KernelPath::Avx2, kernels::KernelPath::Avx512};
    const kernels::KernelPath saved = kernels::kernel_path();
    for (const auto& sh : shapes) {
        const int M = sh[0], N = sh[1], K = sh[2];
        std::vector<float> x(size_t(M) * K);
        for (auto& v : x) v = nd(rng);
        const RandomWeights rw(N, K, rng);
        for (int type = 0; type < 3; ++type) {
            const kernels::WeightMat W = rw.mat(type);
            // oracle
            std::vector<double> ref(size_t(M) * N);
            std::vector<float> row(static_cast<size_t>(K));
            for (int n = 0; n < N; ++n) {
                for (int k = 0; k < K; ++k) {
                    double v;
                    const size_t i = size_t(n) * K + k;
                    if (type == 0) v = rw.f32[i];
                    else if (type == 1) v = kernels::bf16_to_f32(uint16_t(rw.bf16[2 * i] | (rw.bf16[2 * i + 1] << 8)));
                    else v = double(kernels::e4m3_to_f32(rw.fp8[i])) * rw.scale[size_t(n / 128) * ((K + 127) / 128) + k / 128];
                    row[size_t(k)] = float(v);
                }
                std::vector<float> dq(static_cast<size_t>(K));
                kernels::dequant_row(W, n, 0, K, dq.data());
                for (int k = 0; k < K; ++k) CHECK_MSG(dq[size_t(k)] == row[size_t(k)], "dequant_row type %d (%d,%d)", type, n, k);
                const int k0 = K / 3, len = K - K / 3;  // a partial row too
                kernels::dequant_row(W, n, k0, len, dq.data());
                for (int k = 0; k < len; ++k) CHECK(dq[size_t(k)] == row[size_t(k0 + k)]);
                for (int m = 0; m < M; ++m) {
                    double s = 0;
                    for (int k = 0; k < K; ++k) s += double(x[size_t(m) * K + k]) * row[size_t(k)];
                    ref[size_t(m) * N + n] = s;
                }
            }
            std::vector<float> yscalar;
            for (kernels::KernelPath p : paths) {
                if (!kernels::set_kernel_path(p)) {
                    std::printf("kernel path %s: not supported here, skipped\n", kernels::kernel_path_name(p));
                    continue;
                }
                for (int threads : {1, 3}) {
                    std::vector<float> y(size_t(M) * N, NAN);
                    kernels::linear(x.data(), W, y.data(), M, threads);
                    double max_err = 0, max_ref = 1e-30;
                    for (size_t i = 0; i < y.size(); ++i) {
                        max_err = std::max(max_err, std::fabs(double(y[i]) - ref[i]));
                        max_ref = std::max(max_ref, std::fabs(ref[i]));
                    }
                    CHECK_MSG(max_err <= 1e-5 * max_ref * std::sqrt(double(K)), "path %s type %d M%d N%d K%d: err %g (max %g)",
                              kernels::kernel_path_name(p), type, M, N, K, max_err, max_ref);
                    if (p == kernels::KernelPath::Scalar) yscalar = y;
                    else
                        for (size_t i = 0; i < y.size(); ++i)
                            CHECK_MSG(std::fabs(y[i] - yscalar[i]) <= 1e-5f * float(max_ref), "path %s vs scalar, type %d", kernels::kernel_path_name(p), type);
                }
            }
        }
    }
    kernels::set_kernel_path(saved);
    std::printf("kernel paths: scalar yes, avx2 %s, avx512 %s; active %s\n",
                kernels::kernel_path_supported(kernels::KernelPath::Avx2) ? "yes" : "no",
                kernels::kernel_path_supported(kernels::KernelPath::Avx512) ? "yes" : "no", kernels::kernel_path_name(saved));
}

// e4m3 rounding against a brute-force oracle: nearest finite value, ties to the even code, saturation at 448.
static uint8_t e4m3_oracle(double v) {
    if (std::isnan(v)) return 0x7F;
    const uint8_t sign = std::signbit(v) ? 0x80 : 0;
    double a = std::fabs(v);
    if (a > 448) a = 448;
    int best = 0;
    double bd = 1e300;
    for (int c = 0; c <= 0x7E; ++c) {
        const double d = std::fabs(double(kernels::e4m3_to_f32(uint8_t(c))) - a);
        if (d < bd || (d == bd && (c & 1) == 0)) {
            bd = d;
            best = c;
        }
    }
    return uint8_t(sign | best);
}

static void test_fp8_primitives() {
    for (int c = 0; c < 256; ++c) {  // every code round-trips (NaN codes stay NaN codes)
        const float v = kernels::e4m3_to_f32(uint8_t(c));
        if ((c & 0x7F) == 0x7F) CHECK((kernels::f32_to_e4m3(v) & 0x7F) == 0x7F);  // NaN stays a NaN code
        else CHECK_MSG(kernels::f32_to_e4m3(v) == uint8_t(c), "code 0x%02x", c);
    }
    for (int c = 0; c < 0x7E; ++c) {  // midpoints and near-midpoints between neighbours
        const double a = kernels::e4m3_to_f32(uint8_t(c)), b = kernels::e4m3_to_f32(uint8_t(c + 1));
        for (double t : {0.5, 0.499, 0.501, 0.25, 0.75})
            for (double sg : {1.0, -1.0}) {
                const float v = float(sg * (a + (b - a) * t));
                CHECK_MSG(kernels::f32_to_e4m3(v) == e4m3_oracle(v), "%g -> 0x%02x, oracle 0x%02x", double(v), kernels::f32_to_e4m3(v), e4m3_oracle(v));
            }
    }
    CHECK(kernels::f32_to_e4m3(448.0f) == 0x7E && kernels::f32_to_e4m3(464.0f) == 0x7E && kernels::f32_to_e4m3(1e30f) == 0x7E);
    CHECK(kernels::f32_to_e4m3(-1e30f) == 0xFE && kernels::f32_to_e4m3(INFINITY) == 0x7E);
    CHECK((kernels::f32_to_e4m3(NAN) & 0x7F) == 0x7F);
    CHECK(kernels::f32_to_e4m3(std::ldexp(1.0f, -10)) == 0x00);        // half the smallest subnormal: tie -> 0
    CHECK(kernels::f32_to_e4m3(3 * std::ldexp(1.0f, -10)) == 0x02);    // 1.5 * 2^-9: tie -> 2 (even)
    CHECK(kernels::f32_to_e4m3(std::ldexp(1.0f, -20)) == 0x00 && kernels::f32_to_e4m3(-std::ldexp(1.0f, -20)) == 0x80);
    CHECK(kernels::f32_to_e4m3(1.0625f) == 0x38 && kernels::f32_to_e4m3(1.1875f) == 0x3A);  // ties to even
    std::mt19937 rng(5);
    std::normal_distribution<float> nd;
    for (int i = 0; i < 20000; ++i) {
        const float v = nd(rng) * std::ldexp(1.0f, int(rng() % 24) - 12);
        CHECK_MSG(kernels::f32_to_e4m3(v) == e4m3_oracle(v), "%g", double(v));
    }
    // act_quant: power-of-two scales s >= amax/448 (ue8m0), plain s = amax/448; codes = oracle(x / s).
    const int rows = 3, n = 256;
    std::vector<float> x(size_t(rows) * n), s(size_t(rows) * 2), s2(size_t(rows) * 2);
    std::vector<uint8_t> q(x.size()), q2(x.size());
    for (auto& v : x) v = nd(rng) * 3;
    x[5] = 1000;           // an outlier in block 0 of row 0
    for (int i = 0; i < 128; ++i) x[size_t(n) + 128 + i] = 0;  // an all-zero block: amax floor 1e-4
    kernels::act_quant(x.data(), rows, n, true, q.data(), s.data());
    kernels::act_quant(x.data(), rows, n, false, q2.data(), s2.data());
    for (int r = 0; r < rows; ++r)
        for (int b = 0; b < 2; ++b) {
            double amax = 1e-4;
            for (int i = 0; i < 128; ++i) amax = std::max(amax, double(std::fabs(x[size_t(r) * n + b * 128 + i])));
            const float plain = float(amax) * (1.0f / 448.0f);
            const float sc = s[size_t(r) * 2 + b];
            int e;
            CHECK_MSG(std::frexp(sc, &e) == 0.5f && sc >= plain && sc < 2 * plain, "ue8m0 scale %g for amax %g", double(sc), amax);
            CHECK(s2[size_t(r) * 2 + b] == plain);
            for (int i = 0; i < 128; ++i) {
                const size_t j = size_t(r) * n + b * 128 + i;
                CHECK(q[j] == e4m3_oracle(double(x[j] / sc)));
                CHECK(q2[j] == e4m3_oracle(double(x[j] / plain)));
            }
        }
    // Round trip == dequantised act_quant.
    std::vector<float> xr = x;
    kernels::act_quant_roundtrip(xr.data(), rows, n, true);
    for (size_t j = 0; j < x.size(); ++j) CHECK(xr[j] == kernels::e4m3_to_f32(q[j]) * s[j / 128]);
    // fp8_gemm reference (per-K-block promotion, bf16 out) vs a double oracle, and the engine's linear_fp8 vs it.
    const int N = 130, K = 256, M = rows;
    std::vector<uint8_t> w8(size_t(N) * K);
    for (auto& c : w8) c = uint8_t(rng() & 0xBF);
    std::vector<float> ws(size_t((N + 127) / 128) * 2);
    for (auto& v : ws) v = std::ldexp(1.0f, -int(rng() % 8));
    kernels::WeightMat W;
    W.type = kernels::WType::FP8;
    W.out = N;
    W.in = K;
    W.data = w8.data();
    W.scale = ws.data();
    W.scale_cols = 2;
    std::vector<float> c(size_t(M) * N), c2(size_t(M) * N);
    kernels::fp8_gemm_ref(q.data(), s.data(), W, c.data(), M);
    kernels::linear_fp8(x.data(), W, c2.data(), M, 2);
    for (int m = 0; m < M; ++m)
        for (int j = 0; j < N; ++j) {
            double ref = 0, mag = 0;
            for (int k = 0; k < K; ++k) {
                const double t = double(kernels::e4m3_to_f32(q[size_t(m) * K + k])) * s[size_t(m) * 2 + k / 128] *
                                 kernels::e4m3_to_f32(w8[size_t(j) * K + k]) * ws[size_t(j / 128) * 2 + k / 128];
                ref += t;
                mag += std::fabs(t);
            }
            const double cv = c[size_t(m) * N + j], c2v = c2[size_t(m) * N + j];
            CHECK_MSG(std::fabs(cv - ref) <= std::ldexp(std::fabs(ref), -8) + 1e-6 * mag, "fp8_gemm_ref %g vs %g", cv, ref);
            CHECK_MSG(std::fabs(c2v - cv) <= std::ldexp(std::fabs(cv), -7) + 1e-6 * mag, "linear_fp8 %g vs fp8_gemm_ref %g", c2v, cv);
            CHECK(kernels::bf16_to_f32(kernels::f32_to_bf16(float(c2v))) == float(c2v));
        }
    // linear_fp8 is by definition the round trip, linear on bf16 values, then bf16 (kernels.h). Composed from those
    // parts, bitwise, at the decode batches (1-4: the small-M kernels), a prefill-like M and one or two threads: on an
    // AVX512-BF16 CPU this checks the one-pass path (linear_fp8_bf16dot: the round trip per 128-block, each tile rounded
    // by its thread), elsewhere the composed path itself. Then a NaN in x: that path steps aside, the other one's bits.
    for (const int mm : {1, 2, 3, 4, 9})
        for (const int nt : {1, 2}) {
            std::vector<float> xm(size_t(mm) * K);
            for (auto& v : xm) v = nd(rng) * 3;
            if (mm == 9) xm[size_t(4) * K + 200] = NAN;
            std::vector<float> xq = xm, want(size_t(mm) * N), got(size_t(mm) * N, -1.0f);
            kernels::act_quant_roundtrip(xq.data(), mm, K, true);
            kernels::linear(xq.data(), W, want.data(), mm, nt, kernels::XValues::Bf16);
            kernels::round_bf16(want.data(), want.size());
            kernels::linear_fp8(xm.data(), W, got.data(), mm, nt);
            for (size_t j = 0; j < got.size(); ++j) {
                if (std::isnan(want[j])) continue;  // the NaN row (what NaN bits it carries is not a contract)
                CHECK_MSG(std::memcmp(&got[j], &want[j], sizeof(float)) == 0, "linear_fp8 M %d threads %d output %zu: %g, composed %g", mm,
                          nt, j, double(got[j]), double(want[j]));
            }
        }
    // linear_fp8_parts: each part's y bitwise linear_fp8's, with W, a second matrix of 48 rows and a third of 130 (the
    // parts' rows split together over the threads, at tile edges inside a part), at the decode batches and a prefill M,
    // one or two threads, the dot-product kernels on and off; and with x inside a part's y (packed before y is written).
    std::vector<uint8_t> w8b(size_t(48) * K);
    for (auto& v : w8b) v = uint8_t(rng() & 0xBF);
    kernels::WeightMat Wb = W;
    Wb.out = 48;
    Wb.data = w8b.data();
    const bool dot_saved = kernels::bf16_dot_enabled();
    for (const bool dot : {true, false}) {
        if (!dot && !kernels::set_bf16_dot_enabled(false)) continue;
        for (const int mm : {1, 2, 4, 40})
            for (const int nt : {1, 2}) {
                std::vector<float> xm(size_t(mm) * K);
                for (auto& v : xm) v = nd(rng) * 3;
                std::vector<float> wa(size_t(mm) * N), wb(size_t(mm) * 48), ga(size_t(mm) * N, -1.0f), gb(size_t(mm) * 48, -1.0f),
                    gc(size_t(mm) * N, -1.0f);
                kernels::linear_fp8(xm.data(), W, wa.data(), mm, nt);
                kernels::linear_fp8(xm.data(), Wb, wb.data(), mm, nt);
                const kernels::LinearPart parts[3] = {{&W, ga.data()}, {&Wb, gb.data()}, {&W, gc.data()}};
                kernels::linear_fp8_parts(xm.data(), parts, 3, mm, nt);
                CHECK_MSG(std::memcmp(ga.data(), wa.data(), 4 * wa.size()) == 0, "linear_fp8_parts M %d threads %d dot %d: part 0", mm, nt, int(dot));
                CHECK_MSG(std::memcmp(gb.data(), wb.data(), 4 * wb.size()) == 0, "linear_fp8_parts M %d threads %d dot %d: part 1", mm, nt, int(dot));
                CHECK_MSG(std::memcmp(gc.data(), wa.data(), 4 * wa.size()) == 0, "linear_fp8_parts M %d threads %d dot %d: part 2", mm, nt, int(dot));
                // The first part's y over x (x [M][K] holds more floats than y [M][N]): both parts still see the x
                // they were given.
                std::vector<float> buf = xm;
                const kernels::LinearPart alias[2] = {{&W, buf.data()}, {&Wb, gb.data()}};
                kernels::linear_fp8_parts(buf.data(), alias, 2, mm, nt);
                CHECK_MSG(std::memcmp(buf.data(), wa.data(), 4 * wa.size()) == 0, "linear_fp8_parts in place M %d threads %d: part 0", mm, nt);
                CHECK_MSG(std::memcmp(gb.data(), wb.data(), 4 * wb.size()) == 0, "linear_fp8_parts in place M %d threads %d: part 1", mm, nt);
            }
    }
    kernels::set_bf16_dot_enabled(dot_saved);
}

// dot / axpy on every supported path against the scalar references and a double oracle, for lengths that exercise
// the vector bodies and the tails (0..70, 128, 512, 576).
static void test_dot_axpy_paths() {
    const kernels::KernelPath saved = kernels::kernel_path();
    std::mt19937 rng(11);
    std::normal_distribution<float> nd;
    std::vector<int> lens;
    for (int n = 0; n <= 70; ++n) lens.push_back(n);
    for (int n : {128, 512, 576}) lens.push_back(n);
    for (kernels::KernelPath p : {kernels::KernelPath::Scalar, kernels::KernelPath::Avx2, kernels::KernelPath::Avx512}) {
        if (!kernels::set_kernel_path(p)) continue;
        for (int n : lens) {
            std::vector<float> a(size_t(n) + 1), b(size_t(n) + 1), y(size_t(n) + 1), y0;
            for (int i = 0; i < n; ++i) { a[size_t(i)] = nd(rng); b[size_t(i)] = nd(rng); y[size_t(i)] = nd(rng); }
            double ref = 0, mag = 0;
            for (int i = 0; i < n; ++i) { ref += double(a[size_t(i)]) * b[size_t(i)]; mag += std::fabs(double(a[size_t(i)]) * b[size_t(i)]); }
            const float d = kernels::dot(a.data(), b.data(), n), ds = kernels::dot_scalar(a.data(), b.data(), n);
            CHECK_MSG(std::fabs(d - ref) <= 1e-6 * mag + 1e-30, "%s dot n=%d: %g vs %g", kernels::kernel_path_name(p), n, double(d), ref);
            CHECK_MSG(std::fabs(d - ds) <= 2e-6 * mag + 1e-30, "%s dot n=%d vs scalar", kernels::kernel_path_name(p), n);
            y0 = y;
            const float s = nd(rng);
            a[size_t(n)] = 1e30f;  // past the end: must not be read into y
            kernels::axpy(s, a.data(), y.data(), n);
            for (int i = 0; i < n; ++i) {
                const double e = double(y0[size_t(i)]) + double(s) * a[size_t(i)];
                CHECK_MSG(std::fabs(y[size_t(i)] - e) <= 1e-6 * (std::fabs(y0[size_t(i)]) + std::fabs(s * a[size_t(i)])), "%s axpy n=%d i=%d", kernels::kernel_path_name(p), n, i);
            }
            CHECK(y[size_t(n)] == y0[size_t(n)]);
        }
    }
    kernels::set_kernel_path(saved);
}

static void test_rope() {
    Config c;
    c.qk_rope_head_dim = 64;
    c.rope_theta = 10000;
    c.rope_factor = 4;
    c.original_max_position_embeddings = 512;
    c.beta_fast = 32;
    c.beta_slow = 1;
    Rope r;
    r.init(c, true);
    Rope plain;
    plain.init(c, false);
    // tiny: low = 3, high = 16: i <= 3 unchanged, i >= 16 divided by 4, in between blended.
    for (int i = 0; i < 32; ++i) {
        const double f = plain.freqs[i];
        double ramp = std::min(1.0, std::max(0.0, (i - 3.0) / 13.0));
        const double ref = f / 4 * ramp + f * (1 - ramp);
        CHECK_MSG(std::fabs(r.freqs[i] - ref) <= 1e-6 * ref, "yarn freq %d", i);
    }
    CHECK(r.freqs[3] == plain.freqs[3] && std::fabs(r.freqs[20] - plain.freqs[20] / 4) < 1e-12f);
    // Layouts: interleaved rotates (0,1); half-split rotates (0,32).
    std::vector<float> a(64, 0.0f), b(64, 0.0f);
    a[0] = 1;
    b[0] = 1;
    r.apply(a.data(), 1, true);
    r.apply(b.data(), 1, false);
    {  // the per-position table gives the same values as the per-call angles
        std::vector<float> u(64), v(64), cs(64);
        for (int i = 0; i < 64; ++i) u[size_t(i)] = v[size_t(i)] = float(i) * 0.37f - 5;
        r.table(1234, cs.data());
        r.apply(u.data(), 1234, false);
        r.apply(v.data(), cs.data(), false);
        CHECK(std::memcmp(u.data(), v.data(), 64 * sizeof(float)) == 0);
    }
    CHECK(std::fabs(a[0] - std::cos(1.0f)) < 1e-6f && std::fabs(a[1] - std::sin(1.0f)) < 1e-6f && a[32] == 0);
    CHECK(std::fabs(b[0] - std::cos(1.0f)) < 1e-6f && std::fabs(b[32] - std::sin(1.0f)) < 1e-6f && b[1] == 0);
}

// Model-parallel shards are views (model/shard.cpp): a row-parallel slice is columns [c0, c0 + K) of a wider matrix
// (ld = the full width, scale pointer at block column c0 / 128), a column-parallel slice is rows [r0, r0 + N)
// (r0 a multiple of 128, scale pointer at block row r0 / 128). Every kernel path, dequant_row, fp8_gemm_ref and
// linear_fp8 on such a view must give what they give on a contiguous copy of the same elements with its own scales:
// bit for bit on the scalar path and the FP8 numerics functions, within rounding on the SIMD paths.
static void test_strided_views() {
    std::mt19937 rng(23);
    std::normal_distribution<float> nd;
    const kernels::KernelPath paths[] = {kernels::KernelPath::Scalar, kernels::KernelPath::Avx2, kernels::KernelPath::Avx512};
    const kernels::KernelPath saved = kernels::kernel_path();
    // {M, rows of the full matrix, full width, first row, rows of the view, first column, columns of the view}
    const int cases[][7] = {{1, 300, 640, 128, 160, 256, 256}, {4, 260, 512, 0, 260, 128, 384}, {3, 64, 300, 0, 64, 128, 172},
                            {2, 384, 256, 256, 128, 128, 128}, {1, 40, 1000, 0, 40, 384, 137}};
    for (const auto& cs : cases) {
        const int M = cs[0], NF = cs[1], KF = cs[2], r0 = cs[3], N = cs[4], c0 = cs[5], K = cs[6];
        const int scf = (KF + 127) / 128, sc = (K + 127) / 128;
        std::vector<uint8_t> w8(size_t(NF) * KF), wb(size_t(NF) * KF * 2);
        std::vector<float> wf(size_t(NF) * KF), scale(size_t((NF + 127) / 128) * scf);
        for (auto& c : w8) {
            c = uint8_t(rng() & 0xFF);
            if ((c & 0x7F) == 0x7F) c ^= 1;
        }
        for (auto& v : scale) v = std::ldexp(1.0f, -int(rng() % 10)) * (1.0f + float(rng() % 4) / 8.0f);
        for (size_t i = 0; i < wf.size(); ++i) {
            wf[i] = nd(rng);
            const uint16_t b = kernels::f32_to_bf16(nd(rng));
            wb[2 * i] = uint8_t(b & 0xFF);
            wb[2 * i + 1] = uint8_t(b >> 8);
        }
        // The contiguous copy of rows [r0, r0+N) x columns [c0, c0+K), with the matching block scales.
        std::vector<uint8_t> c8(size_t(N) * K), cb(size_t(N) * K * 2);
        std::vector<float> cf(size_t(N) * K), cscale(size_t((N + 127) / 128) * sc);
        for (int n = 0; n < N; ++n)
            for (int k = 0; k < K; ++k) {
                const size_t src = size_t(r0 + n) * KF + size_t(c0 + k), dst = size_t(n) * K + size_t(k);
                c8[dst] = w8[src];
                cf[dst] = wf[src];
                cb[2 * dst] = wb[2 * src];
                cb[2 * dst + 1] = wb[2 * src + 1];
            }
        for (int br = 0; br < (N + 127) / 128; ++br)
            for (int bc = 0; bc < sc; ++bc) cscale[size_t(br) * sc + bc] = scale[size_t(r0 / 128 + br) * scf + size_t(c0 / 128 + bc)];
        std::vector<float> x(size_t(M) * K);
        for (auto& v : x) v = nd(rng);
        for (int type = 0; type < 3; ++type) {
            const size_t es = type == 0 ? 4 : type == 1 ? 2 : 1;
            const uint8_t* full = type == 0 ? reinterpret_cast<const uint8_t*>(wf.data()) : type == 1 ? wb.data() : w8.data();
            kernels::WeightMat V, C;
            V.type = C.type = kernels::WType(type);
            V.out = C.out = N;
            V.in = C.in = K;
            V.ld = KF;
            V.data = full + (size_t(r0) * KF + size_t(c0)) * es;
            V.scale = scale.data() + size_t(r0 / 128) * scf + size_t(c0 / 128);
            V.scale_cols = scf;
            C.data = type == 0 ? static_cast<const void*>(cf.data()) : type == 1 ? static_cast<const void*>(cb.data()) : c8.data();
            C.scale = cscale.data();
            C.scale_cols = sc;
            std::vector<float> dv(static_cast<size_t>(K)), dc(static_cast<size_t>(K));
            for (int n = 0; n < N; n += 7) {
                kernels::dequant_row(V, n, 0, K, dv.data());
                kernels::dequant_row(C, n, 0, K, dc.data());
                CHECK_MSG(dv == dc, "dequant_row view type %d row %d", type, n);
            }
            std::vector<float> yc(size_t(M) * N);
            kernels::set_kernel_path(kernels::KernelPath::Scalar);
            kernels::linear(x.data(), C, yc.data(), M, 1);
            double max_ref = 1e-30;
            for (float v : yc) max_ref = std::max(max_ref, std::fabs(double(v)));
            for (kernels::KernelPath p : paths) {
                if (!kernels::set_kernel_path(p)) continue;
                for (int threads : {1, 2}) {
                    std::vector<float> yv(size_t(M) * N, NAN), ycp(size_t(M) * N, NAN);
                    kernels::linear(x.data(), V, yv.data(), M, threads);
                    kernels::linear(x.data(), C, ycp.data(), M, threads);
                    CHECK_MSG(yv == ycp, "path %s type %d M%d: the view differs from its contiguous copy on the same path",
                              kernels::kernel_path_name(p), type, M);
                    double err = 0;
                    for (size_t i = 0; i < yv.size(); ++i) err = std::max(err, std::fabs(double(yv[i]) - yc[i]));
                    CHECK_MSG(err <= 1e-5 * max_ref, "path %s type %d M%d view vs scalar copy: %g", kernels::kernel_path_name(p), type, M, err);
                }
            }
            kernels::set_kernel_path(saved);
            if (type == 2 && K % 128 == 0) {  // fp8 numerics on the view: fp8_gemm_ref and linear_fp8
                std::vector<uint8_t> a8(x.size());
                std::vector<float> as(size_t(M) * (K / 128)), gv(size_t(M) * N), gc(size_t(M) * N), lv(size_t(M) * N), lc(size_t(M) * N);
                kernels::act_quant(x.data(), M, K, true, a8.data(), as.data());
                kernels::fp8_gemm_ref(a8.data(), as.data(), V, gv.data(), M);
                kernels::fp8_gemm_ref(a8.data(), as.data(), C, gc.data(), M);
                CHECK_MSG(gv == gc, "fp8_gemm_ref on a view, case M%d K%d", M, K);
                kernels::linear_fp8(x.data(), V, lv.data(), M, 2);
                kernels::linear_fp8(x.data(), C, lc.data(), M, 2);
                CHECK_MSG(lv == lc, "linear_fp8 on a view, case M%d K%d", M, K);
            }
            CHECK(V.nbytes() == C.nbytes());  // a view reads what its copy holds
        }
    }
}

// The attention kernels (kernels/attention.h) on every path against double-precision oracles, with the batching
// contract: a query's scores do not depend on the other queries of the call or on how the keys are chunked.
static void test_attention_kernels() {
    std::mt19937 rng(31);
    std::normal_distribution<float> nd;
    const kernels::KernelPath paths[] = {kernels::KernelPath::Scalar, kernels::KernelPath::Avx2, kernels::KernelPath::Avx512};
    const kernels::KernelPath saved = kernels::kernel_path();
    int paths_run = 0;
    for (kernels::KernelPath path : paths) {
        if (!kernels::set_kernel_path(path)) continue;
        ++paths_run;
        const char* pn = kernels::kernel_path_name(path);
        // ---- index_scores: nh 64 (the real indexer) and 20 (padded head lanes), hd 128 ----
        for (int nh : {64, 20}) {
            const int hd = 128, nq = 3, nkeys = 77;
            std::vector<float> q(size_t(nq) * nh * hd), w(size_t(nq) * nh), kbuf(size_t(nkeys) * hd);
            for (auto& v : q) v = nd(rng);
            for (auto& v : w) v = nd(rng);
            for (auto& v : kbuf) v = nd(rng);
            std::vector<const float*> keys(nkeys), qs(nq), ws(nq);
            for (int t = 0; t < nkeys; ++t) keys[size_t(t)] = kbuf.data() + size_t(t) * hd;
            for (int j = 0; j < nq; ++j) {
                qs[size_t(j)] = q.data() + size_t(j) * nh * hd;
                ws[size_t(j)] = w.data() + size_t(j) * nh;
            }
            const int lim[nq] = {77, 40, 0};
            std::vector<std::vector<float>> out(nq, std::vector<float>(nkeys + 1, -12345.0f));
            std::vector<float*> outs(nq);
            for (int j = 0; j < nq; ++j) outs[size_t(j)] = out[size_t(j)].data();
            kernels::index_scores(qs.data(), ws.data(), outs.data(), lim, nq, nh, hd, keys.data(), nkeys);
            // Against the double oracle (the current q and keys), and nothing written past lim.
            auto check_oracle = [&](const std::vector<std::vector<float>>& got, const char* what) {
                for (int j = 0; j < nq; ++j)
                    for (int t = 0; t <= nkeys; ++t) {
                        if (t >= lim[j]) {
                            CHECK_MSG(got[size_t(j)][size_t(t)] == -12345.0f, "%s %s wrote past lim (q %d key %d)", pn, what, j, t);
                            continue;
                        }
                        double ref = 0, mag = 0;
                        for (int h = 0; h < nh; ++h) {
                            double d = 0;
                            for (int i = 0; i < hd; ++i) d += double(qs[size_t(j)][size_t(h) * hd + i]) * keys[size_t(t)][i];
                            if (d > 0) ref += double(ws[size_t(j)][h]) * d;
                            mag += std::fabs(double(ws[size_t(j)][h])) * (std::fabs(d) + 1);
                        }
                        CHECK_MSG(std::fabs(got[size_t(j)][size_t(t)] - ref) <= 1e-5 * mag, "%s %s nh %d q %d key %d: %g vs %g", pn,
                                  what, nh, j, t, double(got[size_t(j)][size_t(t)]), ref);
                    }
            };
            check_oracle(out, "index_scores");
            // Query 1 alone, its keys in two chunks [0, 31) and [31, 40): bitwise the same scores.
            std::vector<float> alone(nkeys, 0.0f);
            float* ao = alone.data();
            const int l1 = 31, l2 = 40 - 31;
            kernels::index_scores(&qs[1], &ws[1], &ao, &l1, 1, nh, hd, keys.data(), 31);
            float* ao2 = alone.data() + 31;
            kernels::index_scores(&qs[1], &ws[1], &ao2, &l2, 1, nh, hd, keys.data() + 31, nkeys - 31);
            CHECK_MSG(std::memcmp(alone.data(), out[1].data(), 40 * sizeof(float)) == 0, "%s index_scores depends on batching", pn);

            // XValues::Bf16 (the fp8 numerics): q and keys rounded to bf16 values. Against the oracle, independent of
            // the chunking, and a key that is not a bf16 value sends the call to the f32 kernels (their bits).
            auto round_bf16 = [](std::vector<float>& v) {
                for (auto& x : v) x = kernels::bf16_to_f32(kernels::f32_to_bf16(x));
            };
            round_bf16(q);
            round_bf16(kbuf);
            std::vector<std::vector<float>> ob(nq, std::vector<float>(nkeys + 1, -12345.0f));
            std::vector<float*> obs(nq);
            for (int j = 0; j < nq; ++j) obs[size_t(j)] = ob[size_t(j)].data();
            kernels::index_scores(qs.data(), ws.data(), obs.data(), lim, nq, nh, hd, keys.data(), nkeys, kernels::XValues::Bf16);
            check_oracle(ob, "index_scores bf16");
            kernels::index_scores(&qs[1], &ws[1], &ao, &l1, 1, nh, hd, keys.data(), 31, kernels::XValues::Bf16);
            kernels::index_scores(&qs[1], &ws[1], &ao2, &l2, 1, nh, hd, keys.data() + 31, nkeys - 31, kernels::XValues::Bf16);
            CHECK_MSG(std::memcmp(alone.data(), ob[1].data(), 40 * sizeof(float)) == 0, "%s index_scores bf16 depends on batching", pn);
#if defined(DSV32_X86_KERNELS)
            if (path == kernels::KernelPath::Avx512 && kernels::bf16_dot_supported()) {  // the dot-product kernel itself ran
                std::vector<float> direct(nkeys, 0.0f);
                float* dp = direct.data();
                const int l0 = nkeys;
                const bool ran = kernels::index_scores_bf16dot(&qs[0], &ws[0], &dp, &l0, 1, nh, hd, keys.data(), nkeys);
                CHECK_MSG(ran == (nh % 16 == 0), "index_scores_bf16dot nh %d: ran %d", nh, int(ran));
                if (ran && kernels::bf16_dot_enabled())
                    CHECK_MSG(std::memcmp(direct.data(), ob[0].data(), size_t(nkeys) * sizeof(float)) == 0, "index_scores bf16: not the dot kernel's bits");
                if (ran && kernels::amx_supported()) {  // the AMX kernel and the VDPBF16PS one: both ran (some bits differ)
                    const bool on = kernels::amx_enabled();
                    std::vector<float> other(nkeys, 0.0f);
                    float* op = other.data();
                    CHECK(kernels::set_amx_enabled(!on));
                    kernels::index_scores_bf16dot(&qs[0], &ws[0], &op, &l0, 1, nh, hd, keys.data(), nkeys);
                    CHECK(kernels::set_amx_enabled(on));
                    size_t d = 0;
                    for (int t = 0; t < nkeys; ++t) d += std::memcmp(&other[size_t(t)], &direct[size_t(t)], 4) != 0;
                    CHECK_MSG(d > 0, "index_scores bf16: the AMX and VDPBF16PS kernels gave the same bits everywhere");
                }
            }
#endif
            // Keys stored as packed bf16: the bits of index_scores(..., XValues::Bf16) on their values.
            std::vector<uint16_t> k16(kbuf.size());
            for (size_t i = 0; i < kbuf.size(); ++i) k16[i] = kernels::f32_to_bf16(kbuf[i]);
            std::vector<const uint16_t*> keys16(nkeys);
            for (int t = 0; t < nkeys; ++t) keys16[size_t(t)] = k16.data() + size_t(t) * hd;
            std::vector<std::vector<float>> o16(nq, std::vector<float>(nkeys + 1, -12345.0f));
            std::vector<float*> o16s(nq);
            for (int j = 0; j < nq; ++j) o16s[size_t(j)] = o16[size_t(j)].data();
            kernels::index_scores_bf16_keys(qs.data(), ws.data(), o16s.data(), lim, nq, nh, hd, keys16.data(), nkeys);
            for (int j = 0; j < nq; ++j)
                CHECK_MSG(std::memcmp(o16[size_t(j)].data(), ob[size_t(j)].data(), size_t(nkeys + 1) * sizeof(float)) == 0,
                          "%s index_scores_bf16_keys nh %d: not index_scores' bits (q %d)", pn, nh, j);
            kbuf[size_t(5) * hd + 7] = std::nextafter(kbuf[size_t(5) * hd + 7], 10.0f);  // key 5 no longer a bf16 value
            kernels::index_scores(qs.data(), ws.data(), obs.data(), lim, nq, nh, hd, keys.data(), nkeys, kernels::XValues::Bf16);
            kernels::index_scores(qs.data(), ws.data(), outs.data(), lim, nq, nh, hd, keys.data(), nkeys);
            for (int j = 0; j < nq; ++j)
                CHECK_MSG(std::memcmp(ob[size_t(j)].data(), out[size_t(j)].data(), size_t(nkeys + 1) * sizeof(float)) == 0,
                          "%s index_scores bf16 with a non-bf16 key: not the f32 kernels' bits (q %d)", pn, j);
        }
        // ---- mla_decode: 16 heads of 512 + 64 (mini, real), 5 heads of 128 + 20 (odd group, tails), 19 heads of 63 + 17
        // (odd widths: a last column without a partner; a second group of 3 heads), 20 heads of 128 + 32 (two groups on the
        // AMX path) ----
        for (const auto& sh : {std::array<int, 4>{16, 512, 64, 37}, std::array<int, 4>{5, 128, 20, 9}, std::array<int, 4>{19, 63, 17, 12},
                               std::array<int, 4>{20, 128, 32, 21}}) {
            const int nh = sh[0], kvr = sh[1], dr = sh[2], nsel = sh[3];
            const float scale = 0.05f;
            std::vector<float> ql(size_t(nh) * kvr), qp(size_t(nh) * dr), lat(size_t(nsel) * kvr), pe(size_t(nsel) * dr);
            for (auto& v : ql) v = nd(rng);
            for (auto& v : qp) v = nd(rng);
            for (auto& v : lat) v = nd(rng);
            for (auto& v : pe) v = nd(rng);
            std::vector<const float*> lr(nsel), pr(nsel);
            for (int j = 0; j < nsel; ++j) {
                lr[size_t(j)] = lat.data() + size_t(j) * kvr;
                pr[size_t(j)] = pe.data() + size_t(j) * dr;
            }
            std::vector<float> o(size_t(nh) * kvr, NAN), scratch(size_t(nh) * nsel);
            kernels::mla_decode(ql.data(), qp.data(), nh, kvr, dr, lr.data(), pr.data(), nsel, scale, o.data(), scratch.data());
            double max_err = 0;
            for (int h = 0; h < nh; ++h) {
                std::vector<double> p(nsel);
                double mx = -1e300, sum = 0;
                for (int j = 0; j < nsel; ++j) {
                    double d = 0;
                    for (int i = 0; i < kvr; ++i) d += double(ql[size_t(h) * kvr + i]) * lat[size_t(j) * kvr + i];
                    for (int i = 0; i < dr; ++i) d += double(qp[size_t(h) * dr + i]) * pe[size_t(j) * dr + i];
                    p[size_t(j)] = d * scale;
                    mx = std::max(mx, p[size_t(j)]);
                }
                for (auto& v : p) sum += (v = std::exp(v - mx));
                for (int i = 0; i < kvr; ++i) {
                    double ref = 0;
                    for (int j = 0; j < nsel; ++j) ref += p[size_t(j)] / sum * lat[size_t(j) * kvr + i];
                    max_err = std::max(max_err, std::fabs(ref - o[size_t(h) * kvr + i]));
                }
            }
            CHECK_MSG(max_err < 1e-4, "%s mla_decode nh %d kvr %d dr %d: max error %g", pn, nh, kvr, dr, max_err);
            // Split as the engine splits it (scores by chunks of keys, values by blocks of columns): the same bits.
            std::vector<float> ps(size_t(nh) * nsel), os(size_t(nh) * kvr, NAN);
            for (int t0 = 0; t0 < nsel; t0 += 7)
                kernels::mla_scores(ql.data(), qp.data(), nh, kvr, dr, lr.data() + t0, pr.data() + t0, std::min(7, nsel - t0),
                                    scale, ps.data() + t0, size_t(nsel));
            for (int h = 0; h < nh; ++h) kernels::softmax(ps.data() + size_t(h) * nsel, nsel);
            CHECK_MSG(std::memcmp(ps.data(), scratch.data(), 4 * ps.size()) == 0, "%s mla_scores split: not mla_decode's", pn);
            for (int c0 = 0; c0 < kvr; c0 += 48)
                kernels::mla_values(ps.data(), size_t(nsel), nh, kvr, lr.data(), nsel, c0, std::min(kvr, c0 + 48), os.data());
            CHECK_MSG(std::memcmp(os.data(), o.data(), 4 * os.size()) == 0, "%s mla_values split: not mla_decode's", pn);
            // The keys in two halves (the engine's decode attention sums a selection so, model/mla.cpp): the first half's
            // sum plus the second's, each what a call on those keys alone gives; in column blocks too.
            for (int split : {1, nsel / 2, nsel - 1}) {
                std::vector<float> oh(size_t(nh) * kvr, NAN), oa(size_t(nh) * kvr, NAN), oz(size_t(nh) * kvr, NAN);
                for (int c0 = 0; c0 < kvr; c0 += 48)
                    kernels::mla_values(ps.data(), size_t(nsel), nh, kvr, lr.data(), nsel, c0, std::min(kvr, c0 + 48), oh.data(), split);
                kernels::mla_values(ps.data(), size_t(nsel), nh, kvr, lr.data(), split, 0, kvr, oa.data());
                kernels::mla_values(ps.data() + split, size_t(nsel), nh, kvr, lr.data() + split, nsel - split, 0, kvr, oz.data());
                for (size_t k = 0; k < oa.size(); ++k) oa[k] += oz[k];
                CHECK_MSG(std::memcmp(oh.data(), oa.data(), 4 * oh.size()) == 0, "%s mla_values split at %d: not the halves' sum", pn, split);
                if (split == nsel / 2)  // the halves are not the one chain (the test would not tell them apart)
                    CHECK_MSG(std::memcmp(oh.data(), o.data(), 4 * oh.size()) != 0, "%s mla_values split at %d: the one chain's bits", pn, split);
            }
            // Rows stored as packed bf16 (the fp8 numerics' cache): the bits of the f32 kernels on the same values.
            std::vector<uint16_t> lat16(lat.size()), pe16(pe.size());
            for (size_t i = 0; i < lat.size(); ++i) lat[i] = kernels::bf16_to_f32(lat16[i] = kernels::f32_to_bf16(lat[i]));
            for (size_t i = 0; i < pe.size(); ++i) pe[i] = kernels::bf16_to_f32(pe16[i] = kernels::f32_to_bf16(pe[i]));
            std::vector<const uint16_t*> lr16(nsel), pr16(nsel);
            for (int j = 0; j < nsel; ++j) {
                lr16[size_t(j)] = lat16.data() + size_t(j) * kvr;
                pr16[size_t(j)] = pe16.data() + size_t(j) * dr;
            }
            std::vector<float> pf(size_t(nh) * nsel), pb(size_t(nh) * nsel), of(size_t(nh) * kvr, NAN), ob(size_t(nh) * kvr, NAN);
            kernels::mla_scores(ql.data(), qp.data(), nh, kvr, dr, lr.data(), pr.data(), nsel, scale, pf.data(), size_t(nsel));
            for (int t0 = 0; t0 < nsel; t0 += 7)
                kernels::mla_scores_bf16(ql.data(), qp.data(), nh, kvr, dr, lr16.data() + t0, pr16.data() + t0,
                                         std::min(7, nsel - t0), scale, pb.data() + t0, size_t(nsel));
            CHECK_MSG(std::memcmp(pf.data(), pb.data(), 4 * pf.size()) == 0, "%s mla_scores_bf16: not mla_scores' bits", pn);
            kernels::mla_values(pf.data(), size_t(nsel), nh, kvr, lr.data(), nsel, 0, kvr, of.data());
            for (int c0 = 0; c0 < kvr; c0 += 48)
                kernels::mla_values_bf16(pf.data(), size_t(nsel), nh, kvr, lr16.data(), nsel, c0, std::min(kvr, c0 + 48), ob.data());
            CHECK_MSG(std::memcmp(of.data(), ob.data(), 4 * of.size()) == 0, "%s mla_values_bf16: not mla_values' bits", pn);
            kernels::mla_values(pf.data(), size_t(nsel), nh, kvr, lr.data(), nsel, 0, kvr, of.data(), nsel / 2);
            kernels::mla_values_bf16(pf.data(), size_t(nsel), nh, kvr, lr16.data(), nsel, 0, kvr, ob.data(), nsel / 2);
            CHECK_MSG(std::memcmp(of.data(), ob.data(), 4 * of.size()) == 0, "%s mla_values_bf16 in halves: not mla_values' bits", pn);

            // The fp8 numerics' form (mla_scores_bf16q / mla_values_bf16p): the query and the probabilities packed bf16
            // as well. Against a double oracle on the same bf16 values; every element the same whatever the split
            // (keys in chunks of 7, columns in blocks of 48, heads one at a time); with the dot-product kernels off,
            // the f32 kernels' bits on the widened values; on a CPU with them, the dispatch runs them.
            std::vector<uint16_t> ql16(ql.size()), qp16(qp.size());
            kernels::pack_bf16(ql.data(), int(ql.size()), ql16.data());
            kernels::pack_bf16(qp.data(), int(qp.size()), qp16.data());
            std::vector<float> qlr(ql.size()), qpr(qp.size());
            kernels::unpack_bf16(ql16.data(), int(ql16.size()), qlr.data());
            kernels::unpack_bf16(qp16.data(), int(qp16.size()), qpr.data());
            std::vector<float> sq(size_t(nh) * nsel, NAN), sq7(size_t(nh) * nsel, NAN);
            kernels::mla_scores_bf16q(ql16.data(), qp16.data(), nh, kvr, dr, lr16.data(), pr16.data(), nsel, scale, sq.data(), size_t(nsel));
            for (int t0 = 0; t0 < nsel; t0 += 7)
                kernels::mla_scores_bf16q(ql16.data(), qp16.data(), nh, kvr, dr, lr16.data() + t0, pr16.data() + t0,
                                          std::min(7, nsel - t0), scale, sq7.data() + t0, size_t(nsel));
            CHECK_MSG(std::memcmp(sq.data(), sq7.data(), 4 * sq.size()) == 0, "%s mla_scores_bf16q depends on the key split", pn);
            std::vector<float> sq1(size_t(nh) * nsel, NAN);  // heads one at a time (a group of one lane on the dot path)
            for (int h = 0; h < nh; ++h)
                kernels::mla_scores_bf16q(ql16.data() + size_t(h) * kvr, qp16.data() + size_t(h) * dr, 1, kvr, dr, lr16.data(),
                                          pr16.data(), nsel, scale, sq1.data() + size_t(h) * nsel, size_t(nsel));
            CHECK_MSG(std::memcmp(sq.data(), sq1.data(), 4 * sq.size()) == 0, "%s mla_scores_bf16q depends on the head split", pn);
            double serr = 0, smag = 0;
            for (int h = 0; h < nh; ++h)
                for (int j = 0; j < nsel; ++j) {
                    double d = 0, m = 0;
                    for (int i = 0; i < kvr; ++i) {
                        d += double(qlr[size_t(h) * kvr + i]) * lat[size_t(j) * kvr + i];
                        m += std::fabs(double(qlr[size_t(h) * kvr + i]) * lat[size_t(j) * kvr + i]);
                    }
                    for (int i = 0; i < dr; ++i) {
                        d += double(qpr[size_t(h) * dr + i]) * pe[size_t(j) * dr + i];
                        m += std::fabs(double(qpr[size_t(h) * dr + i]) * pe[size_t(j) * dr + i]);
                    }
                    serr = std::max(serr, std::fabs(d * scale - sq[size_t(h) * nsel + j]) / (m * scale));
                    smag = std::max(smag, std::fabs(d));
                }
            CHECK_MSG(serr < 1e-6 && smag > 1, "%s mla_scores_bf16q nh %d: relative error %g", pn, nh, serr);
            for (int h = 0; h < nh; ++h) kernels::softmax(sq.data() + size_t(h) * nsel, nsel);
            // Probabilities in rows of an odd stride (nsel + 1), so the key pairs fall on odd offsets too.
            const size_t ps16 = size_t(nsel) + 1;
            std::vector<uint16_t> p16(size_t(nh) * ps16, 0x7FC0);  // NaN in the gap: never read
            std::vector<float> prb(size_t(nh) * nsel);
            for (int h = 0; h < nh; ++h) {
                kernels::pack_bf16(sq.data() + size_t(h) * nsel, nsel, p16.data() + size_t(h) * ps16);
                kernels::unpack_bf16(p16.data() + size_t(h) * ps16, nsel, prb.data() + size_t(h) * nsel);
            }
            std::vector<float> ov(size_t(nh) * kvr, NAN), ov48(size_t(nh) * kvr, NAN);
            kernels::mla_values_bf16p(p16.data(), ps16, nh, kvr, lr16.data(), nsel, 0, kvr, ov.data());
            for (int h = 0; h < nh; ++h)
                for (int c0 = 0; c0 < kvr; c0 += 48)
                    kernels::mla_values_bf16p(p16.data() + size_t(h) * ps16, ps16, 1, kvr, lr16.data(), nsel, c0, std::min(kvr, c0 + 48),
                                              ov48.data() + size_t(h) * kvr);
            CHECK_MSG(std::memcmp(ov.data(), ov48.data(), 4 * ov.size()) == 0, "%s mla_values_bf16p depends on the split", pn);
            double verr = 0;
            for (int h = 0; h < nh; ++h)
                for (int i = 0; i < kvr; ++i) {
                    double d = 0;
                    for (int j = 0; j < nsel; ++j) d += double(prb[size_t(h) * nsel + j]) * lat[size_t(j) * kvr + i];
                    verr = std::max(verr, std::fabs(d - ov[size_t(h) * kvr + i]));
                }
            CHECK_MSG(verr < 1e-5, "%s mla_values_bf16p nh %d: max error %g", pn, nh, verr);
            // In two halves (split odd too: the second half's key pairs start on an odd key): the halves' sum.
            for (int split : {1, nsel / 2, nsel - 1}) {
                std::vector<float> oh(size_t(nh) * kvr, NAN), oa(size_t(nh) * kvr, NAN), oz(size_t(nh) * kvr, NAN);
                for (int c0 = 0; c0 < kvr; c0 += 48)
                    kernels::mla_values_bf16p(p16.data(), ps16, nh, kvr, lr16.data(), nsel, c0, std::min(kvr, c0 + 48), oh.data(), split);
                kernels::mla_values_bf16p(p16.data(), ps16, nh, kvr, lr16.data(), split, 0, kvr, oa.data());
                kernels::mla_values_bf16p(p16.data() + split, ps16, nh, kvr, lr16.data() + split, nsel - split, 0, kvr, oz.data());
                for (size_t k = 0; k < oa.size(); ++k) oa[k] += oz[k];
                CHECK_MSG(std::memcmp(oh.data(), oa.data(), 4 * oh.size()) == 0, "%s mla_values_bf16p split at %d: not the halves' sum", pn, split);
            }
            const bool dot_on = kernels::bf16_dot_enabled();
            if (kernels::set_bf16_dot_enabled(false)) {  // the widened values through the f32 kernels, bitwise
                std::vector<float> sf(size_t(nh) * nsel), sw(size_t(nh) * nsel), vf(size_t(nh) * kvr), vw(size_t(nh) * kvr);
                kernels::mla_scores_bf16q(ql16.data(), qp16.data(), nh, kvr, dr, lr16.data(), pr16.data(), nsel, scale, sw.data(), size_t(nsel));
                kernels::mla_scores(qlr.data(), qpr.data(), nh, kvr, dr, lr.data(), pr.data(), nsel, scale, sf.data(), size_t(nsel));
                CHECK_MSG(std::memcmp(sf.data(), sw.data(), 4 * sf.size()) == 0, "%s mla_scores_bf16q without dot kernels: not mla_scores' bits", pn);
                kernels::mla_values_bf16p(p16.data(), ps16, nh, kvr, lr16.data(), nsel, 0, kvr, vw.data());
                kernels::mla_values(prb.data(), size_t(nsel), nh, kvr, lr.data(), nsel, 0, kvr, vf.data());
                CHECK_MSG(std::memcmp(vf.data(), vw.data(), 4 * vf.size()) == 0, "%s mla_values_bf16p without dot kernels: not mla_values' bits", pn);
                kernels::mla_values_bf16p(p16.data(), ps16, nh, kvr, lr16.data(), nsel, 0, kvr, vw.data(), nsel / 2);
                kernels::mla_values(prb.data(), size_t(nsel), nh, kvr, lr.data(), nsel, 0, kvr, vf.data(), nsel / 2);
                CHECK_MSG(std::memcmp(vf.data(), vw.data(), 4 * vf.size()) == 0, "%s mla_values_bf16p in halves without dot kernels: not mla_values' bits", pn);
                kernels::set_bf16_dot_enabled(dot_on);
            }
#if defined(DSV32_X86_KERNELS)
            if (path == kernels::KernelPath::Avx512 && kernels::bf16_dot_enabled()) {  // the dot-product kernels ran
                std::vector<float> sd(size_t(nh) * nsel), vd(size_t(nh) * kvr);
                kernels::mla_scores_bf16dot(ql16.data(), qp16.data(), nh, kvr, dr, lr16.data(), pr16.data(), nsel, scale, sd.data(), size_t(nsel));
                for (int h = 0; h < nh; ++h) kernels::softmax(sd.data() + size_t(h) * nsel, nsel);
                CHECK_MSG(std::memcmp(sd.data(), sq.data(), 4 * sd.size()) == 0, "mla_scores_bf16q: not the dot kernel's bits");
                if (kernels::amx_supported() && kvr % 32 == 0 && dr % 32 == 0) {  // the AMX and VDPBF16PS kernels both ran
                    const bool on = kernels::amx_enabled();
                    std::vector<float> so(size_t(nh) * nsel), sa(size_t(nh) * nsel);
                    kernels::mla_scores_bf16dot(ql16.data(), qp16.data(), nh, kvr, dr, lr16.data(), pr16.data(), nsel, scale, sa.data(), size_t(nsel));
                    CHECK(kernels::set_amx_enabled(!on));
                    kernels::mla_scores_bf16dot(ql16.data(), qp16.data(), nh, kvr, dr, lr16.data(), pr16.data(), nsel, scale, so.data(), size_t(nsel));
                    CHECK(kernels::set_amx_enabled(on));
                    size_t d = 0;
                    for (size_t k = 0; k < so.size(); ++k) d += std::memcmp(&so[k], &sa[k], 4) != 0;
                    CHECK_MSG(d > 0, "mla_scores_bf16dot: the AMX and VDPBF16PS kernels gave the same bits everywhere");
                }
                if (kernels::amx_supported()) {  // the values likewise
                    const bool on = kernels::amx_enabled();
                    std::vector<float> vo(size_t(nh) * kvr), va(size_t(nh) * kvr);
                    kernels::mla_values_bf16dot(p16.data(), ps16, nh, kvr, lr16.data(), nsel, 0, kvr, va.data());
                    CHECK(kernels::set_amx_enabled(!on));
                    kernels::mla_values_bf16dot(p16.data(), ps16, nh, kvr, lr16.data(), nsel, 0, kvr, vo.data());
                    CHECK(kernels::set_amx_enabled(on));
                    size_t d = 0;
                    for (size_t k = 0; k < vo.size(); ++k) d += std::memcmp(&vo[k], &va[k], 4) != 0;
                    CHECK_MSG(d > 0, "mla_values_bf16dot nh %d: the AMX and VDPBF16PS kernels gave the same bits everywhere", nh);
                }
                kernels::mla_values_bf16dot(p16.data(), ps16, nh, kvr, lr16.data(), nsel, 0, kvr, vd.data());
                CHECK_MSG(std::memcmp(vd.data(), ov.data(), 4 * vd.size()) == 0, "mla_values_bf16p: not the dot kernel's bits");
                std::vector<float> vh(size_t(nh) * kvr, NAN), vhd(size_t(nh) * kvr, NAN);
                kernels::mla_values_bf16dot(p16.data(), ps16, nh, kvr, lr16.data(), nsel, 0, kvr, vhd.data(), nsel / 2);
                kernels::mla_values_bf16p(p16.data(), ps16, nh, kvr, lr16.data(), nsel, 0, kvr, vh.data(), nsel / 2);
                CHECK_MSG(std::memcmp(vhd.data(), vh.data(), 4 * vh.size()) == 0, "mla_values_bf16p in halves: not the dot kernel's bits");
            }
#endif
        }
        // ---- mha_row: mini's heads (16 x (128 + 64), v 128) and odd widths with tails (3 x (40 + 20), v 24) ----
        for (const auto& sh : {std::array<int, 5>{16, 128, 64, 128, 45}, std::array<int, 5>{3, 40, 20, 24, 11}}) {
            const int nh = sh[0], dn = sh[1], dr = sh[2], dv = sh[3], nsel = sh[4], kvw = dn + dv;
            const float scale = 0.07f;
            std::vector<float> q(size_t(nh) * (dn + dr)), kvb(size_t(nsel) * nh * kvw), pe(size_t(nsel) * dr);
            for (auto& v : q) v = nd(rng);
            for (auto& v : kvb) v = nd(rng);
            for (auto& v : pe) v = nd(rng);
            std::vector<const float*> kr(nsel), pr(nsel);
            for (int j = 0; j < nsel; ++j) {
                kr[size_t(j)] = kvb.data() + size_t(j) * nh * kvw;
                pr[size_t(j)] = pe.data() + size_t(j) * dr;
            }
            std::vector<float> o(size_t(nh) * dv, NAN), scratch(nsel);
            kernels::mha_row(q.data(), nh, dn, dr, dv, kr.data(), pr.data(), nsel, scale, o.data(), scratch.data());
            double max_err = 0;
            for (int h = 0; h < nh; ++h) {
                std::vector<double> p(nsel);
                double mx = -1e300, sum = 0;
                for (int j = 0; j < nsel; ++j) {
                    double d = 0;
                    for (int i = 0; i < dn; ++i) d += double(q[size_t(h) * (dn + dr) + i]) * kr[size_t(j)][size_t(h) * kvw + i];
                    for (int i = 0; i < dr; ++i) d += double(q[size_t(h) * (dn + dr) + dn + i]) * pr[size_t(j)][i];
                    p[size_t(j)] = d * scale;
                    mx = std::max(mx, p[size_t(j)]);
                }
                for (auto& v : p) sum += (v = std::exp(v - mx));
                for (int i = 0; i < dv; ++i) {
                    double ref = 0;
                    for (int j = 0; j < nsel; ++j) ref += p[size_t(j)] / sum * kr[size_t(j)][size_t(h) * kvw + dn + i];
                    max_err = std::max(max_err, std::fabs(ref - o[size_t(h) * dv + i]));
                }
            }
            CHECK_MSG(max_err < 1e-4, "%s mha_row nh %d dn %d dr %d dv %d: max error %g", pn, nh, dn, dr, dv, max_err);
            // mha_rows_prefix: up to 4 queries of head 1 over key prefixes (the causal prefill), each bitwise what
            // mha_row gives it alone.
            std::vector<const float*> kh(nsel);
            for (int j = 0; j < nsel; ++j) kh[size_t(j)] = kr[size_t(j)] + kvw;  // head 1's [k_nope | v]
            std::vector<float> qs4(size_t(4) * (dn + dr));
            std::mt19937 rng4(uint32_t(dn + 7));  // its own stream: the later cases' data stay as they were
            std::normal_distribution<float> nd4;
            for (auto& v : qs4) v = nd4(rng4);
            for (const auto& ns : {std::vector<int>{nsel - 3, nsel - 2, nsel - 1, nsel}, std::vector<int>{1, 2, 3},
                                   std::vector<int>{nsel}, std::vector<int>{5, nsel, 2, 9}}) {
                const int nq = int(ns.size());
                std::vector<const float*> qg(static_cast<size_t>(nq));
                std::vector<float> og(size_t(nq) * dv, NAN), oref(size_t(nq) * dv, NAN), sc(size_t(nq) * nsel), sr(static_cast<size_t>(nsel));
                std::vector<float*> op(static_cast<size_t>(nq));
                for (int g = 0; g < nq; ++g) {
                    qg[size_t(g)] = qs4.data() + size_t(g) * (dn + dr);
                    op[size_t(g)] = og.data() + size_t(g) * dv;
                    kernels::mha_row(qg[size_t(g)], 1, dn, dr, dv, kh.data(), pr.data(), ns[size_t(g)], scale, oref.data() + size_t(g) * dv, sr.data());
                }
                kernels::mha_rows_prefix(qg.data(), nq, dn, dr, dv, kh.data(), pr.data(), ns.data(), scale, op.data(), sc.data());
                CHECK_MSG(std::memcmp(og.data(), oref.data(), 4 * og.size()) == 0, "%s mha_rows_prefix (%d queries, dn %d dv %d): not mha_row's bits",
                          pn, nq, dn, dv);
            }
        }
        // ---- linear_t_rows / linear_rows over a band of rows, FP8 / BF16 / F32; K: 256-column register blocks only,
        // with a 32-column tail, and not a multiple of 32 (the general loop) ----
        for (const int K : {256, 288, 272}) {
            const int N = 300, r0 = 128, r1 = 256, M = 7;  // 7: the 4-, 2- and 1-row register blocks
            const RandomWeights rw(N, K, rng);
            for (int type = 0; type < 3; ++type) {
                const kernels::WeightMat W = rw.mat(type);
                std::vector<float> xt(size_t(M) * (r1 - r0)), y(size_t(M) * K, NAN), row(K);
                for (auto& v : xt) v = nd(rng);
                kernels::linear_t_rows(xt.data(), W, r0, r1, y.data(), M);
                std::vector<double> ref(size_t(M) * K, 0.0), mag(size_t(M) * K, 0.0);
                for (int r = r0; r < r1; ++r) {
                    kernels::dequant_row(W, r, 0, K, row.data());
                    for (int m = 0; m < M; ++m)
                        for (int c = 0; c < K; ++c) {
                            const double t = double(xt[size_t(m) * (r1 - r0) + (r - r0)]) * row[size_t(c)];
                            ref[size_t(m) * K + c] += t;
                            mag[size_t(m) * K + c] += std::fabs(t);
                        }
                }
                // Against the sum of the terms' magnitudes: an f32 sum of 128 terms is within 128 * 2^-24 of it.
                double err = 0;
                for (size_t i = 0; i < ref.size(); ++i) err = std::max(err, std::fabs(ref[i] - y[i]) / (1e-3 + mag[i]));
                CHECK_MSG(err < 1e-5, "%s linear_t_rows type %d K %d: max error %g", pn, type, K, err);
                // linear_rows writes only columns [n0, n1) and equals linear on them.
                std::vector<float> x(size_t(M) * K), yr(size_t(M) * N, -7.0f), yl(size_t(M) * N);
                for (auto& v : x) v = nd(rng);
                kernels::linear_rows(x.data(), W, yr.data(), M, 130, 200);
                kernels::linear(x.data(), W, yl.data(), M, 1);
                size_t bad = 0;
                for (int m = 0; m < M; ++m)
                    for (int n = 0; n < N; ++n) {
                        const float v = yr[size_t(m) * N + n];
                        bad += (n >= 130 && n < 200) ? v != yl[size_t(m) * N + n] : v != -7.0f;
                    }
                CHECK_MSG(bad == 0, "%s linear_rows type %d: %zu values wrong", pn, type, bad);
                // x of bf16 values (XValues::Bf16): linear's bits with the same claim on the band's columns, the rest
                // untouched; bands from a 128-row block (their own matrix on the dot path) and from inside one.
                for (auto& v : x) v = kernels::bf16_to_f32(kernels::f32_to_bf16(v));
                kernels::linear(x.data(), W, yl.data(), M, 1, kernels::XValues::Bf16);
                for (const auto& band : {std::array<int, 2>{128, 256}, std::array<int, 2>{130, 200}}) {
                    std::fill(yr.begin(), yr.end(), -7.0f);
                    kernels::linear_rows(x.data(), W, yr.data(), M, band[0], band[1], kernels::XValues::Bf16);
                    bad = 0;
                    for (int m = 0; m < M; ++m)
                        for (int n = 0; n < N; ++n) {
                            const float v = yr[size_t(m) * N + n];
                            bad += (n >= band[0] && n < band[1]) ? v != yl[size_t(m) * N + n] : v != -7.0f;
                        }
                    CHECK_MSG(bad == 0, "%s linear_rows bf16 x type %d K %d rows %d..%d: %zu values wrong", pn, type, K, band[0], band[1], bad);
                }
            }
        }
    }
    kernels::set_kernel_path(saved);
    CHECK(paths_run >= 1);
}

// The FP8 pair tiles (kernels/pair_tiles.h) of the absorbed decode's W_UK^T q_nope: which bands can be tiled; the
// scalar reference against a double oracle on the matrix's own rows; the AVX512-BF16 kernel, where the CPU has it,
// bitwise the reference and each row of x alone the bits it gets among M; an x value that is not a bf16 refused with
// nothing written.
static void test_pair_tiles() {
    std::mt19937 rng(29);
    std::normal_distribution<float> nd;
    struct Shape {
        int n, k, first, stride, bands, rows;
    };
    // mini's wkv_b: 3 heads of 128 + 128 rows, W_UK the first 128 of each (every 256), 512 columns; an odd band (37
    // rows every 40 from row 3, inside one 128-row block) over 192 columns.
    int kernel_runs = 0;
    for (const Shape& sh : {Shape{768, 512, 0, 256, 3, 128}, Shape{128, 192, 3, 40, 3, 37}}) {
        const RandomWeights rw(sh.n, sh.k, rng);
        const kernels::WeightMat W = rw.mat(2);
        CHECK(kernels::pair_tiles_ok(W, sh.first, sh.stride, sh.bands, sh.rows));
        const kernels::Fp8PairTiles t = kernels::pack_pair_tiles(W, sh.first, sh.stride, sh.bands, sh.rows);
        const int M = 5, R = sh.rows, K = sh.k;
        std::vector<float> x(size_t(M) * R), ys(size_t(M) * K, NAN), yk(size_t(M) * K, NAN), y1(size_t(K), NAN), row(static_cast<size_t>(K));
        for (auto& v : x) v = kernels::bf16_to_f32(kernels::f32_to_bf16(nd(rng)));
        for (int b = 0; b < sh.bands; ++b) {
            CHECK(kernels::linear_t_tiles_scalar(x.data(), t, b, ys.data(), M));
            double err = 0;
            for (int m = 0; m < M; ++m)
                for (int c = 0; c < K; ++c) {
                    double ref = 0, mag = 0;
                    for (int r = 0; r < R; ++r) {
                        kernels::dequant_row(W, sh.first + b * sh.stride + r, c, 1, row.data());
                        ref += double(x[size_t(m) * R + r]) * row[0];
                        mag += std::fabs(double(x[size_t(m) * R + r]) * row[0]);
                    }
                    if (std::isfinite(ref)) err = std::max(err, std::fabs(ref - ys[size_t(m) * K + c]) / (1e-3 + mag));
                }
            CHECK_MSG(err < 1e-5, "pair tiles %dx%d band %d: reference error %g", sh.n, sh.k, b, err);
            if (!kernels::linear_t_tiles(x.data(), t, b, yk.data(), M)) continue;  // no AVX512-BF16 here
            ++kernel_runs;
            CHECK_MSG(std::memcmp(yk.data(), ys.data(), 4 * yk.size()) == 0, "pair tiles %dx%d band %d: kernel not the reference's bits", sh.n, sh.k, b);
            for (const int m : {0, M - 1}) {
                CHECK(kernels::linear_t_tiles(x.data() + size_t(m) * R, t, b, y1.data(), 1));
                CHECK_MSG(std::memcmp(y1.data(), ys.data() + size_t(m) * K, 4 * size_t(K)) == 0, "pair tiles band %d: row %d alone differs", b, m);
            }
        }
        x[3] = 1.0f + 1.0f / 1024;  // not a bf16
        std::fill(yk.begin(), yk.end(), -7.0f);
        CHECK(!kernels::linear_t_tiles(x.data(), t, 0, yk.data(), M));
        CHECK(!kernels::linear_t_tiles_scalar(x.data(), t, 0, yk.data(), M));
        CHECK(std::all_of(yk.begin(), yk.end(), [](float v) { return v == -7.0f; }));
    }
    // The tiles kernel follows the active path (DSV32_KERNELS), as the dispatchers do: all six bands where it is AVX-512
    // with BF16 dot products, none (the callers' fallback) otherwise.
    if (kernels::kernel_path() == kernels::KernelPath::Avx512 && kernels::bf16_dot_enabled())
        CHECK(kernel_runs == 6);
    else
        CHECK(kernel_runs == 0);
    // Bands that cannot be tiled: across a 128-row block, past the matrix, a BF16 matrix, columns not a multiple of 64.
    const RandomWeights rw(300, 256, rng), rk(128, 96, rng);
    CHECK(!kernels::pair_tiles_ok(rw.mat(2), 100, 128, 1, 40));
    CHECK(!kernels::pair_tiles_ok(rw.mat(2), 256, 64, 2, 40));
    CHECK(!kernels::pair_tiles_ok(rw.mat(1), 0, 128, 2, 128));
    CHECK(!kernels::pair_tiles_ok(rk.mat(2), 0, 64, 2, 64));
    bool threw = false;
    try {
        kernels::pack_pair_tiles(rw.mat(2), 100, 128, 1, 40);
    } catch (const std::invalid_argument&) {
        threw = true;
    }
    CHECK(threw);
}

// A random BF16 matrix of n rows and k columns (values nd draws, rounded), stored with row stride ld (0: k) from column
// 32 of the store on when ld > 0: W views it as the head's weights are viewed.
struct Bf16Matrix {
    std::vector<uint16_t> store;
    int stride, off;
    kernels::WeightMat W;
    Bf16Matrix(int n, int k, int ld, std::mt19937& rng, std::normal_distribution<float>& nd)
        : store(size_t(n) * size_t(ld > 0 ? ld : k)), stride(ld > 0 ? ld : k), off(ld > 0 ? 32 : 0) {
        for (auto& b : store) b = kernels::f32_to_bf16(nd(rng));
        W.type = kernels::WType::BF16;
        W.out = n;
        W.in = k;
        W.ld = ld;
        W.data = store.data() + off;
    }
    uint16_t at(int r, int c) const { return store[size_t(r) * size_t(stride) + size_t(off + c)]; }
};

// The row-panel head GEMV (kernels/panels.h): packing from a strided BF16 view with a partial last panel, the AVX-512
// kernels bitwise against the scalar reference (f32 x: one fma chain per output; bf16 x: VDPBF16PS's arithmetic),
// every row of y bitwise the same for any M and thread count, and the values those of kernels::linear on the stored
// matrix to f32 rounding. On a CPU without AVX-512 only the reference runs (against kernels::linear).
static void test_linear_panels() {
    std::mt19937 rng(57);
    std::normal_distribution<float> nd;
    const kernels::KernelPath saved = kernels::kernel_path();
    const bool amx_saved = kernels::amx_enabled();
    kernels::set_amx_enabled(false);  // the VDPBF16PS kernel here; the AMX one in test_linear_panels_amx
    // N, K, and the stored row stride (0: contiguous): 200 rows = three panels and one of 8; K 96 not a multiple of
    // 64; a view of columns [32, 32 + 160) of a 256-column matrix.
    const int shapes[][3] = {{200, 96, 0}, {64, 1024, 0}, {130, 160, 256}, {7, 2, 0}};
    const int batch_sizes[] = {1, 2, 3, 4, 5, 8, 9};
    int simd_runs = 0;
    for (const auto& sh : shapes) {
        const int N = sh[0], K = sh[1], ld = sh[2], Mmax = 9;
        const Bf16Matrix B(N, K, ld, rng, nd);
        const kernels::WeightMat& W = B.W;
        CHECK(kernels::panels_layout_ok(W));
        const kernels::Bf16Panels P = kernels::pack_panels(W, 2);
        CHECK(P.out == N && P.in == K && P.panels() == (N + 63) / 64);
        std::vector<float> x(size_t(Mmax) * K), xb(size_t(Mmax) * K);
        for (auto& v : x) v = nd(rng);
        for (size_t i = 0; i < xb.size(); ++i) xb[i] = kernels::bf16_to_f32(kernels::f32_to_bf16(x[i]));
        for (int bf : {0, 1}) {
            const std::vector<float>& xv = bf ? xb : x;
            const kernels::XValues kind = bf ? kernels::XValues::Bf16 : kernels::XValues::F32;
            for (kernels::KernelPath path : {kernels::KernelPath::Scalar, kernels::KernelPath::Avx2, kernels::KernelPath::Avx512}) {
                if (!kernels::set_kernel_path(path)) continue;
                const bool dot = bf && path == kernels::KernelPath::Avx512 && kernels::bf16_dot_enabled();
                std::vector<float> ref(size_t(Mmax) * N), stored(size_t(Mmax) * N);
                kernels::linear_panels_scalar(xv.data(), P, ref.data(), Mmax, 0, P.panels(), dot);
                kernels::linear(xv.data(), W, stored.data(), Mmax, 1, kind);
                double err = 0, mag = 1e-30;
                for (size_t i = 0; i < ref.size(); ++i) {
                    err = std::max(err, std::fabs(double(ref[i]) - stored[i]));
                    mag = std::max(mag, std::fabs(double(stored[i])));
                }
                CHECK_MSG(err <= 1e-6 * mag * std::sqrt(double(K)), "panels N%d K%d bf%d: %g off kernels::linear (max %g)", N, K, bf, err, mag);
                simd_runs += path != kernels::KernelPath::Scalar;
                for (int M : batch_sizes)
                    for (int threads : {1, 2}) {
                        std::vector<float> y(size_t(M) * N, NAN);
                        kernels::linear_panels(xv.data(), P, y.data(), M, threads, kind);
                        size_t diff = 0;
                        for (size_t i = 0; i < y.size(); ++i) diff += std::memcmp(&y[i], &ref[i], 4) != 0;
                        CHECK_MSG(diff == 0, "panels %s N%d K%d bf%d: M = %d, %d threads: %zu of %zu values off the reference",
                                  kernels::kernel_path_name(path), N, K, bf, M, threads, diff, y.size());
                    }
            }
        }
    }
    kernels::set_kernel_path(saved);
    kernels::set_amx_enabled(amx_saved);
    CHECK(simd_runs == 8 * (int(kernels::kernel_path_supported(kernels::KernelPath::Avx2)) +
                            int(kernels::kernel_path_supported(kernels::KernelPath::Avx512))));
    // What cannot be packed: an odd column count, a non-BF16 matrix.
    kernels::WeightMat odd;
    odd.type = kernels::WType::BF16;
    odd.out = 4;
    odd.in = 3;
    CHECK(!kernels::panels_layout_ok(odd));
    bool threw = false;
    try {
        kernels::pack_panels(odd, 1);
    } catch (const std::invalid_argument& e) {
        threw = std::string(e.what()).find("even number of columns") != std::string::npos;
    }
    CHECK(threw);
    odd.in = 4;
    odd.type = kernels::WType::F32;
    CHECK(!kernels::panels_layout_ok(odd));
}

// The AMX kernel of the row panels (linear_amx.cpp), where the CPU has AMX: bf16 x against the double-precision
// oracle under a bound, every row of y bitwise the same for any M (blocks of 16 rows of x and a short last one) and
// thread count, some outputs not the VDPBF16PS kernel's bits (it ran), and a K off its layout (K % 32) left to that
// kernel.
static void test_linear_panels_amx() {
    if (!kernels::amx_supported()) {
        std::printf("AMX panels: not supported here, skipped\n");
        return;
    }
    std::mt19937 rng(58);
    std::normal_distribution<float> nd;
    const kernels::KernelPath saved = kernels::kernel_path();
    const bool amx_saved = kernels::amx_enabled();
    CHECK(kernels::set_kernel_path(kernels::KernelPath::Avx512));
    // N, K, stored row stride: a partial last panel; one panel of K 1024; a strided view; K 48 (not the AMX layout).
    const int shapes[][3] = {{200, 96, 0}, {64, 1024, 0}, {130, 160, 256}, {70, 48, 0}};
    const int batch_sizes[] = {1, 2, 3, 4, 5, 16, 17, 33};
    size_t differs = 0;
    for (const auto& sh : shapes) {
        const int N = sh[0], K = sh[1], ld = sh[2], Mmax = 33;
        const Bf16Matrix B(N, K, ld, rng, nd);
        const kernels::WeightMat& W = B.W;
        const kernels::Bf16Panels P = kernels::pack_panels(W, 2);
        std::vector<float> x(size_t(Mmax) * K);
        for (auto& v : x) v = kernels::bf16_to_f32(kernels::f32_to_bf16(nd(rng)));
        std::vector<float> alone(size_t(Mmax) * N), dot(size_t(Mmax) * N);
        CHECK(kernels::set_amx_enabled(false));
        kernels::linear_panels(x.data(), P, dot.data(), Mmax, 1, kernels::XValues::Bf16);
        CHECK(kernels::set_amx_enabled(true));
        for (int m = 0; m < Mmax; ++m)
            kernels::linear_panels(x.data() + size_t(m) * K, P, alone.data() + size_t(m) * N, 1, 1, kernels::XValues::Bf16);
        double err = 0, mag = 1e-30;
        for (int m = 0; m < Mmax; ++m)
            for (int n = 0; n < N; ++n) {
                double ref = 0, sum = 0;
                for (int k = 0; k < K; ++k) {
                    const double t = double(x[size_t(m) * K + k]) * kernels::bf16_to_f32(B.at(n, k));
                    ref += t;
                    sum += std::fabs(t);
                }
                err = std::max(err, std::fabs(alone[size_t(m) * N + n] - ref));
                mag = std::max(mag, sum);
            }
        // Any order of f32 sums of K exact products stays within K u (u = 2^-24) of the sum of their magnitudes.
        CHECK_MSG(err <= K * std::ldexp(mag, -24), "AMX panels N%d K%d: %g off the oracle (sum of |products| up to %g)", N, K, err, mag);
        size_t d = 0;
        for (size_t i = 0; i < dot.size(); ++i) d += std::memcmp(&dot[i], &alone[i], 4) != 0;
        if (K % 32 != 0) CHECK_MSG(d == 0, "AMX panels K%d: not the VDPBF16PS kernel's bits off the AMX layout", K);
        differs += d;
        for (int M : batch_sizes)
            for (int threads : {1, 2}) {
                std::vector<float> y(size_t(M) * N, NAN);
                kernels::linear_panels(x.data(), P, y.data(), M, threads, kernels::XValues::Bf16);
                size_t diff = 0;
                for (size_t i = 0; i < y.size(); ++i) diff += std::memcmp(&y[i], &alone[i], 4) != 0;
                CHECK_MSG(diff == 0, "AMX panels N%d K%d: M = %d, %d threads: %zu of %zu values not M = 1's", N, K, M, threads,
                          diff, y.size());
            }
    }
    CHECK_MSG(differs > 0, "AMX panels: every output the VDPBF16PS kernel's bits (did the AMX kernel run?)");
    kernels::set_amx_enabled(amx_saved);
    kernels::set_kernel_path(saved);
}

// The AVX2 path's attention kernels (attention_avx2.cpp). The scores bitwise against scalar oracles written in their
// documented order (attention.h: per head one fused chain over the columns; the indexer's ReLU terms lane-wise in
// 8-lane vectors of heads, zero past nh, then dot_avx2's lane sum), over f32 rows and rows of packed bf16 (the same
// bits on their values), on the engine's shapes and odd ones (a head group's empty lanes, a pass's missing keys, an odd
// width's unpaired bf16 column); the MLA scores on the AVX-512 path too (the same order); the values bitwise against
// their axpy composition, with and without a split of the keys, and a column range not a multiple of 8, which the
// kernel declines.
static void test_attention_avx2_blocked() {
#if defined(DSV32_X86_KERNELS)
    const kernels::KernelPath saved = kernels::kernel_path();
    if (!kernels::set_kernel_path(kernels::KernelPath::Avx2)) return;  // no AVX2 here
    std::mt19937 rng(47);
    std::normal_distribution<float> nd;
    // bf16 values (so that packed rows hold them exactly) of a normal sample.
    auto fill = [&](std::vector<float>& v) { for (auto& x : v) x = kernels::bf16_to_f32(kernels::f32_to_bf16(nd(rng))); };
    auto pack = [](const std::vector<float>& v) {
        std::vector<uint16_t> o(v.size());
        for (size_t i = 0; i < v.size(); ++i) o[i] = kernels::f32_to_bf16(v[i]);
        return o;
    };
    auto chain = [](const float* a, const float* b, int n, float acc) {
        for (int i = 0; i < n; ++i) acc = std::fma(a[i], b[i], acc);
        return acc;
    };
    for (const int nh : {64, 21, 4}) {
        for (const int hd : {128, 37}) {
            const int nq = 2, nkeys = 77;
            std::vector<float> q(size_t(nq) * nh * hd), w(size_t(nq) * nh), kbuf(size_t(nkeys) * hd);
            fill(q), fill(w), fill(kbuf);
            const std::vector<uint16_t> k16 = pack(kbuf);
            std::vector<const float*> keys(nkeys), qs(nq), ws(nq);
            std::vector<const uint16_t*> keys16(nkeys);
            for (int t = 0; t < nkeys; ++t) keys[size_t(t)] = kbuf.data() + size_t(t) * hd, keys16[size_t(t)] = k16.data() + size_t(t) * hd;
            for (int j = 0; j < nq; ++j) qs[size_t(j)] = q.data() + size_t(j) * nh * hd, ws[size_t(j)] = w.data() + size_t(j) * nh;
            const int lim[nq] = {77, 30};
            std::vector<float> a(size_t(nq) * nkeys, -1.0f), b(a), c(a);
            float* oa[nq] = {a.data(), a.data() + nkeys};
            float* ob[nq] = {b.data(), b.data() + nkeys};
            float* oc[nq] = {c.data(), c.data() + nkeys};
            kernels::index_scores(qs.data(), ws.data(), oa, lim, nq, nh, hd, keys.data(), nkeys);
            kernels::index_scores_bf16_keys(qs.data(), ws.data(), ob, lim, nq, nh, hd, keys16.data(), nkeys);
            const int padded = (nh + 15) / 16 * 16;
            for (int j = 0; j < nq; ++j)
                for (int t = 0; t < lim[j]; ++t) {
                    float tot[8] = {};
                    for (int h = 0; h < padded; ++h) {
                        const float s = h < nh ? chain(qs[size_t(j)] + size_t(h) * hd, keys[size_t(t)], hd, 0.0f) : 0.0f;
                        tot[h % 8] = std::fma(s > 0 ? s : 0.0f, h < nh ? ws[size_t(j)][h] : 0.0f, tot[h % 8]);
                    }
                    const float s0 = tot[0] + tot[4], s1 = tot[1] + tot[5], s2 = tot[2] + tot[6], s3 = tot[3] + tot[7];
                    oc[j][t] = (s0 + s2) + (s1 + s3);  // reduce_avx2.h's hsum
                }
            CHECK_MSG(std::memcmp(a.data(), c.data(), 4 * a.size()) == 0, "avx2 index_scores nh %d hd %d: not the documented order's bits", nh, hd);
            CHECK_MSG(std::memcmp(b.data(), c.data(), 4 * b.size()) == 0, "avx2 index_scores over bf16 keys nh %d hd %d: not its bits", nh, hd);
        }
    }
    for (const int nh : {16, 5, 21}) {
        for (const int nkeys : {77, 1}) {
            for (const auto& widths : {std::pair<int, int>{512, 64}, std::pair<int, int>{37, 3}}) {
                const int kvr = widths.first, dr = widths.second;
                std::vector<float> ql(size_t(nh) * kvr), qp(size_t(nh) * dr), lb(size_t(nkeys) * kvr), pb(size_t(nkeys) * dr);
                fill(ql), fill(qp), fill(lb), fill(pb);
                const std::vector<uint16_t> l16 = pack(lb), p16 = pack(pb);
                std::vector<const float*> lat(nkeys), pe(nkeys);
                std::vector<const uint16_t*> lat16(nkeys), pe16(nkeys);
                for (int j = 0; j < nkeys; ++j) {
                    lat[size_t(j)] = lb.data() + size_t(j) * kvr, pe[size_t(j)] = pb.data() + size_t(j) * dr;
                    lat16[size_t(j)] = l16.data() + size_t(j) * kvr, pe16[size_t(j)] = p16.data() + size_t(j) * dr;
                }
                const size_t pstride = size_t(nkeys) + 3;
                std::vector<float> pa(size_t(nh) * pstride, -1.0f), pbf(pa), po(pa);
                for (int h = 0; h < nh; ++h)
                    for (int j = 0; j < nkeys; ++j)
                        po[size_t(h) * pstride + size_t(j)] =
                            chain(qp.data() + size_t(h) * dr, pe[size_t(j)], dr, chain(ql.data() + size_t(h) * kvr, lat[size_t(j)], kvr, 0.0f)) * 0.135f;
                // The AVX-512 path's f32 decode scores have the same order (attention_avx512.cpp), so the same bits.
                for (const kernels::KernelPath path : {kernels::KernelPath::Avx512, kernels::KernelPath::Avx2}) {
                    if (!kernels::set_kernel_path(path)) continue;
                    const char* pn = kernels::kernel_path_name(path);
                    kernels::mla_scores(ql.data(), qp.data(), nh, kvr, dr, lat.data(), pe.data(), nkeys, 0.135f, pa.data(), pstride);
                    kernels::mla_scores_bf16(ql.data(), qp.data(), nh, kvr, dr, lat16.data(), pe16.data(), nkeys, 0.135f, pbf.data(), pstride);
                    CHECK_MSG(std::memcmp(pa.data(), po.data(), 4 * pa.size()) == 0, "%s mla_scores nh %d keys %d kvr %d: not the documented order's bits",
                              pn, nh, nkeys, kvr);
                    CHECK_MSG(std::memcmp(pbf.data(), po.data(), 4 * pbf.size()) == 0, "%s mla_scores over bf16 rows nh %d keys %d kvr %d: not its bits",
                              pn, nh, nkeys, kvr);
                }
                if (kvr != 512) continue;
                for (int h = 0; h < nh; ++h) kernels::softmax(pa.data() + size_t(h) * pstride, nkeys);
                for (const auto& cols : {std::pair<int, int>{0, 512}, std::pair<int, int>{64, 200}, std::pair<int, int>{8, 16}}) {
                    for (const int split : {0, nkeys / 2}) {
                        std::vector<float> va(size_t(nh) * kvr, -1.0f), vb(size_t(nh) * kvr, -1.0f);
                        kernels::mla_values(pa.data(), pstride, nh, kvr, lat.data(), nkeys, cols.first, cols.second, va.data(), split);
                        kernels::mla_values_dot(pa.data(), pstride, nh, kvr, lat.data(), nkeys, cols.first, cols.second, vb.data(), split);
                        CHECK_MSG(std::memcmp(va.data(), vb.data(), 4 * va.size()) == 0,
                                  "avx2 mla_values nh %d keys %d columns [%d, %d) split %d: not the axpy composition's bits", nh, nkeys,
                                  cols.first, cols.second, split);
                    }
                }
            }
        }
    }
    // Declined: values columns not a multiple of 8 (nothing written).
    std::vector<float> dummy(64, 1.0f), o(64, -3.0f);
    const float* row[1] = {dummy.data()};
    CHECK(!kernels::mla_values_avx2(dummy.data(), 1, 1, 24, row, 1, 0, 12, o.data(), 0));
    CHECK(std::all_of(o.begin(), o.end(), [](float v) { return v == -3.0f; }));
    kernels::set_kernel_path(saved);
#endif
}

int main() {
    test_e4m3();
    test_bf16_f16();
    test_hadamard();
    test_norms_softmax_matmul();
    test_softmax_paths();
    test_rope();
    test_linear_paths();
    test_linear_batch_invariance();
    test_linear_bf16_dot(false);
    test_linear_bf16_dot(true);
    test_linear_panels();
    test_linear_panels_amx();
    test_pair_tiles();
    test_fp8_numerics_paths();
    test_fp8_primitives();
    test_dot_axpy_paths();
    test_strided_views();
    test_attention_kernels();
    test_attention_avx2_blocked();
    return test_summary("test_kernels");
}
