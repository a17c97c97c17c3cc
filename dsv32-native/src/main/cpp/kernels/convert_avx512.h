// convert_avx512.h: weight element conversions and register-layout helpers shared by the AVX-512 translation units
// (linear_avx512.cpp, linear_avx512bf16.cpp, attention_avx512.cpp) -- included only by files compiled with the
// AVX-512 -m flags. Internal linkage (anonymous namespace), so no copy compiled with these flags can be merged with a
// baseline one.
//
// e4m3 -> f32 goes through f16: the code's magnitude bits shifted left by 7 are an f16 with the same mantissa and
// an exponent 8 lower (subnormals included), so f32 = cvtph(h) * 2^8, exact; the 2^8 is folded into the block
// scale (scale * 256 is exact), giving e4m3(code) * scale with one rounding, as the scalar dequant_row does.
// (The NaN codes 0x7F/0xFF read as +-480 here instead of NaN; checkpoints hold none.)
#ifndef DSV32_KERNELS_CONVERT_AVX512_H
#define DSV32_KERNELS_CONVERT_AVX512_H

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/aligned_scratch.h"
#include "kernels/kernels.h"

namespace dsv32 {
namespace kernels {
namespace {

// x as the FP8 dot-product kernels read it (linear_avx512bf16.cpp): the bf16 bits (the high halves) of v, columns k ..
// k + 15 of a row (k a multiple of 16), stored in the kernels' order. Column k + i of a 64-column chunk c0: i < 8 goes
// to w0's half, i >= 8 to w1's; within a half, lane (k % 64) / 16 holds 8 consecutive columns.
inline void store_x_fp8_order(uint16_t* row, int k, __m512i v) {
    const __m256i h = _mm512_cvtepi32_epi16(_mm512_srli_epi32(v, 16));
    const int c0 = k & ~63, lane = (k & 63) / 16;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(row + c0 + 8 * lane), _mm256_castsi256_si128(h));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(row + c0 + 32 + 8 * lane), _mm256_extracti128_si256(h, 1));
}

// FP8 weight streaming (the decode GEMVs read each matrix once, from memory): with the line at p requested, the one
// STREAM_AHEAD bytes on goes to L2 (_MM_HINT_T1), if it is still before the matrix's end. Requests into L1 eight rows
// ahead (before) kept fewer lines in flight: on the 2-vCPU EPYC the FP8 GEMV read 160 MB of 1024 x 1024 matrices at
// 11 Gweights/s on two cores with them, 16-18 with these (the distance mattered little from 8 to 64 KB), and mini's
// fp8 decode step at context 1024 took 7 % less. The bf16 head, one 8 MB stream per task, gained nothing from it.
// 8 KB rather than 32: most decode matrices are small (a routed expert's 256 KB, a head's 64 KB band of wkv_b), and
// the lines beyond 8 KB mostly arrived late or past the end of what the call reads. One core streaming 256 x 1024
// FP8 experts: 17.6 -> 22.3 GB/s; mini's decode step at context 1024 (alternating within one process, three runs on
// a box whose speed varied): fp8 batch 1 2.5-3.7 % and batch 4 2.4-5.4 % shorter, f32 3.0 and 4.4 % (one run).
constexpr size_t STREAM_AHEAD = 8192;
inline void prefetch_stream(const uint8_t* p, const uint8_t* end) {
    if (size_t(end - p) > STREAM_AHEAD) _mm_prefetch(reinterpret_cast<const char*>(p + STREAM_AHEAD), _MM_HINT_T1);
}

// Rows n and n + 1 of an FP8 W as the two-row decode kernels read them (linear_avx512.cpp, linear_avx512bf16.cpp): their
// codes, the end of the matrix (prefetch_stream's bound) and their block-scale rows. The row stride written out, not
// WeightMat::stride(): that inline member compiled here with the AVX-512 flags could be the copy baseline callers get.
struct Fp8RowPair {
    const uint8_t *a, *b, *end;
    const float *sa, *sb;
};
inline Fp8RowPair fp8_row_pair(const WeightMat& w, int n) {
    const size_t stride = w.ld > 0 ? size_t(w.ld) : size_t(w.in);
    const uint8_t* base = static_cast<const uint8_t*>(w.data);
    return {base + size_t(n) * stride, base + size_t(n + 1) * stride, base + size_t(w.out) * stride,
            w.scale + size_t(n / 128) * size_t(w.scale_cols), w.scale + size_t((n + 1) / 128) * size_t(w.scale_cols)};
}

// The two rows' 128-byte block at column k requested ahead (prefetch_stream: the two lines of each).
inline void prefetch_row_pair(const Fp8RowPair& rows, int k) {
    prefetch_stream(rows.a + k, rows.end);
    prefetch_stream(rows.a + k + 64, rows.end);
    prefetch_stream(rows.b + k, rows.end);
    prefetch_stream(rows.b + k + 64, rows.end);
}

// 16 bf16 values (32 bytes, any alignment) -> f32, exact.
inline __m512 bf16x16(const uint8_t* p) {
    const __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
}

// 32 e4m3 codes -> two f16-domain f32 vectors (value * 2^-8, exact). The f16 bits are sign << 15 | magnitude << 7:
// sign-extending the byte to 16 bits and shifting left by 7 puts the sign at bit 15 and the magnitude at bits 7..13,
// with a copy of the sign at bit 14 that the mask clears (2 integer operations per 32 codes after the widening).
inline void fp8x32(const uint8_t* p, __m512* lo, __m512* hi) {
    const __m512i v = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    const __m512i h = _mm512_and_si512(_mm512_slli_epi16(v, 7), _mm512_set1_epi16(short(0xBF80)));
    *lo = _mm512_cvtph_ps(_mm512_castsi512_si256(h));
    *hi = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(h, 1));
}

