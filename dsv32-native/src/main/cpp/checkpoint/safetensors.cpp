#include "checkpoint/safetensors.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "checkpoint/json.h"

namespace dsv32 {

const char* dtype_name(DType t) {
    switch (t) {
        case DType::F8_E4M3: return "F8_E4M3";
        case DType::BF16: return "BF16";
        case DType::F16: return "F16";
        case DType::F32: return "F32";
    }
    return "?";
}

size_t dtype_size(DType t) {
    switch (t) {
        case DType::F8_E4M3: return 1;
        case DType::BF16: case DType::F16: return 2;
        case DType::F32: return 4;
    }
    return 0;
}

std::string shape_str(const std::vector<int64_t>& s) {
    std::string o = "[";
    for (size_t i = 0; i < s.size(); ++i) o += (i ? ", " : "") + std::to_string(s[i]);
    return o + "]";
}

MappedFile::MappedFile(const std::string& path) : path_(path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        ::close(fd);
        throw std::runtime_error(path + ": cannot stat: " + std::strerror(e));
    }
    size_ = size_t(st.st_size);
    if (size_ > 0) {
        void* p = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            ::close(fd);
            throw std::runtime_error(path + ": cannot mmap: " + std::strerror(e));
        }
        data_ = static_cast<const uint8_t*>(p);
    }
    ::close(fd);
}

bool SafetensorsSet::release(const void* p, size_t n) const {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    for (const auto& f : files_) {
        if (b < f->data() || n > f->size() || size_t(b - f->data()) > f->size() - n) continue;
        const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
        const uintptr_t lo = (uintptr_t(b) + page - 1) / page * page, hi = (uintptr_t(b) + n) / page * page;
        if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);  // advice: a failure only keeps the pages
        return true;
    }
    return false;
}

MappedFile::~MappedFile() {
    if (data_) munmap(const_cast<uint8_t*>(data_), size_);
}

