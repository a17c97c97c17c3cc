// pair_tiles.cpp: packing the FP8 pair tiles (pair_tiles.h) and the dispatch of linear_t_tiles.
#include "kernels/pair_tiles.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

#include "kernels/bf16_dot_ref.h"
#include "kernels/linear_isa.h"

namespace dsv32 {
namespace kernels {

bool pair_tiles_ok(const WeightMat& w, int first, int stride, int bands, int rows) {
    if (w.type != WType::FP8 || w.scale == nullptr || w.in % 64 != 0 || bands < 1 || rows < 1 || first < 0 || stride < rows)
        return false;
    const int64_t last = int64_t(first) + int64_t(bands - 1) * stride + rows;  // one past the last band's last row
    if (last > w.out) return false;
    for (int b = 0; b < bands; ++b) {
        const int r0 = first + b * stride;
        if (r0 / 128 != (r0 + rows - 1) / 128) return false;
    }
    return true;
}

Fp8PairTiles pack_pair_tiles(const WeightMat& w, int first, int stride, int bands, int rows, int n_threads) {
    if (!pair_tiles_ok(w, first, stride, bands, rows))
        throw std::invalid_argument("pack_pair_tiles: bands of " + std::to_string(rows) + " rows from row " + std::to_string(first) +
                                    " every " + std::to_string(stride) + " do not fit this " + std::to_string(w.out) + " x " +
                                    std::to_string(w.in) + " FP8 matrix");
    Fp8PairTiles t;
    t.bands = bands;
    t.rows = rows;
    t.in = w.in;
    void* p = nullptr;
    if (posix_memalign(&p, 64, std::max<size_t>(t.nbytes(), 64)) != 0) throw std::bad_alloc();
    t.data.reset(static_cast<uint8_t*>(p));
    t.scale.resize(size_t(bands) * size_t(t.tiles()));
    const uint8_t* src = static_cast<const uint8_t*>(w.data);
    const size_t ld = w.stride();
    (void)n_threads;
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) num_threads(std::max(1, n_threads)) if (n_threads > 1 && bands > 1)
#endif
    for (int b = 0; b < bands; ++b) {
        const int r0 = first + b * stride;
        for (int ti = 0; ti < t.tiles(); ++ti) {
            const int c0 = 64 * ti;
            t.scale[size_t(b) * size_t(t.tiles()) + size_t(ti)] = w.scale[size_t(r0 / 128) * size_t(w.scale_cols) + size_t(c0 / 128)];
            uint8_t* o = t.tile(b, ti);
            for (int pi = 0; pi < t.pairs(); ++pi) {
                const uint8_t* a = src + size_t(r0 + 2 * pi) * ld + size_t(c0);
                const uint8_t* bb = 2 * pi + 1 < rows ? a + ld : nullptr;  // an odd last row: zero codes
                uint8_t* q = o + size_t(pi) * 128;
                // VPUNPCKLBW / VPUNPCKHBW(A, B) per 128-bit lane L: codes 16 L + 0..7 (low half) or + 8..15 (high).
                for (int half = 0; half < 2; ++half)
                    for (int lane = 0; lane < 4; ++lane)
                        for (int i = 0; i < 8; ++i) {
                            const int c = 16 * lane + 8 * half + i;
                            q[64 * half + 16 * lane + 2 * i] = a[c];
                            q[64 * half + 16 * lane + 2 * i + 1] = bb ? bb[c] : 0;
                        }
            }
        }
    }
    return t;
}

bool linear_t_tiles_scalar(const float* x, const Fp8PairTiles& t, int band, float* y, int M) {
    const int K = t.in, R = t.rows;
    const float* tab = e4m3_table();
    for (int m = 0; m < M; ++m) {
        const float* xr = x + size_t(m) * size_t(R);
        for (int r = 0; r < R; ++r) {  // the claim pack_x_bf16 checks: the low 16 bits zero
            uint32_t b;
            std::memcpy(&b, xr + r, 4);
            if (b & 0xFFFFu) return false;
        }
    }
    for (int ti = 0; ti < t.tiles(); ++ti) {
        const uint8_t* tile = t.tile(band, ti);
        const float s = t.scale[size_t(band) * size_t(t.tiles()) + size_t(ti)];
        for (int j = 0; j < 64; ++j) {  // column 64 ti + j: byte 2 i (row 2p) / 2 i + 1 (row 2p + 1) of its half
            const int lane = j / 16, half = (j % 16) / 8, i = j % 8;
            const size_t at = size_t(64 * half + 16 * lane + 2 * i);
            for (int m = 0; m < M; ++m) {
                const float* xr = x + size_t(m) * size_t(R);
                float acc = 0.0f;
                for (int p = 0; p < t.pairs(); ++p) {
                    const uint8_t* q = tile + size_t(p) * 128;
                    const uint32_t wp = uint32_t(f32_to_bf16(tab[q[at]])) | uint32_t(f32_to_bf16(tab[q[at + 1]])) << 16;
                    uint32_t xe, xo = 0;  // the bf16 bits of x[2p], x[2p + 1] (0 past an odd last row)
                    std::memcpy(&xe, xr + 2 * p, 4);
                    if (2 * p + 1 < R) std::memcpy(&xo, xr + 2 * p + 1, 4);
                    xe >>= 16;
                    xo >>= 16;
                    acc = dp_pair(acc, wp, xe | xo << 16);
                }
                y[size_t(m) * size_t(K) + size_t(64 * ti + j)] = acc * s;
            }
        }
    }
    return true;
}

bool linear_t_tiles(const float* x, const Fp8PairTiles& t, int band, float* y, int M) {
#if defined(DSV32_X86_KERNELS)
    if (!t.empty() && band >= 0 && band < t.bands && kernel_path() == KernelPath::Avx512 && bf16_dot_enabled())
        return linear_t_tiles_bf16dot(x, t, band, y, M);
#endif
    (void)x, (void)t, (void)band, (void)y, (void)M;
    return false;
}

}  // namespace kernels
}  // namespace dsv32
