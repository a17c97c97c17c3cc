// test_parallel: the shared-memory Collective and RankGroup (parallel/cpu_collective.h) with several rank threads:
// all_reduce_sum sums in rank order (the same bits on every rank, on every call, whatever the timing), all_gather
// concatenates in rank order, barrier publishes writes, mismatched counts and a failing rank do not hang the group.
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>
#include <thread>

#include "parallel/cpu_collective.h"
#include "test_util.h"

using dsv32::CollectiveAborted;
using dsv32::CpuCollective;
using dsv32::RankGroup;

namespace {

// Small random pauses so that the ranks arrive in different orders from call to call.
void jitter(std::mt19937& rng) {
    const unsigned r = rng() % 8;
    if (r == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 200));
    else if (r < 3) std::this_thread::yield();
}

void run_group(RankGroup& g, CpuCollective& c, const std::function<void(int)>& job) {
    g.run(job, [&] { c.abort(); });
    c.reset();
}

// Values whose float sum depends on the order: in rank order ((1e8 + 1) - 1e8) + 1 == 1, other orders give 0 or 2.
void test_order_matters() {
    const int n = 4;
    CpuCollective c(n);
    RankGroup g(n);
    const float vals[4] = {1e8f, 1.0f, -1e8f, 1.0f};
    std::vector<std::vector<float>> bufs(n, std::vector<float>(1000));
    for (int iter = 0; iter < 20; ++iter) {
        run_group(g, c, [&](int r) {
            std::mt19937 rng(unsigned(iter * 31 + r));
            std::fill(bufs[size_t(r)].begin(), bufs[size_t(r)].end(), vals[r]);
            jitter(rng);
            c.all_reduce_sum(r, bufs[size_t(r)].data(), bufs[size_t(r)].size());
        });
        for (int r = 0; r < n; ++r)
            for (float v : bufs[size_t(r)]) CHECK_MSG(v == 1.0f, "iteration %d rank %d: %g (not the rank-order sum)", iter, r, double(v));
    }
}

// Random data, random counts (0, 1, fewer than the ranks, large), repeated: every rank's result is bit-equal to the
// sequential rank-order sum; all_gather and barrier in between.
void test_repeated(int n) {
    CpuCollective c(n);
    RankGroup g(n);
    CHECK(c.size() == n && g.size() == n);
    std::mt19937 master{unsigned(n)};
    std::vector<std::vector<float>> bufs(static_cast<size_t>(n)), orig(static_cast<size_t>(n)), recv(static_cast<size_t>(n));
    std::vector<int> slots(static_cast<size_t>(n));
    std::atomic<int> bad_barrier{0};
    for (int iter = 0; iter < 150; ++iter) {
        const size_t counts[] = {0, 1, size_t(n - 1), 7, 1000, 4099};
        const size_t count = counts[master() % 6];
        std::normal_distribution<float> nd;
        for (int r = 0; r < n; ++r) {
            bufs[size_t(r)].resize(count);
            for (auto& v : bufs[size_t(r)]) v = nd(master) * std::ldexp(1.0f, int(master() % 40) - 20);
            orig[size_t(r)] = bufs[size_t(r)];
            recv[size_t(r)].assign(size_t(n) * count, NAN);
        }
        const unsigned seed = master();
        run_group(g, c, [&](int r) {
            std::mt19937 rng(seed + unsigned(r));
            jitter(rng);
            c.all_reduce_sum(r, bufs[size_t(r)].data(), count);
            jitter(rng);
            c.all_gather(r, orig[size_t(r)].data(), recv[size_t(r)].data(), count);
            slots[size_t(r)] = iter * 100 + r;
            jitter(rng);
            c.barrier(r);
            for (int q = 0; q < n; ++q)
                if (slots[size_t(q)] != iter * 100 + q) ++bad_barrier;
            c.barrier(r);  // nobody writes the next iteration's slots before everyone has read these
        });
        for (size_t i = 0; i < count; ++i) {
            float want = orig[0][i];
            for (int r = 1; r < n; ++r) want += orig[size_t(r)][i];
            for (int r = 0; r < n; ++r) {
                CHECK_MSG(std::memcmp(&bufs[size_t(r)][i], &want, 4) == 0, "n %d iteration %d rank %d element %zu: %.9g != %.9g", n, iter, r,
                          i, double(bufs[size_t(r)][i]), double(want));
                for (int q = 0; q < n; ++q)
                    CHECK_MSG(recv[size_t(r)][size_t(q) * count + i] == orig[size_t(q)][i], "all_gather n %d rank %d block %d", n, r, q);
            }
        }
    }
    CHECK_MSG(bad_barrier == 0, "%d stale reads after a barrier", int(bad_barrier));
}

