// test_step_alloc: a decode step allocates no memory once steps as large have run (model/workspace.h: the forward
// pass's buffers and lists are reused from step to step). This program replaces the C allocator's entry points
// (malloc, calloc, realloc, the aligned ones; operator new goes through them) with counting wrappers around glibc's,
// then runs decode steps of mixed batch sizes through the C API on a tiny checkpoint, in both numerics, at mp 1 or
// with mp ranks (their threads, the collectives and the head's all-gather).
//
// One OpenMP thread (each of the mp ranks' threads has one): with more, a thread's buffers reach their size the first
// time it runs a given kind of work item, and which thread takes which item depends on scheduling, so a step could
// be a thread's first of some kind long after the warm-up (seen under a loaded ctest -j). The code that allocates
// or reuses is the same whatever the thread count.
//
// Not counted: what libgomp allocates for itself. It takes a team for every parallel region that runs on one thread
// (an `if` clause false, e.g. a batch-1 step's per-row loops) and frees it at the region's end, whatever the caller.
// Also outside the claim: a step that starts a new KV cache block (the pool grows by blocks; the steps here stay
// within their blocks) and the first time a sequence reaches a longer context than any before on a thread (the
// top-k selection's lists grow, by doubling).
//
// Also: workspace()'s rule for giving a slot back (a prefill's large buffers return; a decode step's stay).
//
// Usage: test_step_alloc <tiny checkpoint dir> [mp]
#include <dlfcn.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dsv32/dsv32.h"
#include "model/workspace.h"
#include "test_util.h"

#if defined(__GLIBC__)
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
}

