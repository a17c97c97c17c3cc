// hip_entry.cpp: the C entry points of libdsv32_hip.so (gpu/hip/hip_abi.h), the HIP backend library: the GPU engine's
// host code (gpu/gpu_model.cpp, device*.cpp: the same files as the CUDA engine, on host_runtime.h's hip* names) and
// the shared kernels, behind a C interface. The core library (libdsv32.so) never links ROCm: it opens this library at
// run time (model/hip_backend.cpp, dlopen) and drives it through these functions. No C++ exception leaves them.
//
// Under the CPU emulator (-DDSV32_GPU_EMULATE -DDSV32_EMU_HIP, tests only) the same file builds
// libdsv32_hip_emu.so, so that backend=hip runs end to end on machines without a GPU.
#include "gpu/hip/hip_abi.h"

#include <cstdio>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include "gpu/device.h"
#include "gpu/device_kv_cache.h"
#include "gpu/gpu_model.h"
#include "gpu/host_runtime.h"
#include "gpu/step_tables.h"
#include "model/backend.h"

#define DSV32_HIP_EXPORT extern "C" __attribute__((visibility("default")))

struct dsv32_hip_engine {
    std::unique_ptr<dsv32::gpu::GpuEngine> engine;
};

struct dsv32_hip_block_store {
    std::shared_ptr<dsv32::BlockStore> store;
};

namespace {

void put(char* msg, size_t cap, const std::string& s) {
    if (msg && cap > 0) std::snprintf(msg, cap, "%s", s.c_str());
}

// Runs f; a C++ exception becomes its status (hip_abi.h) and its message.
template <class F>
int guarded(char* msg, size_t cap, F&& f) {
    try {
        f();
        return DSV32_HIP_OK;
    } catch (const dsv32::BackendUnavailable& e) {
        put(msg, cap, e.what());
        return DSV32_HIP_UNAVAILABLE;
    } catch (const dsv32::BackendOptionError& e) {
        put(msg, cap, e.what());
        return DSV32_HIP_BAD_OPTION;
    } catch (const std::invalid_argument& e) {
        put(msg, cap, e.what());
        return DSV32_HIP_INVALID_ARGUMENT;
    } catch (const std::bad_alloc&) {
        put(msg, cap, "out of memory");
        return DSV32_HIP_CAPACITY;
    } catch (const std::logic_error& e) {
        put(msg, cap, e.what());
        return DSV32_HIP_LOGIC;
    } catch (const std::exception& e) {
        put(msg, cap, e.what());
        return DSV32_HIP_ERROR;
    } catch (...) {
        put(msg, cap, "unknown exception in libdsv32_hip.so");
        return DSV32_HIP_ERROR;
    }
}

// The step's arrays as the engine's StepInput, checked (sizes, bounds, rows) before any device work.
dsv32::gpu::StepInput step_input(const dsv32_hip_step& s) {
    if (s.n_entries <= 0 || s.n_rows <= 0 || s.n_blocks < 0)
        throw std::invalid_argument("dsv32_hip_engine_forward: " + std::to_string(s.n_entries) + " entries, " +
                                    std::to_string(s.n_rows) + " rows, " + std::to_string(s.n_blocks) + " blocks");
    if (!s.row0 || !s.n || !s.start || !s.tab0 || !s.tokens || !s.row_seg || !s.row_pos || (s.n_blocks > 0 && !s.block_ptr))
        throw std::invalid_argument("dsv32_hip_engine_forward: a step array is NULL");
    dsv32::gpu::StepInput in;
    for (int32_t i = 0; i < s.n_entries; ++i) in.segs.push_back(dsv32::gpu::StepSegment{int(i), s.row0[i], s.n[i], s.start[i]});
    in.tokens.assign(s.tokens, s.tokens + s.n_rows);
    in.tables.tab0.assign(s.tab0, s.tab0 + s.n_entries);
    in.tables.row_seg.assign(s.row_seg, s.row_seg + s.n_rows);
    in.tables.row_pos.assign(s.row_pos, s.row_pos + s.n_rows);
    if (s.n_blocks > 0) in.tables.block_ptr.assign(s.block_ptr, s.block_ptr + s.n_blocks);
    in.tables.max_keys = s.max_keys;
    in.block_size = s.block_size;
    in.layer_floats = size_t(s.layer_floats);
    dsv32::gpu::validate_step_input(in);
    return in;
}

}  // namespace

DSV32_HIP_EXPORT int dsv32_hip_abi_version() { return DSV32_HIP_ABI_VERSION; }

