// Convert tests (model/convert.h, dsv32_convert, and opening converted directories):
//   test_convert sha256                       SHA-256 against the FIPS 180-4 vectors; convert.py's names (§2.2)
//   test_convert roundtrip SRC WORK MP CASE... convert SRC for MP ranks into WORK; the files, names and manifest; every
//                                            CASE at mp=MP from WORK bitwise equal to SRC at mp=MP and within the golden
//                                            bounds of SRC/CASE.f32.npy; wrong mp, checksum-verified open, progress
//   test_convert errors SRC WORK             (SRC converts at mp=2) bad requests, truncated / corrupted / missing rank
//                                            files, a broken manifest, a tensor of the wrong shape: clear errors
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

#include "checkpoint/convert_manifest.h"
#include "checkpoint/demo_names.h"
#include "checkpoint/json.h"
#include "checkpoint/safetensors.h"
#include "checkpoint/sha256.h"
#include "dsv32/dsv32.h"
#include "test_util.h"

namespace {

bool exists(const std::string& p) {
    struct stat sb;
    return ::stat(p.c_str(), &sb) == 0;
}

int64_t size_of(const std::string& p) {
    struct stat sb;
    return ::stat(p.c_str(), &sb) == 0 ? int64_t(sb.st_size) : -1;
}

void rm_rf(const std::string& p) { std::system(("rm -rf '" + p + "'").c_str()); }
void cp_r(const std::string& a, const std::string& b) { std::system(("rm -rf '" + b + "' && cp -r '" + a + "' '" + b + "'").c_str()); }

bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

struct Case {
    std::vector<std::vector<int32_t>> tokens;
    int decode_from = -1;
    std::string f32_file;
};

Case load_case(const std::string& dir, const std::string& name) {
    dsv32::Json j = dsv32::Json::parse(read_file(dir + "/cases.json"));
    for (const dsv32::Json& c : j.find("cases")->items()) {
        if (c.find("name")->as_string() != name) continue;
        Case k;
        const dsv32::Json* df = c.find("decode_from");
        k.decode_from = df && df->is_number() ? int(df->as_number()) : -1;
        for (const dsv32::Json& row : c.find("tokens")->items()) {
            k.tokens.emplace_back();
            for (const dsv32::Json& t : row.items()) k.tokens.back().push_back(int32_t(t.as_number()));
        }
        k.f32_file = c.find("files")->find("f32")->as_string();
        return k;
    }
    throw std::runtime_error("no case " + name + " in " + dir + "/cases.json");
}

// The case's logits [B, T, V] from dir at mp ranks (prefill, then decode one token at a time).
std::vector<float> run(const std::string& dir, const Case& k, int mp, int* vocab) {
    dsv32_open_options o{};
    o.numerics = DSV32_NUMERICS_F32;
    o.mp = mp;
    dsv32_model* m = nullptr;
    if (dsv32_model_open(dir.c_str(), &o, &m) != DSV32_OK) throw std::runtime_error(dsv32_last_error());
    dsv32_model_info info{};
    dsv32_model_get_info(m, &info);
    const int V = info.vocab_size, B = int(k.tokens.size()), T = int(k.tokens[0].size());
    *vocab = V;
    std::vector<int32_t> sid(static_cast<size_t>(B));
    for (int b = 0; b < B; ++b) dsv32_seq_open(m, &sid[size_t(b)]);
    std::vector<float> out(size_t(B) * T * V);
    auto step = [&](int p, int n) {
        std::vector<dsv32_batch_entry> es;
        for (int b = 0; b < B; ++b) es.push_back({sid[size_t(b)], p, n, k.tokens[size_t(b)].data() + p});
        std::vector<float> lg(size_t(B) * n * V);
        if (dsv32_forward(m, es.data(), B, lg.data(), lg.size()) != DSV32_OK) throw std::runtime_error(dsv32_last_error());
        for (int b = 0; b < B; ++b)
            std::copy(lg.begin() + long(size_t(b) * n * V), lg.begin() + long(size_t(b + 1) * n * V), out.begin() + long((size_t(b) * T + p) * V));
    };
    const int pe = k.decode_from >= 0 ? k.decode_from : T;
    step(0, pe);
    for (int p = pe; p < T; ++p) step(p, 1);
    dsv32_model_close(m);
    return out;
}

// The golden pass rule (test_golden.cpp): top-1 agreement >= 99% and mean KL(ref || ours) <= 1e-3.
bool golden_pass(const std::vector<float>& ref, const std::vector<float>& eng, int V, double* top1, double* mean_kl) {
    const size_t rows = ref.size() / size_t(V);
    size_t agree = 0;
    double kl_sum = 0;
    for (size_t i = 0; i < rows; ++i) {
        const float* a = ref.data() + i * V;
        const float* b = eng.data() + i * V;
        const size_t am = size_t(std::max_element(a, a + V) - a), bm = size_t(std::max_element(b, b + V) - b);
        agree += am == bm;
        double sa = 0, sb = 0;
        for (int v = 0; v < V; ++v) { sa += std::exp(double(a[v]) - a[am]); sb += std::exp(double(b[v]) - b[bm]); }
        const double la = a[am] + std::log(sa), lb = b[bm] + std::log(sb);
        double kl = 0;
        for (int v = 0; v < V; ++v) kl += std::exp(a[v] - la) * ((a[v] - la) - (b[v] - lb));
        kl_sum += kl;
    }
    *top1 = double(agree) / double(rows);
    *mean_kl = kl_sum / double(rows);
    return *top1 >= 0.99 && *mean_kl <= 1e-3;
}

struct ProgressLog {
    std::vector<std::string> stage;
    std::vector<int64_t> done, total;
};

void progress_cb(void* user, const char* stage, int64_t done, int64_t total) {
    ProgressLog* p = static_cast<ProgressLog*>(user);
    p->stage.push_back(stage);
    p->done.push_back(done);
    p->total.push_back(total);
}

int convert(const std::string& src, const std::string& out, int mp, bool force, ProgressLog* log = nullptr,
            dsv32_convert_result* res = nullptr) {
    dsv32_convert_options o{};
    o.mp = mp;
    o.n_threads = 2;
    o.force = force ? 1 : 0;
    if (log) {
        o.progress = progress_cb;
        o.progress_user = log;
    }
    dsv32_convert_result r{};
    const int rc = dsv32_convert(src.c_str(), out.c_str(), &o, &r);
    if (res) *res = r;
    return rc;
}

// Opens dir at mp; returns the status and the message.
int open_status(const std::string& dir, int mp, std::string* msg, bool verify = false) {
    dsv32_open_options o{};
    o.mp = mp;
    o.verify_checksums = verify ? 1 : 0;
    dsv32_model* m = nullptr;
    const int rc = dsv32_model_open(dir.c_str(), &o, &m);
    *msg = dsv32_last_error();
    if (m) dsv32_model_close(m);
    CHECK((rc == DSV32_OK) == (m != nullptr));
    return rc;
}

int cmd_sha256() {
    auto h = [](const std::string& s) {
        dsv32::Sha256 x;
        x.update(s.data(), s.size());
        return x.hex();
    };
    CHECK(h("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(h("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(h("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    std::string million(1000000, 'a');
    CHECK(h(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    dsv32::Sha256 pieces;  // the same bytes in odd-sized pieces
    for (size_t i = 0; i < million.size();) {
        const size_t n = std::min(million.size() - i, size_t(1 + i % 97));
        pieces.update(million.data() + i, n);
        i += n;
    }
    CHECK(pieces.hex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    // convert.py's names and split dims (architecture.md §2.2)
    auto n = [](const std::string& hf) { return dsv32::demo_name(hf); };
    CHECK(n("model.embed_tokens.weight").name == "embed.weight" && n("model.embed_tokens.weight").split_dim == 0);
    CHECK(n("lm_head.weight").name == "head.weight" && n("lm_head.weight").split_dim == 0);
    CHECK(n("model.norm.weight").name == "norm.weight" && n("model.norm.weight").split_dim == -1);
    CHECK(n("model.layers.0.input_layernorm.weight").name == "layers.0.attn_norm.weight");
    CHECK(n("model.layers.0.self_attn.o_proj.weight_scale_inv").name == "layers.0.attn.wo.scale");
    CHECK(n("model.layers.0.self_attn.o_proj.weight_scale_inv").split_dim == 1);
    CHECK(n("model.layers.0.self_attn.q_b_proj.weight").name == "layers.0.attn.wq_b.weight" && n("model.layers.0.self_attn.q_b_proj.weight").split_dim == 0);
    CHECK(n("model.layers.0.self_attn.kv_a_proj_with_mqa.weight").name == "layers.0.attn.wkv_a.weight");
    CHECK(n("model.layers.0.self_attn.kv_a_layernorm.weight").name == "layers.0.attn.kv_norm.weight");
    CHECK(n("model.layers.0.self_attn.indexer.wq_b.weight").name == "layers.0.attn.indexer.wq_b.weight");
    CHECK(n("model.layers.0.self_attn.indexer.wq_b.weight").split_dim == -1);
    CHECK(n("model.layers.0.self_attn.indexer.k_norm.bias").name == "layers.0.attn.indexer.k_norm.bias");
    CHECK(n("model.layers.3.mlp.gate.e_score_correction_bias").name == "layers.3.ffn.gate.bias");
    const dsv32::DemoName e = n("model.layers.3.mlp.experts.17.down_proj.weight_scale_inv");
    CHECK(e.name == "layers.3.ffn.experts.17.w2.scale" && e.expert == 17 && e.split_dim == -1);
    const dsv32::DemoName s = n("model.layers.3.mlp.shared_experts.up_proj.weight");
    CHECK(s.name == "layers.3.ffn.shared_experts.w3.weight" && s.expert == -1 && s.split_dim == 0);
    bool threw = false;
    try {
        n("model.layers.3.eh_proj.weight");
    } catch (const std::exception& x) {
        threw = contains(x.what(), "eh_proj");
    }
    CHECK(threw);
    int r = 0, m = 0;
    CHECK(dsv32::parse_rank_file_name("model1-mp2.safetensors", &r, &m) && r == 1 && m == 2);
    CHECK(!dsv32::parse_rank_file_name("model2-mp2.safetensors", &r, &m));
    CHECK(!dsv32::parse_rank_file_name("model.safetensors", &r, &m));
    CHECK(!dsv32::parse_rank_file_name("model01-mp2.safetensors", &r, &m));
    CHECK(dsv32::rank_file_name(3, 8) == "model3-mp8.safetensors");
    return test_summary("test_convert sha256");
}

int cmd_roundtrip(const std::string& src, const std::string& work, int mp, const std::vector<std::string>& cases) {
    rm_rf(work);
    ProgressLog log;
    dsv32_convert_result res{};
    const int rc = convert(src, work, mp, false, &log, &res);
    std::printf("convert %s -> %s mp=%d: rc %d %s; %d files, %lld tensors, %lld bytes, verified %d\n", src.c_str(), work.c_str(), mp, rc,
                dsv32_last_error(), res.files, (long long)res.tensors, (long long)res.bytes, res.verified);
    CHECK(rc == DSV32_OK);
    if (rc != DSV32_OK) return test_summary("test_convert roundtrip");
    CHECK(res.files == mp && res.verified == 1);

    // Progress: the source's stages, then convert and verify; each stage monotone and ending at its total.
    std::set<std::string> seen;
    for (size_t i = 0; i < log.stage.size(); ++i) {
        seen.insert(log.stage[i]);
        CHECK(log.done[i] >= 0 && log.done[i] <= log.total[i]);
        if (i > 0 && log.stage[i] == log.stage[i - 1]) CHECK(log.done[i] >= log.done[i - 1] && log.total[i] == log.total[i - 1]);
        if (i + 1 == log.stage.size() || log.stage[i + 1] != log.stage[i]) CHECK_MSG(log.done[i] == log.total[i], "stage %s", log.stage[i].c_str());
    }
    for (const char* st : {"map", "validate", "shard", "convert", "verify"}) CHECK_MSG(seen.count(st), "no %s stage", st);
    CHECK(!log.stage.empty() && log.stage.back() == "verify");

    // The directory: config.json, one file per rank, the manifest, nothing temporary.
    CHECK(read_file(work + "/config.json") == read_file(src + "/config.json"));
    const dsv32::ConvertManifest m = dsv32::ConvertManifest::parse(read_file(work + "/" + dsv32::kManifestName), "manifest");
    CHECK(m.mp == mp && int(m.files.size()) == mp);
    int64_t bytes = 0, tensors = 0;
    std::map<std::string, int> count;  // tensor name -> rank files holding it
    dsv32::SafetensorsSet hf(src);
    for (int r = 0; r < mp; ++r) {
        const std::string p = work + "/" + dsv32::rank_file_name(r, mp);
        CHECK(size_of(p) == m.files[size_t(r)].bytes);
        CHECK(dsv32::sha256_file(p) == m.files[size_t(r)].sha256);
        bytes += m.files[size_t(r)].bytes;
        const auto f = dsv32::SafetensorsSet::open_file(p);
        tensors += int64_t(f->tensors().size());
        CHECK(int64_t(f->tensors().size()) == m.files[size_t(r)].tensors);
        for (const auto& kv : f->tensors()) {
            ++count[kv.first];
            CHECK_MSG(kv.first.compare(0, 6, "model.") != 0 && !contains(kv.first, "_scale_inv"), "HF name %s in a rank file", kv.first.c_str());
            CHECK_MSG(kv.second.data == f->tensors().begin()->second.data || (kv.second.data - f->tensors().begin()->second.data) % int64_t(dsv32::dtype_size(kv.second.dtype)) == 0,
                      "%s not aligned", kv.first.c_str());
        }
        // Spot checks of convert.py's layout: embed rows split, wo columns split (with its scale), the rank's experts.
        const dsv32::TensorInfo* emb = f->find("embed.weight");
        const dsv32::TensorInfo* hemb = hf.find("model.embed_tokens.weight");
        CHECK(emb && hemb && emb->shape[0] * mp == hemb->shape[0] && emb->shape[1] == hemb->shape[1] && emb->dtype == hemb->dtype);
        if (emb && hemb) CHECK(std::memcmp(emb->data, hemb->data + size_t(r) * emb->nbytes, emb->nbytes) == 0);
        const dsv32::TensorInfo* wo = f->find("layers.0.attn.wo.weight");
        const dsv32::TensorInfo* hwo = hf.find("model.layers.0.self_attn.o_proj.weight");
        CHECK(wo && hwo && wo->shape[1] * mp == hwo->shape[1] && wo->dtype == dsv32::DType::F8_E4M3);
        if (wo && hwo) {
            const size_t cols = size_t(wo->shape[1]);
            CHECK(std::memcmp(wo->data + cols, hwo->data + size_t(hwo->shape[1]) + size_t(r) * cols, cols) == 0);  // row 1
        }
        const dsv32::TensorInfo* wos = f->find("layers.0.attn.wo.scale");
        const dsv32::TensorInfo* hwos = hf.find("model.layers.0.self_attn.o_proj.weight_scale_inv");
        CHECK(wos && hwos && wos->shape[1] * mp == hwos->shape[1] && wos->dtype == hwos->dtype);
        CHECK(f->find("layers.0.attn.indexer.wq_b.weight") && f->find("layers.0.attn.indexer.wq_b.weight")->nbytes ==
                                                                  hf.find("model.layers.0.self_attn.indexer.wq_b.weight")->nbytes);
        const dsv32::TensorInfo* e = f->find("layers.1.ffn.experts." + std::to_string(r * (16 / mp)) + ".w1.weight");
        CHECK(e && std::memcmp(e->data, hf.find("model.layers.1.mlp.experts." + std::to_string(r * (16 / mp)) + ".gate_proj.weight")->data, e->nbytes) == 0);
        if (mp > 1) CHECK(!f->find("layers.1.ffn.experts." + std::to_string(((r + 1) % mp) * (16 / mp)) + ".w1.weight"));
    }
    CHECK(bytes == res.bytes && tensors == res.tensors);
    // Every HF tensor once per rank, except routed experts: once in all.
    for (const auto& kv : count) {
        const bool expert = contains(kv.first, ".experts.");
        CHECK_MSG(kv.second == (expert ? 1 : mp), "%s in %d rank files", kv.first.c_str(), kv.second);
    }
    CHECK(count.size() == hf.tensors().size());
    for (const std::string& n : {std::string(".model0-mp") + std::to_string(mp) + ".safetensors.tmp", std::string(".dsv32-convert.json.tmp")})
        CHECK(!exists(work + "/" + n));

    // Logits: converted at mp == the HF checkpoint at mp, bit for bit; and within the golden bounds.
    for (const std::string& name : cases) {
        const Case k = load_case(src, name);
        int V = 0;
        const std::vector<float> from_hf = run(src, k, mp, &V);
        const std::vector<float> from_conv = run(work, k, mp, &V);
        CHECK(from_hf.size() == from_conv.size());
        const bool bitwise = from_hf.size() == from_conv.size() && std::memcmp(from_hf.data(), from_conv.data(), 4 * from_hf.size()) == 0;
        CHECK_MSG(bitwise, "%s: converted at mp=%d differs from the HF checkpoint at mp=%d", name.c_str(), mp, mp);
        const Npy ref = read_npy(src + "/" + k.f32_file);
        double top1 = 0, kl = 0;
        const bool pass = ref.data.size() == from_conv.size() && golden_pass(ref.data, from_conv, V, &top1, &kl);
        std::printf("%-24s converted mp=%d: bitwise equal to HF mp=%d: %s; vs golden: top1 %.2f%% mean KL %.3e\n", name.c_str(), mp, mp,
                    bitwise ? "yes" : "NO", 100 * top1, kl);
        CHECK_MSG(pass, "%s: converted at mp=%d fails the golden bounds", name.c_str(), mp);
    }

    // The wrong mp: an option error naming the mp it was converted for.
    std::string msg;
    const int wrong = mp == 1 ? 2 : 1;
    int rc2 = open_status(work, wrong, &msg);
    std::printf("open at mp=%d: rc %d: %s\n", wrong, rc2, msg.c_str());
    CHECK(rc2 == DSV32_ERR_INVALID_ARGUMENT && contains(msg, "mp=" + std::to_string(mp)) && contains(msg, dsv32::rank_file_name(0, mp)));
    // With the checksums verified, and the open's progress: verify, map, validate, shard, each ending at its total.
    {
        ProgressLog plog;
        dsv32_open_options o{};
        o.mp = mp;
        o.verify_checksums = 1;
        o.progress = progress_cb;
        o.progress_user = &plog;
        dsv32_model* mdl = nullptr;
        rc2 = dsv32_model_open(work.c_str(), &o, &mdl);
        CHECK_MSG(rc2 == DSV32_OK, "verified open: %s", dsv32_last_error());
        if (mdl) dsv32_model_close(mdl);
        std::vector<std::string> order;
        for (size_t i = 0; i < plog.stage.size(); ++i) {
            if (order.empty() || order.back() != plog.stage[i]) order.push_back(plog.stage[i]);
            CHECK(plog.done[i] >= 0 && plog.done[i] <= plog.total[i]);
            if (i + 1 == plog.stage.size() || plog.stage[i + 1] != plog.stage[i]) CHECK(plog.done[i] == plog.total[i]);
        }
        // then "pack" where the CPU repacks or copies weights for its kernels (test_util.h; this open: f32 numerics)
        std::vector<std::string> want{"verify", "map", "validate", "shard"};
        if (cpu_backend_packs_weights()) want.push_back("pack");
        CHECK(order == want);
        CHECK(plog.total.front() == res.bytes);  // verify: every byte of the rank files
    }
    // Converting into a non-empty directory needs force; with force it replaces the files (the same bytes again).
    CHECK(convert(src, work, mp, false) == DSV32_ERR_INVALID_ARGUMENT && contains(dsv32_last_error(), "not empty"));
    write_file(work + "/.model0-mp" + std::to_string(mp + 1) + ".safetensors.tmp", "left by an interrupted convert");
    CHECK(convert(src, work, mp, true) == DSV32_OK);
    CHECK(!exists(work + "/.model0-mp" + std::to_string(mp + 1) + ".safetensors.tmp"));
    const dsv32::ConvertManifest m2 = dsv32::ConvertManifest::parse(read_file(work + "/" + dsv32::kManifestName), "manifest");
    for (int r = 0; r < mp; ++r) CHECK(m2.files[size_t(r)].sha256 == m.files[size_t(r)].sha256);  // deterministic
    return test_summary("test_convert roundtrip");
}

// Expects opening dir at mp to fail with rc naming every needle.
void expect_open_error(const std::string& what, const std::string& dir, int mp, int want_rc, const std::vector<std::string>& needles,
                       bool verify = false) {
    std::string msg;
    const int rc = open_status(dir, mp, &msg, verify);
    std::printf("%s: rc %d: %s\n", what.c_str(), rc, msg.c_str());
    CHECK_MSG(rc == want_rc, "%s: rc %d, expected %d", what.c_str(), rc, want_rc);
    for (const std::string& n : needles) CHECK_MSG(contains(msg, n), "%s: message lacks \"%s\"", what.c_str(), n.c_str());
}

int cmd_errors(const std::string& src, const std::string& work) {
    rm_rf(work);
    ::mkdir(work.c_str(), 0755);
    const std::string good = work + "/good";
    if (convert(src, good, 2, false) != DSV32_OK) {
        std::fprintf(stderr, "convert failed: %s\n", dsv32_last_error());
        return 1;
    }
    std::string msg;
    CHECK(open_status(good, 2, &msg) == DSV32_OK);

    // Bad requests: option errors, and nothing written.
    auto expect_convert_error = [&](const std::string& what, const std::string& s, const std::string& o, int mp, int want_rc,
                                    const std::vector<std::string>& needles) {
        const int rc = convert(s, o, mp, false);
        const std::string m = dsv32_last_error();
        std::printf("%s: rc %d: %s\n", what.c_str(), rc, m.c_str());
        CHECK_MSG(rc == want_rc, "%s: rc %d", what.c_str(), rc);
        for (const std::string& n : needles) CHECK_MSG(contains(m, n), "%s: message lacks \"%s\"", what.c_str(), n.c_str());
    };
    expect_convert_error("mp=3", src, work + "/mp3", 3, DSV32_ERR_INVALID_ARGUMENT, {"mp=3", "num_attention_heads"});
    CHECK(!exists(work + "/mp3/model0-mp3.safetensors") && !exists(work + "/mp3/dsv32-convert.json"));
    expect_convert_error("mp=0", src, work + "/mp0", 0, DSV32_ERR_INVALID_ARGUMENT, {"mp 0"});
    expect_convert_error("missing source", work + "/nothing", work + "/x", 2, DSV32_ERR_INVALID_ARGUMENT, {"nothing", "not a directory"});
    expect_convert_error("not empty", src, good, 2, DSV32_ERR_INVALID_ARGUMENT, {good, "not empty"});
    expect_convert_error("out = in", src, src, 2, DSV32_ERR_INVALID_ARGUMENT, {"is the input directory"});
    expect_convert_error("converted source", good, work + "/y", 2, DSV32_ERR_INVALID_ARGUMENT, {"already holds converted"});
    {
        dsv32_convert_options o{};
        o.mp = 2;
        CHECK(dsv32_convert(nullptr, "x", &o, nullptr) == DSV32_ERR_INVALID_ARGUMENT);
        CHECK(dsv32_convert(src.c_str(), "x", nullptr, nullptr) == DSV32_ERR_INVALID_ARGUMENT);
    }

    const std::string r1 = dsv32::rank_file_name(1, 2);
    // A truncated rank file: its size against the manifest.
    std::string d = work + "/truncated";
    cp_r(good, d);
    CHECK(::truncate((d + "/" + r1).c_str(), size_of(d + "/" + r1) / 2) == 0);
    expect_open_error("truncated", d, 2, DSV32_ERR_CHECKPOINT, {r1, "bytes", "dsv32-convert.json"});
    // Without the manifest the safetensors header check still names the file.
    ::unlink((d + "/dsv32-convert.json").c_str());
    expect_open_error("truncated, no manifest", d, 2, DSV32_ERR_CHECKPOINT, {r1});

    // One corrupted byte in a tensor's data (same size): found by the checksum when verifying.
    d = work + "/corrupt";
    cp_r(good, d);
    {
        std::string bytes = read_file(d + "/" + r1);
        bytes[bytes.size() - 5] = char(bytes[bytes.size() - 5] ^ 0x40);
        write_file(d + "/" + r1, bytes);
    }
    expect_open_error("corrupt, verified", d, 2, DSV32_ERR_CHECKPOINT, {r1, "SHA-256"}, true);
    CHECK(open_status(d, 2, &msg) == DSV32_OK);  // sizes only without verify_checksums (documented)

    // Rank files next to an HF checkpoint's file: ambiguous.
    d = work + "/mixed";
    cp_r(good, d);
    write_file(d + "/model.safetensors", read_file(src + "/model.safetensors"));
    expect_open_error("rank files and HF files", d, 2, DSV32_ERR_CHECKPOINT, {"model.safetensors", "model0-mp2.safetensors"});

    // A missing rank file, and the wrong mp.
    d = work + "/missing";
    cp_r(good, d);
    ::unlink((d + "/" + r1).c_str());
    expect_open_error("missing rank file", d, 2, DSV32_ERR_CHECKPOINT, {r1, "missing"});
    expect_open_error("wrong mp", good, 4, DSV32_ERR_INVALID_ARGUMENT, {"mp=2", "model0-mp2.safetensors"});
    expect_open_error("default mp", good, 0, DSV32_ERR_INVALID_ARGUMENT, {"mp=2"});

    // The manifest: another mp, or not JSON.
    d = work + "/manifest";
    cp_r(good, d);
    {
        std::string j = read_file(d + "/dsv32-convert.json");
        const size_t p = j.find("\"mp\": 2");
        CHECK(p != std::string::npos);
        j.replace(p, 7, "\"mp\": 1");
        write_file(d + "/dsv32-convert.json", j);
    }
    expect_open_error("manifest mp", d, 2, DSV32_ERR_CHECKPOINT, {"dsv32-convert.json"});
    write_file(d + "/dsv32-convert.json", "{\"format\": ");
    expect_open_error("manifest JSON", d, 2, DSV32_ERR_CHECKPOINT, {"dsv32-convert.json"});
    ::unlink((d + "/dsv32-convert.json").c_str());
    CHECK(open_status(d, 2, &msg) == DSV32_OK);  // rank files without a manifest (the official convert.py's) open
    expect_open_error("no manifest, verify", d, 2, DSV32_ERR_CHECKPOINT, {"dsv32-convert.json", "missing"}, true);

    // A tensor of the wrong shape: rank files of an mp=1 convert presented as mp=2 (whole tensors where slices belong).
    const std::string one = work + "/one";
    CHECK(convert(src, one, 1, false) == DSV32_OK);
    d = work + "/shape";
    ::mkdir(d.c_str(), 0755);
    write_file(d + "/config.json", read_file(src + "/config.json"));
    write_file(d + "/model0-mp2.safetensors", read_file(one + "/model0-mp1.safetensors"));
    write_file(d + "/model1-mp2.safetensors", read_file(one + "/model0-mp1.safetensors"));
    expect_open_error("wrong shape", d, 2, DSV32_ERR_CHECKPOINT, {"model0-mp2.safetensors", "embed.weight", "shape"});

    // Rank files for two mp values in one directory: ambiguous.
    write_file(d + "/model0-mp1.safetensors", read_file(one + "/model0-mp1.safetensors"));
    expect_open_error("two mp values", d, 2, DSV32_ERR_CHECKPOINT, {"more than one mp"});
    return test_summary("test_convert errors");
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::string cmd = argc > 1 ? argv[1] : "";
        if (cmd == "sha256" && argc == 2) return cmd_sha256();
        if (cmd == "roundtrip" && argc >= 5) return cmd_roundtrip(argv[2], argv[3], std::atoi(argv[4]), std::vector<std::string>(argv + 5, argv + argc));
        if (cmd == "errors" && argc == 4) return cmd_errors(argv[2], argv[3]);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "test_convert: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr, "usage: see the comment at the top of test_convert.cpp\n");
    return 2;
}
