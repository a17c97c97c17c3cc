// converted.cpp: opens a checkpoint converted for mp ranks (model{r}-mp{N}.safetensors, convert.py's names and
// slices, architecture.md §2.2): rank r's weights are zero-copy views into its own file, as shard_weights' views are
// into the HF files; the replicated tensors are read from rank 0's file.
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "checkpoint/convert_manifest.h"
#include "checkpoint/demo_names.h"
#include "checkpoint/safetensors.h"
#include "checkpoint/sha256.h"
#include "model/model.h"

namespace dsv32 {

namespace {

int64_t file_size(const std::string& path) {
    struct stat sb;
    if (::stat(path.c_str(), &sb) != 0) throw std::runtime_error(path + ": cannot stat");
    return int64_t(sb.st_size);
}

// Bytes of the tensors load_rank_weights reads from a rank file (its "validate" total): all but MTP layers.
int64_t tensor_bytes(const Config& c, const SafetensorsSet& st) {
    int64_t t = 0;
    for (const auto& kv : st.tensors()) {
        const std::string& n = kv.first;
        if (n.compare(0, 7, "layers.") == 0 && std::atoi(n.c_str() + 7) >= c.num_hidden_layers) continue;
        t += int64_t(kv.second.nbytes);
    }
    return t;
}

std::string file_list(const std::vector<std::string>& names) {
    std::string s;
    for (const std::string& n : names) s += (s.empty() ? "" : ", ") + (n.empty() ? std::string("(missing)") : n);
    return s;
}

}  // namespace

bool is_converted_dir(const std::string& dir) { return find_rank_files(dir).mp > 0; }

ConvertedWeights load_converted(const Config& c, const std::string& dir, int mp, bool verify_checksums, const Progress& progress) {
    const RankFiles rf = find_rank_files(dir);
    if (rf.mp == 0) throw std::runtime_error(dir + ": no converted rank files (model{rank}-mp{N}.safetensors)");
    if (mp != rf.mp)
        throw ShardError("converted for mp=" + std::to_string(rf.mp) + " (" + file_list(rf.names) + "): open it with mp=" +
                         std::to_string(rf.mp) + ", or convert the Hugging Face checkpoint again for mp=" + std::to_string(mp));
    for (int r = 0; r < mp; ++r)
        if (rf.names[size_t(r)].empty())
            throw std::runtime_error(dir + "/" + rank_file_name(r, mp) + ": missing: a checkpoint converted for mp=" + std::to_string(mp) +
                                     " needs one file per rank (found: " + file_list(rf.names) + ")");
    if (!rf.others.empty())
        throw std::runtime_error(dir + ": holds both converted rank files (" + file_list(rf.names) + ") and Hugging Face files (" +
                                 file_list(rf.others) + "): it is not clear which to load; keep one checkpoint per directory");
    check_split_config(c, mp);
    std::vector<std::string> paths;
    std::vector<int64_t> sizes;
    int64_t total = 0;
    for (const std::string& n : rf.names) {
        paths.push_back(dir + "/" + n);
        sizes.push_back(file_size(paths.back()));
        total += sizes.back();
    }

    // The manifest (written by convert; absent when the files come from the official convert.py).
    const std::string mpath = dir + "/" + kManifestName;
    std::ifstream min(mpath, std::ios::binary);
    if (min) {
        std::stringstream ss;
        ss << min.rdbuf();
        const ConvertManifest m = ConvertManifest::parse(ss.str(), mpath);
        if (m.mp != mp)
            throw std::runtime_error(mpath + ": says mp=" + std::to_string(m.mp) + " but the directory holds the rank files for mp=" +
                                     std::to_string(mp) + ": the files and the manifest are from different converts");
        for (int r = 0; r < mp; ++r)
            if (m.files[size_t(r)].bytes != sizes[size_t(r)])
                throw std::runtime_error(paths[size_t(r)] + ": " + std::to_string(sizes[size_t(r)]) + " bytes, but " + kManifestName + " says " +
                                         std::to_string(m.files[size_t(r)].bytes) + " (truncated or not the file convert wrote)");
        if (verify_checksums) {
            int64_t base = 0;
            if (progress) progress("verify", 0, total);
            for (int r = 0; r < mp; ++r) {
                const std::string got = sha256_file(paths[size_t(r)], [&](int64_t d) {
                    if (progress) progress("verify", base + d, total);
                });
                if (got != m.files[size_t(r)].sha256)
                    throw std::runtime_error(paths[size_t(r)] + ": SHA-256 " + got + " does not match " + kManifestName + " (" +
                                             m.files[size_t(r)].sha256 + "): the file is corrupt or was changed after convert");
                base += sizes[size_t(r)];
            }
            if (progress) progress("verify", total, total);
        }
    } else if (verify_checksums) {
        throw std::runtime_error(mpath + ": missing: checksums cannot be verified without the manifest convert writes");
    }

    ConvertedWeights cw;
    int64_t done = 0;
    if (progress) progress("map", 0, total);
    for (int r = 0; r < mp; ++r) {
        cw.files.push_back(SafetensorsSet::open_file(paths[size_t(r)]));
        done += sizes[size_t(r)];
        if (progress) progress("map", done, total);
    }

    // Each rank's file, validated against the per-rank shapes; "validate" in bytes of all the rank files' tensors.
    std::vector<int64_t> vsizes;
    int64_t vtotal = 0;
    for (const auto& f : cw.files) {
        vsizes.push_back(tensor_bytes(c, *f));
        vtotal += vsizes.back();
    }
    std::vector<Weights> per_rank;
    int64_t vbase = 0;
    if (progress) progress("validate", 0, vtotal);
    for (int r = 0; r < mp; ++r) {
        Progress p;
        if (progress) p = [&](const char*, int64_t d, int64_t) { progress("validate", std::min(vbase + d, vtotal), vtotal); };
        per_rank.push_back(load_rank_weights(c, *cw.files[size_t(r)], paths[size_t(r)], r, mp, p));
        vbase += vsizes[size_t(r)];
    }
    if (progress) progress("validate", vtotal, vtotal);

    // Rank r's slices from its file (§9: vocab rows, whole heads, inter columns, its routed experts).
    for (int r = 0; r < mp; ++r) {
        const Weights& wr = per_rank[size_t(r)];
        RankWeights R;
        R.rank = r;
        R.mp = mp;
        R.vocab0 = r * (c.vocab_size / mp);
        R.embed = wr.embed;
        R.head = wr.head;
        for (const LayerWeights& L : wr.layers) {
            RankWeights::Layer S;
            S.wq_b = L.wq_b;
            S.wkv_b = L.wkv_b;
            S.wo = L.wo;
            if (!L.moe) {
                S.dense = L.dense;
            } else {
                if (c.n_shared_experts > 0) S.shared = L.shared;
                S.expert0 = r * (c.n_routed_experts / mp);
                S.expert1 = (r + 1) * (c.n_routed_experts / mp);
            }
            R.layers.push_back(std::move(S));
        }
        cw.ranks.push_back(std::move(R));
    }
    // The replicated weights from rank 0's file, every rank's routed experts at their global indices, and one owner of
    // all the f32 copies (scales) the views point into. The whole-tensor fields of the split weights stay empty.
    cw.w = std::move(per_rank[0]);
    for (int r = 1; r < mp; ++r) {
        Weights& wr = per_rank[size_t(r)];
        for (size_t l = 0; l < wr.layers.size(); ++l)
            for (int e = cw.ranks[size_t(r)].layers[l].expert0; e < cw.ranks[size_t(r)].layers[l].expert1; ++e)
                cw.w.layers[l].experts[size_t(e)] = wr.layers[l].experts[size_t(e)];
        for (auto& o : wr.owned) cw.w.owned.push_back(std::move(o));
    }
    cw.w.embed = cw.w.head = Linear{};
    for (LayerWeights& L : cw.w.layers) {
        L.wq_b = L.wkv_b = L.wo = Linear{};
        L.dense = L.shared = Ffn{};
    }
    if (progress) {
        progress("shard", 0, vtotal);  // nothing to split: each rank's file holds its slices
        progress("shard", vtotal, vtotal);
    }
    return cw;
}

}  // namespace dsv32
