// host_runtime.h: the GPU runtime API under one set of names (gpuMalloc, gpuMemcpyAsync, gpuStream_t, gpuEvent_t,
// gpuGetErrorName, ...), so that the engine's host code (device.cpp, device_kv_cache.cpp, device_weights.cpp,
// gpu_model.cpp) and the kernels' launchers are written once and built three ways:
//   * CUDA (nvcc / the host compiler against the CUDA toolkit): gpuX is cudaX;                 DSV32_GPU_CUDA = 1
//   * HIP (hipcc, AMD platform, libdsv32_hip.so): gpuX is hipX;                               DSV32_GPU_HIP = 1
//   * the CPU emulator (-DDSV32_GPU_EMULATE, tests only): runtime_emulation.h, host memory as device memory; it
//     presents itself as a CUDA device, or as a HIP one with -DDSV32_EMU_HIP (the HIP library's host code run here).
// Only names: no wrapper functions, no second copy of any engine code. Included by portability.h.
#ifndef DSV32_GPU_HOST_RUNTIME_H
#define DSV32_GPU_HOST_RUNTIME_H

#if defined(DSV32_GPU_EMULATE)
#include "gpu/runtime_emulation.h"
#if defined(DSV32_EMU_HIP)
#define DSV32_GPU_HIP 1
#else
#define DSV32_GPU_CUDA 1
#endif

#elif defined(__HIP_PLATFORM_AMD__) || defined(__HIP__) || defined(DSV32_HIP_HOST)
// hipcc (clang in HIP mode) defines __HIP__; hip_runtime.h then defines __HIP_PLATFORM_AMD__, which the kernels test.
// (ROCm 5.x hipcc does not pass __HIP_PLATFORM_AMD__ on the command line.) Host-only files of libdsv32_hip.so are
// compiled with -DDSV32_HIP_HOST.
#include <hip/hip_runtime.h>
#define DSV32_GPU_HIP 1
using gpuStream_t = hipStream_t;
using gpuError_t = hipError_t;
using gpuEvent_t = hipEvent_t;
using gpuDeviceProp = hipDeviceProp_t;
#define gpuSuccess hipSuccess
#define gpuErrorMemoryAllocation hipErrorOutOfMemory
#define gpuGetErrorName hipGetErrorName
#define gpuGetErrorString hipGetErrorString
#define gpuGetLastError hipGetLastError
#define gpuPeekAtLastError hipPeekAtLastError
#define gpuGetDeviceCount hipGetDeviceCount
#define gpuGetDevice hipGetDevice
#define gpuSetDevice hipSetDevice
#define gpuGetDeviceProperties hipGetDeviceProperties
#define gpuDriverGetVersion hipDriverGetVersion
#define gpuRuntimeGetVersion hipRuntimeGetVersion
#define gpuDeviceSynchronize hipDeviceSynchronize
#define gpuMalloc hipMalloc
#define gpuFree hipFree
#define gpuMallocHost hipHostMalloc
#define gpuFreeHost hipHostFree
#define gpuMemcpy hipMemcpy
#define gpuMemcpyAsync hipMemcpyAsync
#define gpuMemcpy2DAsync hipMemcpy2DAsync
#define gpuMemset hipMemset
#define gpuMemsetAsync hipMemsetAsync
#define gpuMemcpyHostToDevice hipMemcpyHostToDevice
#define gpuMemcpyDeviceToHost hipMemcpyDeviceToHost
#define gpuMemcpyDeviceToDevice hipMemcpyDeviceToDevice
#define gpuStreamCreate hipStreamCreate
#define gpuStreamCreateWithFlags hipStreamCreateWithFlags
#define gpuStreamNonBlocking hipStreamNonBlocking
#define gpuStreamDestroy hipStreamDestroy
#define gpuStreamSynchronize hipStreamSynchronize
#define gpuEventCreateWithFlags hipEventCreateWithFlags
#define gpuEventDisableTiming hipEventDisableTiming
#define gpuEventRecord hipEventRecord
#define gpuEventSynchronize hipEventSynchronize
#define gpuEventDestroy hipEventDestroy

#else
// <cuda_runtime.h> (not only the _api header): the kernels' launchers need dim3 and the <<<>>> support; the host
// compiler reads it as well.
#include <cuda_runtime.h>
#define DSV32_GPU_CUDA 1
using gpuStream_t = cudaStream_t;
using gpuError_t = cudaError_t;
using gpuEvent_t = cudaEvent_t;
using gpuDeviceProp = cudaDeviceProp;
#define gpuSuccess cudaSuccess
#define gpuErrorMemoryAllocation cudaErrorMemoryAllocation
#define gpuGetErrorName cudaGetErrorName
#define gpuGetErrorString cudaGetErrorString
#define gpuGetLastError cudaGetLastError
#define gpuPeekAtLastError cudaPeekAtLastError
#define gpuGetDeviceCount cudaGetDeviceCount
#define gpuGetDevice cudaGetDevice
#define gpuSetDevice cudaSetDevice
#define gpuGetDeviceProperties cudaGetDeviceProperties
#define gpuDriverGetVersion cudaDriverGetVersion
#define gpuRuntimeGetVersion cudaRuntimeGetVersion
#define gpuDeviceSynchronize cudaDeviceSynchronize
#define gpuMalloc cudaMalloc
#define gpuFree cudaFree
#define gpuMallocHost cudaMallocHost
#define gpuFreeHost cudaFreeHost
#define gpuMemcpy cudaMemcpy
#define gpuMemcpyAsync cudaMemcpyAsync
#define gpuMemcpy2DAsync cudaMemcpy2DAsync
#define gpuMemset cudaMemset
#define gpuMemsetAsync cudaMemsetAsync
#define gpuMemcpyHostToDevice cudaMemcpyHostToDevice
#define gpuMemcpyDeviceToHost cudaMemcpyDeviceToHost
#define gpuMemcpyDeviceToDevice cudaMemcpyDeviceToDevice
#define gpuStreamCreate cudaStreamCreate
#define gpuStreamCreateWithFlags cudaStreamCreateWithFlags
#define gpuStreamNonBlocking cudaStreamNonBlocking
#define gpuStreamDestroy cudaStreamDestroy
#define gpuStreamSynchronize cudaStreamSynchronize
#define gpuEventCreateWithFlags cudaEventCreateWithFlags
#define gpuEventDisableTiming cudaEventDisableTiming
#define gpuEventRecord cudaEventRecord
#define gpuEventSynchronize cudaEventSynchronize
#define gpuEventDestroy cudaEventDestroy
#endif

namespace dsv32::gpu {
// The backend these runtime names belong to, as the C API spells it ("cuda" / "hip") and as messages name it.
#if defined(DSV32_GPU_HIP)
constexpr const char* kGpuBackend = "hip";
constexpr const char* kGpuPlatform = "HIP";
#else
constexpr const char* kGpuBackend = "cuda";
constexpr const char* kGpuPlatform = "CUDA";
#endif
}  // namespace dsv32::gpu

#endif
