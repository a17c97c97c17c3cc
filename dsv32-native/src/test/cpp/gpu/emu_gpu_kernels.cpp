// The kernel launchers compiled for the CPU emulator (gpu/emulator.h; -DDSV32_GPU_EMULATE): test_gpu_kernels_emu.
#include "gpu/gpu_kernels.cu"
