// Batched steps and the paged KV cache through the C API (f32 numerics, the golden tiny checkpoint):
//   test_batching [--mp N] DIR [BLOCK [f32|fp8]]   (--mp: N model-parallel ranks, e.g. 2 on tiny_mp2; fp8: the
//   demo's numerics, for the batched-vs-alone checks)
// - a mixed step (a prefill chunk of one sequence + decode tokens of two others) equals each entry run alone;
// - dsv32_forward_last equals the last rows of dsv32_forward;
// - capacity errors name the sequence and the block counts, change nothing, and blocks return on close;
// - truncate then re-forward equals a fresh sequence; fork then diverge equals fresh sequences (copy on write).
// - the thread count changes no bit of the logits (prefill, mixed and decode steps).
// "Equal" is max|d| / max|ref| <= 1e-5 (the batched kernels are in fact bitwise row-independent).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dsv32/dsv32.h"
#include "test_util.h"

namespace {

std::string g_dir;
int g_block = 16;
int g_mp = 1;
int32_t g_numerics = DSV32_NUMERICS_F32;
constexpr int V = 512;  // tiny's vocabulary

dsv32_model* open_model(int block, int pool_tokens, int max_sequences, int n_threads = 0, int debug_flags = 0,
                        int max_seq_len = 256) {
    dsv32_open_options o{};
    o.n_threads = n_threads;
    o.numerics = g_numerics;
    o.debug_flags = debug_flags;
    o.max_seq_len = max_seq_len;
    o.max_sequences = max_sequences;
    o.kv_block_size = block;
    o.kv_pool_tokens = pool_tokens;
    o.mp = g_mp;
    dsv32_model* m = nullptr;
    if (dsv32_model_open(g_dir.c_str(), &o, &m) != DSV32_OK) throw std::runtime_error(dsv32_last_error());
    return m;
}

int32_t open_seq(dsv32_model* m) {
    int32_t s = -1;
    if (dsv32_seq_open(m, &s) != DSV32_OK) throw std::runtime_error(dsv32_last_error());
    return s;
}

std::vector<int32_t> ids(int n, uint32_t seed) {
    std::vector<int32_t> t(static_cast<size_t>(n));
    for (auto& v : t) {
        seed = seed * 1664525u + 1013904223u;
        v = int32_t((seed >> 9) % V);
    }
    return t;
}

struct Entry {
    int32_t seq;
    int start;
    std::vector<int32_t> tokens;
};

// One step; returns all rows (or one per entry with last_only). Throws on an engine error.
std::vector<float> step(dsv32_model* m, const std::vector<Entry>& es, bool last_only = false) {
    std::vector<dsv32_batch_entry> b;
    size_t rows = 0;
    for (const Entry& e : es) {
        b.push_back({e.seq, e.start, int32_t(e.tokens.size()), e.tokens.data()});
        rows += last_only ? 1 : e.tokens.size();
    }
    std::vector<float> lg(rows * V);
    const int rc = last_only ? dsv32_forward_last(m, b.data(), int32_t(b.size()), lg.data(), lg.size())
                             : dsv32_forward(m, b.data(), int32_t(b.size()), lg.data(), lg.size());
    if (rc != DSV32_OK) throw std::runtime_error(dsv32_last_error());
    return lg;
}

double rel(const float* a, const float* ref, size_t n) {
    double d = 0, r = 1e-30;
    for (size_t i = 0; i < n; ++i) {
        d = std::max(d, std::fabs(double(a[i]) - ref[i]));
        r = std::max(r, std::fabs(double(ref[i])));
    }
    return d / r;
}

void check_rows(const char* what, const std::vector<float>& got, size_t row0, const std::vector<float>& ref, size_t ref_row0, size_t rows) {
    const double r = rel(got.data() + row0 * V, ref.data() + ref_row0 * V, rows * V);
    std::printf("  %-52s max|d|/max|ref| %.3e\n", what, r);
    CHECK_MSG(r <= 1e-5, "%s: max|d|/max|ref| %.3e", what, r);
}

dsv32_kv_cache_stats stats(dsv32_model* m) {
    dsv32_kv_cache_stats s{};
    CHECK(dsv32_cache_stats(m, &s) == DSV32_OK);
    return s;
}

// A prefill chunk of one sequence and decode tokens of two others in one step, against each entry alone (in its own
// model instance, so nothing is shared); then decode steps of all three together.
void test_mixed_batch() {
    std::printf("mixed batch (block %d)\n", g_block);
    dsv32_model* m = open_model(g_block, 0, 4);
    dsv32_model* r = open_model(g_block, 0, 4);
    const std::vector<int32_t> ta = ids(60, 1), tb = ids(60, 2), tc = ids(60, 3);
    const int32_t a = open_seq(m), b = open_seq(m), c = open_seq(m);
    const int32_t ra = open_seq(r), rb = open_seq(r), rc = open_seq(r);
    // Three prefill chunks of different lengths in one step (40 and 33 tokens: sparse selection at index_topk 32).
    std::vector<float> got = step(m, {{a, 0, {ta.begin(), ta.begin() + 10}}, {b, 0, {tb.begin(), tb.begin() + 40}}, {c, 0, {tc.begin(), tc.begin() + 33}}});
    check_rows("3 prefill chunks (10, 40, 33) vs alone: a", got, 0, step(r, {{ra, 0, {ta.begin(), ta.begin() + 10}}}), 0, 10);
    check_rows("3 prefill chunks (10, 40, 33) vs alone: b", got, 10, step(r, {{rb, 0, {tb.begin(), tb.begin() + 40}}}), 0, 40);
    check_rows("3 prefill chunks (10, 40, 33) vs alone: c", got, 50, step(r, {{rc, 0, {tc.begin(), tc.begin() + 33}}}), 0, 33);
    // The mixed step: a prefill chunk of 25 (start 10) + one decode token each for b and c.
    got = step(m, {{b, 40, {tb[40]}}, {a, 10, {ta.begin() + 10, ta.begin() + 35}}, {c, 33, {tc[33]}}});
    check_rows("mixed step: decode b vs alone", got, 0, step(r, {{rb, 40, {tb[40]}}}), 0, 1);
    check_rows("mixed step: chunk a (start 10, 25 tokens) vs alone", got, 1, step(r, {{ra, 10, {ta.begin() + 10, ta.begin() + 35}}}), 0, 25);
    check_rows("mixed step: decode c vs alone", got, 26, step(r, {{rc, 33, {tc[33]}}}), 0, 1);
    // Decode steps of all three (a crosses index_topk: sparse from position 32 on).
    for (int k = 0; k < 4; ++k) {
        got = step(m, {{a, 35 + k, {ta[size_t(35 + k)]}}, {b, 41 + k, {tb[size_t(41 + k)]}}, {c, 34 + k, {tc[size_t(34 + k)]}}});
        std::vector<float> ref(3 * V);
        for (int i = 0; i < 3; ++i) {
            const int32_t rs = i == 0 ? ra : i == 1 ? rb : rc;
            const int pos = i == 0 ? 35 + k : i == 1 ? 41 + k : 34 + k;
            const std::vector<int32_t>& t = i == 0 ? ta : i == 1 ? tb : tc;
            const std::vector<float> one = step(r, {{rs, pos, {t[size_t(pos)]}}});
            std::copy(one.begin(), one.end(), ref.begin() + long(i) * V);
        }
        check_rows(("decode step " + std::to_string(k) + " of a, b, c vs alone").c_str(), got, 0, ref, 0, 3);
    }
    dsv32_model_close(m);
    dsv32_model_close(r);
}

// The logits of run(model, all) (a model opened with n_threads per rank, the steps' logits appended to all) with 2 and 3
// threads per rank, bitwise those with 1.
template <class Open, class Run>
void same_bits_per_thread_count(const char* what, Open open, Run run) {
    std::vector<float> ref;
    for (const int nt : {1, 2, 3}) {
        dsv32_model* m = open(nt * g_mp);
        std::vector<float> all;
        run(m, all);
        dsv32_model_close(m);
        if (nt == 1) {
            ref = all;
            continue;
        }
        const bool same = all.size() == ref.size() && std::memcmp(all.data(), ref.data(), ref.size() * sizeof(float)) == 0;
        std::printf("  %d threads per rank against 1, %-28s %s\n", nt, what, same ? "the same bits" : "differ");
        CHECK_MSG(same, "%d threads per rank, %s: logits differ from 1 thread's (max|d|/max|ref| %.3e)", nt, what,
                  all.size() == ref.size() ? rel(all.data(), ref.data(), ref.size()) : -1.0);
    }
}

// Every split of the work (the linears' tiles, the routed experts, their weighted sum, the attention items) computes
// each value the same way whatever thread runs it: the same steps with 1, 2 and 3 threads per rank, bitwise.
void test_thread_count() {
    same_bits_per_thread_count("prefill, decode, batch 3:", [](int n) { return open_model(g_block, 0, 4, n); },
                               [](dsv32_model* m, std::vector<float>& all) {
        const int32_t a = open_seq(m), b = open_seq(m), c = open_seq(m);
        auto add = [&](const std::vector<float>& v) { all.insert(all.end(), v.begin(), v.end()); };
        const std::vector<int32_t> ta = ids(70, 11), tb = ids(45, 12), tc = ids(30, 13);
        add(step(m, {{a, 0, {ta.begin(), ta.begin() + 60}}, {b, 0, {tb.begin(), tb.begin() + 40}}}));  // two prefills
        add(step(m, {{a, 60, {ta[60]}}, {b, 40, {tb[40]}}, {c, 0, {tc.begin(), tc.begin() + 20}}}));  // decode + prefill
        for (int i = 1; i < 5; ++i)  // batch-3 decode steps
            add(step(m, {{a, 60 + i, {ta[size_t(60 + i)]}}, {b, 40 + i, {tb[size_t(40 + i)]}}, {c, 19 + i, {tc[size_t(19 + i)]}}}));
    });
    // Decode over more than 128 selected keys, where the absorbed decode sums its values in two halves (model/mla.cpp):
    // in one kernel call per item, or as items of their own added in step 5 when an entry's scores span two threads
    // (batch 1 at 2 threads, batches 1 and 2 at 3). Dense attention selects every causal key: 301 and 141 here.
    same_bits_per_thread_count("decode over 141-302 keys:",
                               [](int n) { return open_model(g_block, 0, 4, n, DSV32_DEBUG_DENSE_ATTENTION, 320); },
                               [](dsv32_model* m, std::vector<float>& all) {
        const int32_t a = open_seq(m), b = open_seq(m);
        auto add = [&](const std::vector<float>& v) { all.insert(all.end(), v.begin(), v.end()); };
        const std::vector<int32_t> ta = ids(304, 14), tb = ids(144, 15);
        step(m, {{a, 0, {ta.begin(), ta.begin() + 150}}, {b, 0, {tb.begin(), tb.begin() + 140}}});
        step(m, {{a, 150, {ta.begin() + 150, ta.begin() + 300}}});
        add(step(m, {{a, 300, {ta[300]}}}));                       // batch 1
        add(step(m, {{a, 301, {ta[301]}}, {b, 140, {tb[140]}}}));  // batch 2
        add(step(m, {{b, 141, {tb[141]}}}));                       // batch 1
    });
}

// dsv32_forward_last == the last row of each entry of dsv32_forward (two models fed the same steps).
void test_forward_last() {
    std::printf("forward_last (block %d)\n", g_block);
    dsv32_model* m = open_model(g_block, 0, 4);
    dsv32_model* r = open_model(g_block, 0, 4);
    const std::vector<int32_t> ta = ids(50, 4), tb = ids(50, 5);
    const int32_t a = open_seq(m), b = open_seq(m), ra = open_seq(r), rb = open_seq(r);
    std::vector<float> last = step(m, {{a, 0, {ta.begin(), ta.begin() + 37}}, {b, 0, {tb.begin(), tb.begin() + 3}}}, true);
    std::vector<float> all = step(r, {{ra, 0, {ta.begin(), ta.begin() + 37}}, {rb, 0, {tb.begin(), tb.begin() + 3}}});
    CHECK(last.size() == 2 * size_t(V));
    check_rows("forward_last prefill 37 = row 36 of forward", last, 0, all, 36, 1);
    check_rows("forward_last prefill 3 = row 39 of forward", last, 1, all, 39, 1);
    last = step(m, {{b, 3, {tb.begin() + 3, tb.begin() + 9}}, {a, 37, {ta[37]}}}, true);
    all = step(r, {{rb, 3, {tb.begin() + 3, tb.begin() + 9}}, {ra, 37, {ta[37]}}});
    check_rows("forward_last chunk + decode: chunk's last row", last, 0, all, 5, 1);
    check_rows("forward_last chunk + decode: decode row", last, 1, all, 6, 1);
    // logits_len counts one row per entry.
    dsv32_batch_entry e{a, 38, 2, ta.data() + 38};
    std::vector<float> lg(2 * V);
    CHECK(dsv32_forward_last(m, &e, 1, lg.data(), V - 1) == DSV32_ERR_INVALID_ARGUMENT);
    CHECK(dsv32_forward_last(m, &e, 1, lg.data(), V) == DSV32_OK);
    CHECK(dsv32_forward_last(nullptr, &e, 1, lg.data(), V) == DSV32_ERR_INVALID_ARGUMENT);
    CHECK(dsv32_forward_last(m, &e, 1, nullptr, V) == DSV32_ERR_INVALID_ARGUMENT);
    dsv32_model_close(m);
    dsv32_model_close(r);
}

// A pool of 4 blocks of 16 positions: a step that needs more blocks than are free fails naming the sequence and the
// counts, and changes nothing; a smaller step then runs and gives the right logits; closing returns the blocks.
void test_capacity() {
    std::printf("capacity (pool of 4 blocks of 16)\n");
    dsv32_model* m = open_model(16, 64, 4);
    dsv32_model* r = open_model(16, 0, 4);
    dsv32_kv_cache_stats s = stats(m);
    CHECK(s.block_size == 16 && s.total_blocks == 4 && s.free_blocks == 4 && s.allocated_blocks == 0 && s.used_tokens == 0);
    CHECK(s.block_bytes == int64_t(3 * 16 * (128 + 64 + 128) * 4));  // 3 layers x 16 positions x (latent, k_pe, idx_k)
    const std::vector<int32_t> ta = ids(60, 6), tb = ids(60, 7);
    const int32_t a = open_seq(m), b = open_seq(m), ra = open_seq(r), rb = open_seq(r);
    step(m, {{a, 0, {ta.begin(), ta.begin() + 40}}});  // 3 blocks
    step(r, {{ra, 0, {ta.begin(), ta.begin() + 40}}});
    s = stats(m);
    CHECK(s.free_blocks == 1 && s.allocated_blocks == 3 && s.used_tokens == 40 && s.open_sequences == 2);
    // a's decode token fits in its last block; b's 30 tokens need 2 blocks, 1 is free.
    std::vector<dsv32_batch_entry> bad = {{a, 40, 1, ta.data() + 40}, {b, 0, 30, tb.data()}};
    std::vector<float> lg(31 * V);
    CHECK(dsv32_forward(m, bad.data(), 2, lg.data(), lg.size()) == DSV32_ERR_CAPACITY);
    const std::string msg = dsv32_last_error();
    std::printf("  capacity error: %s\n", msg.c_str());
    CHECK_MSG(msg.find("sequence " + std::to_string(b)) != std::string::npos, "message names the sequence: %s", msg.c_str());
    CHECK_MSG(msg.find("needs 2") != std::string::npos && msg.find("only 1 of") != std::string::npos, "message has the counts: %s", msg.c_str());
    CHECK(dsv32_forward_last(m, bad.data(), 2, lg.data(), lg.size()) == DSV32_ERR_CAPACITY);
    s = stats(m);
    CHECK(s.free_blocks == 1 && s.used_tokens == 40);  // nothing changed, a included
    // A smaller step now fits (b: 10 tokens = 1 block) and is right: a continues at 40.
    std::vector<float> got = step(m, {{a, 40, {ta[40]}}, {b, 0, {tb.begin(), tb.begin() + 10}}});
    check_rows("after the capacity error: a decode vs reference", got, 0, step(r, {{ra, 40, {ta[40]}}}), 0, 1);
    check_rows("after the capacity error: b prefill 10 vs reference", got, 1, step(r, {{rb, 0, {tb.begin(), tb.begin() + 10}}}), 0, 10);
    s = stats(m);
    CHECK(s.free_blocks == 0 && s.used_tokens == 51);
    // Full pool: one more position for b (10 -> 11 stays in its block) works; a new block for a does not.
    got = step(m, {{b, 10, {tb[10]}}});
    check_rows("full pool, no new block needed: b decode", got, 0, step(r, {{rb, 10, {tb[10]}}}), 0, 1);
    dsv32_batch_entry more{a, 41, 8, ta.data() + 41};
    CHECK(dsv32_forward(m, &more, 1, lg.data(), lg.size()) == DSV32_ERR_CAPACITY);
    // Blocks return on close; a new sequence can use them.
    CHECK(dsv32_seq_close(m, a) == DSV32_OK);
    s = stats(m);
    CHECK(s.free_blocks == 3 && s.used_tokens == 11 && s.open_sequences == 1 && s.allocated_blocks == 4);
    const int32_t c = open_seq(m), rc = open_seq(r);
    got = step(m, {{c, 0, {ta.begin(), ta.begin() + 48}}});
    check_rows("reused blocks: prefill 48 vs reference", got, 0, step(r, {{rc, 0, {ta.begin(), ta.begin() + 48}}}), 0, 48);
    CHECK(stats(m).free_blocks == 0 && stats(m).allocated_blocks == 4);
    CHECK(dsv32_cache_stats(m, nullptr) == DSV32_ERR_INVALID_ARGUMENT && dsv32_cache_stats(nullptr, &s) == DSV32_ERR_INVALID_ARGUMENT);
    dsv32_model_close(m);
    dsv32_model_close(r);
    // Bad options.
    dsv32_open_options o{};
    o.kv_block_size = -1;
    dsv32_model* x = nullptr;
    CHECK(dsv32_model_open(g_dir.c_str(), &o, &x) == DSV32_ERR_INVALID_ARGUMENT && x == nullptr);
    o.kv_block_size = 0;
    o.kv_pool_tokens = -5;
    CHECK(dsv32_model_open(g_dir.c_str(), &o, &x) == DSV32_ERR_INVALID_ARGUMENT && x == nullptr);
    // Default pool: max_sequences x max_seq_len, in blocks of 64, allocated on demand.
    o = dsv32_open_options{};
    o.max_seq_len = 100;
    o.max_sequences = 3;
    CHECK(dsv32_model_open(g_dir.c_str(), &o, &x) == DSV32_OK);
    s = stats(x);
    CHECK(s.block_size == 64 && s.total_blocks == 3 * 2 && s.allocated_blocks == 0);
    dsv32_model_close(x);
}

// Truncate forgets positions, frees whole blocks, and the sequence then continues as a fresh one with that prefix.
void test_truncate() {
    std::printf("truncate (block %d)\n", g_block);
    dsv32_model* m = open_model(g_block, 0, 4);
    dsv32_model* r = open_model(g_block, 0, 4);
    const std::vector<int32_t> t = ids(80, 8), u = ids(40, 9);
    const int32_t s = open_seq(m), f = open_seq(r);
    step(m, {{s, 0, {t.begin(), t.begin() + 50}}});
    const int64_t held50 = stats(m).total_blocks - stats(m).free_blocks;
    CHECK(dsv32_seq_truncate(m, s, 51) == DSV32_ERR_INVALID_ARGUMENT);
    std::printf("  truncate error: %s\n", dsv32_last_error());
    CHECK(dsv32_seq_truncate(m, s, -1) == DSV32_ERR_INVALID_ARGUMENT);
    CHECK(dsv32_seq_truncate(m, 3, 0) == DSV32_ERR_INVALID_ARGUMENT);  // not open
    CHECK(dsv32_seq_truncate(nullptr, s, 0) == DSV32_ERR_INVALID_ARGUMENT);
    CHECK(dsv32_seq_truncate(m, s, 50) == DSV32_OK);  // no-op
    CHECK(dsv32_seq_truncate(m, s, 30) == DSV32_OK);
    const dsv32_kv_cache_stats st = stats(m);
    CHECK(st.used_tokens == 30 && st.total_blocks - st.free_blocks == (30 + g_block - 1) / g_block);
    CHECK(held50 == (50 + g_block - 1) / g_block);
    // start_pos must now be 30.
    dsv32_batch_entry e{s, 50, 1, u.data()};
    std::vector<float> lg(V);
    CHECK(dsv32_forward(m, &e, 1, lg.data(), lg.size()) == DSV32_ERR_INVALID_ARGUMENT);
    // Re-forward a different continuation: the same as a fresh sequence fed the prefix and then the continuation.
    step(r, {{f, 0, {t.begin(), t.begin() + 30}}});
    check_rows("truncate 50 -> 30, then 20 new tokens", step(m, {{s, 30, {u.begin(), u.begin() + 20}}}), 0,
               step(r, {{f, 30, {u.begin(), u.begin() + 20}}}), 0, 20);
    for (int k = 0; k < 3; ++k)
        check_rows("  ... then a decode token", step(m, {{s, 50 + k, {u[size_t(20 + k)]}}}), 0, step(r, {{f, 50 + k, {u[size_t(20 + k)]}}}), 0, 1);
    // Truncate to 0 frees every block; the sequence starts over.
    CHECK(dsv32_seq_truncate(m, s, 0) == DSV32_OK);
    CHECK(stats(m).free_blocks == stats(m).total_blocks && stats(m).used_tokens == 0);
    const int32_t f2 = open_seq(r);
    check_rows("truncate to 0, then a new prefill of 33", step(m, {{s, 0, {u.begin(), u.begin() + 33}}}), 0,
               step(r, {{f2, 0, {u.begin(), u.begin() + 33}}}), 0, 33);
    dsv32_model_close(m);
    dsv32_model_close(r);
}

// Fork shares the prefix (no block taken), then both sequences diverge in one step, each equal to a fresh sequence
// with the same tokens; the shared partly filled block is copied once.
void test_fork() {
    std::printf("fork (block %d)\n", g_block);
    dsv32_model* m = open_model(g_block, 0, 4);
    dsv32_model* r = open_model(g_block, 0, 4);
    const std::vector<int32_t> t = ids(37, 10), x = ids(10, 11), y = ids(10, 12);
    const int32_t p = open_seq(m);
    step(m, {{p, 0, t}});
    const dsv32_kv_cache_stats before = stats(m);
    int32_t f = -1;
    CHECK(dsv32_seq_fork(m, p, &f) == DSV32_OK && f >= 0 && f != p);
    dsv32_kv_cache_stats st = stats(m);
    CHECK(st.free_blocks == before.free_blocks && st.used_tokens == 2 * 37 && st.open_sequences == 2);
    // Reference: two fresh sequences with the prefix.
    const int32_t rp = open_seq(r), rf = open_seq(r);
    step(r, {{rp, 0, t}, {rf, 0, t}});
    // Diverge in one step: p gets x[0..5), f gets y[0..4).
    std::vector<float> got = step(m, {{p, 37, {x.begin(), x.begin() + 5}}, {f, 37, {y.begin(), y.begin() + 4}}});
    check_rows("fork, diverge: parent's 5 tokens vs fresh", got, 0, step(r, {{rp, 37, {x.begin(), x.begin() + 5}}}), 0, 5);
    check_rows("fork, diverge: child's 4 tokens vs fresh", got, 5, step(r, {{rf, 37, {y.begin(), y.begin() + 4}}}), 0, 4);
    st = stats(m);
    const int64_t full = 37 / g_block, prefix_blocks = (37 + g_block - 1) / g_block;
    const int64_t p_blocks = (42 + g_block - 1) / g_block, f_blocks = (41 + g_block - 1) / g_block;
    // Full prefix blocks stay shared; everything from the partly filled block on is private to each.
    CHECK_MSG(st.total_blocks - st.free_blocks == full + (p_blocks - full) + (f_blocks - full),
              "held %lld, expected %lld", (long long)(st.total_blocks - st.free_blocks), (long long)(full + (p_blocks - full) + (f_blocks - full)));
    (void)prefix_blocks;
    for (int k = 0; k < 3; ++k) {
        got = step(m, {{f, 41 + k, {y[size_t(4 + k)]}}, {p, 42 + k, {x[size_t(5 + k)]}}});
        check_rows("  ... decode both: child", got, 0, step(r, {{rf, 41 + k, {y[size_t(4 + k)]}}}), 0, 1);
        check_rows("  ... decode both: parent", got, 1, step(r, {{rp, 42 + k, {x[size_t(5 + k)]}}}), 0, 1);
    }
    // Closing the parent leaves the child intact.
    CHECK(dsv32_seq_close(m, p) == DSV32_OK);
    check_rows("parent closed: child decode", step(m, {{f, 44, {y[7]}}}), 0, step(r, {{rf, 44, {y[7]}}}), 0, 1);
    // A fork of a fork; forks up to max_sequences, then a capacity error.
    int32_t g = -1, h = -1, i = -1, j = -1;
    CHECK(dsv32_seq_fork(m, f, &g) == DSV32_OK);
    CHECK(dsv32_seq_fork(m, g, &h) == DSV32_OK);
    CHECK(dsv32_seq_fork(m, g, &i) == DSV32_OK);
    CHECK(dsv32_seq_fork(m, g, &j) == DSV32_ERR_CAPACITY && j == -1);
    std::printf("  fork error: %s\n", dsv32_last_error());
    CHECK(dsv32_seq_fork(m, 99, &j) == DSV32_ERR_INVALID_ARGUMENT && dsv32_seq_fork(m, f, nullptr) == DSV32_ERR_INVALID_ARGUMENT);
    check_rows("fork of a fork: decode", step(m, {{h, 45, {x[9]}}}), 0, step(r, {{rf, 45, {x[9]}}}), 0, 1);
    for (int32_t q : {f, g, h, i}) CHECK(dsv32_seq_close(m, q) == DSV32_OK);
    st = stats(m);
    CHECK(st.free_blocks == st.total_blocks && st.open_sequences == 0 && st.used_tokens == 0);
    dsv32_model_close(m);
    dsv32_model_close(r);
}

// Copy-on-write accounting is exact: sequences sharing a partly filled block that all write in one step need one
// copy fewer than their number (the last one writes in place), so a pool with one free block takes such a step.
void test_fork_tight_pool() {
    std::printf("fork in a tight pool (4 blocks of 16)\n");
    dsv32_model* m = open_model(16, 64, 4);
    dsv32_model* r = open_model(16, 0, 4);
    const std::vector<int32_t> t = ids(37, 13), x = ids(4, 14), y = ids(4, 15);
    const int32_t p = open_seq(m), rp = open_seq(r), rf = open_seq(r), rg = open_seq(r);
    step(m, {{p, 0, t}});  // 3 blocks, the last holds 5 positions
    step(r, {{rp, 0, t}, {rf, 0, t}, {rg, 0, t}});
    int32_t f = -1;
    CHECK(dsv32_seq_fork(m, p, &f) == DSV32_OK);
    CHECK(stats(m).free_blocks == 1);
    std::vector<float> got = step(m, {{p, 37, {x[0]}}, {f, 37, {y[0]}}});  // needs exactly 1: p copies, f writes in place
    check_rows("tight pool: parent", got, 0, step(r, {{rp, 37, {x[0]}}}), 0, 1);
    check_rows("tight pool: fork", got, 1, step(r, {{rf, 37, {y[0]}}}), 0, 1);
    CHECK(stats(m).free_blocks == 0);
    // Three holders, two writers: both must copy (the third still holds the block): 2 blocks > 1 free.
    CHECK(dsv32_seq_close(m, f) == DSV32_OK);  // frees f's tail block (the original): 1 free, p holds its copy
    int32_t g = -1, h = -1;
    CHECK(dsv32_seq_fork(m, p, &g) == DSV32_OK && dsv32_seq_fork(m, p, &h) == DSV32_OK);
    std::vector<dsv32_batch_entry> two = {{p, 38, 1, x.data() + 1}, {g, 38, 1, y.data() + 1}};
    std::vector<float> lg(2 * V);
    CHECK(dsv32_forward(m, two.data(), 2, lg.data(), lg.size()) == DSV32_ERR_CAPACITY);
    std::printf("  capacity error: %s\n", dsv32_last_error());
    CHECK(std::string(dsv32_last_error()).find("sequence " + std::to_string(g) + " needs 1") != std::string::npos);
    got = step(m, {{g, 38, {y[1]}}});  // one copy: fits
    step(r, {{rg, 37, {x[0]}}});
    check_rows("tight pool: fork of the parent after a capacity error", got, 0, step(r, {{rg, 38, {y[1]}}}), 0, 1);
    dsv32_model_close(m);
    dsv32_model_close(r);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 2 && std::string(argv[1]) == "--mp") {
        g_mp = std::atoi(argv[2]);
        argv += 2;
        argc -= 2;
    }
    if (argc < 2) {
        std::fprintf(stderr, "usage: test_batching [--mp N] DIR [BLOCK [f32|fp8]]\n");
        return 2;
    }
    g_dir = argv[1];
    if (argc > 2) g_block = std::atoi(argv[2]);
    try {
        if (argc > 3 && std::string(argv[3]) == "fp8") {  // batching must not change answers in fp8 numerics either
            g_numerics = DSV32_NUMERICS_FP8;
            test_mixed_batch();
            test_forward_last();
            test_thread_count();
            return test_summary("test_batching fp8");
        }
        test_mixed_batch();
        test_forward_last();
        test_thread_count();
        test_capacity();
        test_truncate();
        test_fork();
        test_fork_tight_pool();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "test_batching: %s\n", e.what());
        return 1;
    }
    return test_summary("test_batching");
}
