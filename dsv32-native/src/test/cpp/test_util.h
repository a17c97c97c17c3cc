// test_util.h: a tiny assert harness and .npy / file helpers for the ctest programs.
#ifndef DSV32_TEST_UTIL_H
#define DSV32_TEST_UTIL_H

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "model/weight_arena.h"

static int g_failures = 0;
static int g_checks = 0;

#define CHECK(cond)                                                                    \
    do {                                                                               \
        ++g_checks;                                                                    \
        if (!(cond)) {                                                                 \
            ++g_failures;                                                              \
            std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                              \
    } while (0)

#define CHECK_MSG(cond, ...)                                                           \
    do {                                                                               \
        ++g_checks;                                                                    \
        if (!(cond)) {                                                                 \
            ++g_failures;                                                              \
            std::fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            std::fprintf(stderr, __VA_ARGS__);                                         \
            std::fprintf(stderr, "\n");                                                \
        }                                                                              \
    } while (0)

// Whether the CPU backend repacks or copies weights at open on this machine, so that its load progress ends with a
// "pack" stage (model/ranks.cpp): the layers' matrices into the weight arena (unless DSV32_WEIGHT_ARENA=0 or the
// available memory is unknown: a test checkpoint is small), the head's row panels on the AVX-512 path (unless
// DSV32_HEAD_PANELS=0), the W_UK pair tiles with AVX512-BF16 as well when the model opens in fp8 numerics.
inline bool cpu_backend_packs_weights(bool fp8_numerics = false) {
    const char* arena = std::getenv("DSV32_WEIGHT_ARENA");
    if (!(arena && std::string(arena) == "0") && dsv32::weight_arena_fits(1)) return true;
    const char* env = std::getenv("DSV32_HEAD_PANELS");
    return dsv32::kernels::kernel_path_supported(dsv32::kernels::KernelPath::Avx512) &&
           ((fp8_numerics && dsv32::kernels::bf16_dot_supported()) || !(env && std::string(env) == "0"));
}

inline int test_summary(const char* name) {
    std::printf("%s: %d checks, %d failures\n", name, g_checks, g_failures);
    return g_failures ? 1 : 0;
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline void write_file(const std::string& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary);
    out.write(data.data(), std::streamsize(data.size()));
    if (!out) throw std::runtime_error("cannot write " + path);
}

struct Npy {
    std::vector<size_t> shape;
    std::vector<float> data;
};

// Reads a little-endian float32 C-order .npy (v1/v2).
inline Npy read_npy(const std::string& path) {
    std::string s = read_file(path);
    if (s.size() < 10 || s.compare(0, 6, "\x93NUMPY") != 0) throw std::runtime_error(path + ": not a .npy file");
    size_t hl, off;
    if (s[6] == 1) { hl = size_t(uint8_t(s[8])) | (size_t(uint8_t(s[9])) << 8); off = 10; }
    else { hl = size_t(uint8_t(s[8])) | (size_t(uint8_t(s[9])) << 8) | (size_t(uint8_t(s[10])) << 16) | (size_t(uint8_t(s[11])) << 24); off = 12; }
    std::string h = s.substr(off, hl);
    if (h.find("'<f4'") == std::string::npos || h.find("'fortran_order': False") == std::string::npos)
        throw std::runtime_error(path + ": not little-endian f32 C order: " + h);
    Npy n;
    size_t p = h.find("'shape': (");
    if (p == std::string::npos) throw std::runtime_error(path + ": no shape");
    p += 10;
    size_t total = 1;
    while (p < h.size() && h[p] != ')') {
        if (h[p] >= '0' && h[p] <= '9') {
            size_t v = 0;
            while (h[p] >= '0' && h[p] <= '9') v = v * 10 + size_t(h[p++] - '0');
            n.shape.push_back(v);
            total *= v;
        } else {
            ++p;
        }
    }
    if (s.size() != off + hl + 4 * total) throw std::runtime_error(path + ": size does not match the shape");
    n.data.resize(total);
    std::memcpy(n.data.data(), s.data() + off + hl, 4 * total);
    return n;
}

#endif
