// test_hip_abi: libdsv32_hip.so's C interface (gpu/hip/hip_abi.h), opened directly with dlopen as the core opens it:
// every entry point resolves, the interface version matches, no C++ symbol is exported, bad arguments give a status
// and a sentence (never a crash), and then by mode:
//   test_hip_abi LIB DIR no-device   a machine without an AMD GPU: "no HIP device" from the status and the engine
//                                    (exit 77, skipped, when LIB cannot be loaded: no ROCm runtime here)
//   test_hip_abi LIB DIR device      a usable device (an AMD GPU or the emulated library libdsv32_hip_emu.so): the
//                                    engine opens, describes itself, allocates and copies cache blocks, rejects
//                                    malformed steps naming what is wrong, and bad options with the right status
#include <dlfcn.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "gpu/hip/hip_abi.h"
#include "test_util.h"

namespace {

bool contains(const char* s, const char* part) { return s && std::strstr(s, part) != nullptr; }

struct Lib {
    void* h = nullptr;
    dsv32_hip_abi_version_fn abi = nullptr;
    dsv32_hip_device_status_fn status = nullptr;
    dsv32_hip_engine_open_fn open = nullptr;
    dsv32_hip_engine_query_fn query = nullptr;
    dsv32_hip_engine_forward_fn forward = nullptr;
    dsv32_hip_engine_close_fn close = nullptr;
    dsv32_hip_block_store_open_fn store_open = nullptr;
    dsv32_hip_block_alloc_fn alloc = nullptr;
    dsv32_hip_block_copy_fn copy = nullptr;
    dsv32_hip_block_store_close_fn store_close = nullptr;
};

template <class F>
void resolve(void* h, const char* name, F& fn) {
    fn = reinterpret_cast<F>(dlsym(h, name));
    CHECK_MSG(fn != nullptr, "%s does not resolve", name);
}

dsv32_hip_engine_options options(const std::string& dir) {
    dsv32_hip_engine_options o{};
    o.dir = dir.c_str();
    o.mp = 1;
    return o;
}

void check_no_device(const Lib& l, const std::string& dir) {
    char msg[512] = {0};
    CHECK(l.status(0, msg, sizeof msg) == 1);
    std::printf("device 0: %s\n", msg);
    CHECK_MSG(contains(msg, "no HIP device"), "%s", msg);
    const dsv32_hip_engine_options o = options(dir);
    dsv32_hip_engine* e = reinterpret_cast<dsv32_hip_engine*>(&msg);  // must be reset to NULL
    CHECK(l.open(&o, &e, msg, sizeof msg) == DSV32_HIP_UNAVAILABLE && e == nullptr);
    CHECK_MSG(contains(msg, "backend hip is not available: no HIP device"), "%s", msg);
}

void check_device(const Lib& l, const std::string& dir) {
    char msg[512] = {0};
    CHECK(l.status(0, msg, sizeof msg) == 0);
    std::printf("device 0: %s\n", msg);
    CHECK_MSG(contains(msg, "warp 64"), "%s", msg);
    CHECK(l.status(1 << 20, msg, sizeof msg) == 1);
    CHECK_MSG(contains(msg, "no HIP device 1048576"), "%s", msg);

    // Options the engine refuses, each with its status.
    dsv32_hip_engine_options o = options(dir);
    dsv32_hip_engine* e = nullptr;
    o.mp = 2;
    CHECK(l.open(&o, &e, msg, sizeof msg) == DSV32_HIP_INVALID_ARGUMENT && e == nullptr);
    CHECK_MSG(contains(msg, "backend hip runs on one GPU"), "%s", msg);
    o.mp = 1;
    o.debug_flags = 16;  // DSV32_DEBUG_DENSE_ATTENTION: CPU only
    CHECK(l.open(&o, &e, msg, sizeof msg) == DSV32_HIP_BAD_OPTION && e == nullptr);
    CHECK_MSG(contains(msg, "HIP backend"), "%s", msg);
    o.debug_flags = 0;
    const std::string missing = dir + "/no-such-checkpoint";
    o.dir = missing.c_str();
    CHECK(l.open(&o, &e, msg, sizeof msg) == DSV32_HIP_ERROR && e == nullptr);
    CHECK_MSG(contains(msg, "no-such-checkpoint"), "%s", msg);  // names the directory

    // The engine, with load progress through the C callback.
    o = options(dir);
    int64_t calls = 0;
    o.progress = [](void* user, const char*, int64_t, int64_t) { ++*static_cast<int64_t*>(user); };
    o.progress_user = &calls;
    CHECK_MSG(l.open(&o, &e, msg, sizeof msg) == DSV32_HIP_OK && e != nullptr, "%s", msg);
    if (!e) return;
    CHECK(calls > 0);
    dsv32_hip_engine_info info{};
    CHECK(l.query(e, &info, msg, sizeof msg) == DSV32_HIP_OK);
    std::printf("engine: %s, max_seq_len %d, %.0f decode bytes/token\n", info.device_name, info.max_seq_len, info.decode_weight_bytes);
    CHECK(info.max_seq_len > 0 && info.decode_weight_bytes > 0 && info.device_name[0] != 0);

    // Cache blocks: allocate two, copy one onto the other.
    dsv32_hip_block_store* s = nullptr;
    CHECK(l.store_open(0, 1 << 20, &s, msg, sizeof msg) == DSV32_HIP_OK && s != nullptr);
    float* a = nullptr;
    float* b = nullptr;
    CHECK(l.alloc(s, 4096, &a, msg, sizeof msg) == DSV32_HIP_OK && a != nullptr);
    CHECK(l.alloc(s, 4096, &b, msg, sizeof msg) == DSV32_HIP_OK && b != nullptr && b != a);
    CHECK(l.alloc(s, 0, &b, msg, sizeof msg) == DSV32_HIP_INVALID_ARGUMENT);
    if (a && b) CHECK(l.copy(s, b, a, 4096, msg, sizeof msg) == DSV32_HIP_OK);

    // Malformed steps: refused before any device work, naming the field.
    const int32_t row0[1] = {0}, n[1] = {2}, start[1] = {0}, tokens[2] = {1, 2}, seg[2] = {0, 0};
    int32_t tab0[1] = {0};
    int32_t pos[2] = {0, 1};
    const uint64_t blocks[1] = {uint64_t(reinterpret_cast<uintptr_t>(a))};
    dsv32_hip_step st{};
    st.n_entries = 1;
    st.row0 = row0;
    st.n = n;
    st.start = start;
    st.tab0 = tab0;
    st.n_rows = 2;
    st.tokens = tokens;
    st.row_seg = seg;
    st.row_pos = pos;
    st.n_blocks = 1;
    st.block_ptr = blocks;
    st.max_keys = 2;
    st.block_size = 16;
    st.layer_floats = 1;
    std::vector<float> logits(size_t(2) * 1024 * 1024);
    pos[1] = 5;  // row 1 claims position 5
    CHECK(l.forward(e, &st, logits.data(), 0, msg, sizeof msg) == DSV32_HIP_INVALID_ARGUMENT);
    CHECK_MSG(contains(msg, "row table disagrees at row 1"), "%s", msg);
    pos[1] = 1;
    st.max_keys = 40;  // positions beyond the one block of 16
    st.block_size = 16;
    CHECK(l.forward(e, &st, logits.data(), 0, msg, sizeof msg) == DSV32_HIP_INVALID_ARGUMENT);
    CHECK_MSG(contains(msg, "max_keys"), "%s", msg);
    st.max_keys = 2;
    tab0[0] = 3;  // the entry's blocks start beyond the one block given
    CHECK(l.forward(e, &st, logits.data(), 0, msg, sizeof msg) == DSV32_HIP_INVALID_ARGUMENT);
    CHECK_MSG(contains(msg, "do not cover"), "%s", msg);
    tab0[0] = 0;
    st.row_pos = nullptr;
    CHECK(l.forward(e, &st, logits.data(), 0, msg, sizeof msg) == DSV32_HIP_INVALID_ARGUMENT);
    CHECK_MSG(contains(msg, "NULL"), "%s", msg);
    CHECK(l.forward(e, nullptr, logits.data(), 0, msg, sizeof msg) == DSV32_HIP_INVALID_ARGUMENT);
    l.store_close(s);
    l.close(e);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: test_hip_abi LIB DIR no-device|device\n");
        return 2;
    }
    const std::string mode = argv[3];
    Lib l;
    l.h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!l.h) {
        const char* err = dlerror();
        std::printf("test_hip_abi: skipped: %s cannot be loaded (%s)\n", argv[1], err ? err : "?");
        return mode == "no-device" ? 77 : 1;
    }
    resolve(l.h, "dsv32_hip_abi_version", l.abi);
    resolve(l.h, "dsv32_hip_device_status", l.status);
    resolve(l.h, "dsv32_hip_engine_open", l.open);
    resolve(l.h, "dsv32_hip_engine_query", l.query);
    resolve(l.h, "dsv32_hip_engine_forward", l.forward);
    resolve(l.h, "dsv32_hip_engine_close", l.close);
    resolve(l.h, "dsv32_hip_block_store_open", l.store_open);
    resolve(l.h, "dsv32_hip_block_alloc", l.alloc);
    resolve(l.h, "dsv32_hip_block_copy", l.copy);
    resolve(l.h, "dsv32_hip_block_store_close", l.store_close);
    if (g_failures) return test_summary("test_hip_abi");
    CHECK(l.abi() == DSV32_HIP_ABI_VERSION);
    // Only the C entry points are exported: the engine's C++ symbols (dsv32::gpu::describe_device(int),
    // dsv32::parse_config(...)) stay inside, so they can never bind to libdsv32's copies or the other way round.
    CHECK(dlsym(l.h, "_ZN5dsv323gpu15describe_deviceEi") == nullptr);
    CHECK(dlsym(l.h, "_ZN5dsv3212parse_configERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEES7_") == nullptr);
    // NULL arguments: a status and a sentence, never a crash.
    char msg[256] = {0};
    CHECK(l.open(nullptr, nullptr, msg, sizeof msg) == DSV32_HIP_INVALID_ARGUMENT && contains(msg, "NULL"));
    CHECK(l.query(nullptr, nullptr, msg, sizeof msg) == DSV32_HIP_INVALID_ARGUMENT);
    CHECK(l.forward(nullptr, nullptr, nullptr, 0, msg, sizeof msg) == DSV32_HIP_INVALID_ARGUMENT);
    CHECK(l.store_open(0, 1 << 20, nullptr, msg, sizeof msg) == DSV32_HIP_INVALID_ARGUMENT);
    CHECK(l.alloc(nullptr, 16, nullptr, msg, sizeof msg) == DSV32_HIP_INVALID_ARGUMENT);
    CHECK(l.copy(nullptr, nullptr, nullptr, 16, msg, sizeof msg) == DSV32_HIP_INVALID_ARGUMENT);
    CHECK(l.status(0, nullptr, 0) == 0 || l.status(0, nullptr, 0) == 1);  // no message buffer: still answers
    if (mode == "no-device") check_no_device(l, argv[2]);
    else if (mode == "device") check_device(l, argv[2]);
    else CHECK_MSG(false, "unknown mode %s", mode.c_str());
    return test_summary("test_hip_abi");
}
