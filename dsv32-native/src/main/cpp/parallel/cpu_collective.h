// cpu_collective.h: the Collective for ranks that are threads of one process (shared memory), and RankGroup,
// the persistent threads that run those ranks.
#ifndef DSV32_PARALLEL_CPU_COLLECTIVE_H
#define DSV32_PARALLEL_CPU_COLLECTIVE_H

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "parallel/collective.h"

namespace dsv32 {

// Ranks are threads: each operation publishes the ranks' buffer pointers, meets at a barrier, and works on the
// others' memory directly. all_reduce_sum: rank r sums elements [r*count/n, (r+1)*count/n) of every rank's
// buffer in rank order and writes the sum back into all of them, then a second barrier; no scratch buffer.
class CpuCollective final : public Collective {
public:
    explicit CpuCollective(int size);
    int size() const override { return n_; }
    void all_reduce_sum(int rank, float* buf, size_t count) override;
    void all_gather(int rank, const float* send, float* recv, size_t count) override;
    void barrier(int rank) override;
    void abort() override;
    // Makes an aborted collective usable again. Only when no rank is inside a call (after RankGroup::run).
    void reset();

private:
    void check(int rank, size_t count);
    void wait_all();                 // the barrier: generation counting under mu_
    void check_counts(const char* op);

    const int n_;
    std::mutex mu_;
    std::condition_variable cv_;
    int arrived_ = 0;
    uint64_t generation_ = 0;
    bool aborted_ = false;
    std::vector<float*> dst_;        // per rank: its buffer (all_reduce) or recv (all_gather)
    std::vector<const float*> src_;  // per rank: its send buffer (all_gather)
    std::vector<size_t> count_;      // per rank: the count it passed
};

// size - 1 persistent worker threads; rank 0 runs on the thread that calls run(). Threads persist between runs
// so that each keeps its OpenMP thread pool.
class RankGroup {
public:
    explicit RankGroup(int size);
    ~RankGroup();
    RankGroup(const RankGroup&) = delete;
    RankGroup& operator=(const RankGroup&) = delete;
    int size() const { return n_; }
    // Runs job(r) for every rank r, concurrently, and returns when all have returned. When a job throws,
    // on_error() is called (at least once; it must be thread-safe, e.g. Collective::abort) so that ranks blocked in
    // collectives give up; then the first exception that is not CollectiveAborted (or else the first one) is
    // rethrown here. One run at a time.
    void run(const std::function<void(int rank)>& job, const std::function<void()>& on_error);

private:
    void worker(int rank);
    void execute(int rank);

    const int n_;
    std::mutex mu_;
    std::condition_variable start_cv_, done_cv_;
    uint64_t generation_ = 0;
    int pending_ = 0;
    bool stop_ = false;
    const std::function<void(int)>* job_ = nullptr;
    const std::function<void()>* on_error_ = nullptr;
    std::vector<std::exception_ptr> errors_;
    std::vector<std::thread> threads_;
};

}  // namespace dsv32

#endif
