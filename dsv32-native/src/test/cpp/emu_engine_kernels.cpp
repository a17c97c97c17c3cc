// The engine's kernels and launchers (gpu/engine_kernels.cu) compiled for the CPU emulator (gpu/emulator.h;
// -DDSV32_GPU_EMULATE): with emu_gpu_kernels.cpp and the engine's host code, the whole CUDA engine runs on the CPU.
#include "gpu/engine_kernels.cu"
