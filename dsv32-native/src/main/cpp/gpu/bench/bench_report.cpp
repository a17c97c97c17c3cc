// bench_report.cpp: bench_report.h.
#include "gpu/bench/bench_report.h"

#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "gpu/bench/bench_plan.h"

namespace dsv32::gpu::bench {

void Report::add(Row r) {
    if (progress) {
        std::fprintf(progress, "dsv32_gpu_bench: row %-9s %-34s %-26s %11.2f us %9.3f TFLOPS %9.1f GB/s\n", r.section.c_str(),
                     r.name.c_str(), r.shape.c_str(), r.time_us, r.tflops(), r.gbps());
        std::fflush(progress);
    }
    rows.push_back(std::move(r));
}

double Report::frac_peak(const Row& r) const { return r.tflops() / kFp8PeakTflops; }

double Report::frac_bw(const Row& r) const { return copy_bw_gbps > 0 ? r.gbps() / copy_bw_gbps : 0; }

double Report::achieved(const Row& r) const {
    switch (r.target) {
        case Target::Fp8Peak: return frac_peak(r);
        case Target::CopyBandwidth: return frac_bw(r);
        case Target::FlashMlaDecode: return r.tflops() / kFlashMlaSparseDecodeTflops;
        default: return 0;
    }
}

std::string Report::status(const Row& r) const {
    if (r.target == Target::None) return "-";
    return achieved(r) >= r.goal ? "met" : "not met";
}

std::string Report::target_text(const Row& r) const {
    std::ostringstream s;
    s << std::fixed;
    s.precision(0);
    switch (r.target) {
        case Target::Fp8Peak: s << ">= " << r.goal * 100 << "% of FP8 peak " << kFp8PeakTflops << " TF (published)"; break;
        case Target::CopyBandwidth: s << ">= " << r.goal * 100 << "% of measured copy BW"; break;
        case Target::FlashMlaDecode:
            s << ">= " << r.goal * 100 << "% of FlashMLA H800 " << kFlashMlaSparseDecodeTflops << " TF (published)";
            break;
        default: return "";
    }
    return s.str();
}

void Report::print_table(std::FILE* f) const {
    std::fprintf(f, "dsv32 device benchmark: %s, %s, scale %s%s\n", device.c_str(), date.c_str(), scale.c_str(), quick ? " (quick)" : "");
    std::fprintf(f, "references: FP8 peak %.0f TFLOPS (H200 SXM, published); copy bandwidth %.1f GB/s (measured here, read + "
                 "write; H200 HBM3e published: %.0f GB/s)\n", kFp8PeakTflops, copy_bw_gbps, kH200HbmPublishedGbps);
    std::fprintf(f, "%-9s %-34s %-26s %11s %9s %9s %7s %7s  %-8s %s\n", "section", "name", "shape", "time_us", "TFLOPS", "GB/s",
                 "%peak", "%BW", "status", "target (achieved)");
    for (const Row& r : rows) {
        std::string tgt = target_text(r);
        if (!tgt.empty()) {
            char b[32];
            std::snprintf(b, sizeof b, " (%.1f%%)", achieved(r) * 100);
            tgt += b;
        }
        std::fprintf(f, "%-9s %-34s %-26s %11.2f %9.3f %9.1f %6.2f%% %6.1f%%  %-8s %s\n", r.section.c_str(), r.name.c_str(),
                     r.shape.c_str(), r.time_us, r.tflops(), r.gbps(), frac_peak(r) * 100, frac_bw(r) * 100,
                     status(r).c_str(), tgt.c_str());
    }
    for (const std::string& e : errors) std::fprintf(f, "ERROR: %s\n", e.c_str());
}

namespace {

std::string esc(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '"' || c == '\\') {
            o += '\\';
            o += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char b[8];
            std::snprintf(b, sizeof b, "\\u%04x", unsigned(static_cast<unsigned char>(c)));
            o += b;
        } else {
            o += c;
        }
    }
    return o;
}

std::string num(double v) {
    if (!std::isfinite(v)) return "null";
    std::ostringstream s;
    s.precision(12);
    s << v;
    return s.str();
}

}  // namespace

