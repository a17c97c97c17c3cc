// hip_backend.cpp: backend=hip: find libdsv32_hip.so (next to libdsv32.so, else the loader's search path; the
// environment variable DSV32_HIP_LIBRARY names a file instead), dlopen it, ask it for a device, and drive its engine
// through the C interface gpu/hip/hip_abi.h: the cache bookkeeping stays here (KvCache over a block store whose
// blocks the library allocates in device memory), each step's tables are built here (gpu/step_tables.h) and the
// library runs the forward pass.
#include "model/hip_backend.h"

#include <dlfcn.h>

#include <cstdlib>
#include <fstream>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unistd.h>

#include "gpu/hip/hip_abi.h"
#include "gpu/step_tables.h"

namespace dsv32 {

namespace {

constexpr const char* kHipLibrary = "libdsv32_hip.so";

#if defined(DSV32_HIP_BUILT)
// The directory of the library (or executable) this code is linked into, with a trailing '/'; "" if unknown.
std::string own_directory() {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&hip_unavailable_reason), &info) == 0 || !info.dli_fname) return "";
    const std::string path = info.dli_fname;
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? "" : path.substr(0, slash + 1);
}

bool file_exists(const std::string& p) { return !p.empty() && access(p.c_str(), F_OK) == 0; }

// The library's entry points (hip_abi.h), resolved once.
struct HipLibrary {
    void* handle = nullptr;
    std::string error;  // why it cannot be used (not found, cannot be loaded, wrong interface)
    dsv32_hip_device_status_fn device_status = nullptr;
    dsv32_hip_engine_open_fn engine_open = nullptr;
    dsv32_hip_engine_query_fn engine_query = nullptr;
    dsv32_hip_engine_forward_fn engine_forward = nullptr;
    dsv32_hip_engine_close_fn engine_close = nullptr;
    dsv32_hip_block_store_open_fn store_open = nullptr;
    dsv32_hip_block_alloc_fn block_alloc = nullptr;
    dsv32_hip_block_copy_fn block_copy = nullptr;
    dsv32_hip_block_store_close_fn store_close = nullptr;
};

template <class F>
bool resolve(void* handle, const char* name, F& fn) {
    fn = reinterpret_cast<F>(dlsym(handle, name));
    return fn != nullptr;
}

// Opened once, kept for the process (never dlclosed: the HIP runtime does not support being unloaded).
const HipLibrary& hip_library() {
    static const HipLibrary lib = [] {
        HipLibrary l;
        std::string candidate;
        if (const char* env = std::getenv("DSV32_HIP_LIBRARY"); env && *env) {
            candidate = env;
        } else if (file_exists(own_directory() + kHipLibrary)) {
            candidate = own_directory() + kHipLibrary;
        } else {
            candidate = kHipLibrary;  // the loader's search path (LD_LIBRARY_PATH, runpath, ld.so.cache)
        }
        dlerror();
        l.handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!l.handle) {
            const char* err = dlerror();
            const std::string why = err ? err : "dlopen failed";
            if (candidate.find('/') == std::string::npos || !file_exists(candidate)) {
                l.error = std::string("backend hip is not available: ") + kHipLibrary + " not found (looked next to libdsv32 in '" +
                          own_directory() + "' and on the library path; set DSV32_HIP_LIBRARY; " + why + ")";
            } else {
                // The file is there but its dependencies are not: the ROCm runtime (libamdhip64) is not installed.
                l.error = "backend hip is not available: no HIP device (" + candidate +
                          " cannot be loaded, is the ROCm runtime libamdhip64 installed? " + why + ")";
            }
            return l;
        }
        dsv32_hip_abi_version_fn abi = nullptr;
        const bool all = resolve(l.handle, "dsv32_hip_abi_version", abi) &&
                         resolve(l.handle, "dsv32_hip_device_status", l.device_status) &&
                         resolve(l.handle, "dsv32_hip_engine_open", l.engine_open) &&
                         resolve(l.handle, "dsv32_hip_engine_query", l.engine_query) &&
                         resolve(l.handle, "dsv32_hip_engine_forward", l.engine_forward) &&
                         resolve(l.handle, "dsv32_hip_engine_close", l.engine_close) &&
                         resolve(l.handle, "dsv32_hip_block_store_open", l.store_open) &&
                         resolve(l.handle, "dsv32_hip_block_alloc", l.block_alloc) &&
                         resolve(l.handle, "dsv32_hip_block_copy", l.block_copy) &&
                         resolve(l.handle, "dsv32_hip_block_store_close", l.store_close);
        if (!all || abi() != DSV32_HIP_ABI_VERSION)
            l.error = std::string("backend hip is not available: ") + candidate + " is not the HIP backend of this libdsv32 " +
                      "(missing entry points or interface version " + (abi ? std::to_string(abi()) : std::string("?")) +
                      ", expected " + std::to_string(DSV32_HIP_ABI_VERSION) + ")";
        return l;
    }();
    return lib;
}

