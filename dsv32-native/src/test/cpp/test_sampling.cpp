// Sampling (sampling.h, dsv32_sample*): greedy, temperature, top-k, top-p, reproducibility, error handling, and
// the sampled frequencies against an independent softmax (chi-square, fixed seeds).
//   test_sampling <golden tiny dir>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "dsv32/dsv32.h"
#include "sampling/sampling.h"
#include "test_util.h"

static dsv32_sampling_params params(double t, double top_p, int32_t top_k) {
    dsv32_sampling_params p;
    p.temperature = t;
    p.top_p = top_p;
    p.top_k = top_k;
    return p;
}

static int32_t argmax(const std::vector<float>& v) {
    return int32_t(std::max_element(v.begin(), v.end()) - v.begin());  // first maximum = lowest id
}

static std::vector<float> random_row(std::mt19937& g, int n, float scale) {
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = d(g);
    return v;
}

static void test_splitmix64() {
    // Reference outputs of SplitMix64 (Vigna's splitmix64.c) from state 0 and from state 42.
    uint64_t s = 0;
    CHECK(dsv32_splitmix64_next(&s) == 0xE220A8397B1DCDAFULL);
    CHECK(dsv32_splitmix64_next(&s) == 0x6E789E6AA1B965F4ULL);
    CHECK(dsv32_splitmix64_next(&s) == 0x06C45D188009454FULL);
    s = 42;
    CHECK(dsv32_splitmix64_next(&s) == 0xBDD732262FEB6E95ULL);
    CHECK(dsv32_splitmix64_next(nullptr) == 0);
}

static void test_greedy() {
    std::mt19937 g(1);
    auto p = params(0, 0.95, 0);
    for (int it = 0; it < 50; ++it) {
        auto row = random_row(g, 1000, 3.0f);
        int32_t tok = -1;
        uint64_t s = 7;
        CHECK(dsv32_sample(row.data(), 1000, &p, &s, &tok) == DSV32_OK);
        CHECK(tok == argmax(row));
        CHECK(s == 7);  // greedy does not touch the RNG
        CHECK(dsv32_sample(row.data(), 1000, &p, nullptr, &tok) == DSV32_OK && tok == argmax(row));
    }
    // ties: the lowest id wins; -inf is excluded; top_k / top_p are ignored
    std::vector<float> t = {1, 3, -INFINITY, 3, 2};
    int32_t tok = -1;
    CHECK(dsv32_sample(t.data(), 5, &p, nullptr, &tok) == DSV32_OK && tok == 1);
    std::vector<float> m = {-INFINITY, -INFINITY, -5};
    auto pk = params(0, 0.01, 1);
    CHECK(dsv32_sample(m.data(), 3, &pk, nullptr, &tok) == DSV32_OK && tok == 2);
    CHECK(std::strcmp(dsv32_last_error(), "") == 0);
}

// temperature -> 0: the distribution collapses onto the argmax; a vanishing temperature neither overflows nor NaNs.
static void test_temperature_limit() {
    std::mt19937 g(2);
    uint64_t s = 123;
    for (double t : {1e-3, 1e-6, 1e-30, 1e-300, 4.9e-324}) {
        for (int it = 0; it < 30; ++it) {
            auto row = random_row(g, 500, 2.0f);
            auto p = params(t, 1.0, 0);
            int32_t tok = -1;
            CHECK_MSG(dsv32_sample(row.data(), 500, &p, &s, &tok) == DSV32_OK && tok == argmax(row), "t=%g", t);
        }
    }
    // extreme logits and a huge temperature: still valid (near uniform), never an error
    std::vector<float> big = {3.0e38f, -3.0e38f, 0.0f};
    for (double t : {1e-300, 1.0, 1e300}) {
        auto p = params(t, 1.0, 0);
        int32_t tok = -1;
        CHECK(dsv32_sample(big.data(), 3, &p, &s, &tok) == DSV32_OK && tok >= 0 && tok < 3);
    }
}

