// bench_cache.cpp: bench_cache.h.
#include "gpu/bench/bench_cache.h"

#include <cstdint>
#include <vector>

namespace dsv32::gpu::bench {

CacheRef make_decode_cache(TensorMaker& make, const ModelDims& m, int seqs, int ctx, const Stream& stream) {
    const size_t width = size_t(m.kvr) + size_t(m.dr) + size_t(m.ihd);
    const size_t per_seq = size_t(ctx) * width;
    float* base = make.f32(size_t(seqs) * per_seq, -1.0f, 1.0f);
    const size_t n = static_cast<size_t>(seqs);
    std::vector<uint64_t> block_ptr(n);
    std::vector<int32_t> tab0(n), row_seg(n), row_pos(n, ctx - 1);
    for (int i = 0; i < seqs; ++i) {
        block_ptr[size_t(i)] = reinterpret_cast<uint64_t>(base + size_t(i) * per_seq);
        tab0[size_t(i)] = i;
        row_seg[size_t(i)] = i;
    }
    CacheRef c;
    c.block_ptr = to_device(make.pool(), block_ptr, stream);
    c.tab0 = to_device(make.pool(), tab0, stream);
    c.row_seg = to_device(make.pool(), row_seg, stream);
    c.row_pos = to_device(make.pool(), row_pos, stream);
    c.bs = ctx;
    c.kvr = m.kvr;
    c.dr = m.dr;
    c.ihd = m.ihd;
    c.layer_off = 0;
    return c;
}

}  // namespace dsv32::gpu::bench
