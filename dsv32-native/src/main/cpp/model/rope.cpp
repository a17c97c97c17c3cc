// rope.cpp: the YaRN frequency table and the two RoPE layouts (architecture.md §4).
#include <cmath>
#include <vector>

#include "model/model.h"

namespace dsv32 {

void Rope::init(const Config& c, bool yarn) {
    dim = c.qk_rope_head_dim;
    const int half = dim / 2;
    freqs.assign(size_t(half), 0.0f);
    const double theta = c.rope_theta;
    for (int i = 0; i < half; ++i) freqs[size_t(i)] = float(1.0 / std::pow(theta, double(2 * i) / dim));
    if (!yarn) return;
    const double orig = c.original_max_position_embeddings;
    const double pi = 3.14159265358979323846;
    auto corr = [&](double r) { return dim * std::log(orig / (r * 2 * pi)) / (2 * std::log(theta)); };
    double low = std::max(std::floor(corr(c.beta_fast)), 0.0);
    double high = std::min(std::ceil(corr(c.beta_slow)), double(dim - 1));
    if (low == high) high += 0.001;
    for (int i = 0; i < half; ++i) {
        double ramp = (i - low) / (high - low);
        ramp = ramp < 0 ? 0 : (ramp > 1 ? 1 : ramp);
        const double smooth = 1 - ramp;
        const double f = freqs[size_t(i)];
        freqs[size_t(i)] = float(f / c.rope_factor * (1 - smooth) + f * smooth);
    }
}

void Rope::table(int pos, float* cs) const {
    const int half = dim / 2;
    for (int i = 0; i < half; ++i) {
        const float ang = float(pos) * freqs[size_t(i)];  // f32 angle, as the references
        cs[i] = float(std::cos(double(ang)));
        cs[half + i] = float(std::sin(double(ang)));
    }
}

void Rope::apply(float* x, int pos, bool interleaved) const {
    std::vector<float> cs(static_cast<size_t>(dim));
    table(pos, cs.data());
    apply(x, cs.data(), interleaved);
}

void Rope::apply(float* x, const float* cs_table, bool interleaved) const {
    const int half = dim / 2;
    for (int i = 0; i < half; ++i) {
        const float cs = cs_table[i], sn = cs_table[half + i];
        float* a = interleaved ? x + 2 * i : x + i;
        float* b = interleaved ? x + 2 * i + 1 : x + i + half;
        const float x0 = *a, x1 = *b;
        *a = x0 * cs - x1 * sn;
        *b = x0 * sn + x1 * cs;
    }
}

}  // namespace dsv32
