// bench_main.cpp: dsv32_gpu_bench, the CUDA backend's device benchmark (issue #8): no JDK, one GPU. Prints a table
// and writes the rows as JSON (bench_report.h). Usage: dsv32_gpu_bench --help.
// Exit status: 0 every section ran; 1 a section failed (the others still ran and are reported); 2 bad usage or the
// output file could not be written; 77 no usable CUDA device (the ctest skip code).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "gpu/bench/bench_plan.h"
#include "gpu/bench/bench_report.h"
#include "gpu/bench/bench_sections.h"
#include "gpu/device.h"
#include "gpu/host_runtime.h"

namespace {

const char* kUsage =
    "usage: dsv32_gpu_bench [--scale full|tiny] [--quick] [--only SECTION[,SECTION...]] [--out FILE] [--device N]\n"
    "  Measures on one CUDA device: copy bandwidth (peak), the FP8 GEMMs of the real 671B layer shapes at decode and\n"
    "  prefill M (gemm), indexer logits / top-k / sparse MLA decode at three contexts (attention), and one full-dims\n"
    "  MLA + indexer + MoE decode layer step at batch 1 and 64 (layer), each against the FP8 peak (1979 TFLOPS,\n"
    "  published) and the copy bandwidth measured in the same run; the issue's three targets are marked met / not met.\n"
    "  --scale tiny: the same code on small dims (the CPU emulator's test); --quick: fewer repetitions.\n"
    "  --only: sections among peak, gemm, attention, layer (peak always runs: it is every row's bandwidth reference).\n"
    "  --out: the JSON file (default $OUT/gpu-bench.json when OUT is set, else gpu-bench.json); the same rows as a\n"
    "  Markdown table (for the README's performance table) go next to it, .json replaced by .md.\n"
    "  Exit: 0 ok, 1 a section failed, 2 bad usage / output not written, 77 no CUDA device.\n";

std::string utc_now() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char b[32];
    std::strftime(b, sizeof b, "%Y-%m-%d %H:%M UTC", &tm);
    return b;
}

bool has(const std::string& list, const std::string& name) {
    return list.empty() || ("," + list + ",").find("," + name + ",") != std::string::npos;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace dsv32::gpu;
    std::string scale = "full", only, out;
    bool quick = false;
    int device = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&](const char* flag) -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "dsv32_gpu_bench: %s needs a value\n%s", flag, kUsage);
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--scale") scale = value("--scale");
        else if (a == "--quick") quick = true;
        else if (a == "--only") only = value("--only");
        else if (a == "--out") out = value("--out");
        else if (a == "--device") {
            const std::string v = value("--device");
            char* end = nullptr;
            const long d = std::strtol(v.c_str(), &end, 10);
            if (v.empty() || *end != '\0' || d < 0 || d > 1024) {
                std::fprintf(stderr, "dsv32_gpu_bench: --device %s: expected a device ordinal (0, 1, ...)\n", v.c_str());
                return 2;
            }
            device = int(d);
        }
        else if (a == "-h" || a == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        } else {
            std::fprintf(stderr, "dsv32_gpu_bench: unknown argument %s\n%s", a.c_str(), kUsage);
            return 2;
        }
    }
    for (size_t p = 0; !only.empty() && p <= only.size();) {  // every listed section must exist
        const size_t q = std::min(only.find(',', p), only.size());
        const std::string s = only.substr(p, q - p);
        if (s != "peak" && s != "gemm" && s != "attention" && s != "layer") {
            std::fprintf(stderr, "dsv32_gpu_bench: --only: unknown section '%s' (peak, gemm, attention, layer)\n", s.c_str());
            return 2;
        }
        p = q + 1;
    }
    bench::BenchPlan plan;
    try {
        plan = bench::make_plan(scale, quick);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dsv32_gpu_bench: %s\n", e.what());
        return 2;
    }
    if (out.empty()) {
        const char* o = std::getenv("OUT");
        out = (o && *o) ? std::string(o) + "/gpu-bench.json" : "gpu-bench.json";
    }
    const std::string why = device_unavailable_reason(device);
    if (!why.empty()) {
        std::fprintf(stderr, "dsv32_gpu_bench: nothing measured, no CUDA device to run on: %s\n", why.c_str());
        return 77;
    }

    bench::Report report;
    report.scale = scale;
    report.quick = quick;
    report.date = utc_now();
    report.progress = stderr;
    try {
        check(gpuSetDevice(device), "gpuSetDevice");
        report.device = describe_device(device);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dsv32_gpu_bench: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr, "dsv32_gpu_bench: %s, scale %s%s, output %s\n", report.device.c_str(), scale.c_str(),
                 quick ? " (quick)" : "", out.c_str());
    Stream stream;
    const std::vector<std::pair<std::string, std::function<void()>>> sections = {
        {"peak", [&] { bench::bench_peak(plan, stream, report); }},
        {"gemm", [&] { bench::bench_gemm(plan, stream, report); }},
        {"attention", [&] { bench::bench_attention(plan, stream, report); }},
        {"layer", [&] { bench::bench_layer(plan, stream, report); }},
    };
    for (const auto& [name, run] : sections) {
        if (name != "peak" && !has(only, name)) continue;
        std::fprintf(stderr, "dsv32_gpu_bench: section %s\n", name.c_str());
        try {
            run();
        } catch (const std::exception& e) {
            report.errors.push_back(name + ": " + e.what());
            std::fprintf(stderr, "dsv32_gpu_bench: section %s failed: %s\n", name.c_str(), e.what());
            (void)gpuGetLastError();
        }
    }
    report.print_table(stdout);
    const std::string md = (out.size() > 5 && out.compare(out.size() - 5, 5, ".json") == 0 ? out.substr(0, out.size() - 5) : out) + ".md";
    try {
        report.write_json(out);
        report.write_markdown(md);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dsv32_gpu_bench: %s\n", e.what());
        return 2;
    }
    return report.errors.empty() ? 0 : 1;
}