static void test_top_k1_and_tiny_top_p_are_greedy() {
    std::mt19937 g(3);
    uint64_t s = 99;
    for (int it = 0; it < 100; ++it) {
        auto row = random_row(g, 2000, 1.0f);
        for (double t : {0.5, 1.0, 5.0}) {
            auto pk = params(t, 1.0, 1);
            auto pp = params(t, 1e-9, 0);
            auto both = params(t, 0.95, 1);
            int32_t a = -1, b = -1, c = -1;
            CHECK(dsv32_sample(row.data(), 2000, &pk, &s, &a) == DSV32_OK && a == argmax(row));
            CHECK(dsv32_sample(row.data(), 2000, &pp, &s, &b) == DSV32_OK && b == argmax(row));
            CHECK(dsv32_sample(row.data(), 2000, &both, &s, &c) == DSV32_OK && c == argmax(row));
        }
    }
}

// The target distribution, computed independently of sampling.cpp: softmax(logits / t) in long double,
// top-k by rank, nucleus by cumulative mass, renormalised.
static std::vector<double> expected_probs(const std::vector<float>& l, double t, double top_p, int top_k) {
    const int n = int(l.size());
    std::vector<int> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return l[size_t(a)] > l[size_t(b)]; });
    int k = top_k > 0 ? std::min(top_k, n) : n;
    long double sum = 0;
    std::vector<long double> e(static_cast<size_t>(n), 0);
    for (int j = 0; j < k; ++j) sum += e[size_t(order[size_t(j)])] = std::exp((long double)l[size_t(order[size_t(j)])] / t);
    long double cum = 0;
    int kept = k;
    for (int j = 0; j < k; ++j) {
        cum += e[size_t(order[size_t(j)])];
        if (cum >= top_p * sum) { kept = j + 1; break; }
    }
    long double mass = 0;
    for (int j = 0; j < kept; ++j) mass += e[size_t(order[size_t(j)])];
    std::vector<double> p(static_cast<size_t>(n), 0.0);
    for (int j = 0; j < kept; ++j) p[size_t(order[size_t(j)])] = double(e[size_t(order[size_t(j)])] / mass);
    return p;
}

// Pearson chi-square of n_draws samples against expected_probs; tokens with probability 0 must never appear.
static void chi_square_case(const std::vector<float>& l, double t, double top_p, int top_k, uint64_t seed, bool rows) {
    const int n = int(l.size()), draws = 200000;
    auto prob = expected_probs(l, t, top_p, top_k);
    auto p = params(t, top_p, top_k);
    std::vector<long> count(static_cast<size_t>(n), 0);
    uint64_t s = seed;
    if (rows) {  // the batched variant over many copies of the row
        const int R = 1000;
        std::vector<float> many;
        for (int r = 0; r < R; ++r) many.insert(many.end(), l.begin(), l.end());
        std::vector<int32_t> toks(static_cast<size_t>(R));
        for (int b = 0; b < draws / R; ++b) {
            CHECK(dsv32_sample_rows(many.data(), R, n, &p, &s, toks.data()) == DSV32_OK);
            for (int32_t tk : toks) ++count[size_t(tk)];
        }
    } else {
        for (int i = 0; i < draws; ++i) {
            int32_t tok = -1;
            CHECK(dsv32_sample(l.data(), n, &p, &s, &tok) == DSV32_OK);
            ++count[size_t(tok)];
        }
    }
    double chi2 = 0;
    int df = -1;
    for (int i = 0; i < n; ++i) {
        if (prob[size_t(i)] == 0) {
            CHECK_MSG(count[size_t(i)] == 0, "token %d has probability 0 but was drawn %ld times", i, count[size_t(i)]);
            continue;
        }
        const double ex = prob[size_t(i)] * draws;
        chi2 += (count[size_t(i)] - ex) * (count[size_t(i)] - ex) / ex;
        ++df;
    }
    // 99.9% quantiles of chi-square for df = 1..11
    static const double q999[] = {0, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32, 26.12, 27.88, 29.59, 31.26};
    CHECK_MSG(df >= 1 && df <= 11 && chi2 < q999[df], "t=%g top_p=%g top_k=%d: chi2 %.2f with %d df", t, top_p, top_k, chi2, df);
    std::printf("  chi-square t=%g top_p=%g top_k=%d rows=%d: %.2f (%d df, limit %.2f)\n", t, top_p, top_k, rows, chi2, df,
                df >= 1 && df <= 11 ? q999[df] : 0.0);
}

