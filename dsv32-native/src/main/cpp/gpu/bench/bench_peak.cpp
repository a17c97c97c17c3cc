// bench_peak.cpp: the peak section (bench_sections.h): device copy bandwidth, counted as bytes read + bytes written.
#include <algorithm>
#include <string>

#include "gpu/bench/bench_device.h"
#include "gpu/bench/bench_kernels.h"
#include "gpu/bench/bench_sections.h"
#include "gpu/host_runtime.h"

namespace dsv32::gpu::bench {

void bench_peak(const BenchPlan& plan, const Stream& stream, Report& report) {
    DevicePool pool;
    const size_t n = plan.copy_bytes / 16 * 16;
    char* src = pool.alloc<char>(n);
    char* dst = pool.alloc<char>(n);
    const gpuStream_t s = static_cast<gpuStream_t>(stream.handle());
    fill_e4m3(reinterpret_cast<uint8_t*>(src), n, 7, s);  // any bytes: the copy does not look at them
    const std::string shape = std::to_string(n >> 20) + " MiB";
    const int iters = std::max(plan.iters, 1) * 2;

    Row memcpy_row{"peak", "copy cudaMemcpy D2D", shape};  // the report's row name (docs, tests)
    memcpy_row.time_us = time_us([&] {
        check(gpuMemcpyAsync(dst, src, n, gpuMemcpyDeviceToDevice, static_cast<gpuStream_t>(stream.handle())), "gpuMemcpyAsync");
    }, plan.warmup, iters, stream);
    memcpy_row.bytes = 2.0 * double(n);
    memcpy_row.note = "bytes read + written";

    Row kernel_row{"peak", "copy kernel (16 B per thread)", shape};
    kernel_row.time_us = time_us([&] { copy16(dst, src, n, s); }, plan.warmup, iters, stream);
    kernel_row.bytes = 2.0 * double(n);
    kernel_row.note = "bytes read + written";

    report.copy_bw_gbps = std::max(memcpy_row.gbps(), kernel_row.gbps());
    report.add(memcpy_row);
    report.add(kernel_row);
}

}  // namespace dsv32::gpu::bench