// A status of the library (hip_abi.h) as the exception the C API maps (as for the CUDA engine).
[[noreturn]] void rethrow(int status, const std::string& msg) {
    switch (status) {
        case DSV32_HIP_UNAVAILABLE: throw BackendUnavailable(msg);
        case DSV32_HIP_INVALID_ARGUMENT: throw std::invalid_argument(msg);
        case DSV32_HIP_BAD_OPTION: throw BackendOptionError(msg);
        case DSV32_HIP_CAPACITY: throw std::bad_alloc();
        case DSV32_HIP_LOGIC: throw std::logic_error(msg);
        default: throw std::runtime_error(msg);
    }
}

template <class F, class... A>
void call(F fn, A... args) {
    char msg[1024] = {0};
    const int status = fn(args..., msg, sizeof msg);
    if (status != DSV32_HIP_OK) rethrow(status, msg);
}

// KV cache blocks in the library's device memory.
class HipBlockStore final : public BlockStore {
public:
    HipBlockStore(const HipLibrary& lib, int ordinal) : lib_(lib) { call(lib_.store_open, ordinal, uint64_t(64) << 20, &s_); }
    ~HipBlockStore() override { lib_.store_close(s_); }
    HipBlockStore(const HipBlockStore&) = delete;
    HipBlockStore& operator=(const HipBlockStore&) = delete;
    float* allocate(size_t floats) override {
        float* p = nullptr;
        call(lib_.block_alloc, s_, uint64_t(floats), &p);
        return p;
    }
    void copy(float* dst, const float* src, size_t floats) override { call(lib_.block_copy, s_, dst, src, uint64_t(floats)); }
    void release(float*, size_t) override {}  // slabs go with the store

private:
    const HipLibrary& lib_;
    dsv32_hip_block_store* s_ = nullptr;
};

void progress_trampoline(void* user, const char* stage, int64_t done, int64_t total) {
    (*static_cast<const Progress*>(user))(stage, done, total);
}

