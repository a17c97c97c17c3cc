// hip_backend.h: backend=hip in the core library. The HIP backend is a separate library, libdsv32_hip.so (built with
// hipcc when CMake finds it: DSV32_HIP), opened at run time so that libdsv32.so itself never depends on ROCm.
#ifndef DSV32_MODEL_HIP_BACKEND_H
#define DSV32_MODEL_HIP_BACKEND_H

#include <memory>
#include <string>

#include "model/backend.h"

namespace dsv32 {

// Empty when a HIP device can be used; else why not, in a sentence with "not available": "backend hip is not
// available in this build (...)", "backend hip is not available: libdsv32_hip.so not found (...)", "backend hip is
// not available: no HIP device (...)".
std::string hip_unavailable_reason(int device = 0);
// The HIP engine (libdsv32_hip.so's, through gpu/hip/hip_abi.h). Throws BackendUnavailable
// (hip_unavailable_reason()) when HIP cannot run, and what the CUDA engine throws otherwise (std::invalid_argument
// for mp > 1, BackendOptionError, std::runtime_error for a bad checkpoint, std::bad_alloc when device memory runs
// out).
std::unique_ptr<Engine> open_hip_engine(const EngineOptions& o);

}  // namespace dsv32

#endif