DSV32_HIP_EXPORT int dsv32_hip_device_status(int ordinal, char* msg, size_t cap) {
    const std::string why = dsv32::gpu::device_unavailable_reason(ordinal);  // never throws
    if (why.empty()) {
        try {
            put(msg, cap, dsv32::gpu::describe_device(ordinal));
        } catch (const std::exception& e) {
            put(msg, cap, std::string("HIP device cannot be described: ") + e.what());
        }
        return 0;
    }
    // device_unavailable_reason says "backend hip is not available: <why>"; the core adds that prefix itself.
    const std::string prefix = "backend hip is not available: ";
    put(msg, cap, why.compare(0, prefix.size(), prefix) == 0 ? why.substr(prefix.size()) : why);
    return 1;
}

DSV32_HIP_EXPORT int dsv32_hip_engine_open(const dsv32_hip_engine_options* o, dsv32_hip_engine** out, char* msg, size_t cap) {
    if (!o || !out || !o->dir) {
        put(msg, cap, "dsv32_hip_engine_open: NULL argument");
        return DSV32_HIP_INVALID_ARGUMENT;
    }
    *out = nullptr;
    return guarded(msg, cap, [&] {
        const std::string why = dsv32::gpu::device_unavailable_reason(o->device);
        if (!why.empty()) throw dsv32::BackendUnavailable(why);
        dsv32::EngineOptions eo;
        eo.dir = o->dir;
        eo.max_seq_len = o->max_seq_len;
        eo.debug_flags = o->debug_flags;
        eo.mp = o->mp;
        eo.fp8 = o->fp8 != 0;
        eo.device = o->device;
        if (o->progress) {
            const dsv32_hip_progress_fn fn = o->progress;
            void* user = o->progress_user;
            eo.progress = [fn, user](const char* stage, int64_t done, int64_t total) { fn(user, stage, done, total); };
        }
        auto e = std::make_unique<dsv32_hip_engine>();
        e->engine = dsv32::gpu::open_engine(eo);
        *out = e.release();
    });
}

DSV32_HIP_EXPORT int dsv32_hip_engine_query(const dsv32_hip_engine* e, dsv32_hip_engine_info* out, char* msg, size_t cap) {
    if (!e || !out) {
        put(msg, cap, "dsv32_hip_engine_query: NULL argument");
        return DSV32_HIP_INVALID_ARGUMENT;
    }
    return guarded(msg, cap, [&] {
        out->max_seq_len = e->engine->max_seq_len();
        out->decode_weight_bytes = e->engine->decode_weight_bytes();
        put(out->device_name, sizeof out->device_name, e->engine->device_name());
    });
}

DSV32_HIP_EXPORT int dsv32_hip_engine_forward(dsv32_hip_engine* e, const dsv32_hip_step* step, float* logits, int32_t last_only,
                                              char* msg, size_t cap) {
    if (!e || !step || !logits) {
        put(msg, cap, "dsv32_hip_engine_forward: NULL argument");
        return DSV32_HIP_INVALID_ARGUMENT;
    }
    return guarded(msg, cap, [&] { e->engine->forward_step(step_input(*step), logits, last_only != 0); });
}

DSV32_HIP_EXPORT void dsv32_hip_engine_close(dsv32_hip_engine* e) {
    try {
        delete e;
    } catch (...) {
        // destructors only synchronise the device; nothing to report to
    }
}

DSV32_HIP_EXPORT int dsv32_hip_block_store_open(int ordinal, uint64_t slab_bytes, dsv32_hip_block_store** out, char* msg, size_t cap) {
    if (!out) {
        put(msg, cap, "dsv32_hip_block_store_open: NULL argument");
        return DSV32_HIP_INVALID_ARGUMENT;
    }
    *out = nullptr;
    return guarded(msg, cap, [&] {
        if (slab_bytes == 0) throw std::invalid_argument("dsv32_hip_block_store_open: slab_bytes is 0");
        auto s = std::make_unique<dsv32_hip_block_store>();
        s->store = dsv32::gpu::make_device_block_store(ordinal, size_t(slab_bytes));
        *out = s.release();
    });
}

DSV32_HIP_EXPORT int dsv32_hip_block_alloc(dsv32_hip_block_store* s, uint64_t floats, float** out, char* msg, size_t cap) {
    if (!s || !out || floats == 0) {
        put(msg, cap, "dsv32_hip_block_alloc: NULL argument or 0 floats");
        return DSV32_HIP_INVALID_ARGUMENT;
    }
    return guarded(msg, cap, [&] { *out = s->store->allocate(size_t(floats)); });
}

DSV32_HIP_EXPORT int dsv32_hip_block_copy(dsv32_hip_block_store* s, float* dst, const float* src, uint64_t floats, char* msg, size_t cap) {
    if (!s || !dst || !src) {
        put(msg, cap, "dsv32_hip_block_copy: NULL argument");
        return DSV32_HIP_INVALID_ARGUMENT;
    }
    return guarded(msg, cap, [&] { s->store->copy(dst, src, size_t(floats)); });
}

DSV32_HIP_EXPORT void dsv32_hip_block_store_close(dsv32_hip_block_store* s) { delete s; }
