// The weight arena (model/weight_arena.h) on a fake mapping: which Linears it copies and how views merge, the bytes it
// copies and releases, where repointed views land, and the MemAvailable rule.
#include <cstdint>
#include <cstring>
#include <map>
#include <vector>

#include "model/model.h"
#include "model/weight_arena.h"
#include "test_util.h"

using dsv32::Linear;
using dsv32::WeightArena;
using dsv32::kernels::WType;

namespace {

Linear lin(WType t, int out, int in, const uint8_t* raw, int ld = 0) {
    Linear L;  // no scales: the arena copies weight bytes only
    L.out = out, L.in = in, L.type = t, L.raw = raw, L.ld = ld;
    return L;
}

// Row r of L's view, `in` elements.
const uint8_t* row(const Linear& L, int r) {
    return static_cast<const uint8_t*>(L.raw) + size_t(r) * size_t(L.ld > 0 ? L.ld : L.in) * dsv32::kernels::wtype_bytes(L.type);
}

// Every row of a repointed view holds the bytes of the same row of its source.
bool same_rows(const Linear& moved, const Linear& src) {
    for (int r = 0; r < src.out; ++r)
        if (std::memcmp(row(moved, r), row(src, r), size_t(src.in) * dsv32::kernels::wtype_bytes(src.type)) != 0) return false;
    return true;
}

void test_plan_copy_repoint() {
    // A fake mapping: a 4 x 256 FP8 tensor at an odd offset, a BF16 8 x 64 tensor right after it, a gap, and a third.
    std::vector<uint8_t> file(8192 + 64);
    for (size_t i = 0; i < file.size(); ++i) file[i] = uint8_t(i * 131 + 7);
    const uint8_t* base = file.data() + (64 - reinterpret_cast<uintptr_t>(file.data()) % 64) % 64 + 3;
    const Linear a = lin(WType::FP8, 4, 256, base);
    const Linear a0 = lin(WType::FP8, 2, 256, base), a1 = lin(WType::FP8, 2, 256, base + 512);  // a rank's rows
    const Linear ac = lin(WType::FP8, 4, 128, base + 128, 256);                                 // a column slice
    const Linear b = lin(WType::BF16, 8, 64, base + 1024);  // adjacent to a: a range of its own
    const Linear c = lin(WType::FP8, 2, 128, base + 4096);
    const Linear f32 = lin(WType::F32, 2, 16, base + 6000);  // F32 Linears live in Weights::owned: not copied
    const Linear none = lin(WType::FP8, 2, 128, nullptr);
    std::vector<Linear> all = {a1, ac, b, a, c, f32, none, a0};
    WeightArena arena;
    CHECK(arena.empty() && !WeightArena().allocate());  // nothing planned: nothing allocated
    for (const Linear& L : all) arena.add(L);
    CHECK_MSG(arena.bytes() == 1024 + 1024 + 256, "bytes %zu", arena.bytes());
    CHECK(arena.allocate() && !arena.empty());
    std::vector<std::pair<const void*, size_t>> released;
    size_t done = 0;
    int calls = 0;
    arena.copy(2, 2, [&](const void* p, size_t n) { released.emplace_back(p, n); }, [&](size_t n) {
        done += n;
        ++calls;
    });
    CHECK(done == arena.bytes() && calls >= 1 && calls <= 3);
    // Each range released once, as merged: a (with its views), b, c.
    std::map<const void*, size_t> rel(released.begin(), released.end());
    CHECK(released.size() == 3 && rel.size() == 3);
    CHECK(rel[base] == 1024 && rel[base + 1024] == 1024 && rel[base + 4096] == 256);
    for (Linear& L : all) arena.repoint(&L);
    const Linear &na1 = all[0], &nac = all[1], &nb = all[2], &na = all[3], &nc = all[4], &nf = all[5], &nn = all[6], &na0 = all[7];
    CHECK(na.raw != a.raw && nb.raw != b.raw && nc.raw != c.raw);  // moved out of the mapping
    CHECK(same_rows(na, a) && same_rows(na0, a0) && same_rows(na1, a1) && same_rows(nac, ac) && same_rows(nb, b) && same_rows(nc, c));
    // Views keep their place in their tensor, and every range its offset modulo 64 (rows on the same line boundaries).
    CHECK(na0.raw == na.raw && row(na1, 0) == row(na, 2) && static_cast<const uint8_t*>(nac.raw) == row(na, 0) + 128);
    CHECK(reinterpret_cast<uintptr_t>(na.raw) % 64 == reinterpret_cast<uintptr_t>(a.raw) % 64);
    CHECK(reinterpret_cast<uintptr_t>(nb.raw) % 64 == reinterpret_cast<uintptr_t>(b.raw) % 64);
    CHECK(reinterpret_cast<uintptr_t>(nc.raw) % 64 == reinterpret_cast<uintptr_t>(c.raw) % 64);
    CHECK(nf.raw == f32.raw && nn.raw == nullptr);  // not copied: untouched
    // A Linear outside every copied range stays where it is; a view that runs past its range's end is not moved.
    Linear other = lin(WType::FP8, 1, 64, base + 5000);
    arena.repoint(&other);
    CHECK(other.raw == base + 5000);
    Linear past = lin(WType::FP8, 2, 256, base + 4096);  // 512 bytes from c's start: c's range holds 256
    arena.repoint(&past);
    CHECK(past.raw == base + 4096);
    // Planning after the allocation changes nothing.
    arena.add(lin(WType::FP8, 1, 64, base + 7000));
    CHECK(arena.bytes() == 1024 + 1024 + 256);
}

void test_fits() {
    const std::string info = "MemTotal:       24000000 kB\nMemFree:         1000 kB\nMemAvailable:       1000 kB\nBuffers: 5 kB\n";
    CHECK(dsv32::weight_arena_fits(500 * 1024, info));  // half of what is available
    CHECK(dsv32::weight_arena_fits(512000, info));
    CHECK(!dsv32::weight_arena_fits(512001, info));
    CHECK(!dsv32::weight_arena_fits(1, "MemTotal: 24000000 kB\nMemFree: 1000 kB\n"));  // no MemAvailable: unknown
    CHECK(!dsv32::weight_arena_fits(1, "MemAvailable: lots\n"));
}

}  // namespace

int main() {
    test_plan_copy_repoint();
    test_fits();
    return test_summary("test_weight_arena");
}
