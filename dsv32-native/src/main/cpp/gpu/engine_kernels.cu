// engine_kernels.cu: launchers of the engine's kernels (engine_kernels.h): the one nvcc translation unit of gpu/
// besides the shared kernels (gpu_kernels.cu). Arguments are checked on the host before any launch.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "gpu/engine_kernels.h"
#include "gpu/kernels/attention.cuh"
#include "gpu/kernels/indexer_logits.cuh"
#include "gpu/kernels/kv_cache.cuh"

// Launch with dynamic shared memory (portability.h's DSV32_LAUNCH has none), and raising a kernel's dynamic shared
// memory limit: the runtime calls here that portability.h does not name. Under the CPU emulator (tests only) the
// launch runs the blocks at once and the limit does not apply.
#if defined(DSV32_GPU_EMULATE)
#define DSV32_LAUNCH_SHMEM(kernel, grid, block, shmem, stream) \
    ((void)(shmem), (void)(stream), ::dsv32::gpu::emu::launch((kernel), dim3(grid), dim3(block)))
#define DSV32_FUNC_SET_MAX_DYNAMIC_SHMEM(k, bytes) ((void)(k), (void)(bytes), gpuSuccess)
#else
#define DSV32_LAUNCH_SHMEM(kernel, grid, block, shmem, stream) kernel<<<(grid), (block), (shmem), (stream)>>>
#endif
#if defined(DSV32_GPU_EMULATE)
#elif defined(DSV32_GPU_HIP)
#define DSV32_FUNC_SET_MAX_DYNAMIC_SHMEM(k, bytes) hipFuncSetAttribute((k), hipFuncAttributeMaxDynamicSharedMemorySize, (bytes))
#else
#define DSV32_FUNC_SET_MAX_DYNAMIC_SHMEM(k, bytes) cudaFuncSetAttribute((k), cudaFuncAttributeMaxDynamicSharedMemorySize, (bytes))
#endif