static void test_frequencies() {
    const std::vector<float> l = {2.0f, 1.0f, 0.5f, 0.0f, -0.5f, -1.0f, 1.5f, 0.25f};
    chi_square_case(l, 1.0, 1.0, 0, 1, false);
    chi_square_case(l, 0.7, 1.0, 0, 2, false);
    chi_square_case(l, 2.0, 1.0, 0, 3, true);
    chi_square_case(l, 1.0, 1.0, 5, 4, false);
    chi_square_case(l, 1.0, 0.8, 0, 5, false);
    chi_square_case(l, 1.0, 0.95, 0, 6, true);  // the model card's defaults
    chi_square_case(l, 0.8, 0.9, 6, 7, false);
}

static void test_reproducible() {
    std::mt19937 g(4);
    auto row = random_row(g, 300, 1.0f);
    auto p = params(1.0, 0.95, 0);
    auto run = [&](uint64_t seed, int n) {
        std::vector<int32_t> out;
        uint64_t s = seed;
        for (int i = 0; i < n; ++i) {
            int32_t tok = -1;
            CHECK(dsv32_sample(row.data(), 300, &p, &s, &tok) == DSV32_OK);
            out.push_back(tok);
        }
        uint64_t ref = seed;  // exactly one SplitMix64 step per sample
        for (int i = 0; i < n; ++i) dsv32_splitmix64_next(&ref);
        CHECK(s == ref);
        return out;
    };
    auto a = run(2024, 200), b = run(2024, 200), c = run(2025, 200);
    CHECK(a == b);
    CHECK(a != c);
    // the batched variant gives the same tokens as one call per row
    std::vector<float> rows;
    for (int r = 0; r < 200; ++r) rows.insert(rows.end(), row.begin(), row.end());
    std::vector<int32_t> d(200);
    uint64_t s = 2024;
    CHECK(dsv32_sample_rows(rows.data(), 200, 300, &p, &s, d.data()) == DSV32_OK);
    CHECK(d == a);
    // one candidate left (top_k = 1) still consumes one step
    auto p1 = params(1.0, 1.0, 1);
    uint64_t s1 = 5, r1 = 5;
    int32_t tok;
    CHECK(dsv32_sample(row.data(), 300, &p1, &s1, &tok) == DSV32_OK);
    dsv32_splitmix64_next(&r1);
    CHECK(s1 == r1);
    // a pinned draw: the algorithm of sampling.h must not change silently (u from state 0 is 0.8833...).
    std::vector<float> two = {0.0f, 0.0f};  // p = 0.5 / 0.5: u < 0.5 -> 0, else 1
    uint64_t s0 = 0;
    CHECK(dsv32_sample(two.data(), 2, &p1 /* top_k 1 */, &s0, &tok) == DSV32_OK && tok == 0);
    auto pu = params(1.0, 1.0, 0);
    s0 = 0;
    CHECK(dsv32_sample(two.data(), 2, &pu, &s0, &tok) == DSV32_OK && tok == 1);  // u = 0.883 -> second
    CHECK(dsv32_sample(two.data(), 2, &pu, &s0, &tok) == DSV32_OK && tok == 0);  // 0x6E78.. -> u = 0.431 -> first
}

static void test_large_vocab() {
    const int V = 129280;  // DeepSeek-V3.2's vocabulary
    std::mt19937 g(5);
    auto row = random_row(g, V, 4.0f);
    row[12345] = 60.0f;  // dominant
    auto p = params(1.0, 0.95, 0);
    uint64_t s = 1;
    int32_t tok = -1;
    for (int i = 0; i < 20; ++i) CHECK(dsv32_sample(row.data(), V, &p, &s, &tok) == DSV32_OK && tok == 12345);
    auto pk = params(1.0, 1.0, 50);
    CHECK(dsv32_sample(row.data(), V, &pk, &s, &tok) == DSV32_OK && tok >= 0 && tok < V);
}

// ---- sample() against sample_reference() (the full-sort implementation of the specification) ----

// The SplitMix64 state whose next output is `out` (the output mix is a bijection): lets a test force u.
static uint64_t state_for_output(uint64_t out) {
    auto inv_xorshift = [](uint64_t y, int s) {
        uint64_t x = y;
        for (int i = 0; i < 64 / s + 1; ++i) x = y ^ (x >> s);
        return x;
    };
    auto inv_mul = [](uint64_t a) {  // a odd: Newton iteration for a^-1 mod 2^64
        uint64_t x = a;
        for (int i = 0; i < 6; ++i) x *= 2 - a * x;
        return x;
    };
    uint64_t z = inv_xorshift(out, 31);
    z *= inv_mul(0x94D049BB133111EBULL);
    z = inv_xorshift(z, 27);
    z *= inv_mul(0xBF58476D1CE4E5B9ULL);
    z = inv_xorshift(z, 30);
    return z - 0x9E3779B97F4A7C15ULL;
}