namespace {

std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
thread_local bool t_inside = false;  // dladdr below must not count itself

// Counts an allocation made while counting is on, unless the caller (the code that called the allocator) is libgomp.
void count(const void* caller) {
    if (!g_counting.load(std::memory_order_relaxed) || t_inside) return;
    t_inside = true;
    Dl_info info{};
    const bool gomp = dladdr(caller, &info) && info.dli_fname && std::strstr(info.dli_fname, "libgomp");
    t_inside = false;
    if (!gomp) g_allocations.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

extern "C" {
void* malloc(size_t n) {
    count(__builtin_return_address(0));
    return __libc_malloc(n);
}
void* calloc(size_t a, size_t b) {
    count(__builtin_return_address(0));
    return __libc_calloc(a, b);
}
void* realloc(void* p, size_t n) {
    count(__builtin_return_address(0));
    return __libc_realloc(p, n);
}
void* memalign(size_t a, size_t n) {
    count(__builtin_return_address(0));
    return __libc_memalign(a, n);
}
void* aligned_alloc(size_t a, size_t n) {
    count(__builtin_return_address(0));
    return __libc_memalign(a, n);
}
int posix_memalign(void** p, size_t a, size_t n) {
    count(__builtin_return_address(0));
    void* q = __libc_memalign(a, n);
    if (!q) return ENOMEM;
    *p = q;
    return 0;
}
}

namespace {

constexpr int SEQS = 4, PROMPT = 100;  // tiny: top-k 32, so every decode row is scored; blocks of 64 positions

struct Run {
    dsv32_model* m = nullptr;
    int vocab = 0;
    std::vector<int32_t> seq, pos;
    std::vector<float> logits;

    // Runs one step of the first B sequences (one token each) and returns the allocations counted during it.
    long step(int B, bool last_only) {
        std::vector<dsv32_batch_entry> e(static_cast<size_t>(B));
        std::vector<int32_t> tok(static_cast<size_t>(B));
        for (int b = 0; b < B; ++b) {
            tok[size_t(b)] = int32_t((pos[size_t(b)] * 31 + b * 7 + 5) % vocab);
            e[size_t(b)] = {seq[size_t(b)], pos[size_t(b)], 1, &tok[size_t(b)]};
        }
        g_allocations = 0;
        g_counting = true;
        const int rc = last_only ? dsv32_forward_last(m, e.data(), B, logits.data(), logits.size())
                                 : dsv32_forward(m, e.data(), B, logits.data(), logits.size());
        g_counting = false;
        CHECK_MSG(rc == DSV32_OK, "batch %d: %s", B, dsv32_last_error());
        for (int b = 0; b < B; ++b) ++pos[size_t(b)];
        return g_allocations.load();
    }
};

void decode_steps_allocate_nothing(const std::string& dir, int mp, int32_t numerics, const char* name) {
    Run r;
    dsv32_open_options o{};
    o.numerics = numerics;
    o.mp = mp;
    o.n_threads = mp;  // one per rank (above)
    o.max_seq_len = 256;
    if (dsv32_model_open(dir.c_str(), &o, &r.m) != DSV32_OK) {
        CHECK_MSG(false, "%s: open: %s", name, dsv32_last_error());
        return;
    }
    dsv32_model_info info{};
    dsv32_model_get_info(r.m, &info);
    r.vocab = info.vocab_size;
    r.logits.resize(size_t(SEQS) * size_t(r.vocab));
    r.seq.resize(SEQS);
    r.pos.assign(SEQS, 0);
    for (int b = 0; b < SEQS; ++b) {
        CHECK(dsv32_seq_open(r.m, &r.seq[size_t(b)]) == DSV32_OK);
        std::vector<int32_t> prompt(PROMPT);
        for (int t = 0; t < PROMPT; ++t) prompt[size_t(t)] = int32_t((t * 13 + b * 101 + 1) % r.vocab);
        dsv32_batch_entry e{r.seq[size_t(b)], 0, PROMPT, prompt.data()};
        CHECK(dsv32_forward_last(r.m, &e, 1, r.logits.data(), r.logits.size()) == DSV32_OK);
        r.pos[size_t(b)] = PROMPT;
    }
    // The first decode step allocates (its buffers and lists): the counter sees the engine's allocations.
    const long first = r.step(SEQS, false);
    CHECK_MSG(first > 0, "%s: the first batch-%d decode step counted no allocation (is the counter wired?)", name, SEQS);
    // Warm-up: every batch size once more, both entry points.
    for (int B : {1, 2, 3, 4}) {
        r.step(B, false);
        r.step(B, true);
    }
    // Steps of every size after steps as large: none allocates.
    for (int B : {1, 4, 2, 3, 4, 1, 3, 2}) {
        for (int last = 0; last < 2; ++last) {
            const long n = r.step(B, last != 0);
            CHECK_MSG(n == 0, "%s: a batch-%d decode step (%s) made %ld allocations", name, B,
                      last ? "dsv32_forward_last" : "dsv32_forward", n);
        }
    }
    CHECK(r.pos[0] < 128);  // no step above started a new cache block (64 positions)
    dsv32_model_close(r.m);
}

// workspace()'s sizes (model/workspace.h): a slot grows when too small, keeps its memory for smaller requests, and
// gives it back only when it is over 16 MB and the request under an eighth of it. Counted with the same malloc.
void workspace_gives_back_only_large_slots() {
    using dsv32::WorkSlot;
    auto allocations = [](size_t n) {
        g_allocations = 0;
        g_counting = true;
        float* p = dsv32::workspace(WorkSlot::MoeRouted, n);
        g_counting = false;
        if (n > 0) p[n - 1] = 1.0f;  // usable up to n
        return g_allocations.load();
    };
    const size_t big = dsv32::WORKSPACE_KEEP_FLOATS * 2;  // 32 MB
    allocations(1);  // the thread's first use also registers the slots' destructor (one more allocation in glibc)
    const long first = allocations(big);
    CHECK_MSG(first == 1, "a 32 MB slot: %ld allocations", first);
    CHECK(allocations(big / 4) == 0);      // a quarter: kept
    CHECK(allocations(0) == 0);            // nothing asked: kept
    CHECK(allocations(big) == 0);          // still there
    CHECK(allocations(big / 16) == 1);     // a sixteenth of a slot over 16 MB: given back, a smaller one taken
    CHECK(allocations(big / 16) == 0);
    CHECK(allocations(1000) == 0);         // 2 MB is under the 16 MB limit: kept
    CHECK(allocations(big / 8) == 1);      // grows
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2 && argc != 3) {
        std::fprintf(stderr, "usage: test_step_alloc <tiny checkpoint dir> [mp]\n");
        return 2;
    }
    const int mp = argc == 3 ? std::atoi(argv[2]) : 1;
    workspace_gives_back_only_large_slots();
    decode_steps_allocate_nothing(argv[1], mp, DSV32_NUMERICS_F32, "f32");
    decode_steps_allocate_nothing(argv[1], mp, DSV32_NUMERICS_FP8, "fp8");
    return test_summary("test_step_alloc");
}

#else  // not glibc: no allocator entry points to wrap
int main() {
    std::printf("test_step_alloc: skipped (needs glibc's __libc_malloc)\n");
    return 0;
}
#endif