namespace {

bool parse_dtype(const std::string& s, DType* out) {
    if (s == "F8_E4M3") *out = DType::F8_E4M3;
    else if (s == "BF16") *out = DType::BF16;
    else if (s == "F16") *out = DType::F16;
    else if (s == "F32") *out = DType::F32;
    else return false;
    return true;
}

bool ends_with(const std::string& s, const std::string& suf) {
    return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

}  // namespace

SafetensorsSet::SafetensorsSet(const std::string& dir,
                               const std::function<void(const char* stage, int64_t done, int64_t total)>& progress) {
    const std::string index_path = dir + "/model.safetensors.index.json";
    std::vector<std::string> paths;
    std::ifstream idx(index_path, std::ios::binary);
    if (idx) {
        std::stringstream ss;
        ss << idx.rdbuf();
        Json j;
        try {
            j = Json::parse(ss.str());
        } catch (const std::exception& e) {
            throw std::runtime_error(index_path + ": " + e.what());
        }
        const Json* wm = j.find("weight_map");
        if (!wm || !wm->is_object()) throw std::runtime_error(index_path + ": missing object \"weight_map\"");
        std::set<std::string> names;
        for (const auto& kv : wm->members()) {
            if (!kv.second.is_string()) throw std::runtime_error(index_path + ": weight_map[\"" + kv.first + "\"] is not a string");
            const std::string& f = kv.second.as_string();
            if (f.find('/') != std::string::npos || f.empty() || f[0] == '.')
                throw std::runtime_error(index_path + ": bad file name \"" + f + "\"");
            names.insert(f);
        }
        for (const auto& f : names) paths.push_back(dir + "/" + f);
    } else {
        DIR* d = opendir(dir.c_str());
        if (!d) throw std::runtime_error(dir + ": cannot open directory: " + std::strerror(errno));
        while (struct dirent* e = readdir(d)) {
            std::string n = e->d_name;
            if (ends_with(n, ".safetensors")) paths.push_back(dir + "/" + n);
        }
        closedir(d);
        std::sort(paths.begin(), paths.end());
        if (paths.empty()) throw std::runtime_error(dir + ": no *.safetensors file");
    }
    if (!progress) {
        for (const auto& p : paths) add_file(p);
        return;
    }
    // Progress in bytes of whole files (a file that cannot be stat'ed counts 0 here; add_file reports its error).
    std::vector<int64_t> sizes;
    int64_t total = 0, done = 0;
    for (const auto& p : paths) {
        struct stat sb;
        sizes.push_back(::stat(p.c_str(), &sb) == 0 ? int64_t(sb.st_size) : 0);
        total += sizes.back();
    }
    progress("map", 0, total);
    for (size_t i = 0; i < paths.size(); ++i) {
        add_file(paths[i]);
        done += sizes[i];
        progress("map", std::min(done, total), total);
    }
}

void SafetensorsSet::add_file(const std::string& path) {
    files_.push_back(std::make_unique<MappedFile>(path));
    const MappedFile& f = *files_.back();
    if (f.size() < 8) throw std::runtime_error(path + ": truncated: " + std::to_string(f.size()) + " bytes, no header");
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; --i) hlen = (hlen << 8) | f.data()[i];
    if (hlen > f.size() - 8)
        throw std::runtime_error(path + ": header length " + std::to_string(hlen) + " runs past the end of the file (" +
                                 std::to_string(f.size()) + " bytes)");
    Json h;
    try {
        h = Json::parse(reinterpret_cast<const char*>(f.data() + 8), size_t(hlen));
    } catch (const std::exception& e) {
        throw std::runtime_error(path + ": header: " + e.what());
    }
    if (!h.is_object()) throw std::runtime_error(path + ": header is not a JSON object");
    const uint8_t* base = f.data() + 8 + hlen;
    const size_t data_len = f.size() - 8 - size_t(hlen);
    std::vector<std::pair<size_t, size_t>> ranges;
    for (const auto& kv : h.members()) {
        const std::string& name = kv.first;
        if (name == "__metadata__") continue;
        const Json& t = kv.second;
        auto bad = [&](const std::string& what) {
            return std::runtime_error(path + ": tensor " + name + ": " + what);
        };
        if (!t.is_object()) throw bad("entry is not an object");
        const Json* dt = t.find("dtype");
        const Json* sh = t.find("shape");
        const Json* off = t.find("data_offsets");
        if (!dt || !dt->is_string()) throw bad("missing dtype");
        if (!sh || !sh->is_array()) throw bad("missing shape");
        if (!off || !off->is_array() || off->items().size() != 2) throw bad("missing data_offsets");
        TensorInfo ti;
        ti.name = name;
        if (!parse_dtype(dt->as_string(), &ti.dtype)) throw bad("unsupported dtype " + dt->as_string());
        double numel = 1;
        for (const auto& d : sh->items()) {
            if (!d.is_number() || d.as_number() < 0 || d.as_number() != std::floor(d.as_number()) || d.as_number() > 1e12)
                throw bad("bad shape");
            ti.shape.push_back(int64_t(d.as_number()));
            numel *= d.as_number();
        }
        if (ti.shape.size() > 4) throw bad("more than 4 dimensions");
        double b = off->items()[0].is_number() ? off->items()[0].as_number() : -1;
        double e = off->items()[1].is_number() ? off->items()[1].as_number() : -1;
        if (b < 0 || e < b || b != std::floor(b) || e != std::floor(e)) throw bad("bad data_offsets");
        if (e > double(data_len))
            throw bad("data_offsets [" + std::to_string(int64_t(b)) + ", " + std::to_string(int64_t(e)) +
                      "] run past the end of the file (data section " + std::to_string(data_len) + " bytes)");
        if (e - b != numel * double(dtype_size(ti.dtype)))
            throw bad("data_offsets span " + std::to_string(int64_t(e - b)) + " bytes but shape " + shape_str(ti.shape) +
                      " of " + dtype_name(ti.dtype) + " needs " + std::to_string(int64_t(numel * dtype_size(ti.dtype))));
        ti.data = base + size_t(b);
        ti.nbytes = size_t(e - b);
        ti.file = &f;
        if (ti.nbytes) ranges.emplace_back(size_t(b), size_t(e));
        if (tensors_.count(name)) throw bad("appears in more than one file");
        tensors_.emplace(name, std::move(ti));
    }
    std::sort(ranges.begin(), ranges.end());
    for (size_t i = 1; i < ranges.size(); ++i)
        if (ranges[i].first < ranges[i - 1].second) throw std::runtime_error(path + ": tensor data ranges overlap");
}

std::shared_ptr<const SafetensorsSet> SafetensorsSet::open_file(const std::string& path) {
    std::shared_ptr<SafetensorsSet> s(new SafetensorsSet());
    s->add_file(path);
    return s;
}

const TensorInfo* SafetensorsSet::find(const std::string& name) const {
    auto it = tensors_.find(name);
    return it == tensors_.end() ? nullptr : &it->second;
}

}  // namespace dsv32
