// collective.h: the collective operations of model-parallel ranks (architecture.md §9), backend-neutral.
//
// Every rank of a group calls the same operations in the same order, each with its own rank index and its own
// buffers (buffers of different ranks must not overlap); a call returns once this rank's result is complete. The
// CPU implementation (cpu_collective.h) runs the ranks as threads of one process; a CUDA backend implements the
// same interface with NCCL (one communicator per rank). Implementations must be deterministic: the same inputs
// give the same bits on every rank and on every call, whatever the timing.
#ifndef DSV32_PARALLEL_COLLECTIVE_H
#define DSV32_PARALLEL_COLLECTIVE_H

#include <cstddef>
#include <stdexcept>

namespace dsv32 {

// Thrown by a collective call after abort(): the group is being torn down because some rank failed.
struct CollectiveAborted : std::runtime_error {
    CollectiveAborted() : std::runtime_error("collective aborted: another model-parallel rank failed") {}
};

class Collective {
public:
    virtual ~Collective() = default;
    // Number of ranks.
    virtual int size() const = 0;
    // buf[0 .. count) := the element-wise sum over all ranks' buf. The CPU implementation sums in rank order,
    // ((b0 + b1) + b2) + ..., so every rank gets the same bits on every call. count must be equal on all ranks.
    virtual void all_reduce_sum(int rank, float* buf, size_t count) = 0;
    // recv[r * count .. (r + 1) * count) := rank r's send[0 .. count) for every rank r: concatenation in rank
    // order (recv holds size() * count floats). count must be equal on all ranks.
    virtual void all_gather(int rank, const float* send, float* recv, size_t count) = 0;
    // Returns once every rank has called barrier: what a rank wrote before it is visible to all ranks after it.
    virtual void barrier(int rank) = 0;
    // Wakes every rank waiting in a call and makes it (and every later call) throw CollectiveAborted. Callable
    // from any thread, any number of times. Used when one rank fails, so that the others do not wait forever.
    virtual void abort() = 0;
};

}  // namespace dsv32

#endif
