// rope.cuh: RoPE over a [rows, heads, stride] buffer's rope slice, both layouts (architecture.md §4, Rope::apply).
#ifndef DSV32_GPU_KERNELS_ROPE_CUH
#define DSV32_GPU_KERNELS_ROPE_CUH

#include "gpu/kernels/common.cuh"

namespace dsv32::gpu::dev {

// One thread per (row, head, frequency i): angle = f32(pos * freq_i), cos / sin in double rounded to f32, then
// a' = a cos - b sin, b' = a sin + b cos with each product rounded (no FMA), as the CPU.
__global__ void rope_kernel(float* x, int rows, int heads, int stride, int offset, int dim, const int32_t* positions,
                            const float* freqs, bool interleaved) {
    const int half = dim / 2;
    const size_t total = size_t(rows) * size_t(heads) * size_t(half);
    for (size_t t = global_thread(); t < total; t += global_threads()) {
        const int i = int(t % size_t(half));
        const size_t rh = t / size_t(half);
        const int r = int(rh / size_t(heads));
        float* base = x + rh * size_t(stride) + size_t(offset);
        const float ang = f_mul_rn(float(positions[r]), freqs[i]);
        const float cs = float(cos(double(ang))), sn = float(sin(double(ang)));
        float* a = interleaved ? base + 2 * i : base + i;
        float* b = interleaved ? base + 2 * i + 1 : base + i + half;
        const float x0 = *a, x1 = *b;
        *a = f_sub_rn(f_mul_rn(x0, cs), f_mul_rn(x1, sn));
        *b = f_add_rn(f_mul_rn(x0, sn), f_mul_rn(x1, cs));
    }
}

}  // namespace dsv32::gpu::dev

#endif