// In place: r[c] lane u becomes the old r[u] lane c (a 16 x 16 transpose in three shuffle stages).
__attribute__((always_inline)) inline void transpose16(__m512* r) {
    __m512 t[16];
    for (int k = 0; k < 8; ++k) {  // per 128-bit block: (a0 b0 a1 b1), (a2 b2 a3 b3) of rows 2k, 2k + 1
        t[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
        t[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
    }
    for (int k = 0; k < 4; ++k) {  // r[4k + c] block L: rows 4k .. 4k + 3 of column 4L + c
        r[4 * k + 0] = _mm512_shuffle_ps(t[4 * k], t[4 * k + 2], 0x44);
        r[4 * k + 1] = _mm512_shuffle_ps(t[4 * k], t[4 * k + 2], 0xEE);
        r[4 * k + 2] = _mm512_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0x44);
        r[4 * k + 3] = _mm512_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0xEE);
    }
    for (int c = 0; c < 4; ++c) {  // gather the four row quarters of columns c, 4 + c, 8 + c, 12 + c
        t[c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88);
        t[4 + c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xDD);
        t[8 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
        t[12 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xDD);
    }
    for (int c = 0; c < 4; ++c) {
        r[c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0x88);
        r[8 + c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0xDD);
        r[4 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0x88);
        r[12 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0xDD);
    }
}

// 64-byte aligned thread-local scratch of at least n floats (one buffer per translation unit and thread).
inline float* scratch_floats(size_t n) {
    thread_local std::vector<float> buf;
    return aligned_scratch(buf, n);
}

// The first n of 16 lanes (all of them from n >= 16).
inline __mmask16 tail_mask(int n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1u); }

// One group of up to 16 heads with its heads along the lanes, in 16 x 16 register blocks: qT[i][u] = q[u][i] for the
// rows q + u * qld (u < ng <= 16), columns [0, n); lanes ng .. 15 zero. qT rows ld floats apart, 64-byte aligned.
inline void transpose_group16(const float* q, size_t qld, int ng, int n, float* qT, size_t ld) {
    for (int i = 0; i < n; i += 16) {
        const __mmask16 m = tail_mask(n - i);
        __m512 r[16];
        for (int u = 0; u < 16; ++u) r[u] = u < ng ? _mm512_maskz_loadu_ps(m, q + size_t(u) * qld + size_t(i)) : _mm512_setzero_ps();
        transpose16(r);  // r[c] lane u: head u, column i + c
        for (int c = 0; c < std::min(16, n - i); ++c) _mm512_store_ps(qT + size_t(i + c) * ld, r[c]);
    }
}

// qT[i][h] = q[h][i] for nh heads of hd values (qT rows ld floats apart, ld a multiple of 16, 64-byte aligned; the lanes
// of a last group past nh zero): the indexer's query with its heads along the lanes.
inline void transpose_heads(const float* q, int nh, int hd, float* qT, int ld) {
    for (int h0 = 0; h0 < nh; h0 += 16)
        transpose_group16(q + size_t(h0) * size_t(hd), size_t(hd), std::min(16, nh - h0), hd, qT + h0, size_t(ld));
}


// The lane sums of 16 vectors as one vector (lane u = sum of a[u]'s lanes): a transposing tree of 15 adds and 30
// shuffles instead of 16 horizontal reductions. Every a[u] is summed by the same tree, whatever u.
__attribute__((always_inline)) inline __m512 reduce16(const __m512* a) {
    __m512 b[8], c[4], d[2];
    for (int u = 0; u < 8; ++u)  // halves: [a[2u] lanes 0-7 + 8-15 | a[2u+1] likewise]
        b[u] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * u], a[2 * u + 1], 0x44), _mm512_shuffle_f32x4(a[2 * u], a[2 * u + 1], 0xEE));
    for (int u = 0; u < 4; ++u)  // quarters: 128-bit block k holds 4 partial sums of key 4u + k
        c[u] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * u], b[2 * u + 1], 0x88), _mm512_shuffle_f32x4(b[2 * u], b[2 * u + 1], 0xDD));
    for (int u = 0; u < 2; ++u)  // pairs within blocks: block k = [key 8u + k: 2 sums | key 8u + 4 + k: 2 sums]
        d[u] = _mm512_add_ps(_mm512_shuffle_ps(c[2 * u], c[2 * u + 1], 0x44), _mm512_shuffle_ps(c[2 * u], c[2 * u + 1], 0xEE));
    // block k = [key k, key 4 + k, key 8 + k, key 12 + k]; then lane 4k + i -> lane 4i + k
    const __m512 e = _mm512_add_ps(_mm512_shuffle_ps(d[0], d[1], 0x88), _mm512_shuffle_ps(d[0], d[1], 0xDD));
    return _mm512_permutexvar_ps(_mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0), e);
}

// The indexer's head sum of 4 keys: tot[u] += ReLU(a[u][v]) * w[v] over the NV head vectors, in order.
template <int NV>
__attribute__((always_inline)) inline void index_head_sum(const __m512 (&a)[4][NV], const float* wv, __m512* tot) {
    const __m512 zero = _mm512_setzero_ps();
    for (int v = 0; v < NV; ++v) {
        const __m512 w = _mm512_load_ps(wv + 16 * v);
        for (int u = 0; u < 4; ++u) tot[u] = _mm512_fmadd_ps(_mm512_max_ps(a[u][v], zero), w, tot[u]);
    }
}

}  // namespace
}  // namespace kernels
}  // namespace dsv32

#endif
