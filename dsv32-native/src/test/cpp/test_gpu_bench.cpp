// test_gpu_bench: runs the device benchmark (gpu/bench/, dsv32_gpu_bench or its CPU-emulated build) and checks its
// outputs.
//   test_gpu_bench run <bench> <workdir>   --scale tiny end to end: exit 0, every row of the plan in the JSON file and
//                                          in the table, each exactly once; times, TFLOPS, GB/s and fractions finite
//                                          and positive; the FLOPs / bytes of the GEMM rows as the shapes say; the
//                                          three targets on the right rows, their status consistent with the
//                                          numbers. Exit 77 (skipped) when the bench finds no CUDA device.
//   test_gpu_bench nodevice <bench>        with no visible device (CUDA_VISIBLE_DEVICES empty) the bench exits 77 and
//                                          says "no CUDA device".
//   test_gpu_bench usage <bench>           bad arguments exit 2 with a message, before any device is touched.
//   test_gpu_bench plan                    the full plan has the 671B shapes of architecture.md.
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>
#include <utility>
#include <vector>
#include <sstream>
#include <string>

#include "checkpoint/json.h"
#include "gpu/bench/bench_plan.h"
#include "test_util.h"

using dsv32::Json;

namespace {

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// Runs a shell command line; returns its exit status (-1 when it did not exit normally).
int run(const std::string& cmd) {
    const int st = std::system(cmd.c_str());
    if (st == -1 || !WIFEXITED(st)) return -1;
    return WEXITSTATUS(st);
}

bool finite_pos(const Json* v) { return v && v->is_number() && std::isfinite(v->as_number()) && v->as_number() > 0; }
bool finite_nonneg(const Json* v) { return v && v->is_number() && std::isfinite(v->as_number()) && v->as_number() >= 0; }
double num(const Json& o, const char* k) {
    const Json* v = o.find(k);
    return v && v->is_number() ? v->as_number() : std::nan("");
}
std::string str(const Json& o, const char* k) {
    const Json* v = o.find(k);
    return v && v->is_string() ? v->as_string() : std::string();
}
bool close(double a, double b) { return std::fabs(a - b) <= 1e-6 * std::max(std::fabs(a), std::fabs(b)); }

struct Expected {
    std::string section;
    double flops = -1;  // -1: not checked exactly
    std::string target;  // "" none, else the target's reference kind
};

// Every row the tiny plan must produce, by name.
std::map<std::string, Expected> expected_rows(const dsv32::gpu::bench::BenchPlan& p) {
    std::map<std::string, Expected> e;
    e["copy cudaMemcpy D2D"] = {"peak", 0, ""};
    e["copy kernel (16 B per thread)"] = {"peak", 0, ""};
    for (const auto& g : p.gemms)
        for (int M : p.gemm_ms) {
            const std::string sfx = " M=" + std::to_string(M);
            const double f = 2.0 * M * double(g.N) * g.K;
            e["fp8 " + g.name + sfx] = {"gemm", f, M == p.gemm_ms.back() ? "fp8" : ""};
            e["engine " + g.name + sfx] = {"gemm", f, ""};
        }
    for (size_t i = 0; i < p.contexts.size(); ++i) {
        const std::string c = " ctx=" + std::to_string(p.contexts[i]);
        e["indexer logits" + c] = {"attention", 2.0 * p.attn_batch * double(p.contexts[i]) * p.m.inh * p.m.ihd, ""};
        e["indexer top-k" + c] = {"attention", 0, ""};
        e["sparse decode" + c] = {"attention", -1, i == 1 ? "flashmla" : ""};
    }
    for (size_t i = 0; i < p.layer_batches.size(); ++i)
        e["layer step batch=" + std::to_string(p.layer_batches[i])] = {"layer", -1, i == 0 ? "bw" : ""};
    return e;
}

// GEMM rows are named "<path> <weight>" with the M in the shape; the key adds " M=<M>".
std::string row_key(const Json& r) {
    const std::string name = str(r, "name"), shape = str(r, "shape");
    if (str(r, "section") != "gemm") return name;
    return name + " " + shape.substr(0, shape.find(' '));
}

int run_mode(const std::string& bench, const std::string& dir) {
    mkdir(dir.c_str(), 0755);
    const std::string json = dir + "/gpu-bench.json", out = dir + "/stdout.txt", err = dir + "/stderr.txt";
    std::remove(json.c_str());
    const int rc = run("'" + bench + "' --scale tiny --out '" + json + "' >'" + out + "' 2>'" + err + "'");
    if (rc == 77) {
        std::printf("test_gpu_bench run: skipped: %s", read_file(err).c_str());
        return 77;
    }
    CHECK_MSG(rc == 0, "bench exit %d; stderr:\n%s", rc, read_file(err).c_str());
    if (rc != 0) return test_summary("test_gpu_bench run");
    Json doc;
    try {
        doc = Json::parse(read_file(json));
    } catch (const std::exception& e) {
        CHECK_MSG(false, "%s does not parse: %s", json.c_str(), e.what());
        return test_summary("test_gpu_bench run");
    }
    const auto plan = dsv32::gpu::bench::make_plan("tiny", false);
    CHECK(str(doc, "scale") == "tiny");
    CHECK(!str(doc, "device").empty() && !str(doc, "date").empty());
    CHECK(num(doc, "fp8_peak_tflops") == dsv32::gpu::bench::kFp8PeakTflops);
    CHECK(finite_pos(doc.find("copy_bw_gbps")));
    const Json* errors = doc.find("errors");
    CHECK(errors && errors->is_array() && errors->items().empty());
    const Json* rows = doc.find("rows");
    CHECK(rows && rows->is_array());
    if (!rows || !rows->is_array()) return test_summary("test_gpu_bench run");

    auto want = expected_rows(plan);
    const std::string table = read_file(out);
    std::set<std::string> seen;
    double best_copy = 0;
    for (const Json& r : rows->items()) {
        const std::string key = row_key(r);
        const auto it = want.find(key);
        CHECK_MSG(it != want.end(), "unexpected row '%s'", key.c_str());
        CHECK_MSG(seen.insert(key).second, "row '%s' twice", key.c_str());
        if (it == want.end()) continue;
        const Expected& x = it->second;
        CHECK_MSG(str(r, "section") == x.section, "row '%s' in section '%s'", key.c_str(), str(r, "section").c_str());
        CHECK_MSG(table.find(str(r, "name")) != std::string::npos, "row '%s' missing from the table", key.c_str());
        CHECK_MSG(finite_pos(r.find("time_us")), "row '%s': time_us", key.c_str());
        CHECK_MSG(finite_pos(r.find("bytes")) && finite_pos(r.find("gbps")), "row '%s': bytes / gbps", key.c_str());
        CHECK_MSG(finite_pos(r.find("frac_copy_bw")), "row '%s': frac_copy_bw", key.c_str());
        CHECK_MSG(close(num(r, "gbps"), num(r, "bytes") / (num(r, "time_us") * 1e3)), "row '%s': gbps != bytes / time", key.c_str());
        if (x.flops != 0) {
            CHECK_MSG(finite_pos(r.find("flops")) && finite_pos(r.find("tflops")) && finite_pos(r.find("frac_fp8_peak")),
                      "row '%s': flops / tflops / frac_fp8_peak", key.c_str());
            CHECK_MSG(close(num(r, "frac_fp8_peak"), num(r, "tflops") / dsv32::gpu::bench::kFp8PeakTflops), "row '%s'", key.c_str());
        } else {
            CHECK_MSG(finite_nonneg(r.find("flops")) && num(r, "flops") == 0, "row '%s': a data-movement row with flops", key.c_str());
        }
        if (x.flops > 0) CHECK_MSG(close(num(r, "flops"), x.flops), "row '%s': flops %g, expected %g", key.c_str(), num(r, "flops"), x.flops);
        if (x.section == "peak") best_copy = std::max(best_copy, num(r, "gbps"));
        const std::string status = str(r, "status");
        if (x.target.empty()) {
            CHECK_MSG(status == "-" && str(r, "target").empty(), "row '%s' should carry no target", key.c_str());
        } else {
            CHECK_MSG(status == "met" || status == "not met", "row '%s': status '%s'", key.c_str(), status.c_str());
            double ref = 0;
            if (x.target == "fp8") ref = num(r, "tflops") / dsv32::gpu::bench::kFp8PeakTflops;
            if (x.target == "bw") ref = num(r, "frac_copy_bw");
            if (x.target == "flashmla") ref = num(r, "tflops") / dsv32::gpu::bench::kFlashMlaSparseDecodeTflops;
            CHECK_MSG(finite_pos(r.find("achieved")) && close(num(r, "achieved"), ref), "row '%s': achieved", key.c_str());
            CHECK_MSG((status == "met") == (num(r, "achieved") >= num(r, "goal")), "row '%s': status vs goal", key.c_str());
            CHECK_MSG(finite_pos(r.find("goal")) && num(r, "goal") < 1, "row '%s': goal", key.c_str());
        }
    }
    for (const auto& [k, v] : want) CHECK_MSG(seen.count(k), "row '%s' missing", k.c_str());
    // The Markdown copy (next to the JSON): the target table with each target row and its status, then every row.
    const std::string md = read_file(dir + "/gpu-bench.md");
    CHECK_MSG(md.find("| target | row |") != std::string::npos, "gpu-bench.md has no target table");
    size_t md_rows = 0;
    for (size_t p = md.find("\n| "); p != std::string::npos; p = md.find("\n| ", p + 1)) ++md_rows;
    size_t n_targets = 0;
    for (const Json& r : rows->items()) n_targets += str(r, "status") != "-" ? 1 : 0;
    CHECK_MSG(md_rows == 2 + n_targets + rows->items().size(), "gpu-bench.md: %zu table lines, expected 2 headers + %zu + %zu",
              md_rows, n_targets, rows->items().size());
    for (const Json& r : rows->items()) {
        const std::string line = "| " + str(r, "section") + " | " + str(r, "name") + " | " + str(r, "shape") + " |";
        CHECK_MSG(md.find(line) != std::string::npos, "gpu-bench.md lacks the row '%s'", line.c_str());
        if (str(r, "status") != "-") {
            const std::string t = "| " + str(r, "target") + " | " + str(r, "name") + " | " + str(r, "shape") + " |";
            const size_t at = md.find(t);
            CHECK_MSG(at != std::string::npos, "gpu-bench.md lacks the target row '%s'", t.c_str());
            if (at != std::string::npos) {
                const std::string rest = md.substr(at, md.find('\n', at) - at);
                CHECK_MSG(rest.size() > 4 && rest.compare(rest.size() - 4 - str(r, "status").size(), std::string::npos,
                                                          "| " + str(r, "status") + " |") == 0,
                          "gpu-bench.md target row '%s' does not end with its status", rest.c_str());
            }
        }
    }
    CHECK(close(best_copy, num(doc, "copy_bw_gbps")));
    return test_summary("test_gpu_bench run");
}

// The full plan against the 671B shapes of architecture.md: §2.1 weight shapes, §1.2 parameters per layer (MLA
// 187,107,328 and indexer 13,959,424), every GEMM K a multiple of 128 (linear_fp8's FP8 path, not its bf16 fallback),
// the M, contexts and batches; tiny keeps the structure (K % 128, the Hadamard-128 indexer head).
int plan_mode() {
    using namespace dsv32::gpu::bench;
    const BenchPlan full = make_plan("full", false);
    std::map<std::string, std::pair<int, int>> shape;
    for (const GemmShape& g : full.gemms) shape[g.name] = {g.N, g.K};
    CHECK((shape["wq_a"] == std::pair<int, int>{1536, 7168}));
    CHECK((shape["wq_b"] == std::pair<int, int>{24576, 1536}));
    CHECK((shape["wkv_a"] == std::pair<int, int>{576, 7168}));
    CHECK((shape["wkv_b"] == std::pair<int, int>{32768, 512}));
    CHECK((shape["wo"] == std::pair<int, int>{7168, 16384}));
    CHECK((shape["idx_wq_b"] == std::pair<int, int>{8192, 1536}));
    CHECK((shape["idx_wk"] == std::pair<int, int>{128, 7168}));
    CHECK((shape["expert_w1"] == std::pair<int, int>{2048, 7168}));
    CHECK((shape["expert_w2"] == std::pair<int, int>{7168, 2048}));
    const ModelDims& m = full.m;
    auto nk = [&](const char* n) { return int64_t(shape[n].first) * shape[n].second; };
    CHECK(nk("wq_a") + m.qlr + nk("wq_b") + nk("wkv_a") + m.kvr + nk("wkv_b") + nk("wo") == 187107328);
    CHECK(nk("idx_wq_b") + nk("idx_wk") + 2 * m.ihd + int64_t(m.inh) * m.D == 13959424);
    CHECK(m.E == 256 && m.ke == 8 && m.topk == 2048 && m.inh == 64 && m.ihd == 128);
    CHECK((full.gemm_ms == std::vector<int>{1, 64, 4096}));
    CHECK((full.contexts == std::vector<int>{8192, 32768, 131072}));
    CHECK((full.layer_batches == std::vector<int>{1, 64}));
    for (const char* sc : {"full", "tiny"}) {
        const BenchPlan p = make_plan(sc, true);
        for (const GemmShape& g : p.gemms) CHECK_MSG(g.K % 128 == 0, "%s %s: K %d", sc, g.name.c_str(), g.K);
        CHECK(p.m.ihd == 128 && p.m.kvr % 128 == 0 && p.m.E % p.m.n_group == 0 && p.m.ke <= p.m.topk_group * (p.m.E / p.m.n_group));
        CHECK(p.contexts.size() >= 2 && !p.layer_batches.empty() && p.layer_batches[0] == 1 && p.iters >= 1);
    }
    CHECK(make_plan("full", true).iters < full.iters);
    bool threw = false;
    try {
        make_plan("medium", false);
    } catch (const std::invalid_argument&) {
        threw = true;
    }
    CHECK(threw);
    return test_summary("test_gpu_bench plan");
}

int nodevice_mode(const std::string& bench) {
    setenv("CUDA_VISIBLE_DEVICES", "", 1);
    const std::string err = "gpu_bench_nodevice_stderr.txt";
    const int rc = run("'" + bench + "' --scale tiny --out /dev/null 2>" + err + " >/dev/null");
    const std::string msg = read_file(err);
    CHECK_MSG(rc == 77, "exit %d (expected 77); stderr: %s", rc, msg.c_str());
    CHECK_MSG(msg.find("no CUDA device") != std::string::npos, "stderr: %s", msg.c_str());
    return test_summary("test_gpu_bench nodevice");
}

int usage_mode(const std::string& bench) {
    const char* bad[] = {"--scale huge", "--only peak,nosuch", "--frobnicate", "--out", "--device x1", "--device -1"};
    for (const char* a : bad) {
        const std::string err = "gpu_bench_usage_stderr.txt";
        const int rc = run("'" + bench + "' " + a + " >/dev/null 2>" + err);
        const std::string msg = read_file(err);
        CHECK_MSG(rc == 2, "'%s': exit %d (expected 2)", a, rc);
        CHECK_MSG(msg.find("dsv32_gpu_bench: ") != std::string::npos, "'%s': stderr: %s", a, msg.c_str());
    }
    CHECK(run("'" + bench + "' --help >/dev/null") == 0);
    return test_summary("test_gpu_bench usage");
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "run" && argc == 4) return run_mode(argv[2], argv[3]);
    if (mode == "nodevice" && argc == 3) return nodevice_mode(argv[2]);
    if (mode == "usage" && argc == 3) return usage_mode(argv[2]);
    if (mode == "plan" && argc == 2) return plan_mode();
    std::fprintf(stderr, "usage: test_gpu_bench run <bench> <workdir> | nodevice <bench> | usage <bench> | plan\n");
    return 2;
}
