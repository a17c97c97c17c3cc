// emulator.h: a CPU emulation of the small part of the CUDA/HIP device model the kernels in gpu/kernels/ use, so
// their logic (block reductions, scans, radix selects, barriers) can be tested on a machine without a GPU. It is a
// TEST TOOL, selected only by -DDSV32_GPU_EMULATE (through gpu/portability.h) and compiled by the host C++ compiler
// (with -ffp-contract=off, so products and sums round as the __f*_rn intrinsics do); never part of the library.
//
// Model: blocks run one after another; the threads of a block are cooperative fibers on the calling OS thread
// (ucontext to start, _setjmp/_longjmp to switch: no system call per switch). __syncthreads() yields to the
// scheduler, which resumes every live thread once per round, so no thread passes a barrier before all live threads
// reached it (exited threads are not waited for, as on the hardware). __shared__ is `static`: one instance, shared
// by the block's threads (blocks are sequential). Warp shuffles exchange through a per-thread slot between two
// barriers, hence they must be reached by all live threads of the block (true of every kernel here: shuffles only
// run in block-uniform code). Atomics are plain read-modify-writes (fibers never interleave inside one).
// Device memory is host memory; streams are ignored; kernels run synchronously at launch.
#ifndef DSV32_GPU_EMULATOR_H
#define DSV32_GPU_EMULATOR_H

#include <setjmp.h>
#include <ucontext.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

// Fiber switches jump between stacks. With _FORTIFY_SOURCE (on by default in some distributions' compilers, e.g.
// Ubuntu's, the CUDA image's) glibc's <setjmp.h> turns _longjmp into __longjmp_chk, which aborts such a jump
// ("longjmp causes uninitialized stack frame"). The emulator calls glibc's plain _longjmp through a declaration of
// its own (the symbol, not the header's redirected name).
#if defined(__GLIBC__)
extern "C" [[noreturn]] void dsv32_emu_longjmp(jmp_buf env, int val) noexcept __asm__("_longjmp");
#define DSV32_EMU_LONGJMP dsv32_emu_longjmp
#else
#define DSV32_EMU_LONGJMP _longjmp
#endif

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
    constexpr dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};

namespace dsv32::gpu::emu {

struct Fiber {
    ucontext_t uc;
    jmp_buf jb;
    bool started = false, done = false;
    dim3 tid;
    int linear = 0;
};

struct State {
    dim3 grid, block, bid;
    std::vector<Fiber> fibers;
    std::vector<std::unique_ptr<char[]>> stacks;  // uninitialised: only the pages a fiber touches are committed
    std::vector<uint64_t> slots;
    jmp_buf sched;
    Fiber* cur = nullptr;
    size_t idx = 0;
    std::function<void()> body;
};

inline State& st() {
    static State s;
    return s;
}

inline void yield() {
    State& s = st();
    if (_setjmp(s.cur->jb) == 0) DSV32_EMU_LONGJMP(s.sched, 1);
}

inline void trampoline() {
    State& s = st();
    s.body();
    s.cur->done = true;
    DSV32_EMU_LONGJMP(s.sched, 1);
}

constexpr size_t kStackBytes = 256 * 1024;

inline void run_block() {
    State& s = st();
    const size_t n = size_t(s.block.x) * s.block.y * s.block.z;
    s.fibers.assign(n, Fiber{});
    if (s.stacks.size() < n) s.stacks.resize(n);
    s.slots.assign(n, 0);
    for (size_t i = 0; i < n; ++i) {
        if (!s.stacks[i]) s.stacks[i].reset(new char[kStackBytes]);
        Fiber& f = s.fibers[i];
        f.linear = int(i);
        f.tid = dim3(unsigned(i % s.block.x), unsigned(i / s.block.x % s.block.y), unsigned(i / (size_t(s.block.x) * s.block.y)));
    }
    for (;;) {
        bool any = false;
        for (s.idx = 0; s.idx < n; ++s.idx) {
            Fiber& f = s.fibers[s.idx];
            if (f.done) continue;
            any = true;
            s.cur = &f;
            if (_setjmp(s.sched) == 0) {
                if (!f.started) {
                    f.started = true;
                    getcontext(&f.uc);
                    f.uc.uc_stack.ss_sp = s.stacks[s.idx].get();
                    f.uc.uc_stack.ss_size = kStackBytes;
                    f.uc.uc_link = nullptr;
                    makecontext(&f.uc, trampoline, 0);
                    setcontext(&f.uc);
                } else {
                    DSV32_EMU_LONGJMP(f.jb, 1);
                }
            }
        }
        if (!any) break;
    }
    s.cur = nullptr;
}

inline void run_grid(dim3 grid, dim3 block, std::function<void()> body) {
    State& s = st();
    s.grid = grid;
    s.block = block;
    s.body = std::move(body);
    for (unsigned z = 0; z < grid.z; ++z)
        for (unsigned y = 0; y < grid.y; ++y)
            for (unsigned x = 0; x < grid.x; ++x) {
                s.bid = dim3(x, y, z);
                run_block();
            }
}

template <typename K>
auto launch(K kernel, dim3 grid, dim3 block) {
    return [=](auto... args) { run_grid(grid, block, [&] { kernel(args...); }); };
}

// Warp exchange: every live thread publishes v, then reads the slot of src (a linear thread index).
template <typename T>
T exchange(T v, int src) {
    State& s = st();
    uint64_t b = 0;
    std::memcpy(&b, &v, sizeof(T));
    s.slots[size_t(s.cur->linear)] = b;
    yield();
    T r;
    std::memcpy(&r, &s.slots[size_t(src)], sizeof(T));
    yield();
    return r;
}
inline int linear_id() { return st().cur->linear; }
// Lanes per emulated warp: 32 (NVIDIA) unless the test is built with -DDSV32_EMU_WARP_SIZE=64 (AMD CDNA wavefronts),
// so that the kernels' warp-level logic is exercised at both widths (portability.h's DSV32_WARP_SIZE follows it).
#if !defined(DSV32_EMU_WARP_SIZE)
#define DSV32_EMU_WARP_SIZE 32
#endif
static_assert(DSV32_EMU_WARP_SIZE == 32 || DSV32_EMU_WARP_SIZE == 64, "DSV32_EMU_WARP_SIZE must be 32 or 64");
inline int lane() { return st().cur->linear % DSV32_EMU_WARP_SIZE; }

}  // namespace dsv32::gpu::emu

#define threadIdx (::dsv32::gpu::emu::st().cur->tid)
#define blockIdx (::dsv32::gpu::emu::st().bid)
#define blockDim (::dsv32::gpu::emu::st().block)
#define gridDim (::dsv32::gpu::emu::st().grid)
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(...)

inline void __syncthreads() { ::dsv32::gpu::emu::yield(); }
inline float __uint_as_float(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
inline uint32_t __float_as_uint(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fsqrt_rn(float a) { return std::sqrt(a); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline unsigned atomicAdd(unsigned* p, unsigned v) {
    const unsigned o = *p;
    *p = o + v;
    return o;
}
inline double atomicAdd(double* p, double v) {
    const double o = *p;
    *p = o + v;
    return o;
}
using std::isfinite;
using std::isnan;

// The runtime API subset (host memory as device memory) is gpu/runtime_emulation.h (through host_runtime.h).

#endif
