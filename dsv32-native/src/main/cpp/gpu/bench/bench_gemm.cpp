// bench_gemm.cpp: the gemm section (bench_sections.h). For every layer weight shape and every M of the plan:
//  * "fp8":    linear_fp8 = act_quant of x (ue8m0) + the block-scaled fp8_gemm (the FP8 GEMM path; its prefill-M
//              rows carry the target, >= 50% of the FP8 peak);
//  * "engine": linear = the engine's f32 path over the FP8 weight (GEMV for M <= 8, tiled GEMM above).
// Bytes: the FP8 weight with its scales, x (f32) read once and y (f32) written once; FLOPs 2 M N K.
#include <string>

#include "gpu/bench/bench_device.h"
#include "gpu/bench/bench_sections.h"
#include "gpu/gpu_kernels.h"

namespace dsv32::gpu::bench {

void bench_gemm(const BenchPlan& plan, const Stream& stream, Report& report) {
    const gpuStream_t s = static_cast<gpuStream_t>(stream.handle());
    int max_m = 0;
    for (int m : plan.gemm_ms) max_m = m > max_m ? m : max_m;
    for (const GemmShape& g : plan.gemms) {
        DevicePool pool;
        TensorMaker make(pool, stream, 1000);
        const GpuWeight w = make.fp8(g.N, g.K);
        const float* x = make.f32(size_t(max_m) * g.K, -1.0f, 1.0f);
        float* y = pool.alloc<float>(size_t(max_m) * g.N);
        const size_t scratch_bytes = linear_fp8_scratch_bytes(w, max_m);
        void* scratch = pool.alloc<char>(scratch_bytes);
        for (int M : plan.gemm_ms) {
            const std::string shape = "M=" + std::to_string(M) + " N=" + std::to_string(g.N) + " K=" + std::to_string(g.K);
            const double flops = 2.0 * M * double(g.N) * g.K;
            const double bytes = weight_bytes(w) + 4.0 * M * g.K + 4.0 * M * double(g.N);

            Row fp8{"gemm", "fp8 " + g.name, shape};
            fp8.time_us = time_us([&] { linear_fp8(x, w, y, M, scratch, scratch_bytes, s); }, plan.warmup, plan.iters, stream);
            fp8.flops = flops;
            fp8.bytes = bytes;
            fp8.note = "act_quant + fp8_gemm";
            if (M == plan.gemm_ms.back()) {
                fp8.target = Target::Fp8Peak;
                fp8.goal = kGoalGemmFracPeak;
            }
            report.add(fp8);

            Row eng{"gemm", "engine " + g.name, shape};
            eng.time_us = time_us([&] { linear(x, w, y, M, s); }, plan.warmup, plan.iters, stream);
            eng.flops = flops;
            eng.bytes = bytes;
            eng.note = M <= 8 ? "linear: FP8 streaming GEMV (kernels/gemv_fp8.cuh)" : "linear: tiled f32 GEMM, FP8 dequantised";
            report.add(eng);
        }
    }
}

}  // namespace dsv32::gpu::bench
