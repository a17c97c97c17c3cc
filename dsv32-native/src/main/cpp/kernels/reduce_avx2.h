// reduce_avx2.h: the horizontal sum of the AVX2 translation units (linear_avx2.cpp, attention_avx2.cpp) -- included
// only by files compiled with the AVX2 -m flags. One reduction order for the path, so that dot_avx2, the GEMVs and the
// blocked attention kernels that must give dot_avx2's bits all add the lanes the same way. Internal linkage
// (anonymous namespace), as convert_avx512.h.
#ifndef DSV32_KERNELS_REDUCE_AVX2_H
#define DSV32_KERNELS_REDUCE_AVX2_H

#include <immintrin.h>

namespace dsv32 {
namespace kernels {
namespace {

// ((v0..3 + v4..7) then the halves of that, then its two lanes).
inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

}  // namespace
}  // namespace kernels
}  // namespace dsv32

#endif