enum class Shape { normal, peaked, flat_ties, coarse_ties, neg_inf, wide, one_finite, zeros };

static std::vector<float> make_row(std::mt19937& g, int n, Shape shape) {
    std::vector<float> v;
    switch (shape) {
        case Shape::normal: v = random_row(g, n, 1.0f); break;
        case Shape::peaked: {  // LLM-like: a bulk plus a few dominant tokens
            v = random_row(g, n, 3.0f);
            std::uniform_int_distribution<int> pick(0, n - 1);
            std::uniform_real_distribution<float> hi(8.0f, 30.0f);
            for (int k = 0; k < 5; ++k) v[size_t(pick(g))] = hi(g);
            break;
        }
        case Shape::flat_ties: v.assign(size_t(n), 0.5f); break;
        case Shape::coarse_ties: {  // few distinct values: long runs of ties (and -0 / +0)
            std::uniform_int_distribution<int> d(-6, 3);
            v.resize(size_t(n));
            for (auto& x : v) x = float(d(g)) * 0.75f;
            for (size_t i = 0; i < v.size(); i += 7) v[i] = (i % 2) ? -0.0f : 0.0f;
            break;
        }
        case Shape::neg_inf: {
            v = random_row(g, n, 2.0f);
            std::bernoulli_distribution drop(0.6);
            for (auto& x : v)
                if (drop(g)) x = -INFINITY;
            v[size_t(g() % unsigned(n))] = 1.0f;  // at least one finite
            break;
        }
        case Shape::wide: v = random_row(g, n, 25.0f); break;  // many weights below 2^-53: a short head
        case Shape::one_finite: v.assign(size_t(n), -INFINITY); v[size_t(g() % unsigned(n))] = -3.0f; break;
        case Shape::zeros: v.assign(size_t(n), 0.0f); for (size_t i = 1; i < v.size(); i += 2) v[i] = -0.0f; break;
    }
    return v;
}

static int g_diff_cases = 0;

static void compare_one(const std::vector<float>& row, double t, double top_p, int top_k, uint64_t seed) {
    dsv32::sampling::Params p;
    p.temperature = t;
    p.top_p = top_p;
    p.top_k = top_k;
    static dsv32::sampling::Workspace wf, wr;
    uint64_t sf = seed, sr = seed;
    int32_t tf = -1, tr = -2;
    std::string ef, er;
    const bool of = dsv32::sampling::sample(row.data(), int32_t(row.size()), p, &sf, wf, &tf, &ef);
    const bool orf = dsv32::sampling::sample_reference(row.data(), int32_t(row.size()), p, &sr, wr, &tr, &er);
    ++g_diff_cases;
    CHECK_MSG(of && orf && tf == tr && sf == sr, "vocab %zu t=%g top_p=%g top_k=%d seed=%llu: fast %d (%s) ref %d (%s)",
              row.size(), t, top_p, top_k, (unsigned long long)seed, tf, ef.c_str(), tr, er.c_str());
}

static void test_fast_matches_reference() {
    std::mt19937 g(2024);
    const Shape shapes[] = {Shape::normal, Shape::peaked,     Shape::flat_ties, Shape::coarse_ties,
                            Shape::neg_inf, Shape::wide,      Shape::one_finite, Shape::zeros};
    const double temps[] = {0.3, 1.0, 2.0};
    const double top_ps[] = {0.5, 0.9, 0.95, 1.0};
    const uint64_t u_max_state = state_for_output(~0ULL);  // u = 1 - 2^-53: the draw lands on the last kept
    const uint64_t u_zero_state = state_for_output(0);     // u = 0
    uint64_t s = 0;
    CHECK(dsv32::sampling::uniform01(&(s = u_max_state)) == 1.0 - 0x1.0p-53);
    CHECK(dsv32::sampling::uniform01(&(s = u_zero_state)) == 0.0);
    // small vocabularies: every shape x temperature x top-p x top-k, several rows and seeds each
    for (int n : {1, 2, 3, 7, 64, 1000, 1500, 5000}) {
        for (Shape shape : shapes) {
            for (int rep = 0; rep < 3; ++rep) {
                auto row = make_row(g, n, shape);
                for (double t : temps)
                    for (double tp : top_ps)
                        for (int k : {0, 1, 2, 40, n - 1, n, n + 5}) {
                            if (k < 0) continue;
                            for (uint64_t seed : {uint64_t(g()), uint64_t(g()) << 32 | g(), u_max_state, u_zero_state})
                                compare_one(row, t, tp, k, seed);
                        }
            }
        }
    }
    // DeepSeek-V3.2's vocabulary: fewer rows (the reference takes ~20 ms a sample), every shape and setting
    const int V = 129280;
    for (Shape shape : shapes) {
        auto row = make_row(g, V, shape);
        for (double t : temps)
            for (double tp : top_ps)
                for (int k : {0, 50, 20000, V})
                    for (uint64_t seed : {uint64_t(g()), u_max_state})
                        compare_one(row, t, tp, k, seed);
    }
    // many seeds on the default settings (t 1, top-p 0.95) over a normal and a peaked row
    for (Shape shape : {Shape::normal, Shape::peaked}) {
        auto row = make_row(g, V, shape);
        for (int i = 0; i < 40; ++i) compare_one(row, 1.0, 0.95, 0, uint64_t(g()) << 32 | g());
    }
    std::printf("fast sample == reference sample in %d cases\n", g_diff_cases);
}

