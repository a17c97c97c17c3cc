// pair_tiles.h: bands of rows of an FP8 matrix repacked for the transposed product y = x W_band on bf16 x
// (kernels::linear_t_tiles): the absorbed MLA decode's W_UK^T q_nope (architecture.md §6.3), one band per head.
//
// Why: in wkv_b's own layout a head's W_UK band (128 rows x 512 on mini and V3.2) lies between the W_UV bands, and the
// transposed product reads it in 64-column strips down its rows; one core read such bands at about 10 GB/s. In tiles
// every band is one sequential stream, and the bands of consecutive heads are adjacent.
//
// Layout: band b, tile t (columns 64 t .. 64 t + 63), row pair p (rows 2p, 2p + 1 of the band; an odd last row pairs
// with zero codes): 128 bytes at tile(b, t) + 128 p, the two 64-byte halves VPUNPCKLBW(A, B) and VPUNPCKHBW(A, B) of
// the rows' 64 codes A and B (per 128-bit lane, the low / high 8 codes of A interleaved with B's). scale[b * tiles + t]:
// the band's block scale for the tile's columns (a band lies within one 128-row block).
//
// The arithmetic of one output y[m][c] (linear_t_tiles_scalar emulates it bitwise): blk = 0; per row pair in
// order blk = VDPBF16PS(blk, (W[2p][c], W[2p+1][c]), (x[m][2p], x[m][2p+1])); y = blk * scale. Products exact, f32 sums.
#ifndef DSV32_KERNELS_PAIR_TILES_H
#define DSV32_KERNELS_PAIR_TILES_H

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "kernels/kernels.h"

namespace dsv32 {
namespace kernels {

struct Fp8PairTiles {
    int bands = 0, rows = 0, in = 0;  // rows per band; in: the matrix's columns (a multiple of 64)
    struct Free {
        void operator()(uint8_t* p) const { std::free(p); }
    };
    std::unique_ptr<uint8_t[], Free> data;  // 64-byte aligned
    std::vector<float> scale;               // [bands][tiles]
    int tiles() const { return in / 64; }
    int pairs() const { return (rows + 1) / 2; }
    bool empty() const { return !data; }
    size_t nbytes() const { return size_t(bands) * size_t(tiles()) * size_t(pairs()) * 128; }
    const uint8_t* tile(int b, int t) const { return data.get() + (size_t(b) * size_t(tiles()) + size_t(t)) * size_t(pairs()) * 128; }
    uint8_t* tile(int b, int t) { return data.get() + (size_t(b) * size_t(tiles()) + size_t(t)) * size_t(pairs()) * 128; }
};

// Whether `bands` bands of `rows` rows, band b from row first + b * stride of w, can be tiled: FP8 with scales,
// in % 64 == 0, every band inside w and inside one 128-row block.
bool pair_tiles_ok(const WeightMat& w, int first, int stride, int bands, int rows);
// The tiles of those bands, packed by n_threads OpenMP threads. Throws std::invalid_argument unless pair_tiles_ok,
// std::bad_alloc when they do not fit.
Fp8PairTiles pack_pair_tiles(const WeightMat& w, int first, int stride, int bands, int rows, int n_threads = 1);
// y[m][c] = sum_r x[m][r] W[band's row r][c] for x [M][rows] (bf16 values) and y [M][in] (overwritten), single-threaded,
// on a CPU with AVX512-BF16 (bf16_dot_enabled(), the Avx512 path). Returns false, writing nothing, when that does not
// hold or a value of x is not a bf16: the caller then takes linear_t_rows on the matrix itself.
bool linear_t_tiles(const float* x, const Fp8PairTiles& t, int band, float* y, int M);

// The reference (any CPU): VDPBF16PS's arithmetic in scalar code (bf16_dot_ref.h), bitwise what linear_t_tiles gives.
// false when a value of x is not a bf16.
bool linear_t_tiles_scalar(const float* x, const Fp8PairTiles& t, int band, float* y, int M);

#if defined(DSV32_X86_KERNELS)
bool linear_t_tiles_bf16dot(const float* x, const Fp8PairTiles& t, int band, float* y, int M);  // linear_avx512bf16.cpp
#endif

}  // namespace kernels
}  // namespace dsv32

#endif
