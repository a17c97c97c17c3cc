// linear.cpp: y = x W^T over weights kept as stored (FP8 block-scaled, BF16, F32), dequantised on the fly.
// The scalar reference lives here beside the dispatcher; the AVX2+FMA and AVX-512 row kernels are in
// linear_avx2.cpp / linear_avx512.cpp (compiled with per-file -m flags, chosen at run time).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/aligned_scratch.h"
#include "kernels/kernels.h"
#include "kernels/linear_isa.h"

#if defined(_OPENMP)
#include <omp.h>
#endif
#if defined(DSV32_AMX_KERNELS) && defined(__linux__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace dsv32 {
namespace kernels {

size_t WeightMat::nbytes() const {
    const size_t n = size_t(out) * size_t(in);
    switch (type) {
        case WType::F32: return 4 * n;
        case WType::BF16: return 2 * n;
        case WType::FP8: return n + 4 * size_t((out + 127) / 128) * size_t((in + 127) / 128);
    }
    return 0;
}

void dequant_row(const WeightMat& w, int n, int k0, int len, float* out) {
    const size_t base = size_t(n) * w.stride() + size_t(k0);
    switch (w.type) {
        case WType::F32:
            std::memcpy(out, static_cast<const float*>(w.data) + base, sizeof(float) * size_t(len));
            break;
        case WType::BF16: {
            const uint8_t* p = static_cast<const uint8_t*>(w.data) + 2 * base;
            for (int i = 0; i < len; ++i) out[i] = bf16_to_f32(uint16_t(p[2 * i] | (p[2 * i + 1] << 8)));
            break;
        }
        case WType::FP8: {
            const uint8_t* p = static_cast<const uint8_t*>(w.data) + base;
            const float* tab = e4m3_table();
            const float* srow = w.scale + size_t(n / 128) * size_t(w.scale_cols);
            for (int i = 0; i < len; ++i) out[i] = tab[p[i]] * srow[(k0 + i) / 128];
            break;
        }
    }
}

void linear_rows_scalar(const float* x, const WeightMat& w, float* y, int M, int n0, int n1) {
    const int K = w.in, N = w.out;
    thread_local std::vector<float> row;
    if (w.type == WType::F32) {
        for (int n = n0; n < n1; ++n) {
            const float* wr = static_cast<const float*>(w.data) + size_t(n) * w.stride();
            for (int m = 0; m < M; ++m) y[size_t(m) * N + n] = dot(x + size_t(m) * K, wr, K);
        }
        return;
    }
    row.resize(size_t(K));
    for (int n = n0; n < n1; ++n) {
        dequant_row(w, n, 0, K, row.data());
        for (int m = 0; m < M; ++m) y[size_t(m) * N + n] = dot(x + size_t(m) * K, row.data(), K);
    }
}

// ---- kernel path selection ----

namespace {

bool cpu_has(KernelPath p) {
#if defined(DSV32_X86_KERNELS)
    __builtin_cpu_init();
    switch (p) {
        case KernelPath::Scalar: return true;
        case KernelPath::Avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
        case KernelPath::Avx512:
            return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                   __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    }
    return false;
#else
    return p == KernelPath::Scalar;
#endif
}

KernelPath initial_path() {
    KernelPath best = cpu_has(KernelPath::Avx512) ? KernelPath::Avx512 : cpu_has(KernelPath::Avx2) ? KernelPath::Avx2 : KernelPath::Scalar;
    const char* env = std::getenv("DSV32_KERNELS");
    if (!env || !*env) return best;
    const std::string e(env);
    KernelPath want = best;
    if (e == "scalar") want = KernelPath::Scalar;
    else if (e == "avx2") want = KernelPath::Avx2;
    else if (e == "avx512") want = KernelPath::Avx512;
    // "auto" or anything else: best. A forced path the CPU lacks falls back to the best supported one.
    return cpu_has(want) ? want : best;
}

KernelPath& active() {
    static KernelPath p = initial_path();
    return p;
}

bool bf16_dot_cpu() {
#if defined(DSV32_X86_KERNELS)
    __builtin_cpu_init();
    return cpu_has(KernelPath::Avx512) && __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512vbmi");
#else
    return false;
#endif
}

// A kernel family's starting state: on where the CPU supports it, unless the environment variable env is "0".
bool initially_on(bool supported, const char* env) {
    const char* v = std::getenv(env);
    return supported && !(v && std::string(v) == "0");
}
// Turning a family on or off (tests, benchmarks): refused (false) for an unsupported one.
bool set_switch(bool& state, bool on, bool supported) {
    if (on && !supported) return false;
    state = on;
    return true;
}

bool& bf16_dot_on() {
    static bool on = initially_on(bf16_dot_cpu(), "DSV32_BF16_DOT");
    return on;
}

}  // namespace

bool bf16_dot_supported() { return bf16_dot_cpu(); }
bool bf16_dot_enabled() { return bf16_dot_on(); }
bool set_bf16_dot_enabled(bool on) { return set_switch(bf16_dot_on(), on, bf16_dot_cpu()); }

namespace {
bool amx_cpu() {
#if defined(DSV32_AMX_KERNELS) && defined(__linux__)
    static const bool ok = [] {
        unsigned a = 0, b = 0, c = 0, d = 0;
        if (!bf16_dot_cpu() || !__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
        if (!((d >> 24) & 1u) || !((d >> 22) & 1u)) return false;  // CPUID.(7,0):EDX AMX-TILE, AMX-BF16
        // Linux keeps the tile data (XFEATURE_XTILEDATA, 18) off until a process asks for it (ARCH_REQ_XCOMP_PERM);
        // the permission holds for all its threads. Refused (an older kernel, a too small signal stack): no AMX.
        return syscall(SYS_arch_prctl, 0x1023, 18) == 0;
    }();
    return ok;
#else
    return false;
#endif
}
bool& amx_on() {
    static bool on = initially_on(amx_cpu(), "DSV32_AMX");
    return on;
}
}  // namespace
bool amx_supported() { return amx_cpu(); }
bool amx_enabled() { return amx_on(); }
bool set_amx_enabled(bool on) { return set_switch(amx_on(), on, amx_cpu()); }
bool kernel_path_supported(KernelPath p) { return cpu_has(p); }
KernelPath kernel_path() { return active(); }
bool set_kernel_path(KernelPath p) {
    if (!cpu_has(p)) return false;
    active() = p;
    return true;
}
const char* kernel_path_name(KernelPath p) {
    switch (p) {
        case KernelPath::Scalar: return "scalar";
        case KernelPath::Avx2: return "avx2";
        case KernelPath::Avx512: return "avx512";
    }
    return "?";
}

namespace {

// The tasks of one linear call: rows of W per task a multiple of 16 (the SIMD kernels take 4-row tiles); threads only
// when the call has work for them. Every output row is computed the same way whatever the tiling.
// A GEMM (M > 16) takes about 16 tasks per thread, so the dynamic schedule balances the compute without a task per 16
// rows. A decode GEMV (M <= 16) streams W from memory and takes 1: each task is then one long contiguous run, and the
// requests prefetch_stream makes ahead (convert_avx512.h; 32 KB then, 8 KB now) land in rows the same task reads, where with 16 short
// tasks most of them fetched rows another task, often on the other core, read later or had read already. mini's fp8
// decode step: batch 1 12.0 -> 10.8 ms, batch 4 22.1 -> 20.9 (two runs of 40 rounds, both sizes alternating within
// one process); f32 1 % faster. One task a thread rather than two (2026-12-05, in one process, alternating, three runs
// of 150 rounds): median steps 1 % shorter at batch 1 and batch 4, mean steps 2-3 % (two tasks had the longer tail).
// The schedule stays dynamic: a thread that has not started by the time the other finishes leaves it both tasks.
struct RowTiles {
    int tile, tiles;
    bool parallel;
    RowTiles(int M, int N, int K, int n_threads) {
        const int per_thread = M <= 16 ? 1 : 16;
        const int per = (N + per_thread * std::max(1, n_threads) - 1) / (per_thread * std::max(1, n_threads));
        tile = std::max(16, (per + 15) / 16 * 16);
        tiles = (N + tile - 1) / tile;
        parallel = n_threads > 1 && int64_t(M) * N * K > 100000;
    }
};

#if defined(DSV32_X86_KERNELS)
// Rows [n0, n1) of y = x W^T on the AVX512-BF16 kernels from x packed by pack_x_bf16 (xp); with round_y the outputs
// are then rounded to bf16 by the thread that computed them, while they are in its cache.
void bf16dot_rows(const uint16_t* xp, const WeightMat& w, float* y, int M, int n0, int n1, bool round_y) {
    linear_rows_bf16dot(xp, w, y, M, n0, n1);
    if (round_y)
        for (int m = 0; m < M; ++m) round_bf16_avx512(y + size_t(m) * size_t(w.out) + size_t(n0), size_t(n1 - n0));
}

// Rows [r0, r1) of the parts' rows taken one after the other (part i's rows from the sum of the earlier parts' out).
void bf16dot_part_rows(const uint16_t* xp, const LinearPart* parts, int n_parts, int M, int r0, int r1, bool round_y) {
    int off = 0;
    for (int i = 0; i < n_parts && off < r1; ++i) {
        const WeightMat& w = *parts[i].w;
        const int a = std::max(r0, off), b = std::min(r1, off + w.out);
        if (a < b) bf16dot_rows(xp, w, parts[i].y, M, a - off, b - off, round_y);
        off += w.out;
    }
}

// All the parts' rows that way, in linear's tiles over the rows together.
void bf16dot_part_tiles(const uint16_t* xp, const LinearPart* parts, int n_parts, int M, int n_threads, bool round_y) {
    int N = 0;
    for (int i = 0; i < n_parts; ++i) N += parts[i].w->out;
    const RowTiles rt(M, N, parts[0].w->in, n_threads);
    if (!rt.parallel) {  // no OpenMP construct at all (see linear below)
        bf16dot_part_rows(xp, parts, n_parts, M, 0, N, round_y);
        return;
    }
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1) num_threads(n_threads)
#endif
    for (int t = 0; t < rt.tiles; ++t) bf16dot_part_rows(xp, parts, n_parts, M, t * rt.tile, std::min(N, t * rt.tile + rt.tile), round_y);
}
#endif

}  // namespace

#if defined(DSV32_X86_KERNELS)
bool linear_fp8_bf16dot_parts(const float* x, const LinearPart* parts, int n_parts, int M, int n_threads) {
    if (n_parts <= 0 || !(kernel_path() == KernelPath::Avx512 && bf16_dot_on())) return false;
    const int K = parts[0].w->in;
    const size_t MK = size_t(M) * size_t(K);
    int N = 0;  // the parts' rows together
    bool apart = true;  // no y overlaps x
    for (int i = 0; i < n_parts; ++i) {
        const WeightMat& w = *parts[i].w;
        // bf16_dot_layout_ok: K % 128 == 0 and block scales, for FP8.
        if (!(w.type == WType::FP8 && w.in == K && bf16_dot_layout_ok(w))) return false;
        N += w.out;
        const float* y = parts[i].y;
        apart = apart && (y + size_t(M) * size_t(w.out) <= x || x + MK <= y);
    }
    // One pass over x, a 128-block at a time in registers: the act_quant round trip (ue8m0), then packed. At batch 4
    // the separate passes (a copy of x, the round trip in place, the packing) and a serial bf16 rounding of y took
    // about 0.3 ms of a mini decode step (4 x 1024 floats a call, some 120 calls), the other thread waiting.
    const RowTiles rt(M, N, K, n_threads);
    if (!rt.parallel || M > 16 || !apart) {  // packed once, on this thread; then y is written
        thread_local std::vector<uint16_t> xb;
        uint16_t* xp = aligned_scratch(xb, MK);
        if (!act_quant_pack_x_fp8_avx512(x, M, K, xp)) return false;  // not bf16 values (a NaN)
        bf16dot_part_tiles(xp, parts, n_parts, M, n_threads, true);
        return true;
    }
    // A decode batch: every thread packs its own copy (a few microseconds, at the same time) and reads only that one.
    // Packed once on the calling thread, the stores waited on lines the other core had just read (the last call's x):
    // about 0.3 ms of a batch-4 step on mini with the other thread idle. Each thread computes the same packing, so
    // all of them see the same answer to "bf16 values?" (a NaN: y untouched); a thread out of memory for its copy
    // makes the call return false as well, and the caller computes y the other way.
    bool ok = true;
#if defined(_OPENMP)
#pragma omp parallel num_threads(n_threads)
#endif
    {
        thread_local std::vector<uint16_t> xb;
        uint16_t* xp = nullptr;
        bool mine = false;
        try {
            xp = aligned_scratch(xb, MK);
            mine = act_quant_pack_x_fp8_avx512(x, M, K, xp);
        } catch (...) {  // out of memory: no exception leaves the region
        }
        if (!mine) {
#if defined(_OPENMP)
#pragma omp atomic write
#endif
            ok = false;
        }
#if defined(_OPENMP)
#pragma omp for schedule(dynamic, 1)
#endif
        for (int t = 0; t < rt.tiles; ++t) {
            if (!mine) continue;
            bf16dot_part_rows(xp, parts, n_parts, M, t * rt.tile, std::min(N, t * rt.tile + rt.tile), true);
        }
    }
    return ok;
}

bool linear_fp8_bf16dot(const float* x, const WeightMat& w, float* y, int M, int n_threads) {
    const LinearPart part{&w, y};
    return linear_fp8_bf16dot_parts(x, &part, 1, M, n_threads);
}
#endif

void linear(const float* x, const WeightMat& w, float* y, int M, int n_threads, XValues xv) {
    const int N = w.out, K = w.in;
    const KernelPath path = kernel_path();
#if defined(DSV32_X86_KERNELS)
    // x of bf16 values on a CPU with AVX512-BF16: the dot-product kernels on x packed as bf16 (linear_isa.h).
    if (xv == XValues::Bf16 && path == KernelPath::Avx512 && bf16_dot_on() && bf16_dot_layout_ok(w)) {
        thread_local std::vector<uint16_t> xb;
        uint16_t* xp = aligned_scratch(xb, size_t(M) * size_t(K));
        if (pack_x_bf16(x, M, K, w.type, xp)) {
            const LinearPart part{&w, y};
            bf16dot_part_tiles(xp, &part, 1, M, n_threads, false);
            return;
        }
    }
#endif
    (void)xv;
    (void)path;  // the kernel paths are x86 only
#if defined(DSV32_X86_KERNELS)
    // x on a 64-byte boundary for the AVX-512 row kernels, which read every x row once per row (or 4 rows) of W: a
    // load split over two cache lines halves its throughput (the bf16 head at M = 4 ran at 73 GFLOP/s per core from a
    // misaligned x, 117 from an aligned one; a large std::vector is mmap-ed, 16 bytes past a page boundary). Copies
    // M x K floats, small next to the work.
    thread_local std::vector<float> xal;
    if (path == KernelPath::Avx512 && reinterpret_cast<uintptr_t>(x) % 64 != 0 && K % 16 == 0) {
        float* xa = aligned_scratch(xal, size_t(M) * size_t(K));
        std::copy_n(x, size_t(M) * size_t(K), xa);
        x = xa;
    }
#endif
    const RowTiles rt(M, N, K, n_threads);
    const int TILE = rt.tile, tiles = rt.tiles;
    const bool par = rt.parallel;
    // Rows [n0, n1) of y on this thread, with its scratch.
    auto rows = [&](int n0, int n1) {
#if defined(DSV32_X86_KERNELS)
        if (path != KernelPath::Scalar) {
            thread_local std::vector<float> scratch;
            float* sp = aligned_scratch(scratch, linear_scratch_floats(K));
            if (path == KernelPath::Avx512) linear_rows_avx512(x, w, y, M, n0, n1, sp);
            else linear_rows_avx2(x, w, y, M, n0, n1, sp);
            return;
        }
#endif
        linear_rows_scalar(x, w, y, M, n0, n1);
    };
    // A serial call enters no OpenMP construct: an "if (false)" region still builds a team of one, which inside
    // another region (the routed experts run each GEMM single-threaded on their thread) cost about 2 us per call in
    // libgomp and futex calls, against about 8 us for a 256 x 1024 FP8 expert GEMV.
    if (!par) {
        rows(0, N);
        return;
    }
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1) num_threads(n_threads)
#endif
    for (int t = 0; t < tiles; ++t) rows(t * TILE, t * TILE + TILE < N ? t * TILE + TILE : N);
}

}  // namespace kernels
}  // namespace dsv32
