// bench_report.h: the benchmark's rows and their two outputs: a readable table (stdout) and a JSON file. Each row
// has a name, a shape, a time, the FLOPs and bytes it must do / move (hence TFLOPS and GB/s), these as fractions of
// the H200's FP8 peak (published) and of the copy bandwidth measured in the same run, and, for the three
// targets, the goal and whether it is met.
#ifndef DSV32_GPU_BENCH_BENCH_REPORT_H
#define DSV32_GPU_BENCH_BENCH_REPORT_H

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace dsv32::gpu::bench {

// Which reference a row's target is measured against (achieved = measured / reference).
enum class Target {
    None,
    Fp8Peak,        // TFLOPS / kFp8PeakTflops
    CopyBandwidth,  // GB/s / the measured copy bandwidth
    FlashMlaDecode, // TFLOPS / kFlashMlaSparseDecodeTflops
};

struct Row {
    Row(std::string sec, std::string nm, std::string shp) : section(std::move(sec)), name(std::move(nm)), shape(std::move(shp)) {}
    std::string section;  // peak, gemm, attention, layer
    std::string name;
    std::string shape;
    double time_us = 0;
    double flops = 0;     // 0: not counted (a pure data-movement row)
    double bytes = 0;     // bytes read + written that the operation cannot avoid
    Target target = Target::None;
    double goal = 0;      // the fraction of the reference the target asks for
    std::string note;     // what is counted, when not obvious

    double tflops() const { return time_us > 0 ? flops / (time_us * 1e6) : 0; }
    double gbps() const { return time_us > 0 ? bytes / (time_us * 1e3) : 0; }
};

struct Report {
    std::string device, date, scale;
    bool quick = false;
    double copy_bw_gbps = 0;  // the best copy row (set by the peak section)
    std::vector<Row> rows;
    std::vector<std::string> errors;  // sections that failed (the rest still ran)
    std::FILE* progress = nullptr;    // when set, each row is also printed there as it is added ("... row ...")

    void add(Row r);
    double frac_peak(const Row& r) const;  // TFLOPS / FP8 peak (0 without FLOPs)
    double frac_bw(const Row& r) const;    // GB/s / measured copy bandwidth (0 before it is measured)
    double achieved(const Row& r) const;   // measured / the target's reference (0 without a target)
    std::string status(const Row& r) const;  // "met", "not met" or "-"
    std::string target_text(const Row& r) const;

    void print_table(std::FILE* f) const;
    // Throws std::runtime_error when the file cannot be written. Non-finite numbers are written as null.
    void write_json(const std::string& path) const;
    // The same rows as Markdown for the README's performance table: device, date, the references, the target rows
    // (measured, goal, met / not met), then every row. Throws std::runtime_error when the file cannot be written.
    void write_markdown(const std::string& path) const;
};

}  // namespace dsv32::gpu::bench

#endif
