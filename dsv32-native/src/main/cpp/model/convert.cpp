// convert.cpp: the per-rank files of the official convert.py (architecture.md §2.2), written from an HF checkpoint.
//
// The writer follows convert.py by tensor name (demo_names.h): every tensor but the MTP layers, renamed, split by
// narrowing its dim (0: a contiguous block of rows; 1: the same columns of every row) or, for a routed expert, kept
// whole in the file of the rank that runs it; bytes as stored. The verification follows the engine instead: each
// written tensor is compared byte for byte with shard_weights' view of the same slice (model/shard.cpp), so the two
// computations of every slice check each other, and each file's SHA-256 is recomputed from disk.
#include "model/convert.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "checkpoint/convert_manifest.h"
#include "checkpoint/demo_names.h"
#include "checkpoint/safetensors.h"
#include "checkpoint/safetensors_writer.h"
#include "checkpoint/sha256.h"
#include "kernels/kernels.h"

namespace dsv32 {

namespace {

// One tensor of one rank file: where its bytes come from.
struct Item {
    const TensorInfo* src;
    TensorSpec spec;  // convert.py's name, the stored dtype, the per-rank shape
    int dim;          // -1: the whole tensor; 0 / 1: this rank's slice on that dim
};

bool is_dir(const std::string& p) {
    struct stat sb;
    return ::stat(p.c_str(), &sb) == 0 && S_ISDIR(sb.st_mode);
}

std::vector<std::string> list_dir(const std::string& dir) {
    std::vector<std::string> names;
    DIR* d = opendir(dir.c_str());
    if (!d) throw std::runtime_error(dir + ": cannot open directory: " + std::strerror(errno));
    while (struct dirent* e = readdir(d)) {
        const std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(n);
    }
    closedir(d);
    std::sort(names.begin(), names.end());
    return names;
}

std::string real_path(const std::string& p) {
    char buf[PATH_MAX];
    return ::realpath(p.c_str(), buf) ? std::string(buf) : p;
}

bool ends_with(const std::string& s, const std::string& suf) {
    return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_text(const std::string& path, const std::string& text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error(path + ": cannot create: " + std::strerror(errno));
    size_t off = 0;
    while (off < text.size()) {
        const ssize_t w = ::write(fd, text.data() + off, text.size() - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            const int e = errno;
            ::close(fd);
            throw std::runtime_error(path + ": write failed: " + std::strerror(e));
        }
        off += size_t(w);
    }
    const bool synced = ::fsync(fd) == 0;
    ::close(fd);
    if (!synced) throw std::runtime_error(path + ": fsync failed");
}

void sync_dir(const std::string& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

// An element of a stored tensor as f32 (F32 / BF16 / F16 / F8_E4M3), for the value comparisons of verify.
float element(const uint8_t* p, DType t, size_t i) {
    switch (t) {
        case DType::F32: {
            float v;
            std::memcpy(&v, p + 4 * i, 4);
            return v;
        }
        case DType::BF16: return kernels::bf16_to_f32(uint16_t(p[2 * i] | (p[2 * i + 1] << 8)));
        case DType::F16: return kernels::f16_to_f32(uint16_t(p[2 * i] | (p[2 * i + 1] << 8)));
        case DType::F8_E4M3: return kernels::e4m3_table()[p[i]];
    }
    return 0;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, 4) == 0; }

// Runs job(i) for i in [0, n) on up to `threads` threads while this thread reports progress every 100 ms (the
// progress callback runs on the caller's thread only). Rethrows the first job's exception after all have stopped.
void run_parallel(int n, int threads, const std::function<void(int)>& job, const std::function<void()>& report) {
    std::atomic<int> next{0};
    std::vector<std::exception_ptr> errors(static_cast<size_t>(n));
    std::mutex mu;
    std::condition_variable cv;
    int running = std::max(1, std::min(threads, n));
    auto worker = [&] {
        for (int i; (i = next.fetch_add(1)) < n;) {
            try {
                job(i);
            } catch (...) {
                errors[size_t(i)] = std::current_exception();
                next.store(n);  // stop handing out work
            }
        }
        std::lock_guard<std::mutex> lk(mu);
        --running;
        cv.notify_all();
    };
    std::vector<std::thread> pool;
    const int n_threads = running;
    for (int t = 0; t < n_threads; ++t) pool.emplace_back(worker);
    {
        std::unique_lock<std::mutex> lk(mu);
        while (running > 0) {
            cv.wait_for(lk, std::chrono::milliseconds(100));
            lk.unlock();
            report();
            lk.lock();
        }
    }
    for (std::thread& t : pool) t.join();
    for (const auto& e : errors)
        if (e) std::rethrow_exception(e);
}

// Temporary files of this convert, removed unless committed.
struct TempFiles {
    std::vector<std::string> paths;
    bool committed = false;
    ~TempFiles() {
        if (!committed)
            for (const std::string& p : paths) ::unlink(p.c_str());
    }
};

}  // namespace

ConvertResult convert_checkpoint(const ConvertOptions& o, const Progress& progress) {
    const int mp = o.mp;
    if (mp < 1 || mp > 1024) throw ConvertOptionError("mp=" + std::to_string(mp) + " must be in [1, 1024]");
    if (o.n_threads < 0) throw ConvertOptionError("threads=" + std::to_string(o.n_threads) + " must be >= 0");
    if (!is_dir(o.src_dir)) throw ConvertOptionError(o.src_dir + ": not a directory (give a Hugging Face checkpoint directory)");
    if (is_converted_dir(o.src_dir))
        throw ConvertOptionError(o.src_dir + ": already holds converted rank files (model{rank}-mp{N}.safetensors): convert reads a Hugging Face checkpoint");
    const std::string out = o.out_dir;
    if (out.empty()) throw ConvertOptionError("no output directory");
    if (is_dir(out)) {
        if (real_path(out) == real_path(o.src_dir)) throw ConvertOptionError(out + ": the output directory is the input directory");
        if (!o.force && !list_dir(out).empty()) throw ConvertOptionError(out + ": directory is not empty (use force to replace its checkpoint files)");
    } else if (::mkdir(out.c_str(), 0755) != 0) {
        throw ConvertOptionError(out + ": cannot create directory: " + std::strerror(errno));
    }

    // The source, opened, validated and split exactly as dsv32_model_open would (ShardError for an mp it cannot take).
    const std::string cfg_path = o.src_dir + "/config.json";
    const std::string cfg_text = read_text(cfg_path);
    const Config cfg = parse_config(cfg_text, cfg_path);
    const SafetensorsSet st(o.src_dir, progress);
    const Weights w = load_weights(cfg, st, o.src_dir, progress);
    const std::vector<RankWeights> ranks = shard_weights(cfg, w, mp, progress);

    // The plan: convert.py's tensors of every rank.
    std::vector<std::vector<Item>> plan(static_cast<size_t>(mp));
    const int E = cfg.n_routed_experts, per = E / mp;  // E % mp == 0: shard_weights checked it
    for (const auto& kv : st.tensors()) {
        const TensorInfo& t = kv.second;
        const std::string& name = kv.first;
        if (name.compare(0, 13, "model.layers.") == 0 && std::atoi(name.c_str() + 13) >= cfg.num_hidden_layers) continue;  // MTP
        DemoName d;
        try {
            d = demo_name(name);
        } catch (const std::exception& e) {
            throw std::runtime_error(t.file->path() + ": " + e.what());
        }
        if (d.expert >= E)
            throw std::runtime_error(t.file->path() + ": tensor " + name + ": expert " + std::to_string(d.expert) + " >= n_routed_experts " + std::to_string(E));
        for (int r = 0; r < mp; ++r) {
            Item it{&t, TensorSpec{d.name, t.dtype, t.shape}, -1};
            if (d.expert >= 0) {
                if (d.expert / per != r) continue;
            } else if (d.split_dim >= 0) {
                const size_t dim = size_t(d.split_dim);
                if (t.shape.size() <= dim || (dim == 1 && t.shape.size() != 2) || t.shape[dim] % mp != 0)
                    throw ShardError(t.file->path() + ": tensor " + name + " " + shape_str(t.shape) + ": dim " + std::to_string(dim) +
                                     " cannot be split into mp=" + std::to_string(mp) + " equal parts (convert.py asserts this)");
                it.spec.shape[dim] /= mp;
                it.dim = int(dim);
            }
            plan[size_t(r)].push_back(it);
        }
    }

    // Write every rank's file under a hidden temporary name.
    TempFiles temps;
    std::vector<std::string> final_names, tmp_paths;
    for (int r = 0; r < mp; ++r) {
        final_names.push_back(rank_file_name(r, mp));
        tmp_paths.push_back(out + "/." + final_names.back() + ".tmp");
        temps.paths.push_back(tmp_paths.back());
    }
    int64_t total = 0;
    std::vector<int64_t> sizes(static_cast<size_t>(mp));
    std::vector<std::string> digests(static_cast<size_t>(mp));
    for (int r = 0; r < mp; ++r) {
        int64_t b = 0;
        for (const Item& it : plan[size_t(r)]) b += int64_t(it.spec.nbytes());
        total += b;
    }
    const int threads = o.n_threads > 0 ? o.n_threads : int(std::max(1u, std::thread::hardware_concurrency()));
    std::atomic<int64_t> done{0};
    int64_t reported = -1;
    auto report = [&](const char* stage, int64_t t) {
        const int64_t d = std::min(done.load(), t);
        if (progress && d != reported) progress(stage, d, t);
        reported = d;
    };
    if (progress) progress("convert", 0, total);
    run_parallel(mp, threads, [&](int r) {
        std::vector<TensorSpec> specs;
        std::map<std::string, const Item*> by_name;
        for (const Item& it : plan[size_t(r)]) {
            specs.push_back(it.spec);
            by_name[it.spec.name] = &it;
        }
        SafetensorsWriter wr(tmp_paths[size_t(r)], specs);
        for (const TensorSpec& s : wr.order()) {
            const Item& it = *by_name.at(s.name);
            const uint8_t* p = it.src->data;
            const size_t n = s.nbytes();
            if (it.dim < 0) {
                wr.append(p, n);
            } else if (it.dim == 0) {  // rows [r*R, (r+1)*R): contiguous
                wr.append(p + size_t(r) * n, n);
            } else {  // columns [r*C, (r+1)*C) of every row
                const size_t rows = size_t(it.src->shape[0]), row_bytes = it.src->nbytes / std::max<size_t>(1, rows);
                const size_t part = row_bytes / size_t(mp);
                for (size_t i = 0; i < rows; ++i) wr.append(p + i * row_bytes + size_t(r) * part, part);
            }
            done += int64_t(n);
        }
        digests[size_t(r)] = wr.finish();
        sizes[size_t(r)] = wr.file_size();
    }, [&] { report("convert", total); });
    done = total;
    report("convert", total);

    // Verify: re-open each file, compare every tensor with the engine's view of the same slice, recompute SHA-256.
    int64_t file_total = 0;
    for (int64_t s : sizes) file_total += s;
    const int64_t vtotal = 2 * file_total;  // the tensor comparison, then the checksum pass
    done = 0;
    reported = -1;
    if (progress) progress("verify", 0, vtotal);
    run_parallel(mp, threads, [&](int r) {
        const std::string& path = tmp_paths[size_t(r)];
        const auto set = SafetensorsSet::open_file(path);
        if (set->tensors().size() != plan[size_t(r)].size())
            throw std::runtime_error(path + ": " + std::to_string(set->tensors().size()) + " tensors, expected " + std::to_string(plan[size_t(r)].size()));
        // The engine's views of rank r's split weights, by HF weight name (model/shard.cpp).
        std::map<std::string, const Linear*> views;
        const RankWeights& R = ranks[size_t(r)];
        auto add = [&](const Linear& L) { views[L.name] = &L; };
        add(R.embed);
        add(R.head);
        for (const RankWeights::Layer& S : R.layers) {
            add(S.wq_b);
            add(S.wkv_b);
            add(S.wo);
            for (const Ffn* f : {&S.dense, &S.shared})
                if (f->w1.raw) {
                    add(f->w1);
                    add(f->w2);
                    add(f->w3);
                }
        }
        int64_t compared = 0;
        for (const Item& it : plan[size_t(r)]) {
            const TensorInfo* t = set->find(it.spec.name);
            auto bad = [&](const std::string& what) { return std::runtime_error(path + ": tensor " + it.spec.name + ": " + what); };
            if (!t) throw bad("missing");
            if (t->dtype != it.spec.dtype || t->shape != it.spec.shape)
                throw bad(std::string(dtype_name(t->dtype)) + " " + shape_str(t->shape) + ", expected " + dtype_name(it.spec.dtype) + " " + shape_str(it.spec.shape));
            const std::string& hf = it.src->name;
            const bool is_scale = ends_with(hf, ".weight_scale_inv");
            auto v = views.find(is_scale ? hf.substr(0, hf.size() - 17) + ".weight" : hf);
            if (v == views.end() || (is_scale && v->second->type != kernels::WType::FP8)) {
                // replicated or a routed expert: the whole source tensor
                if (it.dim >= 0 && mp > 1) throw bad("a split tensor the engine has no view of: cannot be verified");
                if (t->nbytes != it.src->nbytes || std::memcmp(t->data, it.src->data, t->nbytes) != 0) throw bad("differs from " + hf + " in the source");
            } else if (is_scale) {  // the view's block scales (f32 copies of the stored ones)
                const Linear& L = *v->second;
                const size_t sr = size_t(L.out + 127) / 128, sc = size_t(L.in + 127) / 128;
                if (t->shape != std::vector<int64_t>{int64_t(sr), int64_t(sc)}) throw bad("shape " + shape_str(t->shape) + " is not the view's block grid");
                for (size_t i = 0; i < sr; ++i)
                    for (size_t j = 0; j < sc; ++j)
                        if (!same_bits(element(t->data, t->dtype, i * sc + j), L.scale[i * size_t(L.scale_ld) + j]))
                            throw bad("scale block (" + std::to_string(i) + ", " + std::to_string(j) + ") differs from the engine's slice of " + hf);
            } else {  // the view's rows: stored bytes (FP8 / BF16), or its f32 copy (F32 / F16 sources)
                const Linear& L = *v->second;
                if (t->shape != std::vector<int64_t>{L.out, L.in}) throw bad("shape " + shape_str(t->shape) + " is not the view's " + shape_str({L.out, L.in}));
                const kernels::WeightMat m = L.mat();
                for (size_t i = 0; i < size_t(L.out); ++i) {
                    if (L.type == kernels::WType::F32) {
                        const float* row = static_cast<const float*>(L.raw) + i * m.stride();
                        for (size_t j = 0; j < size_t(L.in); ++j)
                            if (!same_bits(element(t->data, t->dtype, i * size_t(L.in) + j), row[j]))
                                throw bad("element (" + std::to_string(i) + ", " + std::to_string(j) + ") differs from the engine's slice of " + hf);
                    } else {
                        const size_t es = L.type == kernels::WType::BF16 ? 2 : 1, rb = size_t(L.in) * es;
                        if (std::memcmp(t->data + i * rb, static_cast<const uint8_t*>(L.raw) + i * m.stride() * es, rb) != 0)
                            throw bad("row " + std::to_string(i) + " differs from the engine's slice of " + hf);
                    }
                }
            }
            compared += int64_t(t->nbytes);
            done += int64_t(t->nbytes);
        }
        done += sizes[size_t(r)] - compared;  // the header
        int64_t hashed = 0;
        const std::string got = sha256_file(path, [&](int64_t d) {
            done += d - hashed;
            hashed = d;
        });
        if (got != digests[size_t(r)])
            throw std::runtime_error(path + ": SHA-256 on disk " + got + " differs from the bytes written (" + digests[size_t(r)] + ")");
        if (hashed != sizes[size_t(r)]) throw std::runtime_error(path + ": " + std::to_string(hashed) + " bytes on disk, wrote " + std::to_string(sizes[size_t(r)]));
    }, [&] { report("verify", vtotal); });
    done = vtotal;
    report("verify", vtotal);

    // The manifest, config.json and the *token* files (convert.py copies those), under temporary names too.
    ConvertManifest m;
    m.mp = mp;
    m.source_dir = real_path(o.src_dir);
    for (const std::string& n : list_dir(o.src_dir))
        if (ends_with(n, ".safetensors")) {
            struct stat sb;
            m.source_files.push_back({n, ::stat((o.src_dir + "/" + n).c_str(), &sb) == 0 ? int64_t(sb.st_size) : 0});
        }
    ConvertResult res;
    for (int r = 0; r < mp; ++r) {
        m.files.push_back({final_names[size_t(r)], r, sizes[size_t(r)], int64_t(plan[size_t(r)].size()), digests[size_t(r)]});
        res.tensors += int64_t(plan[size_t(r)].size());
        res.bytes += sizes[size_t(r)];
    }
    std::vector<std::pair<std::string, std::string>> renames;  // temp -> final, in order: the manifest last
    for (int r = 0; r < mp; ++r) renames.emplace_back(tmp_paths[size_t(r)], out + "/" + final_names[size_t(r)]);
    std::vector<std::string> extra{"config.json"};
    for (const std::string& n : list_dir(o.src_dir))
        if (n.find("token") != std::string::npos && !is_dir(o.src_dir + "/" + n)) extra.push_back(n);
    for (const std::string& n : extra) {
        const std::string tmp = out + "/." + n + ".tmp";
        temps.paths.push_back(tmp);
        write_text(tmp, n == "config.json" ? cfg_text : read_text(o.src_dir + "/" + n));
        renames.emplace_back(tmp, out + "/" + n);
    }
    const std::string mtmp = out + "/." + std::string(kManifestName) + ".tmp";
    temps.paths.push_back(mtmp);
    write_text(mtmp, m.to_json());
    renames.emplace_back(mtmp, out + "/" + kManifestName);

    // force: what would make the directory ambiguous goes first (the old manifest before the files it describes).
    if (o.force) {
        ::unlink((out + "/" + kManifestName).c_str());
        for (const std::string& n : list_dir(out)) {
            int rr = 0, nn = 0;
            const bool stale_temp = n[0] == '.' && ends_with(n, ".tmp") && std::find(temps.paths.begin(), temps.paths.end(), out + "/" + n) == temps.paths.end() &&
                                    (parse_rank_file_name(n.substr(1, n.size() - 5), &rr, &nn) || n == "." + std::string(kManifestName) + ".tmp");
            if (parse_rank_file_name(n, &rr, &nn) || ends_with(n, ".safetensors") || n == "model.safetensors.index.json" || stale_temp)
                ::unlink((out + "/" + n).c_str());  // stale_temp: left by an interrupted convert
        }
    }
    for (const auto& rn : renames)
        if (::rename(rn.first.c_str(), rn.second.c_str()) != 0)
            throw std::runtime_error(rn.second + ": cannot rename " + rn.first + " to it: " + std::strerror(errno));
    temps.committed = true;
    sync_dir(out);
    res.files = mp;
    res.verified = true;
    return res;
}

}  // namespace dsv32
