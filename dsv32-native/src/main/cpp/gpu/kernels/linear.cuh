// linear.cuh: y = x W^T with W dequantised on the fly (F32 / BF16 / FP8 block-scaled), f32 accumulation:
//  * gemv_kernel: M <= kGemvMaxRows, one warp per output column n, the warp streams W's row n once for all M rows;
//  * tiled_gemm_kernel: kTileM x kTileN output tiles through shared memory (x and dequantised W in kTileK slices),
//    used for larger M and, with a row map, for the grouped expert GEMM (architecture.md §8);
//  * fp8_gemm_kernel: codes x codes with the per-128-K-block promotion of kernels::fp8_gemm_ref.
// Correctness first: a later issue replaces these with tensor-core (wgmma) paths.
#ifndef DSV32_GPU_KERNELS_LINEAR_CUH
#define DSV32_GPU_KERNELS_LINEAR_CUH

#include "gpu/kernels/common.cuh"

namespace dsv32::gpu::dev {

constexpr int kGemvMaxRows = 8;
constexpr int kGemvWarps = 8;  // output columns per block

// grid (ceil(N / kGemvWarps)), block (kGemvWarps * warp size).
__global__ void gemv_kernel(const float* x, int ldx, GpuWeight w, float* y, int ldy, int M) {
    const int lane = int(threadIdx.x) % DSV32_WARP_SIZE, warp = int(threadIdx.x) / DSV32_WARP_SIZE;
    const int n = int(blockIdx.x) * kGemvWarps + warp;
    if (n >= w.out) return;  // whole warp leaves together
    float acc[kGemvMaxRows];
#pragma unroll
    for (int m = 0; m < kGemvMaxRows; ++m) acc[m] = 0.0f;
    for (int k = lane; k < w.in; k += DSV32_WARP_SIZE) {
        const float wv = load_weight(w, n, k);
#pragma unroll
        for (int m = 0; m < kGemvMaxRows; ++m)
            if (m < M) acc[m] += x[size_t(m) * size_t(ldx) + size_t(k)] * wv;
    }
#pragma unroll
    for (int m = 0; m < kGemvMaxRows; ++m) {
        if (m >= M) break;
        const float s = warp_reduce(acc[m], SumOp{});
        if (lane == 0) y[size_t(m) * size_t(ldy) + size_t(n)] = s;
    }
}

constexpr int kTileM = 64, kTileN = 64, kTileK = 32;
constexpr int kTileThreads = 256;  // 16 x 16 threads, 4 x 4 outputs each

// The body of the tiled GEMM for rows [0, rows) of one row set: x row i is x[row_of(i) * ldx], y row i is
// y[slot_of(i) * ldy]; computes the output tile (row tile mt, column tile of blockIdx.x).
template <typename RowOf, typename SlotOf>
__device__ void tiled_gemm_tile(const float* x, int ldx, const GpuWeight& w, float* y, int ldy, int rows, int mt,
                                RowOf row_of, SlotOf slot_of, float (*xs)[kTileM + 1], float (*ws)[kTileN + 1]) {
    const int tid = int(threadIdx.x);
    const int tx = tid % 16, ty = tid / 16;
    const int m0 = mt * kTileM, n0 = int(blockIdx.x) * kTileN;
    const int K = w.in, N = w.out;
    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = 0.0f;
    for (int k0 = 0; k0 < K; k0 += kTileK) {
        // Load kTileM x kTileK of x and kTileN x kTileK of W (k fastest: coalesced), zero-padded at the edges.
        for (int e = tid; e < kTileM * kTileK; e += kTileThreads) {
            const int i = e / kTileK, k = e % kTileK;
            const int m = m0 + i, kk = k0 + k;
            xs[k][i] = (m < rows && kk < K) ? x[size_t(row_of(m)) * size_t(ldx) + size_t(kk)] : 0.0f;
        }
        for (int e = tid; e < kTileN * kTileK; e += kTileThreads) {
            const int j = e / kTileK, k = e % kTileK;
            const int n = n0 + j, kk = k0 + k;
            ws[k][j] = (n < N && kk < K) ? load_weight(w, n, kk) : 0.0f;
        }
        __syncthreads();
#pragma unroll 8
        for (int k = 0; k < kTileK; ++k) {
            float a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; ++i) a[i] = xs[k][ty + 16 * i];
#pragma unroll
            for (int j = 0; j < 4; ++j) b[j] = ws[k][tx + 16 * j];
#pragma unroll
            for (int i = 0; i < 4; ++i)
#pragma unroll
                for (int j = 0; j < 4; ++j) acc[i][j] += a[i] * b[j];
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const int m = m0 + ty + 16 * i;
        if (m >= rows) continue;
        float* yr = y + size_t(slot_of(m)) * size_t(ldy);
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            const int n = n0 + tx + 16 * j;
            if (n < N) yr[n] = acc[i][j];
        }
    }
}

struct IdentityRow {
    __device__ int operator()(int i) const { return i; }
};

// grid (ceil(N / kTileN), ceil(M / kTileM)), block (kTileThreads).
__global__ void __launch_bounds__(kTileThreads) tiled_gemm_kernel(const float* x, int ldx, GpuWeight w, float* y, int ldy, int M) {
    __shared__ float xs[kTileK][kTileM + 1];
    __shared__ float ws[kTileK][kTileN + 1];
    tiled_gemm_tile(x, ldx, w, y, ldy, M, int(blockIdx.y), IdentityRow{}, IdentityRow{}, xs, ws);
}