void Report::write_json(const std::string& path) const {
    std::ostringstream o;
    o << "{\n  \"device\": \"" << esc(device) << "\",\n  \"date\": \"" << esc(date) << "\",\n  \"scale\": \"" << esc(scale)
      << "\",\n  \"quick\": " << (quick ? "true" : "false") << ",\n  \"fp8_peak_tflops\": " << num(kFp8PeakTflops)
      << ",\n  \"flashmla_sparse_decode_tflops\": " << num(kFlashMlaSparseDecodeTflops)
      << ",\n  \"hbm_published_gbps\": " << num(kH200HbmPublishedGbps) << ",\n  \"copy_bw_gbps\": " << num(copy_bw_gbps) << ",\n  \"rows\": [";
    for (size_t i = 0; i < rows.size(); ++i) {
        const Row& r = rows[i];
        o << (i ? ",\n" : "\n") << "    {\"section\": \"" << esc(r.section) << "\", \"name\": \"" << esc(r.name)
          << "\", \"shape\": \"" << esc(r.shape) << "\", \"time_us\": " << num(r.time_us) << ", \"flops\": " << num(r.flops)
          << ", \"bytes\": " << num(r.bytes) << ", \"tflops\": " << num(r.tflops()) << ", \"gbps\": " << num(r.gbps())
          << ", \"frac_fp8_peak\": " << num(frac_peak(r)) << ", \"frac_copy_bw\": " << num(frac_bw(r))
          << ", \"target\": \"" << esc(target_text(r)) << "\", \"goal\": " << num(r.goal)
          << ", \"achieved\": " << num(achieved(r)) << ", \"status\": \"" << status(r) << "\", \"note\": \"" << esc(r.note)
          << "\"}";
    }
    o << "\n  ],\n  \"errors\": [";
    for (size_t i = 0; i < errors.size(); ++i) o << (i ? ", " : "") << "\"" << esc(errors[i]) << "\"";
    o << "]\n}\n";
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error(path + ": cannot open for writing");
    f << o.str();
    if (!f.flush()) throw std::runtime_error(path + ": write failed");
}

void Report::write_markdown(const std::string& path) const {
    std::ostringstream o;
    char b[512];
    o << "### dsv32_gpu_bench on " << device << " (" << date << ", scale " << scale << (quick ? ", quick" : "") << ")\n\n";
    std::snprintf(b, sizeof b, "References: FP8 peak %.0f TFLOPS (H200 SXM, published); copy bandwidth %.1f GB/s measured in "
                  "the same run (read + write; HBM3e published %.0f GB/s); FlashMLA sparse decode %.0f TFLOPS (H800, published).\n\n",
                  kFp8PeakTflops, copy_bw_gbps, kH200HbmPublishedGbps, kFlashMlaSparseDecodeTflops);
    o << b << "| target | row | shape | measured | achieved | goal | status |\n|---|---|---|---|---|---|---|\n";
    for (const Row& r : rows) {
        if (r.target == Target::None) continue;
        if (r.target == Target::CopyBandwidth) std::snprintf(b, sizeof b, "%.1f GB/s", r.gbps());
        else std::snprintf(b, sizeof b, "%.2f TFLOPS", r.tflops());
        char a[96];
        std::snprintf(a, sizeof a, "%.1f%% | %.0f%%", achieved(r) * 100, r.goal * 100);
        o << "| " << target_text(r) << " | " << r.name << " | " << r.shape << " | " << b << " | " << a << " | " << status(r) << " |\n";
    }
    o << "\n| section | row | shape | time (us) | TFLOPS | GB/s | % FP8 peak | % copy BW |\n|---|---|---|---|---|---|---|---|\n";
    for (const Row& r : rows) {
        std::snprintf(b, sizeof b, "| %s | %s | %s | %.2f | %.3f | %.1f | %.2f%% | %.1f%% |\n", r.section.c_str(), r.name.c_str(),
                      r.shape.c_str(), r.time_us, r.tflops(), r.gbps(), frac_peak(r) * 100, frac_bw(r) * 100);
        o << b;
    }
    for (const std::string& e : errors) o << "\nERROR: " << e << "\n";
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error(path + ": cannot open for writing");
    f << o.str();
    if (!f.flush()) throw std::runtime_error(path + ": write failed");
}

}  // namespace dsv32::gpu::bench
