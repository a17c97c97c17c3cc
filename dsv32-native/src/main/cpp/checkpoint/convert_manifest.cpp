#include "checkpoint/convert_manifest.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <stdexcept>

#include "checkpoint/demo_names.h"
#include "checkpoint/json.h"

namespace dsv32 {

namespace {

constexpr const char* kFormat = "dsv32-convert/1";

}  // namespace

std::string json_quote(const std::string& s) {
    std::string o = "\"";
    for (char c : s) {
        const unsigned char u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            o += '\\';
            o += c;
        } else if (u < 0x20) {
            char b[8];
            std::snprintf(b, sizeof b, "\\u%04x", u);
            o += b;
        } else {
            o += c;
        }
    }
    return o + "\"";
}

std::string ConvertManifest::to_json() const {
    std::string j = "{\n  \"format\": " + json_quote(kFormat) + ",\n  \"mp\": " + std::to_string(mp) + ",\n  \"source\": {\n    \"dir\": " +
                    json_quote(source_dir) + ",\n    \"files\": [";
    for (size_t i = 0; i < source_files.size(); ++i)
        j += std::string(i ? "," : "") + "\n      {\"name\": " + json_quote(source_files[i].name) +
             ", \"bytes\": " + std::to_string(source_files[i].bytes) + "}";
    j += "\n    ]\n  },\n  \"files\": [";
    for (size_t i = 0; i < files.size(); ++i) {
        const File& f = files[i];
        j += std::string(i ? "," : "") + "\n    {\"name\": " + json_quote(f.name) + ", \"rank\": " + std::to_string(f.rank) +
             ", \"bytes\": " + std::to_string(f.bytes) + ", \"tensors\": " + std::to_string(f.tensors) +
             ", \"sha256\": " + json_quote(f.sha256) + "}";
    }
    return j + "\n  ]\n}\n";
}

ConvertManifest ConvertManifest::parse(const std::string& text, const std::string& path) {
    Json j;
    try {
        j = Json::parse(text);
    } catch (const std::exception& e) {
        throw std::runtime_error(path + ": " + e.what());
    }
    auto bad = [&](const std::string& what) { return std::runtime_error(path + ": " + what); };
    auto count = [&](const Json* v, const std::string& field, double max) {
        if (!v || !v->is_number() || v->as_number() < 0 || v->as_number() > max || v->as_number() != std::floor(v->as_number()))
            throw bad("\"" + field + "\" is missing or not a whole number in range");
        return int64_t(v->as_number());
    };
    auto str = [&](const Json* v, const std::string& field) {
        if (!v || !v->is_string()) throw bad("\"" + field + "\" is missing or not a string");
        return v->as_string();
    };
    if (!j.is_object()) throw bad("not a JSON object");
    if (str(j.find("format"), "format") != kFormat) throw bad("\"format\" is not \"" + std::string(kFormat) + "\"");
    ConvertManifest m;
    m.mp = int(count(j.find("mp"), "mp", 1024));
    if (m.mp < 1) throw bad("\"mp\" must be at least 1");
    if (const Json* s = j.find("source")) {
        if (const Json* d = s->find("dir")) m.source_dir = str(d, "source.dir");
        if (const Json* fs = s->find("files"); fs && fs->is_array())
            for (const Json& f : fs->items()) m.source_files.push_back({str(f.find("name"), "source.files[].name"), count(f.find("bytes"), "source.files[].bytes", 1e15)});
    }
    const Json* fs = j.find("files");
    if (!fs || !fs->is_array()) throw bad("\"files\" is missing or not an array");
    if (int(fs->items().size()) != m.mp)
        throw bad("\"files\" lists " + std::to_string(fs->items().size()) + " files for mp=" + std::to_string(m.mp));
    for (size_t i = 0; i < fs->items().size(); ++i) {
        const Json& f = fs->items()[i];
        const std::string at = "files[" + std::to_string(i) + "].";
        File x;
        x.name = str(f.find("name"), at + "name");
        x.rank = int(count(f.find("rank"), at + "rank", 1024));
        x.bytes = count(f.find("bytes"), at + "bytes", 1e15);
        x.tensors = count(f.find("tensors"), at + "tensors", 1e9);
        x.sha256 = str(f.find("sha256"), at + "sha256");
        if (x.rank != int(i) || x.name != rank_file_name(x.rank, m.mp))
            throw bad(at + "name " + x.name + " rank " + std::to_string(x.rank) + ": expected " + rank_file_name(int(i), m.mp));
        if (x.sha256.size() != 64 || x.sha256.find_first_not_of("0123456789abcdef") != std::string::npos)
            throw bad(at + "sha256 is not 64 lower-case hex digits");
        m.files.push_back(x);
    }
    return m;
}

RankFiles find_rank_files(const std::string& dir) {
    DIR* d = opendir(dir.c_str());
    if (!d) throw std::runtime_error(dir + ": cannot open directory: " + std::strerror(errno));
    std::map<int, std::vector<std::pair<int, std::string>>> by_mp;
    RankFiles rf;
    while (struct dirent* e = readdir(d)) {
        int r = 0, n = 0;
        const std::string name = e->d_name;
        if (parse_rank_file_name(name, &r, &n))
            by_mp[n].emplace_back(r, name);
        else if (name == "model.safetensors.index.json" ||
                 (name.size() > 12 && name.compare(name.size() - 12, 12, ".safetensors") == 0))
            rf.others.push_back(name);
    }
    closedir(d);
    std::sort(rf.others.begin(), rf.others.end());
    if (by_mp.empty()) return rf;
    if (by_mp.size() > 1) {
        std::string which;
        for (const auto& kv : by_mp) which += (which.empty() ? "" : ", ") + std::string("mp=") + std::to_string(kv.first);
        throw std::runtime_error(dir + ": holds converted rank files for more than one mp (" + which +
                                 "): remove the stale ones or convert again with --force");
    }
    rf.mp = by_mp.begin()->first;
    rf.names.assign(size_t(rf.mp), "");
    for (const auto& p : by_mp.begin()->second) rf.names[size_t(p.first)] = p.second;
    return rf;
}

}  // namespace dsv32
