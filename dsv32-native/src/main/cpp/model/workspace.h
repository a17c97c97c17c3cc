// workspace.h: per-thread reusable buffers for the forward pass's activations, and reusable lists for its
// bookkeeping. Allocating (and value-initialising) a fresh std::vector for every layer cost a long prefill about a
// sixth of its time in page faults and memset (a 2048-token chunk: the indexer's queries alone are 64 MB per layer),
// and a decode step some 950 (batch 1) to 2,400 (batch 4) small allocations, 1-2 % of its time on mini. A slot keeps
// its memory between calls on the same thread, so after the first layer the buffers are reused; contents are NOT
// initialised. A slot holds at most one live buffer: each call site owns its slot, and a forward pass never re-enters
// one. The memory stays with the thread (the largest step it has run), like the KV cache's high-water mark, except
// that a slot over 16 MB is given back when a far smaller step follows (workspace()). With ReusedList below, a
// decode step allocates nothing once the steps before it were as large (test_step_alloc; a step that starts a new KV
// cache block may take one).
#ifndef DSV32_MODEL_WORKSPACE_H
#define DSV32_MODEL_WORKSPACE_H

#include <cstddef>
#include <memory>
#include <new>
#include <vector>

namespace dsv32 {

enum class WorkSlot : int {
    IndexerQ,   // indexer.cpp: the index queries of every row [S, nh * hd]
    MlaQ,       // mla.cpp: the attention queries [S, H * dq]
    MlaLatent,  // mla.cpp: the stacked cached latents of the prefill chunks [total, kvr]
    MlaKvB,     // mla.cpp: wkv_b of those latents [total, H * (dn + dv)]
    MlaKvHead,  // mla.cpp: the same by head [H, total, dn + dv]
    MlaPe,      // mla.cpp, fp8 numerics: the stacked k_pe widened from packed bf16 [total, dr]
    MlaDecQNope,  // mla.cpp, absorbed decode (per thread): one head's q_nope of every decode entry [nd, dn]
    MlaDecQLat,   //   ... its W_UK^T q_nope [nd, kvr]
    MlaDecOLat,   //   ... one head's o_lat of every entry [nd, kvr]
    MlaDecOut,    //   ... W_UV o_lat, in the columns of wkv_b's output [nd, H * (dn + dv)]
    MlaDecQLatAll,  // mla.cpp, absorbed decode (the calling thread's, shared by the region): q_lat [nd, H, kvr]
    MlaDecQPe,      //   ... q_pe [nd, H, dr]
    MlaDecOLatAll,  //   ... o_lat [nd, H, kvr] (where the halves of an entry's keys are items apart: the first's)
    MlaDecOLatHalf, //   ... the second half's o_lat [nd, H, kvr]
    MlaDecScores,   //   ... the scores / probabilities of every entry and head
    MlaDecProbs,    //   ... fp8 numerics: the probabilities as packed bf16, in the scores' layout
    ForwardH,       // transformer.cpp: the residual stream [M, D]
    ForwardXn,      //   ... the normed input of a block [M, D]
    ForwardT,       //   ... a block's output [M, D]
    HeadPart,       //   ... mp > 1: this rank's vocab slice of a chunk's logits [rows, V / mp]
    HeadAll,        //   ... and every rank's, gathered [rows, V]
    MlaQa,          // mla.cpp: wq_a's output [S, q_lora_rank]
    MlaQr,          //   ... after q_norm [S, q_lora_rank]
    MlaKvA,         //   ... wkv_a's output [S, kv_lora_rank + rope dim]
    MlaRope,        //   ... RoPE cos / sin of each row [S, rope dim]
    MlaLatRow,      //   ... fp8 numerics: each latent before it is packed [S, kv_lora_rank]
    MlaOut,         //   ... the heads' outputs, wo's input [S, H * v_head_dim]
    IndexerKRaw,    // indexer.cpp: wk's output [S, hd]
    IndexerK,       //   ... after the LayerNorm [S, hd]
    IndexerWts,     //   ... the head weights of the scored rows [SQ, nh]
    IndexerRope,    //   ... RoPE cos / sin of each row [S, rope dim]
    IndexerScores,  //   ... the scores of one group of rows, row after row (at most ~4M, or one row's keys)
    MoeGate,        // moe.cpp: the gate logits [S, n_routed_experts]
    MoeRouted,      //   ... the active experts' outputs, expert after expert [routed tokens, D]
    MoeExpertX,     //   ... (per thread) one expert's tokens [n, D]
    FfnGate,        // moe.cpp, swiglu (per thread): w1's output, then silu(w1 x) * w3 x [S, inter]
    FfnUp,          //   ... w3's output [S, inter]
    Count
};

// A slot of more than WORKSPACE_KEEP_FLOATS (16 MB) is given back when a call needs less than an eighth of it: the
// memory a long prefill chunk took returns at the next decode step. Decode steps keep their slots (on mini at batch 4
// none is over 1 MB) unless the batch shrinks eightfold with slots over 16 MB. A request of 0 floats leaves the slot.
constexpr size_t WORKSPACE_KEEP_FLOATS = size_t(4) << 20;

// A buffer of at least n floats in this thread's slot (grown when too small, shrunk when far too large as above; old
// contents dropped).
inline float* workspace(WorkSlot slot, size_t n) {
    struct Buf {
        struct Free {
            void operator()(float* q) const { ::operator delete[](q, std::align_val_t(64)); }
        };
        std::unique_ptr<float[], Free> p;  // on a 64-byte boundary: rows start on whole cache lines for the kernels
        size_t n = 0;
    };
    thread_local Buf bufs[static_cast<int>(WorkSlot::Count)];
    Buf& b = bufs[static_cast<int>(slot)];
    if (b.n < n || (n > 0 && b.n > WORKSPACE_KEEP_FLOATS && b.n / 8 > n)) {
        b.p.reset();  // free first: the old and the new buffer need not coexist
        b.p.reset(new (std::align_val_t(64)) float[n]);
        b.n = n;
    }
    return b.p.get();
}

// std::vector's storage on a 64-byte boundary: for the activations that reach kernels::linear, which otherwise copies
// a misaligned x before every call (a large std::vector is mmap-ed 16 bytes past a page boundary; in a 512-token
// prefill those copies of M x K floats were about 3 % of the time, on the calling thread while the others waited).
template <class T>
struct Aligned64 {
    using value_type = T;
    Aligned64() = default;
    template <class U>
    Aligned64(const Aligned64<U>&) {}
    T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(64))); }
    void deallocate(T* p, size_t) { ::operator delete(p, std::align_val_t(64)); }
    template <class U>
    bool operator==(const Aligned64<U>&) const { return true; }
    template <class U>
    bool operator!=(const Aligned64<U>&) const { return false; }
};
using AlignedFloats = std::vector<float, Aligned64<float>>;

// A list whose elements outlive resize(): resize(n) makes the first n current, growing the storage but never
// shrinking it, so an element (e.g. a std::vector row) keeps its memory across steps of different sizes. Elements are
// not reset: the caller refills what it reads (or clears a row).
template <class T>
class ReusedList {
public:
    void resize(size_t n) {
        if (all_.size() < n) all_.resize(n);
        n_ = n;
    }
    size_t size() const { return n_; }
    T& operator[](size_t i) { return all_[i]; }
    const T& operator[](size_t i) const { return all_[i]; }

private:
    std::vector<T> all_;
    size_t n_ = 0;
};

}  // namespace dsv32

#endif
