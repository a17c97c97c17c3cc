// The device benchmark's own kernels (gpu/bench/bench_kernels.cu) compiled for the CPU emulator (gpu/emulator.h;
// -DDSV32_GPU_EMULATE): dsv32_gpu_bench_emu.
#include "gpu/bench/bench_kernels.cu"