// Not a check: milliseconds per token at vocab 129280, top-p 0.95, temperature 1, random normal logits.
static void bench_sampling() {
    const int V = 129280;
    std::mt19937 g(77);
    auto row = random_row(g, V, 1.0f);
    dsv32::sampling::Params p;  // temperature 1, top-p 0.95
    dsv32::sampling::Workspace ws;
    std::string err;
    int32_t tok = -1;
    auto time_ms = [&](bool fast, double t, int iters) {
        p.temperature = t;
        uint64_t s = 9;
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < iters; ++i) {
            if (fast)
                dsv32::sampling::sample(row.data(), V, p, &s, ws, &tok, &err);
            else
                dsv32::sampling::sample_reference(row.data(), V, p, &s, ws, &tok, &err);
        }
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / iters;
    };
    time_ms(true, 1.0, 5);
    const double ref = time_ms(false, 1.0, 20), fast = time_ms(true, 1.0, 200), greedy = time_ms(true, 0.0, 200);
    std::printf("bench vocab %d, top-p 0.95, T 1, normal logits: reference (full sort) %.3f ms/token, fast %.3f "
                "ms/token (greedy %.3f ms)\n", V, ref, fast, greedy);
}

static bool fails_with(int rc, const char* needle) {
    const bool ok = rc == DSV32_ERR_INVALID_ARGUMENT && std::strstr(dsv32_last_error(), needle) != nullptr;
    if (!ok) std::fprintf(stderr, "  rc %d, last error \"%s\", expected \"%s\"\n", rc, dsv32_last_error(), needle);
    return ok;
}

static void test_invalid() {
    std::vector<float> l = {0.0f, 1.0f, 2.0f};
    auto good = params(1.0, 0.95, 0);
    uint64_t s = 1;
    int32_t tok = -77;
    CHECK(fails_with(dsv32_sample(nullptr, 3, &good, &s, &tok), "logits is NULL"));
    CHECK(fails_with(dsv32_sample(l.data(), 3, nullptr, &s, &tok), "params is NULL"));
    CHECK(fails_with(dsv32_sample(l.data(), 3, &good, nullptr, &tok), "rng_state is NULL"));
    CHECK(fails_with(dsv32_sample(l.data(), 3, &good, &s, nullptr), "token_out is NULL"));
    CHECK(fails_with(dsv32_sample(l.data(), 0, &good, &s, &tok), "vocab must be > 0"));
    CHECK(fails_with(dsv32_sample(l.data(), -4, &good, &s, &tok), "vocab must be > 0"));
    for (double t : {-1.0, double(NAN), double(INFINITY), -0.0001}) {
        auto p = params(t, 0.95, 0);
        CHECK(fails_with(dsv32_sample(l.data(), 3, &p, &s, &tok), "temperature"));
    }
    for (double tp : {0.0, -0.1, 1.0000001, double(NAN), double(INFINITY)}) {
        auto p = params(1.0, tp, 0);
        CHECK(fails_with(dsv32_sample(l.data(), 3, &p, &s, &tok), "top_p"));
    }
    auto pk = params(1.0, 0.95, -1);
    CHECK(fails_with(dsv32_sample(l.data(), 3, &pk, &s, &tok), "top_k"));
    auto greedy = params(0, 1.0, 0);
    for (const auto* g : {&good, &greedy}) {
        std::vector<float> nan = {0.0f, NAN, 1.0f}, pinf = {0.0f, 1.0f, INFINITY}, ninf = {-INFINITY, -INFINITY};
        CHECK(fails_with(dsv32_sample(nan.data(), 3, g, &s, &tok), "logit 1 is NaN"));
        CHECK(fails_with(dsv32_sample(pinf.data(), 3, g, &s, &tok), "logit 2 is +inf"));
        CHECK(fails_with(dsv32_sample(ninf.data(), 2, g, &s, &tok), "all 2 logits are -inf"));
    }
    CHECK(tok == -77);  // untouched on error
    CHECK(s == 1);      // and so is the RNG
    // rows: the bad row is named; n_rows checked
    std::vector<float> rows = {0.0f, 1.0f, 2.0f, 0.0f, NAN, 1.0f};
    int32_t toks[2] = {-1, -1};
    CHECK(fails_with(dsv32_sample_rows(rows.data(), 2, 3, &good, &s, toks), "row 1: logit 1 is NaN"));
    CHECK(fails_with(dsv32_sample_rows(rows.data(), 0, 3, &good, &s, toks), "n_rows must be > 0"));
    // success clears the last error
    CHECK(dsv32_sample(l.data(), 3, &good, &s, &tok) == DSV32_OK && std::strcmp(dsv32_last_error(), "") == 0);
}

