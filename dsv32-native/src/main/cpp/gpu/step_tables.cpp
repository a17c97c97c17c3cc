// step_tables.cpp: a step's cache tables from the KV cache's bookkeeping (step_tables.h). No runtime call.
#include "gpu/step_tables.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace dsv32 {
namespace gpu {

StepTables build_step_tables(const KvCache& cache, const std::vector<StepSegment>& segs) {
    StepTables t;
    const int bs = cache.block_size();
    int rows = 0;
    for (const StepSegment& g : segs) rows = std::max(rows, g.row0 + g.n);
    t.row_seg.assign(size_t(rows), -1);
    t.row_pos.assign(size_t(rows), 0);
    for (size_t i = 0; i < segs.size(); ++i) {
        const StepSegment& g = segs[i];
        const int end = g.start + g.n;
        const std::vector<int32_t>& table = cache.table(g.seq);
        const size_t need = size_t((int64_t(end) + bs - 1) / bs);
        if (table.size() < need)
            throw std::logic_error("gpu step tables: sequence " + std::to_string(g.seq) + " holds " + std::to_string(table.size()) +
                                   " blocks, positions up to " + std::to_string(end) + " need " + std::to_string(need));
        t.tab0.push_back(int32_t(t.block_ptr.size()));
        for (size_t b = 0; b < need; ++b) t.block_ptr.push_back(uint64_t(reinterpret_cast<uintptr_t>(cache.block_data(table[b]))));
        for (int s = 0; s < g.n; ++s) {
            t.row_seg[size_t(g.row0 + s)] = int32_t(i);
            t.row_pos[size_t(g.row0 + s)] = g.start + s;
        }
        t.max_keys = std::max(t.max_keys, end);
    }
    return t;
}

StepInput make_step_input(const KvCache& cache, const std::vector<StepEntry>& entries) {
    StepInput in;
    int rows = 0;
    for (const StepEntry& e : entries) {
        if (!cache.is_open(e.seq) || e.n <= 0 || !e.tokens) throw std::invalid_argument("GpuModel::forward: bad entry");
        if (cache.blocks_needed(e.seq, e.n) != 0) throw std::logic_error("GpuModel::forward: cache blocks not reserved");
        in.segs.push_back(StepSegment{e.seq, rows, e.n, cache.len(e.seq)});
        rows += e.n;
        in.tokens.insert(in.tokens.end(), e.tokens, e.tokens + e.n);
    }
    in.tables = build_step_tables(cache, in.segs);
    in.block_size = cache.block_size();
    in.layer_floats = cache.layer_floats();
    return in;
}

void validate_step_input(const StepInput& in) {
    auto bad = [](const std::string& what) { throw std::invalid_argument("gpu step: " + what); };
    const StepTables& t = in.tables;
    if (in.segs.empty()) bad("no entries");
    if (in.block_size < 1) bad("block_size " + std::to_string(in.block_size));
    if (in.layer_floats == 0) bad("layer_floats is 0");
    if (t.tab0.size() != in.segs.size()) bad("tab0 has " + std::to_string(t.tab0.size()) + " entries, the step " + std::to_string(in.segs.size()));
    const size_t rows = in.tokens.size();
    if (t.row_seg.size() != rows || t.row_pos.size() != rows)
        bad("row_seg / row_pos sizes " + std::to_string(t.row_seg.size()) + " / " + std::to_string(t.row_pos.size()) + " != rows " +
            std::to_string(rows));
    int next_row = 0, max_keys = 0;
    for (size_t i = 0; i < in.segs.size(); ++i) {
        const StepSegment& g = in.segs[i];
        const std::string e = "entry " + std::to_string(i) + ": ";
        if (g.n <= 0 || g.start < 0 || g.row0 != next_row) bad(e + "rows out of order or empty");
        next_row += g.n;
        if (size_t(next_row) > rows) bad(e + "rows beyond the tokens");
        const int64_t end = int64_t(g.start) + g.n;
        const int64_t need = (end + in.block_size - 1) / in.block_size;
        const int64_t last = i + 1 < in.segs.size() ? t.tab0[i + 1] : int64_t(t.block_ptr.size());
        if (t.tab0[i] < 0 || last - t.tab0[i] < need || t.tab0[i] + need > int64_t(t.block_ptr.size()))
            bad(e + "its blocks (tab0 " + std::to_string(t.tab0[i]) + " of " + std::to_string(t.block_ptr.size()) +
                ") do not cover " + std::to_string(end) + " positions");
        for (int r = 0; r < g.n; ++r) {
            const size_t row = size_t(g.row0 + r);
            if (t.row_seg[row] != int32_t(i) || t.row_pos[row] != g.start + r) bad(e + "row table disagrees at row " + std::to_string(row));
        }
        for (int64_t b = t.tab0[i]; b < t.tab0[i] + need; ++b)
            if (t.block_ptr[size_t(b)] == 0) bad(e + "null block pointer");
        max_keys = std::max<int>(max_keys, int(end));
    }
    if (size_t(next_row) != rows) bad("the entries cover " + std::to_string(next_row) + " of " + std::to_string(rows) + " rows");
    if (t.max_keys != max_keys) bad("max_keys " + std::to_string(t.max_keys) + " != " + std::to_string(max_keys));
}

}  // namespace gpu
}  // namespace dsv32
