/* hip_abi.h: the C interface between the core library (libdsv32.so, model/hip_backend.cpp) and the HIP backend
 * library (libdsv32_hip.so, gpu/hip/hip_entry.cpp), which the core dlopens for backend=hip. Plain C types only: the
 * two libraries share no C++ object, exception or allocator (libdsv32_hip.so exports nothing else).
 *
 * Split of the work: the core keeps the C API, the KV cache bookkeeping (model/kv_cache.h) and builds each step's
 * tables (gpu/step_tables.h); the HIP library owns the device: the weights, the forward pass (gpu/gpu_model.cpp, the
 * same host code as the CUDA engine) and the device memory of the cache blocks (a block store).
 *
 * Every function that can fail returns a DSV32_HIP_* status and, for any status but OK, writes a sentence into
 * msg[cap] (NUL-terminated, truncated to fit). The statuses name the C++ exception the core re-throws, so the C API
 * maps them as for the CUDA engine. */
#ifndef DSV32_GPU_HIP_ABI_H
#define DSV32_GPU_HIP_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 1: device status only (the kernels library). 2: the engine. */
#define DSV32_HIP_ABI_VERSION 2

enum dsv32_hip_status {
    DSV32_HIP_OK = 0,
    DSV32_HIP_UNAVAILABLE = 1,      /* no usable device (dsv32::BackendUnavailable) */
    DSV32_HIP_INVALID_ARGUMENT = 2, /* std::invalid_argument: a bad option or argument */
    DSV32_HIP_BAD_OPTION = 3,       /* dsv32::BackendOptionError: an option this backend cannot take */
    DSV32_HIP_CAPACITY = 4,         /* std::bad_alloc: device (or host) memory ran out */
    DSV32_HIP_LOGIC = 5,            /* std::logic_error: a broken contract (e.g. cache blocks not reserved) */
    DSV32_HIP_ERROR = 6             /* anything else: a bad checkpoint, a runtime failure (std::runtime_error) */
};

typedef void (*dsv32_hip_progress_fn)(void* user, const char* stage, int64_t done, int64_t total);

typedef struct dsv32_hip_engine_options {
    const char* dir;          /* the checkpoint directory */
    int32_t max_seq_len;      /* 0 = the config's */
    int32_t debug_flags;      /* DSV32_DEBUG_* */
    int32_t mp;               /* model-parallel ranks: 1 */
    int32_t fp8;              /* fp8 numerics: 0 / 1 */
    int32_t device;           /* HIP device ordinal */
    dsv32_hip_progress_fn progress; /* may be NULL */
    void* progress_user;
} dsv32_hip_engine_options;

typedef struct dsv32_hip_engine_info {
    int32_t max_seq_len;
    double decode_weight_bytes;
    char device_name[256];
} dsv32_hip_engine_info;

/* One forward step (gpu/step_tables.h StepInput as arrays). Entries are stacked in order: entry i's rows are
 * row0[i] .. row0[i] + n[i] - 1 at positions start[i] ..; its blocks are block_ptr[tab0[i] ..] (device addresses
 * from this library's block store). */
typedef struct dsv32_hip_step {
    int32_t n_entries;
    const int32_t* row0;      /* [n_entries] */
    const int32_t* n;         /* [n_entries] */
    const int32_t* start;     /* [n_entries] */
    const int32_t* tab0;      /* [n_entries] */
    int32_t n_rows;
    const int32_t* tokens;    /* [n_rows] */
    const int32_t* row_seg;   /* [n_rows] */
    const int32_t* row_pos;   /* [n_rows] */
    int32_t n_blocks;
    const uint64_t* block_ptr; /* [n_blocks] */
    int32_t max_keys;
    int32_t block_size;
    uint64_t layer_floats;
} dsv32_hip_step;

typedef struct dsv32_hip_engine dsv32_hip_engine;
typedef struct dsv32_hip_block_store dsv32_hip_block_store;

/* The exported functions, as pointer types (model/hip_backend.cpp looks each one up by its name). */
typedef int (*dsv32_hip_abi_version_fn)(void);
/* 0 when device `ordinal` can be used; else 1 and "no HIP device (...)" or why the device cannot be used. */
typedef int (*dsv32_hip_device_status_fn)(int ordinal, char* msg, size_t cap);
typedef int (*dsv32_hip_engine_open_fn)(const dsv32_hip_engine_options* o, dsv32_hip_engine** out, char* msg, size_t cap);
typedef int (*dsv32_hip_engine_query_fn)(const dsv32_hip_engine* e, dsv32_hip_engine_info* out, char* msg, size_t cap);
typedef int (*dsv32_hip_engine_forward_fn)(dsv32_hip_engine* e, const dsv32_hip_step* step, float* logits, int32_t last_only,
                                           char* msg, size_t cap);
typedef void (*dsv32_hip_engine_close_fn)(dsv32_hip_engine* e);
/* Device memory for KV cache blocks on device `ordinal`, cut from slabs of about slab_bytes; freed with the store. */
typedef int (*dsv32_hip_block_store_open_fn)(int ordinal, uint64_t slab_bytes, dsv32_hip_block_store** out, char* msg, size_t cap);
typedef int (*dsv32_hip_block_alloc_fn)(dsv32_hip_block_store* s, uint64_t floats, float** out, char* msg, size_t cap);
typedef int (*dsv32_hip_block_copy_fn)(dsv32_hip_block_store* s, float* dst, const float* src, uint64_t floats, char* msg, size_t cap);
typedef void (*dsv32_hip_block_store_close_fn)(dsv32_hip_block_store* s);

#ifdef __cplusplus
}
#endif

#endif
