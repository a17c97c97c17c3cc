// aligned_scratch.h: a reusable buffer's storage from a 64-byte boundary on, so that a kernel's rows start on a cache
// line (an AVX-512 load split over two lines halves its throughput). Callers keep the vector thread_local: one buffer
// per call site and thread, grown as needed and never shrunk.
//
// Internal linkage (anonymous namespace): each translation unit compiles its own copy with its own flags, so a copy
// built with the AVX-512 flags can never be the one a baseline file calls.
#ifndef DSV32_KERNELS_ALIGNED_SCRATCH_H
#define DSV32_KERNELS_ALIGNED_SCRATCH_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dsv32 {
namespace kernels {
namespace {

// The first 64-byte boundary in buf's storage, with at least n elements from it (buf grows by up to 64 bytes more).
template <class T>
T* aligned_scratch(std::vector<T>& buf, size_t n) {
    constexpr size_t pad = 64 / sizeof(T);
    if (buf.size() < n + pad) buf.resize(n + pad);
    T* p = buf.data();
    while (reinterpret_cast<uintptr_t>(p) % 64) ++p;
    return p;
}

}  // namespace
}  // namespace kernels
}  // namespace dsv32

#endif