// End to end: greedy sampling of the tiny model's next-token logits is their argmax.
static void test_tiny_model(const std::string& dir) {
    dsv32_open_options o{};
    o.numerics = DSV32_NUMERICS_F32;
    o.max_seq_len = 64;
    dsv32_model* m = nullptr;
    if (dsv32_model_open(dir.c_str(), &o, &m) != DSV32_OK) {
        CHECK_MSG(false, "open %s: %s", dir.c_str(), dsv32_last_error());
        return;
    }
    dsv32_model_info info{};
    CHECK(dsv32_model_get_info(m, &info) == DSV32_OK);
    const int V = info.vocab_size;
    int32_t seq = -1;
    CHECK(dsv32_seq_open(m, &seq) == DSV32_OK);
    std::vector<int32_t> prompt = {1, 17, 42, 99, 5, 300, 7, 8};
    std::vector<float> logits(prompt.size() * size_t(V));
    dsv32_batch_entry e{seq, 0, int32_t(prompt.size()), prompt.data()};
    CHECK(dsv32_forward(m, &e, 1, logits.data(), logits.size()) == DSV32_OK);
    auto greedy = params(0, 1.0, 0);
    std::vector<int32_t> toks(prompt.size());
    CHECK(dsv32_sample_rows(logits.data(), int32_t(prompt.size()), V, &greedy, nullptr, toks.data()) == DSV32_OK);
    for (size_t r = 0; r < prompt.size(); ++r) {
        std::vector<float> row(logits.begin() + std::ptrdiff_t(r * size_t(V)), logits.begin() + std::ptrdiff_t((r + 1) * size_t(V)));
        CHECK(toks[r] == argmax(row));
    }
    // decode a few greedy steps: each step's token is the previous logits' argmax
    int32_t next = toks.back();
    int32_t pos = int32_t(prompt.size());
    std::vector<float> row(static_cast<size_t>(V));
    for (int step = 0; step < 4; ++step) {
        dsv32_batch_entry d{seq, pos++, 1, &next};
        CHECK(dsv32_forward(m, &d, 1, row.data(), row.size()) == DSV32_OK);
        int32_t tok = -1;
        CHECK(dsv32_sample(row.data(), V, &greedy, nullptr, &tok) == DSV32_OK && tok == argmax(row));
        next = tok;
    }
    CHECK(dsv32_seq_close(m, seq) == DSV32_OK);
    dsv32_model_close(m);
}

int main(int argc, char** argv) {
    test_splitmix64();
    test_greedy();
    test_temperature_limit();
    test_top_k1_and_tiny_top_p_are_greedy();
    test_frequencies();
    test_reproducible();
    test_large_vocab();
    test_invalid();
    test_fast_matches_reference();
    bench_sampling();
    if (argc > 1) test_tiny_model(argv[1]);
    return test_summary("test_sampling");
}
