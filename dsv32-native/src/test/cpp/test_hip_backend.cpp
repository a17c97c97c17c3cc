// test_hip_backend: backend=hip through the C API (model/hip_backend.cpp): the errors a machine without an AMD GPU
// gets, which say why (not in this build / libdsv32_hip.so not found / no HIP device), and that AUTO never picks HIP.
// Where a HIP device is usable (an AMD GPU, or the emulated library libdsv32_hip_emu.so named by DSV32_HIP_LIBRARY):
// the engine opens through the library's C interface, reports HIP, refuses mp 2, and a prefill and a decode step
// match the CPU engine's logits.
//   test_hip_backend DIR [not-found]   (not-found: run with DSV32_HIP_LIBRARY naming a missing file)
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "dsv32/dsv32.h"
#include "test_util.h"

namespace {

bool contains(const char* s, const char* part) { return s && std::strstr(s, part) != nullptr; }

// Opening DIR with backend hip fails with DSV32_ERR_UNAVAILABLE and a message containing `part`; no model comes back.
void check_open_fails(const std::string& dir, const char* part) {
    dsv32_open_options o{};
    o.backend = DSV32_BACKEND_HIP;
    dsv32_model* m = nullptr;
    CHECK(dsv32_model_open(dir.c_str(), &o, &m) == DSV32_ERR_UNAVAILABLE && m == nullptr);
    CHECK_MSG(contains(dsv32_last_error(), part), "'%s' lacks '%s'", dsv32_last_error(), part);
    CHECK_MSG(contains(dsv32_last_error(), "backend hip is not available"), "%s", dsv32_last_error());
}

#if defined(DSV32_HIP_BUILT)
// Logits of a 12-token prefill then one decode step (last row only) on `backend`; empty if the open failed.
std::vector<float> prefill_decode(const std::string& dir, int32_t backend, int* vocab) {
    dsv32_open_options o{};
    o.backend = backend;
    o.max_seq_len = 64;
    o.max_sequences = 1;
    dsv32_model* m = nullptr;
    if (dsv32_model_open(dir.c_str(), &o, &m) != DSV32_OK) {
        std::fprintf(stderr, "open (backend %d): %s\n", backend, dsv32_last_error());
        return {};
    }
    dsv32_model_info info{};
    CHECK(dsv32_model_get_info(m, &info) == DSV32_OK && info.backend == backend);
    *vocab = info.vocab_size;
    std::printf("backend %d: device %s\n", backend, dsv32_model_device(m));
    int32_t seq = -1;
    CHECK(dsv32_seq_open(m, &seq) == DSV32_OK);
    std::vector<int32_t> prompt;
    for (int i = 0; i < 12; ++i) prompt.push_back((i * 37 + 5) % info.vocab_size);
    std::vector<float> logits(size_t(12) * size_t(info.vocab_size)), last(size_t(info.vocab_size));
    dsv32_batch_entry e{seq, 0, 12, prompt.data()};
    CHECK(dsv32_forward(m, &e, 1, logits.data(), logits.size()) == DSV32_OK);
    const int32_t next = 7 % info.vocab_size;
    dsv32_batch_entry d{seq, 12, 1, &next};
    CHECK_MSG(dsv32_forward_last(m, &d, 1, last.data(), last.size()) == DSV32_OK, "%s", dsv32_last_error());
    logits.insert(logits.end(), last.begin(), last.end());
    dsv32_model_close(m);
    return logits;
}

// An AMD GPU (or the emulated library): the HIP engine opens and agrees with the CPU engine.
void check_engine(const std::string& dir) {
    dsv32_open_options o{};
    o.backend = DSV32_BACKEND_HIP;
    o.mp = 2;
    dsv32_model* m = nullptr;
    CHECK(dsv32_model_open(dir.c_str(), &o, &m) == DSV32_ERR_INVALID_ARGUMENT && m == nullptr);
    CHECK_MSG(contains(dsv32_last_error(), "backend hip runs on one GPU"), "%s", dsv32_last_error());
    int vh = 0, vc = 0;
    const std::vector<float> hip = prefill_decode(dir, DSV32_BACKEND_HIP, &vh);
    const std::vector<float> cpu = prefill_decode(dir, DSV32_BACKEND_CPU, &vc);
    CHECK(!hip.empty() && hip.size() == cpu.size() && vh == vc);
    if (hip.empty() || hip.size() != cpu.size()) return;
    double worst = 0, scale = 0;
    for (size_t i = 0; i < hip.size(); ++i) {
        CHECK(std::isfinite(hip[i]));
        worst = std::max(worst, double(std::fabs(hip[i] - cpu[i])));
        scale = std::max(scale, double(std::fabs(cpu[i])));
    }
    std::printf("hip vs cpu: max |diff| %.3e (max |logit| %.3f) over %zu logits\n", worst, scale, hip.size());
    CHECK_MSG(worst <= 1e-3 * std::max(1.0, scale), "max |diff| %.3e", worst);
}
#endif

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: test_hip_backend DIR [not-found]\n");
        return 2;
    }
    const std::string dir = argv[1];
    const bool not_found = argc > 2 && std::strcmp(argv[2], "not-found") == 0;
    const int avail = dsv32_backend_available(DSV32_BACKEND_HIP);
    const std::string why = avail == DSV32_OK ? "" : dsv32_last_error();
    std::printf("backend hip: %s\n", avail == DSV32_OK ? "a HIP device is usable" : why.c_str());
#if !defined(DSV32_HIP_BUILT)
    (void)not_found;
    CHECK(avail == DSV32_ERR_UNAVAILABLE);
    CHECK_MSG(contains(why.c_str(), "backend hip is not available in this build"), "%s", why.c_str());
    check_open_fails(dir, "not available in this build");
#else
    if (not_found) {
        CHECK(avail == DSV32_ERR_UNAVAILABLE);
        CHECK_MSG(contains(why.c_str(), "libdsv32_hip.so not found"), "%s", why.c_str());
        check_open_fails(dir, "libdsv32_hip.so not found");
    } else if (avail == DSV32_OK) {
        check_engine(dir);
    } else {
        CHECK(avail == DSV32_ERR_UNAVAILABLE);
        CHECK_MSG(contains(why.c_str(), "backend hip is not available: no HIP device"), "%s", why.c_str());
        check_open_fails(dir, "no HIP device");
    }
#endif
    // AUTO never picks HIP: the model opens (CPU here, or CUDA where a device is usable), never reports HIP.
    dsv32_open_options o{};
    o.backend = DSV32_BACKEND_AUTO;
    dsv32_model* m = nullptr;
    CHECK(dsv32_model_open(dir.c_str(), &o, &m) == DSV32_OK && m != nullptr);
    if (m) {
        dsv32_model_info info{};
        CHECK(dsv32_model_get_info(m, &info) == DSV32_OK && info.backend != DSV32_BACKEND_HIP);
        dsv32_model_close(m);
    }
    // Unknown backend codes stay argument errors that list hip.
    o.backend = 4;
    CHECK(dsv32_model_open(dir.c_str(), &o, &m) == DSV32_ERR_INVALID_ARGUMENT);
    CHECK_MSG(contains(dsv32_last_error(), "3 = hip"), "%s", dsv32_last_error());
    return test_summary("test_hip_backend");
}
