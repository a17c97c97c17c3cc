// test_gpu_kernels.cu compiled for the CPU emulator (gpu/emulator.h; -DDSV32_GPU_EMULATE): the kernels logic runs
// (barriers, scans, radix selects) on machines without a GPU.
#include "test_gpu_kernels.cu"
