// cpu_collective.cpp: the shared-memory Collective and the rank threads (cpu_collective.h).
#include "parallel/cpu_collective.h"

#include <cstring>
#include <string>

namespace dsv32 {

CpuCollective::CpuCollective(int size) : n_(size) {
    if (size < 1) throw std::invalid_argument("CpuCollective: size " + std::to_string(size) + " < 1");
    dst_.assign(size_t(size), nullptr);
    src_.assign(size_t(size), nullptr);
    count_.assign(size_t(size), 0);
}

void CpuCollective::check(int rank, size_t count) {
    if (rank < 0 || rank >= n_) throw std::invalid_argument("collective: rank " + std::to_string(rank) + " outside [0, " + std::to_string(n_) + ")");
    count_[size_t(rank)] = count;
}

void CpuCollective::wait_all() {
    std::unique_lock<std::mutex> lk(mu_);
    if (aborted_) throw CollectiveAborted();
    const uint64_t g = generation_;
    if (++arrived_ == n_) {
        arrived_ = 0;
        ++generation_;
        cv_.notify_all();
        return;
    }
    cv_.wait(lk, [&] { return generation_ != g || aborted_; });
    if (generation_ == g) throw CollectiveAborted();
}

void CpuCollective::check_counts(const char* op) {
    // Every rank sees the same count_ here (written before the barrier), so all ranks throw or none does.
    for (int r = 1; r < n_; ++r)
        if (count_[size_t(r)] != count_[0])
            throw std::logic_error(std::string("collective ") + op + ": rank " + std::to_string(r) + " passed " +
                                   std::to_string(count_[size_t(r)]) + " elements, rank 0 passed " + std::to_string(count_[0]));
}

void CpuCollective::all_reduce_sum(int rank, float* buf, size_t count) {
    check(rank, count);
    if (n_ == 1) return;
    dst_[size_t(rank)] = buf;
    wait_all();
    check_counts("all_reduce_sum");
    // This rank's share of the elements; the sum runs in rank order whatever the share, so the bits do not depend
    // on which thread adds them.
    const size_t i0 = count * size_t(rank) / size_t(n_), i1 = count * size_t(rank + 1) / size_t(n_);
    for (size_t i = i0; i < i1; ++i) {
        float s = dst_[0][i];
        for (int r = 1; r < n_; ++r) s += dst_[size_t(r)][i];
        for (int r = 0; r < n_; ++r) dst_[size_t(r)][i] = s;
    }
    wait_all();  // nobody returns (and reuses its buffer) while another rank still writes into it
}

void CpuCollective::all_gather(int rank, const float* send, float* recv, size_t count) {
    check(rank, count);
    if (n_ == 1) {
        if (count) std::memmove(recv, send, sizeof(float) * count);
        return;
    }
    src_[size_t(rank)] = send;
    dst_[size_t(rank)] = recv;
    wait_all();
    check_counts("all_gather");
    for (int r = 0; r < n_; ++r)
        if (count) std::memcpy(recv + size_t(r) * count, src_[size_t(r)], sizeof(float) * count);
    wait_all();  // the send buffers stay untouched until every rank has copied them
}

void CpuCollective::barrier(int rank) {
    check(rank, 0);
    if (n_ > 1) wait_all();
}

void CpuCollective::abort() {
    std::lock_guard<std::mutex> lk(mu_);
    aborted_ = true;
    cv_.notify_all();
}

void CpuCollective::reset() {
    std::lock_guard<std::mutex> lk(mu_);
    aborted_ = false;
    arrived_ = 0;
}

// ---- RankGroup ----

RankGroup::RankGroup(int size) : n_(size) {
    if (size < 1) throw std::invalid_argument("RankGroup: size " + std::to_string(size) + " < 1");
    errors_.resize(size_t(size));
    threads_.reserve(size_t(size - 1));
    try {
        for (int r = 1; r < size; ++r) threads_.emplace_back(&RankGroup::worker, this, r);
    } catch (...) {
        {
            std::lock_guard<std::mutex> lk(mu_);
            stop_ = true;
        }
        start_cv_.notify_all();
        for (auto& t : threads_) t.join();
        throw;
    }
}

RankGroup::~RankGroup() {
    {
        std::lock_guard<std::mutex> lk(mu_);
        stop_ = true;
    }
    start_cv_.notify_all();
    for (auto& t : threads_) t.join();
}

void RankGroup::execute(int rank) {
    try {
        (*job_)(rank);
    } catch (...) {
        errors_[size_t(rank)] = std::current_exception();
        (*on_error_)();
    }
}

void RankGroup::worker(int rank) {
    uint64_t seen = 0;
    for (;;) {
        {
            std::unique_lock<std::mutex> lk(mu_);
            start_cv_.wait(lk, [&] { return stop_ || generation_ != seen; });
            if (stop_) return;
            seen = generation_;
        }
        execute(rank);
        std::lock_guard<std::mutex> lk(mu_);
        if (--pending_ == 0) done_cv_.notify_all();
    }
}

void RankGroup::run(const std::function<void(int)>& job, const std::function<void()>& on_error) {
    {
        std::lock_guard<std::mutex> lk(mu_);
        job_ = &job;
        on_error_ = &on_error;
        for (auto& e : errors_) e = nullptr;
        pending_ = n_ - 1;
        ++generation_;
    }
    start_cv_.notify_all();
    execute(0);
    {
        std::unique_lock<std::mutex> lk(mu_);
        done_cv_.wait(lk, [&] { return pending_ == 0; });
        job_ = nullptr;
        on_error_ = nullptr;
    }
    std::exception_ptr first;
    for (const auto& e : errors_) {
        if (!e) continue;
        try {
            std::rethrow_exception(e);
        } catch (const CollectiveAborted&) {
            if (!first) first = e;
        } catch (...) {
            std::rethrow_exception(e);  // a real failure wins over the aborts it caused
        }
    }
    if (first) std::rethrow_exception(first);
}

}  // namespace dsv32
