// Golden tests: the engine (f32 numerics) against the reference logits of golden/<set>/<case>.f32.npy.
//   test_golden case DIR CASE [CHUNK]   pass = top-1 >= 99% and mean KL(ref||ours) <= 1e-3
//   test_golden topk DIR                indexer selections of prefill_100 == prefill_100.topk.f32.json (non-near-tie rows)
//   test_golden debug DIR FLAG          the debug flag must clearly break prefill_100 and decode_40_100
//   test_golden api DIR                 C API argument validation
//   test_golden ids DIR CASE OUT.json   writes the case's ids (for the CLI test)
//   test_golden npy REF.npy OURS.npy    compares two logit files with the pass rule
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

#include "checkpoint/json.h"
#include "dsv32/dsv32.h"
#include "model/model.h"
#include "kernels/kernels.h"
#include "test_util.h"

using dsv32::Json;

namespace {

int32_t g_numerics = DSV32_NUMERICS_F32;

struct Case {
    std::string name;
    int decode_from = -1;
    std::vector<std::vector<int32_t>> tokens;
    std::string f32_file;
};

Case load_case(const std::string& dir, const std::string& name) {
    Json j = Json::parse(read_file(dir + "/cases.json"));
    for (const Json& c : j.find("cases")->items()) {
        if (c.find("name")->as_string() != name) continue;
        Case k;
        k.name = name;
        const Json* df = c.find("decode_from");
        k.decode_from = df && df->is_number() ? int(df->as_number()) : -1;
        for (const Json& row : c.find("tokens")->items()) {
            std::vector<int32_t> r;
            for (const Json& t : row.items()) r.push_back(int32_t(t.as_number()));
            k.tokens.push_back(r);
        }
        k.f32_file = c.find("files")->find("f32")->as_string();
        return k;
    }
    throw std::runtime_error("no case " + name + " in " + dir + "/cases.json");
}

// Runs the case through the C API: prefill (in chunks) then decode, like dsv32-logits. Returns [B, T, V].
std::vector<float> run(const std::string& dir, const Case& k, int chunk, int debug_flags, int* vocab) {
    dsv32_open_options o{};
    o.numerics = g_numerics;
    o.debug_flags = debug_flags;
    dsv32_model* m = nullptr;
    if (dsv32_model_open(dir.c_str(), &o, &m) != DSV32_OK) throw std::runtime_error(dsv32_last_error());
    dsv32_model_info info;
    dsv32_model_get_info(m, &info);
    const int V = info.vocab_size, B = int(k.tokens.size()), T = int(k.tokens[0].size());
    *vocab = V;
    std::vector<int32_t> sid(static_cast<size_t>(B));
    for (int b = 0; b < B; ++b) dsv32_seq_open(m, &sid[size_t(b)]);
    std::vector<float> out(size_t(B) * T * V);
    auto step = [&](int p, int n) {
        std::vector<dsv32_batch_entry> es;
        for (int b = 0; b < B; ++b) es.push_back({sid[size_t(b)], p, n, k.tokens[size_t(b)].data() + p});
        std::vector<float> lg(size_t(B) * n * V);
        if (dsv32_forward(m, es.data(), B, lg.data(), lg.size()) != DSV32_OK) throw std::runtime_error(dsv32_last_error());
        for (int b = 0; b < B; ++b)
            std::copy(lg.begin() + long(size_t(b) * n * V), lg.begin() + long(size_t(b + 1) * n * V), out.begin() + long((size_t(b) * T + p) * V));
    };
    const int pe = k.decode_from >= 0 ? k.decode_from : T;
    const int c = chunk > 0 ? chunk : pe;
    for (int p = 0; p < pe; p += c) step(p, std::min(c, pe - p));
    for (int p = pe; p < T; ++p) step(p, 1);
    dsv32_model_close(m);
    return out;
}

struct Metrics {
    double top1 = 0, mean_kl = 0, max_kl = 0, max_abs = 0, max_rel = 0;
};

Metrics compare(const std::vector<float>& ref, const std::vector<float>& eng, int V) {
    Metrics r;
    const size_t rows = ref.size() / size_t(V);
    double maxref = 0;
    size_t agree = 0;
    for (size_t i = 0; i < rows; ++i) {
        const float* a = ref.data() + i * V;
        const float* b = eng.data() + i * V;
        size_t am = 0, bm = 0;
        double ma = a[0], mb = b[0];
        for (int v = 0; v < V; ++v) {
            if (a[v] > a[am]) am = size_t(v);
            if (b[v] > b[bm]) bm = size_t(v);
            ma = std::max(ma, double(a[v]));
            mb = std::max(mb, double(b[v]));
            r.max_abs = std::max(r.max_abs, std::fabs(double(a[v]) - b[v]));
            maxref = std::max(maxref, std::fabs(double(a[v])));
        }
        agree += am == bm;
        double sa = 0, sb = 0;
        for (int v = 0; v < V; ++v) { sa += std::exp(a[v] - ma); sb += std::exp(b[v] - mb); }
        const double la = ma + std::log(sa), lb = mb + std::log(sb);
        double kl = 0;
        for (int v = 0; v < V; ++v) {
            const double lpa = a[v] - la, lpb = b[v] - lb;
            kl += std::exp(lpa) * (lpa - lpb);
        }
        r.mean_kl += kl;
        r.max_kl = std::max(r.max_kl, kl);
    }
    r.top1 = double(agree) / double(rows);
    r.mean_kl /= double(rows);
    r.max_rel = r.max_abs / maxref;
    return r;
}

void print(const std::string& what, const Metrics& m) {
    std::printf("%-40s top1 %6.2f%%  mean KL %.3e  max KL %.3e  max|d| %.3e  max|d|/max|ref| %.3e\n", what.c_str(),
                100 * m.top1, m.mean_kl, m.max_kl, m.max_abs, m.max_rel);
}

int cmd_case(const std::string& dir, const std::string& name, int chunk) {
    Case k = load_case(dir, name);
    Npy ref = read_npy(dir + "/" + k.f32_file);
    int V = 0;
    std::vector<float> eng = run(dir, k, chunk, 0, &V);
    CHECK(eng.size() == ref.data.size());
    if (eng.size() != ref.data.size()) return test_summary("test_golden");
    Metrics m = compare(ref.data, eng, V);
    print(name + (chunk > 0 ? " chunk " + std::to_string(chunk) : ""), m);
    CHECK_MSG(m.top1 >= 0.99, "top-1 %.4f", m.top1);
    CHECK_MSG(m.mean_kl <= 1e-3, "mean KL %.3e", m.mean_kl);
    return test_summary("test_golden");
}

// fp8 numerics against the f32 golden: on random tiny weights the FP8 steps make logits chaotic, so only finite
// logits and top-1 agreement far above chance (1/vocab) are required; no golden equality is claimed.
int cmd_fp8(const std::string& dir, const std::string& name, double min_top1) {
    Case k = load_case(dir, name);
    Npy ref = read_npy(dir + "/" + k.f32_file);
    int V = 0;
    g_numerics = DSV32_NUMERICS_FP8;
    std::vector<float> eng = run(dir, k, 0, 0, &V);
    g_numerics = DSV32_NUMERICS_F32;
    CHECK(eng.size() == ref.data.size());
    if (eng.size() != ref.data.size()) return test_summary("test_golden fp8");
    bool finite = true;
    for (float v : eng) finite = finite && std::isfinite(v);
    CHECK_MSG(finite, "fp8 logits not finite");
    Metrics m = compare(ref.data, eng, V);
    print(name + " fp8 numerics vs f32 golden", m);
    CHECK_MSG(m.top1 >= min_top1, "fp8 top-1 agreement %.4f < %.2f", m.top1, min_top1);
    return test_summary("test_golden fp8");
}

int cmd_npy(const std::string& a, const std::string& b) {
    Npy ra = read_npy(a), rb = read_npy(b);
    CHECK(ra.shape == rb.shape);
    if (ra.shape != rb.shape) return test_summary("test_golden npy");
    Metrics m = compare(ra.data, rb.data, int(ra.shape.back()));
    print(b, m);
    CHECK(m.top1 >= 0.99 && m.mean_kl <= 1e-3);
    return test_summary("test_golden npy");
}

int cmd_topk(const std::string& dir) {
    Case k = load_case(dir, "prefill_100");
    Json ref = Json::parse(read_file(dir + "/prefill_100.topk.f32.json"));
    std::map<std::pair<int, int>, std::vector<int>> got;
    dsv32::Model model(dir, 0, 0, 0);
    model.topk_observer = [&](int l, int pos, const std::vector<int>& keys) { got[{l, pos}] = keys; };
    dsv32::SeqCache cache;
    std::vector<float> logits(k.tokens[0].size() * size_t(model.config().vocab_size));
    model.forward(&cache, k.tokens[0].data(), int(k.tokens[0].size()), logits.data());
    int compared = 0, near = 0, near_diff = 0;
    for (const Json& layer : ref.find("layers")->items()) {
        const int l = int(layer.find("layer")->as_number());
        std::set<int> ties;
        for (const Json& t : layer.find("near_tie_rows")->items()) ties.insert(int(t.as_number()));
        for (const auto& kv : layer.find("rows")->members()) {
            const int pos = std::stoi(kv.first);
            std::vector<int> want;
            for (const Json& t : kv.second.items()) want.push_back(int(t.as_number()));
            const std::vector<int>& have = got[{l, pos}];
            if (ties.count(pos)) {
                ++near;
                near_diff += have != want;
                continue;
            }
            ++compared;
            CHECK_MSG(have == want, "layer %d row %d: selection differs", l, pos);
        }
    }
    std::printf("topk: %d rows compared exactly, %d near-tie rows skipped (%d of them differ)\n", compared, near, near_diff);
    CHECK(compared > 100);
    return test_summary("test_golden topk");
}

int cmd_debug(const std::string& dir, int flag) {
    for (const char* name : {"prefill_100", "decode_40_100"}) {
        Case k = load_case(dir, name);
        Npy ref = read_npy(dir + "/" + k.f32_file);
        int V = 0;
        std::vector<float> eng = run(dir, k, 0, flag, &V);
        Metrics m = compare(ref.data, eng, V);
        print(std::string(name) + " debug_flags " + std::to_string(flag), m);
        // "Clearly worse": far outside the pass band on both measures' scale.
        CHECK_MSG(m.mean_kl > 1e-2 || m.top1 < 0.9, "debug flag %d did not break %s", flag, name);
    }
    return test_summary("test_golden debug");
}

int cmd_api(const std::string& dir) {
    dsv32_model* m = nullptr;
    CHECK(dsv32_model_open(nullptr, nullptr, &m) == DSV32_ERR_INVALID_ARGUMENT);
    CHECK(dsv32_model_open(dir.c_str(), nullptr, nullptr) == DSV32_ERR_INVALID_ARGUMENT);
    dsv32_open_options o{};
    o.numerics = 7;
    CHECK(dsv32_model_open(dir.c_str(), &o, &m) == DSV32_ERR_INVALID_ARGUMENT && m == nullptr);
    o = dsv32_open_options{};
    o.max_seq_len = 40;
    o.max_sequences = 2;
    CHECK(dsv32_model_open(dir.c_str(), &o, &m) == DSV32_OK);
    dsv32_model_info info;
    CHECK(dsv32_model_get_info(m, &info) == DSV32_OK && info.vocab_size == 512 && info.max_seq_len == 40 && info.num_layers == 3);
    int32_t s0, s1, s2;
    CHECK(dsv32_seq_open(m, &s0) == DSV32_OK && dsv32_seq_open(m, &s1) == DSV32_OK);
    CHECK(dsv32_seq_open(m, &s2) == DSV32_ERR_CAPACITY);
    std::vector<int32_t> toks(50, 3);
    std::vector<float> lg(50 * 512);
    dsv32_batch_entry e{s0, 0, 4, toks.data()};
    CHECK(dsv32_forward(m, &e, 1, lg.data(), 4 * 512 - 1) == DSV32_ERR_INVALID_ARGUMENT);
    CHECK(dsv32_forward(m, &e, 1, nullptr, 4 * 512) == DSV32_ERR_INVALID_ARGUMENT);
    e.start_pos = 1;
    CHECK(dsv32_forward(m, &e, 1, lg.data(), lg.size()) == DSV32_ERR_INVALID_ARGUMENT);  // position gap
    std::printf("gap error: %s\n", dsv32_last_error());
    e.start_pos = 0;
    toks[2] = 512;
    CHECK(dsv32_forward(m, &e, 1, lg.data(), lg.size()) == DSV32_ERR_INVALID_ARGUMENT);  // id out of range
    toks[2] = -1;
    CHECK(dsv32_forward(m, &e, 1, lg.data(), lg.size()) == DSV32_ERR_INVALID_ARGUMENT);
    toks[2] = 3;
    e.n_tokens = 41;
    CHECK(dsv32_forward(m, &e, 1, lg.data(), lg.size()) == DSV32_ERR_CAPACITY);
    e.n_tokens = 0;
    CHECK(dsv32_forward(m, &e, 1, lg.data(), lg.size()) == DSV32_ERR_INVALID_ARGUMENT);
    e.n_tokens = 4;
    e.tokens = nullptr;
    CHECK(dsv32_forward(m, &e, 1, lg.data(), lg.size()) == DSV32_ERR_INVALID_ARGUMENT);
    e.tokens = toks.data();
    dsv32_batch_entry two[2] = {e, e};
    CHECK(dsv32_forward(m, two, 2, lg.data(), lg.size()) == DSV32_ERR_INVALID_ARGUMENT);  // same sequence twice
    e.seq = 5;
    CHECK(dsv32_forward(m, &e, 1, lg.data(), lg.size()) == DSV32_ERR_INVALID_ARGUMENT);
    e.seq = s0;
    CHECK(dsv32_forward(m, &e, 1, lg.data(), lg.size()) == DSV32_OK);
    CHECK(std::string(dsv32_last_error()).empty());
    e.start_pos = 4;
    e.n_tokens = 1;
    CHECK(dsv32_forward(m, &e, 1, lg.data(), lg.size()) == DSV32_OK);
    CHECK(dsv32_seq_close(m, s1) == DSV32_OK && dsv32_seq_close(m, s1) == DSV32_ERR_INVALID_ARGUMENT);
    CHECK(dsv32_seq_close(m, -3) == DSV32_ERR_INVALID_ARGUMENT);
    CHECK(dsv32_forward(nullptr, &e, 1, lg.data(), lg.size()) == DSV32_ERR_INVALID_ARGUMENT);
    CHECK(dsv32_model_get_info(nullptr, &info) == DSV32_ERR_INVALID_ARGUMENT);
    dsv32_model_close(m);
    dsv32_model_close(nullptr);
    return test_summary("test_golden api");
}

int cmd_ids(const std::string& dir, const std::string& name, const std::string& out) {
    Case k = load_case(dir, name);
    std::string s = "[";
    for (size_t b = 0; b < k.tokens.size(); ++b) {
        if (k.tokens.size() > 1) s += b ? ", [" : "[";
        for (size_t t = 0; t < k.tokens[b].size(); ++t) s += (t ? ", " : "") + std::to_string(k.tokens[b][t]);
        if (k.tokens.size() > 1) s += "]";
    }
    write_file(out, s + "]\n");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // DSV32_KERNELS names a path this CPU lacks: skip (ctest SKIP_RETURN_CODE 77) rather than test another path.
    if (const char* want = std::getenv("DSV32_KERNELS")) {
        const std::string w(want);
        if (!w.empty() && w != "auto" && w != dsv32::kernels::kernel_path_name(dsv32::kernels::kernel_path())) {
            std::printf("test_golden: kernel path %s not supported on this CPU: skipped\n", want);
            return 77;
        }
        std::printf("test_golden: kernel path %s\n", dsv32::kernels::kernel_path_name(dsv32::kernels::kernel_path()));
    }
    try {
        const std::string cmd = argc > 1 ? argv[1] : "";
        if (cmd == "case" && argc >= 4) return cmd_case(argv[2], argv[3], argc > 4 ? std::atoi(argv[4]) : 0);
        if (cmd == "fp8" && argc == 5) return cmd_fp8(argv[2], argv[3], std::atof(argv[4]));
        if (cmd == "topk" && argc == 3) return cmd_topk(argv[2]);
        if (cmd == "debug" && argc == 4) return cmd_debug(argv[2], std::atoi(argv[3]));
        if (cmd == "api" && argc == 3) return cmd_api(argv[2]);
        if (cmd == "ids" && argc == 5) return cmd_ids(argv[2], argv[3], argv[4]);
        if (cmd == "npy" && argc == 4) return cmd_npy(argv[2], argv[3]);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "test_golden: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr, "usage: see the comment at the top of test_golden.cpp\n");
    return 2;
}
