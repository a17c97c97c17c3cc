// panels.cpp: packing, the scalar reference and the dispatcher of the row-panel GEMV (panels.h).
#include "kernels/panels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/mman.h>

#include "kernels/aligned_scratch.h"
#include "kernels/bf16_dot_ref.h"
#include "kernels/linear_isa.h"

namespace dsv32 {
namespace kernels {

bool panels_layout_ok(const WeightMat& w) { return w.type == WType::BF16 && w.in > 0 && w.in % 2 == 0 && w.out > 0; }

Bf16Panels pack_panels(const WeightMat& w, int n_threads) {
    if (!panels_layout_ok(w))
        throw std::invalid_argument("pack_panels: needs a BF16 matrix with an even number of columns (got " + std::to_string(w.out) +
                                    " x " + std::to_string(w.in) + ")");
    Bf16Panels p;
    p.out = w.out;
    p.in = w.in;
    const size_t bytes = p.nbytes();
    // On 2 MB boundaries and asked to be backed by transparent huge pages (advice: a no-op where THP is off), as the KV
    // cache: the head is one 265 MB stream a step on mini, a TLB miss every 4 KB without them (batch-4 f32 head
    // 6.6 -> 6.1 ms, two pairs).
    constexpr size_t HUGE_PAGE = size_t(2) << 20;
    const size_t alloc = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    p.data.reset(static_cast<uint32_t*>(std::aligned_alloc(HUGE_PAGE, alloc)));
    if (!p.data) throw std::bad_alloc();
#if defined(MADV_HUGEPAGE)
    madvise(p.data.get(), alloc, MADV_HUGEPAGE);
#endif
    const int P = p.panels(), Q = w.in / 2;
    const uint16_t* src = static_cast<const uint16_t*>(w.data);
    uint32_t* dst = p.data.get();
    (void)n_threads;
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) num_threads(std::max(1, n_threads))
#endif
    for (int pi = 0; pi < P; ++pi) {
        uint32_t* o = dst + size_t(pi) * size_t(Q) * PANEL_ROWS;
        for (int j = 0; j < PANEL_ROWS; ++j) {  // row by row: each source row read once, sequentially
            const int n = pi * PANEL_ROWS + j;
            if (n >= w.out) {
                for (int q = 0; q < Q; ++q) o[size_t(q) * PANEL_ROWS + size_t(j)] = 0;
                continue;
            }
            const uint16_t* r = src + size_t(n) * w.stride();
            for (int q = 0; q < Q; ++q) o[size_t(q) * PANEL_ROWS + size_t(j)] = uint32_t(r[2 * q]) | uint32_t(r[2 * q + 1]) << 16;
        }
    }
    return p;
}

void linear_panels_scalar(const float* x, const Bf16Panels& w, float* y, int M, int p0, int p1, bool bf16dot) {
    const int K = w.in, Q = K / 2;
    for (int pi = p0; pi < p1; ++pi) {
        const uint32_t* panel = w.data.get() + size_t(pi) * size_t(Q) * PANEL_ROWS;
        for (int j = 0; j < PANEL_ROWS; ++j) {
            const int n = pi * PANEL_ROWS + j;
            if (n >= w.out) break;
            for (int m = 0; m < M; ++m) {
                const float* xr = x + size_t(m) * size_t(K);
                float acc = 0.0f;
                for (int q = 0; q < Q; ++q) {
                    const uint32_t wp = panel[size_t(q) * PANEL_ROWS + size_t(j)];
                    if (bf16dot) {
                        uint32_t xe, xo;
                        std::memcpy(&xe, xr + 2 * q, 4);
                        std::memcpy(&xo, xr + 2 * q + 1, 4);
                        acc = dp_pair(acc, wp, (xe >> 16) | (xo & 0xFFFF0000u));
                    } else {
                        acc = std::fma(bf16_to_f32(uint16_t(wp)), xr[2 * q], acc);
                        acc = std::fma(bf16_to_f32(uint16_t(wp >> 16)), xr[2 * q + 1], acc);
                    }
                }
                y[size_t(m) * size_t(w.out) + size_t(n)] = acc;
            }
        }
    }
}

void linear_panels(const float* x, const Bf16Panels& w, float* y, int M, int n_threads, XValues xv) {
    if (w.empty() || M <= 0) return;
    const int P = w.panels();
    // Tasks of whole panels, about 8 per thread (dynamic schedule): each a contiguous run of the matrix.
    const int nt = std::max(1, n_threads);
    const int per = std::max(1, P / (8 * nt));
    const int tasks = (P + per - 1) / per;
    const bool par = nt > 1 && int64_t(M) * w.out * w.in > 100000;
    enum class Kind { Scalar, F32, Dot, Amx, Avx2 } kind = Kind::Scalar;  // off AVX-512: f32, as kernels::linear there
    const uint32_t* xp = nullptr;
#if defined(DSV32_X86_KERNELS)
    thread_local std::vector<uint32_t> xpairs;
    if (kernel_path() == KernelPath::Avx512) {
        kind = Kind::F32;
        if (xv == XValues::Bf16 && bf16_dot_enabled()) {
            uint32_t* buf = aligned_scratch(xpairs, size_t(M) * size_t(w.in / 2));
            if (pack_x_bf16(x, M, w.in, WType::BF16, reinterpret_cast<uint16_t*>(buf))) {  // natural order = the pairs
                kind = Kind::Dot;
#if defined(DSV32_AMX_KERNELS)
                if (amx_enabled() && panels_amx_layout_ok(w)) kind = Kind::Amx;
#endif
                xp = buf;
            }
        }
    } else if (kernel_path() == KernelPath::Avx2) {
        kind = Kind::Avx2;
    }
#endif
    auto run = [&](int p0, int p1) {
        switch (kind) {
#if defined(DSV32_X86_KERNELS)
            case Kind::F32: linear_panels_avx512(x, w, y, M, p0, p1); return;
            case Kind::Dot: linear_panels_bf16dot(xp, w, y, M, p0, p1); return;
#if defined(DSV32_AMX_KERNELS)
            case Kind::Amx: linear_panels_amx(xp, w, y, M, p0, p1); return;
#endif
            case Kind::Avx2: linear_panels_avx2(x, w, y, M, p0, p1); return;
#endif
            default: linear_panels_scalar(x, w, y, M, p0, p1, false); return;
        }
    };
    (void)xp;
    (void)xv;
    if (!par) {
        run(0, P);
        return;
    }
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
#endif
    for (int t = 0; t < tasks; ++t) run(t * per, std::min(P, t * per + per));
}

}  // namespace kernels
}  // namespace dsv32