class HipEngine final : public Engine {
public:
    HipEngine(const HipLibrary& lib, const EngineOptions& o)
        : lib_(lib), device_(o.device), fp8_(o.fp8), progress_(o.progress), e_(nullptr, lib.engine_close) {
        const std::string cfg_path = o.dir + "/config.json";
        dsv32_hip_engine_options eo{};
        eo.dir = o.dir.c_str();
        eo.max_seq_len = o.max_seq_len;
        eo.debug_flags = o.debug_flags;
        eo.mp = o.mp;
        eo.fp8 = o.fp8 ? 1 : 0;
        eo.device = o.device;
        if (progress_) {
            eo.progress = &progress_trampoline;
            eo.progress_user = &progress_;
        }
        dsv32_hip_engine* e = nullptr;
        call(lib_.engine_open, &eo, &e);
        e_.reset(e);  // closed by the library when this constructor throws from here on, or with the engine
        dsv32_hip_engine_info info{};
        call(lib_.engine_query, static_cast<const dsv32_hip_engine*>(e_.get()), &info);
        max_seq_len_ = info.max_seq_len;
        decode_bytes_ = info.decode_weight_bytes;
        device_name_ = info.device_name;
        // The library validated config.json; the core parses the same file for the cache layout and the C API.
        std::ifstream in(cfg_path, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        cfg_ = parse_config(ss.str(), cfg_path);
    }
    HipEngine(const HipEngine&) = delete;
    HipEngine& operator=(const HipEngine&) = delete;
    BackendKind backend() const override { return BackendKind::Hip; }
    std::string device_name() const override { return device_name_; }
    const Config& config() const override { return cfg_; }
    int max_seq_len() const override { return max_seq_len_; }
    int mp() const override { return 1; }
    bool fp8_numerics() const override { return fp8_; }
    double decode_weight_bytes() const override { return decode_bytes_; }
    std::unique_ptr<KvCache> make_cache(int block_size, int64_t max_blocks, int max_sequences) const override {
        return std::make_unique<KvCache>(cfg_, block_size, max_blocks, max_sequences, std::make_shared<HipBlockStore>(lib_, device_));
    }
    void forward(KvCache& cache, const std::vector<StepEntry>& entries, float* logits, bool last_only) override {
        const gpu::StepInput in = gpu::make_step_input(cache, entries);
        std::vector<int32_t> row0, n, start;
        for (const gpu::StepSegment& g : in.segs) {
            row0.push_back(g.row0);
            n.push_back(g.n);
            start.push_back(g.start);
        }
        dsv32_hip_step s{};
        s.n_entries = int32_t(in.segs.size());
        s.row0 = row0.data();
        s.n = n.data();
        s.start = start.data();
        s.tab0 = in.tables.tab0.data();
        s.n_rows = int32_t(in.tokens.size());
        s.tokens = in.tokens.data();
        s.row_seg = in.tables.row_seg.data();
        s.row_pos = in.tables.row_pos.data();
        s.n_blocks = int32_t(in.tables.block_ptr.size());
        s.block_ptr = in.tables.block_ptr.data();
        s.max_keys = in.tables.max_keys;
        s.block_size = in.block_size;
        s.layer_floats = uint64_t(in.layer_floats);
        call(lib_.engine_forward, e_.get(), static_cast<const dsv32_hip_step*>(&s), logits, int32_t(last_only ? 1 : 0));
    }

private:
    const HipLibrary& lib_;
    int device_;
    bool fp8_;
    Progress progress_;  // outlives the load (the library calls it only while opening)
    std::unique_ptr<dsv32_hip_engine, dsv32_hip_engine_close_fn> e_;
    Config cfg_;
    int max_seq_len_ = 0;
    double decode_bytes_ = 0;
    std::string device_name_;
};
#endif

}  // namespace

std::string hip_unavailable_reason(int device) {
#if !defined(DSV32_HIP_BUILT)
    (void)device;
    return "backend hip is not available in this build (libdsv32 was built without hipcc; rebuild with hipcc on the "
           "PATH or -DDSV32_HIP=ON)";
#else
    const HipLibrary& lib = hip_library();
    if (!lib.error.empty()) return lib.error;
    char msg[512] = {0};
    if (lib.device_status(device, msg, sizeof msg) != 0) return std::string("backend hip is not available: ") + msg;
    return "";
#endif
}

std::unique_ptr<Engine> open_hip_engine(const EngineOptions& o) {
    const std::string why = hip_unavailable_reason(o.device);
    if (!why.empty()) throw BackendUnavailable(why);
#if defined(DSV32_HIP_BUILT)
    return std::make_unique<HipEngine>(hip_library(), o);
#else
    throw BackendUnavailable(why);  // not reached: hip_unavailable_reason is never empty without the library
#endif
}

}  // namespace dsv32
