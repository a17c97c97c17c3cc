// dsv32-logits: runs the engine on token ids and writes the logits as a little-endian float32 .npy (v1.0).
//   dsv32-logits --model DIR --ids-file F [--decode-from N] [--prefill-chunk C] [--mp N] [--threads N] [--numerics f32|fp8] [--debug-flags N] [--backend cpu|cuda|hip|auto] [--out OUT.npy]
// F: a flat JSON array of ids -> logits [T, vocab]; an array of equal-length arrays -> a batch [B, T, vocab].
// Without --decode-from: prefill of all T tokens (in chunks of C, each continuing from the cache). With
// --decode-from N: prefill of tokens 0..N-1, then one token at a time through the decode path.
// Exit status: 0 ok, 2 bad input (arguments, ids file, checkpoint), 1 engine failure.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "checkpoint/json.h"
#include "dsv32/dsv32.h"

namespace {

[[noreturn]] void usage_error(const std::string& msg) {
    std::fprintf(stderr, "dsv32-logits: %s\n", msg.c_str());
    std::fprintf(stderr,
                 "usage: dsv32-logits --model DIR --ids-file F [--decode-from N] [--prefill-chunk C] [--mp N] [--threads N] "
                 "[--numerics f32|fp8] [--debug-flags N] [--backend cpu|cuda|hip|auto] [--out OUT.npy]\n");
    std::exit(2);
}

int parse_int(const std::string& flag, const char* v, int min_value) {
    char* end = nullptr;
    errno = 0;
    long x = std::strtol(v, &end, 10);
    if (!*v || *end || errno || x < min_value || x > 1000000000L) usage_error(flag + ": bad value \"" + v + "\"");
    return int(x);
}

bool write_npy(const std::string& path, const std::vector<size_t>& shape, const std::vector<float>& data) {
    std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
    for (size_t i = 0; i < shape.size(); ++i) dict += std::to_string(shape[i]) + (shape.size() == 1 || i + 1 < shape.size() ? ", " : "");
    dict += "), }";
    size_t total = 10 + dict.size() + 1;
    size_t pad = (64 - total % 64) % 64;
    dict += std::string(pad, ' ') + "\n";
    std::ofstream f(path, std::ios::binary);
    if (!f) return false;
    const char magic[] = "\x93NUMPY\x01\x00";
    f.write(magic, 8);
    const uint16_t hl = uint16_t(dict.size());
    const unsigned char hlb[2] = {uint8_t(hl & 0xFF), uint8_t(hl >> 8)};
    f.write(reinterpret_cast<const char*>(hlb), 2);
    f.write(dict.data(), std::streamsize(dict.size()));
    for (float v : data) {  // little-endian regardless of host
        uint32_t u;
        std::memcpy(&u, &v, 4);
        const unsigned char b[4] = {uint8_t(u), uint8_t(u >> 8), uint8_t(u >> 16), uint8_t(u >> 24)};
        f.write(reinterpret_cast<const char*>(b), 4);
    }
    return bool(f);
}

std::vector<int32_t> ids_of(const dsv32::Json& a, const std::string& what) {
    std::vector<int32_t> ids;
    for (size_t i = 0; i < a.items().size(); ++i) {
        const dsv32::Json& v = a.items()[i];
        if (!v.is_number() || v.as_number() != std::floor(v.as_number()) || v.as_number() < 0 || v.as_number() > 2147483647.0)
            usage_error(what + "[" + std::to_string(i) + "] is not a non-negative integer id");
        ids.push_back(int32_t(v.as_number()));
    }
    return ids;
}

}  // namespace

