// backend.h: what the C API (api.cpp) needs from an engine, whichever device computes: open a checkpoint, run a
// forward step over a batch of entries, make the paged KV cache whose blocks live where the engine computes.
//
// Three implementations: the CPU Model (model/model.h; CpuEngine in backend.cpp is a thin adapter, no change of
// behaviour), the CUDA engine (gpu/gpu_model.h, built when nvcc is found: DSV32_HAVE_CUDA) and the HIP engine (the
// same gpu/ host code in libdsv32_hip.so, driven through a C interface: model/hip_backend.h). Both use the same
// KvCache bookkeeping (blocks, reserve before a step, commit after, truncate, copy-on-write fork); only the
// BlockStore differs (host memory / device memory).
#ifndef DSV32_MODEL_BACKEND_H
#define DSV32_MODEL_BACKEND_H

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "dsv32/config.h"
#include "model/kv_cache.h"
#include "model/model.h"

namespace dsv32 {

enum class BackendKind : int { Cpu = 0, Cuda = 1, Hip = 2 };
const char* backend_name(BackendKind k);  // "cpu" | "cuda" | "hip"

struct EngineOptions {
    std::string dir;      // the checkpoint (config.json + *.safetensors)
    int max_seq_len = 0;  // 0 = the config's max_position_embeddings
    int n_threads = 0;    // CPU worker threads (0 = all cores)
    int debug_flags = 0;  // DebugFlags
    int mp = 1;           // model-parallel ranks (CUDA: 1 only; multi-GPU is issue #8)
    bool fp8 = false;     // fp8 numerics (Model::fp8_numerics)
    int device = 0;       // CUDA / HIP device ordinal
    bool verify_checksums = false;  // a converted directory: SHA-256 of every rank file (CPU only)
    Progress progress;    // load progress (may be empty)
};

// An option the chosen backend cannot take (e.g. a converted directory on CUDA): DSV32_ERR_INVALID_ARGUMENT.
struct BackendOptionError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

// The backend cannot run here: not compiled in, or no device. The message says which ("... not available ...").
struct BackendUnavailable : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Engine {
public:
    virtual ~Engine() = default;
    virtual BackendKind backend() const = 0;
    virtual std::string device_name() const = 0;  // e.g. "cpu" or "NVIDIA H200 (sm_90, 139 GiB)"
    virtual const Config& config() const = 0;
    virtual int max_seq_len() const = 0;
    virtual int mp() const = 0;
    virtual bool fp8_numerics() const = 0;
    virtual double decode_weight_bytes() const = 0;
    // A cache whose blocks live where this engine reads them (host memory for the CPU, device memory for CUDA).
    virtual std::unique_ptr<KvCache> make_cache(int block_size, int64_t max_blocks, int max_sequences) const = 0;
    // One forward step (the contract of Model::forward): blocks reserved for every entry, lengths not advanced.
    virtual void forward(KvCache& cache, const std::vector<StepEntry>& entries, float* logits, bool last_only) = 0;
};

// The CPU engine (Model).
std::unique_ptr<Engine> open_cpu_engine(const EngineOptions& o);

// CUDA: compiled into this build?
bool cuda_compiled();
// Empty when a CUDA device can be used; else why not, in a sentence with "not available" (not compiled in: "backend
// cuda is not available in this build (...)"; compiled but no device: "backend cuda is not available: no CUDA
// device (<runtime error string>)").
std::string cuda_unavailable_reason();
// Throws BackendUnavailable (cuda_unavailable_reason()) when CUDA cannot run, std::invalid_argument for options it
// cannot take (mp > 1), BackendOptionError for a converted (pre-sharded) directory, std::runtime_error for a bad checkpoint, std::bad_alloc when device memory runs out.
std::unique_ptr<Engine> open_cuda_engine(const EngineOptions& o);

}  // namespace dsv32

#endif
