// bench_sections.h: the benchmark's sections, each adding its rows to the report (bench_report.h):
//  * peak:      device copy bandwidth (gpuMemcpy device to device and a 16-byte copy kernel), the reference of
//               every GB/s fraction; the FP8 peak is the published figure (bench_plan.h);
//  * gemm:      the FP8 block-scaled linears of one layer at decode and prefill M (gpu_kernels.h linear_fp8, the
//               act_quant + fp8_gemm path, and linear, the engine's f32 path over the FP8 weights);
//  * attention: per context, the indexer logits, its top-k and the absorbed sparse MLA decode over the selected
//               latents (engine_kernels.h), for attn_batch decode rows of their own sequences;
//  * layer:     one decode step of a full MLA + indexer + MoE layer (random weights) in the engine's launch order.
// Each throws on a runtime failure (the caller records it and goes on with the next section).
#ifndef DSV32_GPU_BENCH_BENCH_SECTIONS_H
#define DSV32_GPU_BENCH_BENCH_SECTIONS_H

#include "gpu/bench/bench_plan.h"
#include "gpu/bench/bench_report.h"
#include "gpu/device.h"

namespace dsv32::gpu::bench {

void bench_peak(const BenchPlan& plan, const Stream& stream, Report& report);
void bench_gemm(const BenchPlan& plan, const Stream& stream, Report& report);
void bench_attention(const BenchPlan& plan, const Stream& stream, Report& report);
void bench_layer(const BenchPlan& plan, const Stream& stream, Report& report);

}  // namespace dsv32::gpu::bench

#endif