// The job runs exactly once per rank and run, rank 0 on the calling thread.
void test_rank_group() {
    RankGroup g(3);
    CpuCollective c(3);
    std::vector<int> runs(3, 0);
    std::vector<std::thread::id> ids(3);
    for (int i = 0; i < 50; ++i)
        run_group(g, c, [&](int r) {
            ++runs[size_t(r)];
            ids[size_t(r)] = std::this_thread::get_id();
        });
    CHECK(runs[0] == 50 && runs[1] == 50 && runs[2] == 50);
    CHECK(ids[0] == std::this_thread::get_id() && ids[1] != ids[0] && ids[2] != ids[0] && ids[1] != ids[2]);
    RankGroup one(1);
    int calls = 0;
    one.run([&](int r) { calls += r == 0; }, [] {});
    CHECK(calls == 1);
}

// A rank that fails while the others wait in a collective: the others are woken (CollectiveAborted), run() rethrows
// the real error, and after reset() the group works again. Mismatched counts throw on every rank.
void test_failures() {
    const int n = 3;
    CpuCollective c(n);
    RankGroup g(n);
    std::vector<std::vector<float>> bufs(n, std::vector<float>(16, 1.0f));
    std::atomic<int> aborted{0};
    bool got_boom = false;
    try {
        g.run(
            [&](int r) {
                if (r == 2) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the others are waiting by now
                    throw std::runtime_error("boom");
                }
                try {
                    c.all_reduce_sum(r, bufs[size_t(r)].data(), 16);
                } catch (const CollectiveAborted&) {
                    ++aborted;
                    throw;
                }
            },
            [&] { c.abort(); });
    } catch (const CollectiveAborted&) {
        CHECK_MSG(false, "run() rethrew CollectiveAborted instead of the rank's error");
    } catch (const std::runtime_error& e) {
        got_boom = std::string(e.what()) == "boom";
    }
    CHECK(got_boom);
    CHECK(aborted == 2);
    // Still aborted: every call throws until reset.
    bool threw = false;
    try {
        c.barrier(0);
    } catch (const CollectiveAborted&) {
        threw = true;
    }
    CHECK(threw);
    c.reset();
    for (auto& b : bufs) std::fill(b.begin(), b.end(), 2.0f);
    run_group(g, c, [&](int r) { c.all_reduce_sum(r, bufs[size_t(r)].data(), 16); });
    for (const auto& b : bufs) CHECK(b[0] == 6.0f && b[15] == 6.0f);
    // Counts that differ between ranks: a logic_error on every rank, no hang.
    std::atomic<int> logic{0};
    bool rethrown = false;
    try {
        g.run(
            [&](int r) {
                try {
                    c.all_reduce_sum(r, bufs[size_t(r)].data(), r == 1 ? 8 : 16);
                } catch (const std::logic_error&) {
                    ++logic;
                    throw;
                }
            },
            [&] { c.abort(); });
    } catch (const std::logic_error& e) {
        rethrown = std::string(e.what()).find("rank 1 passed 8") != std::string::npos;
    }
    c.reset();
    CHECK(rethrown);
    CHECK(logic == n);
    // Bad rank indices are rejected before touching anything.
    threw = false;
    try {
        c.all_reduce_sum(n, bufs[0].data(), 16);
    } catch (const std::invalid_argument&) {
        threw = true;
    }
    CHECK(threw);
}

void test_single_rank() {
    CpuCollective c(1);
    float x[3] = {1, 2, 3}, y[3] = {0, 0, 0};
    c.all_reduce_sum(0, x, 3);
    CHECK(x[0] == 1 && x[1] == 2 && x[2] == 3);
    c.all_gather(0, x, y, 3);
    CHECK(y[0] == 1 && y[1] == 2 && y[2] == 3);
    c.barrier(0);
}

}  // namespace

int main() {
    test_single_rank();
    test_order_matters();
    test_repeated(2);
    test_repeated(3);
    test_repeated(5);
    test_rank_group();
    test_failures();
    return test_summary("test_parallel");
}