int main(int argc, char** argv) {
    std::string model_dir, ids_file, out_path;
    int decode_from = -1, chunk = 0, threads = 0, debug_flags = 0, mp = 1;
    int32_t numerics = DSV32_NUMERICS_F32;
    int32_t backend = DSV32_BACKEND_CPU;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> const char* {
            if (i + 1 >= argc) usage_error(a + " needs a value");
            return argv[++i];
        };
        if (a == "--model") model_dir = next();
        else if (a == "--ids-file") ids_file = next();
        else if (a == "--out") out_path = next();
        else if (a == "--decode-from") decode_from = parse_int(a, next(), 0);
        else if (a == "--prefill-chunk") chunk = parse_int(a, next(), 1);
        else if (a == "--threads") threads = parse_int(a, next(), 0);
        else if (a == "--mp") mp = parse_int(a, next(), 1);
        else if (a == "--debug-flags") debug_flags = parse_int(a, next(), 0);
        else if (a == "--numerics") {
            const std::string v = next();
            if (v == "f32") numerics = DSV32_NUMERICS_F32;
            else if (v == "fp8") numerics = DSV32_NUMERICS_FP8;
            else usage_error("--numerics must be f32 or fp8, not \"" + v + "\"");
        }
        else if (a == "--backend") {
            const std::string v = next();
            if (v == "cpu") backend = DSV32_BACKEND_CPU;
            else if (v == "cuda") backend = DSV32_BACKEND_CUDA;
            else if (v == "auto") backend = DSV32_BACKEND_AUTO;
            else if (v == "hip") backend = DSV32_BACKEND_HIP;
            else usage_error("--backend must be cpu, cuda, hip or auto, not \"" + v + "\"");
        }
        else if (a == "-h" || a == "--help") usage_error("help");
        else usage_error("unknown argument \"" + a + "\"");
    }
    if (model_dir.empty()) usage_error("--model is required");
    if (ids_file.empty()) usage_error("--ids-file is required");

    std::ifstream in(ids_file, std::ios::binary);
    if (!in) usage_error(ids_file + ": cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    dsv32::Json j;
    try {
        j = dsv32::Json::parse(ss.str());
    } catch (const std::exception& e) {
        usage_error(ids_file + ": " + e.what());
    }
    if (!j.is_array() || j.items().empty()) usage_error(ids_file + ": expected a non-empty JSON array of ids or of id arrays");
    std::vector<std::vector<int32_t>> seqs;
    const bool batched = j.items()[0].is_array();
    if (batched) {
        for (size_t b = 0; b < j.items().size(); ++b) {
            if (!j.items()[b].is_array()) usage_error(ids_file + ": element " + std::to_string(b) + " is not an array");
            seqs.push_back(ids_of(j.items()[b], ids_file + ": [" + std::to_string(b) + "]"));
            if (seqs.back().size() != seqs[0].size()) usage_error(ids_file + ": the sequences have different lengths");
        }
    } else {
        seqs.push_back(ids_of(j, ids_file + ": "));
    }
    const int B = int(seqs.size()), T = int(seqs[0].size());
    if (T == 0) usage_error(ids_file + ": empty sequence");
    if (decode_from > T) usage_error("--decode-from " + std::to_string(decode_from) + " exceeds the length " + std::to_string(T));

    dsv32_open_options opt{};
    opt.numerics = numerics;
    opt.n_threads = threads;
    opt.mp = mp;
    opt.max_sequences = B > 8 ? B : 8;
    opt.debug_flags = debug_flags;
    opt.backend = backend;
    dsv32_model* model = nullptr;
    int rc = dsv32_model_open(model_dir.c_str(), &opt, &model);
    if (rc != DSV32_OK) {
        std::fprintf(stderr, "dsv32-logits: %s\n", dsv32_last_error());
        return rc == DSV32_ERR_INTERNAL ? 1 : 2;
    }
    dsv32_model_info info;
    dsv32_model_get_info(model, &info);
    const int V = info.vocab_size;
    for (const auto& s : seqs)
        for (size_t t = 0; t < s.size(); ++t)
            if (s[t] >= V) {
                std::fprintf(stderr, "dsv32-logits: %s: id %d at %zu is outside the vocabulary (%d)\n", ids_file.c_str(), s[t], t, V);
                dsv32_model_close(model);
                return 2;
            }
    if (T > info.max_seq_len) {
        std::fprintf(stderr, "dsv32-logits: length %d exceeds max_seq_len %d\n", T, info.max_seq_len);
        dsv32_model_close(model);
        return 2;
    }
    std::vector<int32_t> sid(static_cast<size_t>(B));
    for (int b = 0; b < B; ++b)
        if (dsv32_seq_open(model, &sid[size_t(b)]) != DSV32_OK) {
            std::fprintf(stderr, "dsv32-logits: %s\n", dsv32_last_error());
            dsv32_model_close(model);
            return 1;
        }
    std::vector<float> out(size_t(B) * T * V);
    const int prefill_end = decode_from >= 0 ? decode_from : T;
    auto step = [&](int p, int n) -> bool {
        std::vector<dsv32_batch_entry> es(static_cast<size_t>(B));
        for (int b = 0; b < B; ++b) es[size_t(b)] = {sid[size_t(b)], p, n, seqs[size_t(b)].data() + p};
        std::vector<float> lg(size_t(B) * n * V);
        if (dsv32_forward(model, es.data(), B, lg.data(), lg.size()) != DSV32_OK) {
            std::fprintf(stderr, "dsv32-logits: forward at position %d: %s\n", p, dsv32_last_error());
            return false;
        }
        for (int b = 0; b < B; ++b)
            std::memcpy(out.data() + (size_t(b) * T + p) * V, lg.data() + size_t(b) * n * V, sizeof(float) * size_t(n) * V);
        return true;
    };
    bool good = true;
    const int c = chunk > 0 ? chunk : (prefill_end > 0 ? prefill_end : 1);
    for (int p = 0; good && p < prefill_end; p += c) good = step(p, std::min(c, prefill_end - p));
    for (int p = prefill_end; good && p < T; ++p) good = step(p, 1);
    dsv32_model_close(model);
    if (!good) return 1;
    std::vector<size_t> shape = batched ? std::vector<size_t>{size_t(B), size_t(T), size_t(V)} : std::vector<size_t>{size_t(T), size_t(V)};
    if (!out_path.empty()) {
        if (!write_npy(out_path, shape, out)) {
            std::fprintf(stderr, "dsv32-logits: cannot write %s\n", out_path.c_str());
            return 2;
        }
    } else {
        for (int b = 0; b < B; ++b) {
            std::printf("seq %d argmax:", b);
            for (int t = 0; t < T; ++t) {
                const float* r = out.data() + (size_t(b) * T + t) * V;
                int am = 0;
                for (int v = 1; v < V; ++v) if (r[v] > r[am]) am = v;
                std::printf(" %d", am);
            }
            std::printf("\n");
        }
    }
    return 0;
}
