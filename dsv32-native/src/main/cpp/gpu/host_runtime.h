// host_runtime.h: the CUDA runtime API for the engine's host code (device.cpp, device_kv_cache.cpp, device_weights.cpp,
// gpu_model.cpp): the real <cuda_runtime_api.h>, or under DSV32_GPU_EMULATE (tests only) cuda_emulation.h, the same
// subset over host memory, so that the whole CUDA engine runs on the CPU emulator (gpu/emulator.h) against the goldens
// on machines without a GPU.
#ifndef DSV32_GPU_HOST_RUNTIME_H
#define DSV32_GPU_HOST_RUNTIME_H

#if defined(DSV32_GPU_EMULATE)
#include "gpu/cuda_emulation.h"
#else
#include <cuda_runtime_api.h>
#endif

#endif