namespace dsv32::gpu {

namespace {

[[noreturn]] void bad(const char* fn, const std::string& what) { throw std::invalid_argument(std::string(fn) + ": " + what); }

void check_cache(const char* fn, const CacheRef& c) {
    if (!c.block_ptr || !c.tab0 || !c.row_seg || !c.row_pos) bad(fn, "cache tables are null");
    if (c.bs < 1 || c.kvr < 0 || c.dr < 0 || c.ihd < 0 || c.layer_off < 0) bad(fn, "bad cache layout");
}

void launched(const char* fn) { DSV32_GPU_CHECK(gpuPeekAtLastError()); (void)fn; }

constexpr int kCopyThreads = 128;
constexpr int kMaxGridY = 65535;

}  // namespace

int cache_slot_width(const CacheRef& c, CacheSlot slot) {
    return slot == CacheSlot::Latent ? c.kvr : slot == CacheSlot::KPe ? c.dr : c.ihd;
}

void cache_store(const float* src, int rows, int ld, CacheSlot slot, const CacheRef& c, gpuStream_t stream) {
    const char* fn = "cache_store";
    if (rows < 0) bad(fn, "rows " + std::to_string(rows) + " < 0");
    if (rows == 0) return;
    check_cache(fn, c);
    if (!src) bad(fn, "src is null");
    const int w = cache_slot_width(c, slot);
    if (ld == 0) ld = w;
    if (ld < w) bad(fn, "ld " + std::to_string(ld) + " < slot width " + std::to_string(w));
    DSV32_LAUNCH_SHMEM(cache_store_kernel, rows, kCopyThreads, 0, stream)(src, ld, int(slot), c);
    launched(fn);
}

void cache_gather(CacheSlot slot, const CacheRef& c, const int32_t* seg, const int32_t* pos, int n, float* out, gpuStream_t stream) {
    const char* fn = "cache_gather";
    if (n < 0) bad(fn, "n " + std::to_string(n) + " < 0");
    if (n == 0) return;
    check_cache(fn, c);
    if (!seg || !pos || !out) bad(fn, "seg, pos or out is null");
    DSV32_LAUNCH_SHMEM(cache_gather_kernel, n, kCopyThreads, 0, stream)(int(slot), c, seg, pos, out);
    launched(fn);
}

void indexer_logits(const float* q, const float* w, int rows, int row0, int nh, int hd, const CacheRef& c, float* scores, int ld,
                    gpuStream_t stream) {
    const char* fn = "indexer_logits";
    if (rows < 0 || row0 < 0) bad(fn, "rows / row0 < 0");
    if (rows == 0) return;
    check_cache(fn, c);
    if (!q || !w || !scores) bad(fn, "q, w or scores is null");
    if (nh < 1 || hd < 1 || hd != c.ihd) bad(fn, "nh " + std::to_string(nh) + ", hd " + std::to_string(hd) + " (cache ihd " + std::to_string(c.ihd) + ")");
    if (ld < 1) bad(fn, "ld " + std::to_string(ld) + " < 1");
    if (rows > 65535) bad(fn, "rows " + std::to_string(rows) + " > 65535 (split the rows)");
    const size_t shmem = size_t(nh) * hd * sizeof(float) + size_t(nh) * sizeof(float);
    if (shmem > 48 * 1024) {
        if (shmem > 227 * 1024) bad(fn, "q row of " + std::to_string(nh * hd) + " floats does not fit in shared memory");
        DSV32_GPU_CHECK(DSV32_FUNC_SET_MAX_DYNAMIC_SHMEM(reinterpret_cast<const void*>(indexer_logits_kernel), int(shmem)));
    }
    const dim3 grid((ld + kIndexerKeysPerBlock - 1) / kIndexerKeysPerBlock, rows);
    DSV32_LAUNCH_SHMEM(indexer_logits_kernel, grid, 128, shmem, stream)(q, w, row0, nh, hd, c, scores, ld);
    launched(fn);
}

namespace {

void check_attn(const char* fn, const float* q, const int32_t* rows, int n_rows, int H, int dn, int dr, int dv,
                const CacheRef& c, const int32_t* sel, const int32_t* count, int K, float* o) {
    if (n_rows < 0) bad(fn, "n_rows < 0");
    check_cache(fn, c);
    if (!q || !rows || !sel || !count || !o) bad(fn, "a pointer argument is null");
    if (H < 1 || dn < 0 || dr < 0 || dv < 1 || dr != c.dr) bad(fn, "bad head sizes (H " + std::to_string(H) + ", dr " + std::to_string(dr) + " vs cache " + std::to_string(c.dr) + ")");
    if (K < 1) bad(fn, "K " + std::to_string(K) + " < 1");
    if (H > 65535) bad(fn, "H " + std::to_string(H) + " > 65535");
}

void set_shmem(const void* kernel, size_t shmem, const char* fn) {
    if (shmem <= 48 * 1024) return;
    if (shmem > 227 * 1024) bad(fn, std::to_string(shmem) + " bytes of shared memory needed (too many selected keys)");
    DSV32_GPU_CHECK(DSV32_FUNC_SET_MAX_DYNAMIC_SHMEM(kernel, int(shmem)));
}

}  // namespace

void mla_prefill(const float* q, const int32_t* rows, int n_rows, int H, int dn, int dr, int dv, const float* kvb,
                 const int64_t* kvb_row0, const CacheRef& c, const int32_t* sel, const int32_t* count, int K, float scale,
                 float* o, gpuStream_t stream) {
    const char* fn = "mla_prefill";
    check_attn(fn, q, rows, n_rows, H, dn, dr, dv, c, sel, count, K, o);
    if (n_rows == 0) return;
    if (!kvb || !kvb_row0) bad(fn, "kvb or kvb_row0 is null");
    const size_t shmem = (size_t(K) + size_t(dn + dr)) * sizeof(float);
    set_shmem(reinterpret_cast<const void*>(mla_prefill_kernel), shmem, fn);
    for (int i0 = 0; i0 < n_rows; i0 += kMaxGridY) {  // grid.y is at most 65535: long prefills in slices of rows
        const int n = std::min(kMaxGridY, n_rows - i0);
        DSV32_LAUNCH_SHMEM(mla_prefill_kernel, dim3(H, n), kAttnThreads, shmem, stream)(q, rows + i0, H, dn, dr, dv, kvb, kvb_row0, c, sel, count, K,
                                                                        scale, o);
    }
    launched(fn);
}

void mla_decode(const float* q, const int32_t* rows, int n_rows, int H, int dn, int dr, int dv, const GpuWeight& wkv_b,
                const CacheRef& c, const int32_t* sel, const int32_t* count, int K, float scale, bool bf16_ops, float* o,
                gpuStream_t stream) {
    const char* fn = "mla_decode";
    check_attn(fn, q, rows, n_rows, H, dn, dr, dv, c, sel, count, K, o);
    if (n_rows == 0) return;
    validate_weight(wkv_b, "mla_decode: wkv_b");
    if (wkv_b.out != H * (dn + dv) || wkv_b.in != c.kvr)
        bad(fn, "wkv_b is [" + std::to_string(wkv_b.out) + ", " + std::to_string(wkv_b.in) + "], expected [" +
                    std::to_string(H * (dn + dv)) + ", " + std::to_string(c.kvr) + "]");
    const size_t shmem = (size_t(K) + size_t(dn + dr) + 2 * size_t(c.kvr)) * sizeof(float);
    set_shmem(reinterpret_cast<const void*>(mla_decode_kernel), shmem, fn);
    for (int i0 = 0; i0 < n_rows; i0 += kMaxGridY) {
        const int n = std::min(kMaxGridY, n_rows - i0);
        DSV32_LAUNCH_SHMEM(mla_decode_kernel, dim3(H, n), kAttnThreads, shmem, stream)(q, rows + i0, H, dn, dr, dv, wkv_b, c, sel, count, K, scale, bf16_ops,
                                                                                              o);
    }
    launched(fn);
}

}  // namespace dsv32::gpu