struct OffsetRow {  // slot i of a group = global slot off + i; its x row rows[off + i] (or the slot itself)
    int off;
    const int32_t* rows;
    __device__ int operator()(int i) const { return rows ? rows[off + i] : off + i; }
};
struct OffsetSlot {
    int off;
    __device__ int operator()(int i) const { return off + i; }
};

// grid (ceil(N / kTileN), G, row-tile stride), block (kTileThreads): group blockIdx.y, row tiles blockIdx.z,
// blockIdx.z + gridDim.z, ... of that group.
__global__ void __launch_bounds__(kTileThreads) grouped_gemm_kernel(const float* x, const GpuWeight* weights, const int32_t* offsets,
                                                                    const int32_t* rows, float* y, int N, int K, int max_slots) {
    __shared__ float xs[kTileK][kTileM + 1];
    __shared__ float ws[kTileK][kTileN + 1];
    const int g = int(blockIdx.y);
    const GpuWeight w = weights[g];
    if (!w.data || w.out != N || w.in != K) return;  // skipped group (documented) or a view that does not fit
    int off = offsets[g], end = offsets[g + 1];
    off = off < 0 ? 0 : off;
    end = end > max_slots ? max_slots : end;
    const int cnt = end - off;
    for (int mt = int(blockIdx.z); mt * kTileM < cnt; mt += int(gridDim.z))
        tiled_gemm_tile(x, K, w, y, N, cnt, mt, OffsetRow{off, rows}, OffsetSlot{off}, xs, ws);
}

// fp8_gemm: c = bf16( sum_kb blk_kb * (a_s[m, kb] * b_s[n / 128, kb]) ), blk_kb = f32 sum over the 128 products
// (exact products of two e4m3 values). grid (ceil(N / kTileN), ceil(M / kTileM)), block (kTileThreads).
__global__ void __launch_bounds__(kTileThreads) fp8_gemm_kernel(const uint8_t* a8, const float* a_s, GpuWeight b, float* c, int M) {
    __shared__ float xs[kTileK][kTileM + 1];
    __shared__ float ws[kTileK][kTileN + 1];
    const int tid = int(threadIdx.x);
    const int tx = tid % 16, ty = tid / 16;
    const int m0 = int(blockIdx.y) * kTileM, n0 = int(blockIdx.x) * kTileN;
    const int K = b.in, N = b.out, nb = K / 128;
    const uint8_t* b8 = static_cast<const uint8_t*>(b.data);
    float acc[4][4], blk[4][4];
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = blk[i][j] = 0.0f;
    for (int k0 = 0; k0 < K; k0 += kTileK) {
        for (int e = tid; e < kTileM * kTileK; e += kTileThreads) {
            const int i = e / kTileK, k = e % kTileK, m = m0 + i;
            xs[k][i] = m < M ? e4m3_to_f32(a8[size_t(m) * size_t(K) + size_t(k0 + k)]) : 0.0f;
        }
        for (int e = tid; e < kTileN * kTileK; e += kTileThreads) {
            const int j = e / kTileK, k = e % kTileK, n = n0 + j;
            ws[k][j] = n < N ? e4m3_to_f32(b8[size_t(n) * b.stride() + size_t(k0 + k)]) : 0.0f;
        }
        __syncthreads();
#pragma unroll 8
        for (int k = 0; k < kTileK; ++k) {
            float av[4], bv[4];
#pragma unroll
            for (int i = 0; i < 4; ++i) av[i] = xs[k][ty + 16 * i];
#pragma unroll
            for (int j = 0; j < 4; ++j) bv[j] = ws[k][tx + 16 * j];
#pragma unroll
            for (int i = 0; i < 4; ++i)
#pragma unroll
                for (int j = 0; j < 4; ++j) blk[i][j] += av[i] * bv[j];  // products exact: FMA or not, same sum
        }
        __syncthreads();
        if ((k0 + kTileK) % 128 == 0) {  // end of a 128-wide K block: promote into the f32 accumulator
            const int kb = (k0 + kTileK) / 128 - 1;
#pragma unroll
            for (int i = 0; i < 4; ++i) {
                const int m = m0 + ty + 16 * i;
                const float sa = m < M ? a_s[size_t(m) * size_t(nb) + size_t(kb)] : 0.0f;
#pragma unroll
                for (int j = 0; j < 4; ++j) {
                    const int n = n0 + tx + 16 * j;
                    const float sb = n < N ? b.scale[size_t(n / 128) * size_t(b.scale_cols) + size_t(kb)] : 0.0f;
                    acc[i][j] = f_add_rn(acc[i][j], f_mul_rn(blk[i][j], f_mul_rn(sa, sb)));
                    blk[i][j] = 0.0f;
                }
            }
        }
    }
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const int m = m0 + ty + 16 * i;
        if (m >= M) continue;
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            const int n = n0 + tx + 16 * j;
            if (n < N) c[size_t(m) * size_t(N) + size_t(n)] = round_bf16(acc[i][j]);
        }
    }
}

}  // namespace dsv32::gpu::dev

#endif
