// backend.cpp: the CPU engine adapter and the CUDA entry points (the real ones in gpu/ when DSV32_HAVE_CUDA).
#include "model/backend.h"

#if defined(DSV32_HAVE_CUDA)
#include "gpu/gpu_model.h"
#endif

namespace dsv32 {

const char* backend_name(BackendKind k) { return k == BackendKind::Cuda ? "cuda" : k == BackendKind::Hip ? "hip" : "cpu"; }

namespace {

// The CPU Model behind the Engine interface: every call forwards as is.
class CpuEngine final : public Engine {
public:
    explicit CpuEngine(const EngineOptions& o)
        : m_(o.dir, o.max_seq_len, o.n_threads, o.debug_flags, o.mp, o.progress, o.verify_checksums, o.fp8) {}
    BackendKind backend() const override { return BackendKind::Cpu; }
    std::string device_name() const override { return "cpu (" + std::to_string(m_.n_threads()) + " threads)"; }
    const Config& config() const override { return m_.config(); }
    int max_seq_len() const override { return m_.max_seq_len(); }
    int mp() const override { return m_.mp(); }
    bool fp8_numerics() const override { return m_.fp8_numerics(); }
    double decode_weight_bytes() const override { return m_.decode_weight_bytes(); }
    std::unique_ptr<KvCache> make_cache(int block_size, int64_t max_blocks, int max_sequences) const override {
        return std::make_unique<KvCache>(m_.config(), block_size, max_blocks, max_sequences);
    }
    void forward(KvCache& cache, const std::vector<StepEntry>& entries, float* logits, bool last_only) override {
        m_.forward(cache, entries, logits, last_only);
    }

private:
    Model m_;
};

}  // namespace

std::unique_ptr<Engine> open_cpu_engine(const EngineOptions& o) { return std::make_unique<CpuEngine>(o); }

#if defined(DSV32_HAVE_CUDA)
bool cuda_compiled() { return true; }
std::string cuda_unavailable_reason() { return gpu::device_unavailable_reason(0); }
std::unique_ptr<Engine> open_cuda_engine(const EngineOptions& o) {
    const std::string why = gpu::device_unavailable_reason(o.device);
    if (!why.empty()) throw BackendUnavailable(why);
    return gpu::open_engine(o);
}
#else
bool cuda_compiled() { return false; }
std::string cuda_unavailable_reason() {
    return "backend cuda is not available in this build (libdsv32 was built without nvcc; rebuild with nvcc on the PATH "
           "or -DDSV32_CUDA=ON)";
}
std::unique_ptr<Engine> open_cuda_engine(const EngineOptions&) { throw BackendUnavailable(cuda_unavailable_reason()); }
#endif

}  // namespace dsv32
