// bench_decode: decode speed and memory of a checkpoint through the C API.
//   bench_decode DIR [decode_steps=32] [prompt_len=16] [threads=0] [weight_bytes_per_token=0] [numerics=f32|fp8]
// Environment: BENCH_BATCH=B decodes B sequences together (aggregate tokens/s), BENCH_WARM_PREFILL=1 runs one untimed
// prefill first. Prints open time, peak RSS after open and at the end (getrusage), prefill and decode tokens/s, and with
// weight_bytes_per_token (make_synthetic.py prints it) the weight GB/s a decode step reads.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "dsv32/dsv32.h"

static double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
static double peak_rss_mb() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_maxrss) / 1024.0;
}

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_decode DIR [decode_steps] [prompt_len] [threads] [weight_bytes_per_token] [f32|fp8]\n");
        return 2;
    }
    const int steps = argc > 2 ? std::atoi(argv[2]) : 32;
    const int prompt = argc > 3 ? std::atoi(argv[3]) : 16;
    dsv32_open_options o{};
    o.numerics = argc > 6 && std::string(argv[6]) == "fp8" ? DSV32_NUMERICS_FP8 : DSV32_NUMERICS_F32;
    o.n_threads = argc > 4 ? std::atoi(argv[4]) : 0;
    o.max_seq_len = prompt + steps + 1;
    const double wbytes = argc > 5 ? std::atof(argv[5]) : 0;
    const double t0 = now();
    dsv32_model* m = nullptr;
    if (dsv32_model_open(argv[1], &o, &m) != DSV32_OK) {
        std::fprintf(stderr, "bench_decode: %s\n", dsv32_last_error());
        return 1;
    }
    const double t_open = now() - t0;
    const double rss_open = peak_rss_mb();
    dsv32_model_info info{};
    dsv32_model_get_info(m, &info);
    int32_t seq = 0;
    if (std::getenv("BENCH_WARM_PREFILL")) {  // one untimed prefill first (allocator and page warm-up, as in a server)
        dsv32_seq_open(m, &seq);
        std::vector<int32_t> w(size_t(prompt), 7);
        std::vector<float> lw(size_t(info.vocab_size));
        dsv32_batch_entry we{seq, 0, prompt, w.data()};
        dsv32_forward_last(m, &we, 1, lw.data(), lw.size());
        dsv32_seq_close(m, seq);
    }
    // BENCH_BATCH=B: B sequences with the same prompt length decode together (one entry each per step).
    const int batch = std::getenv("BENCH_BATCH") ? std::max(1, std::atoi(std::getenv("BENCH_BATCH"))) : 1;
    std::vector<int32_t> seqs(static_cast<size_t>(batch));
    for (auto& sq : seqs) dsv32_seq_open(m, &sq);
    std::vector<int32_t> toks(size_t(prompt + steps) * size_t(batch));
    for (size_t i = 0; i < toks.size(); ++i) toks[i] = int32_t((i * 7919 + 13) % size_t(info.vocab_size));
    std::vector<float> logits(size_t(batch) * size_t(info.vocab_size));
    double t = now();
    for (int b = 0; b < batch; ++b) {
        dsv32_batch_entry e{seqs[size_t(b)], 0, prompt, toks.data() + size_t(b) * size_t(prompt + steps)};
        if (dsv32_forward_last(m, &e, 1, logits.data(), logits.size()) != DSV32_OK) {
            std::fprintf(stderr, "bench_decode: %s\n", dsv32_last_error());
            return 1;
        }
    }
    const double t_prefill = (now() - t) / batch;
    t = now();
    std::vector<dsv32_batch_entry> d(static_cast<size_t>(batch));
    for (int s = 0; s < steps; ++s) {
        for (int b = 0; b < batch; ++b)
            d[size_t(b)] = {seqs[size_t(b)], prompt + s, 1, toks.data() + size_t(b) * size_t(prompt + steps) + prompt + s};
        if (dsv32_forward(m, d.data(), batch, logits.data(), logits.size()) != DSV32_OK) {
            std::fprintf(stderr, "bench_decode: %s\n", dsv32_last_error());
            return 1;
        }
    }
    const double t_decode = now() - t;
    const double tps = double(steps) * batch / t_decode;
    std::printf("open %.2f s (peak RSS %.0f MB) | prefill %d tok: %.1f tok/s | decode %d x %d tok: %.2f tok/s, %.1f ms/step",
                t_open, rss_open, prompt, prompt / t_prefill, batch, steps, tps, 1000.0 * batch / tps);
    if (wbytes > 0) std::printf(", %.2f GB/s of weights", wbytes * tps / 1e9);
    std::printf(" | peak RSS %.0f MB\n", peak_rss_mb());
    dsv32_model_close(m);
    return 0;
}
