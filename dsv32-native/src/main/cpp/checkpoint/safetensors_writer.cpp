#include "checkpoint/safetensors_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace dsv32 {

size_t TensorSpec::nbytes() const {
    size_t n = dtype_size(dtype);
    for (int64_t d : shape) n *= size_t(d);
    return n;
}

SafetensorsWriter::SafetensorsWriter(const std::string& path, std::vector<TensorSpec> specs)
    : path_(path), specs_(std::move(specs)), buf_(size_t(8) << 20) {
    std::stable_sort(specs_.begin(), specs_.end(), [](const TensorSpec& a, const TensorSpec& b) {
        const size_t ea = dtype_size(a.dtype), eb = dtype_size(b.dtype);
        return ea != eb ? ea > eb : a.name < b.name;
    });
    std::string h = "{\"__metadata__\":{\"format\":\"pt\"}";
    size_t off = 0;
    for (const TensorSpec& t : specs_) {
        for (char c : t.name)
            if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20)
                throw std::runtime_error(path + ": tensor name " + t.name + " needs JSON escaping (not supported)");
        h += ",\"" + t.name + "\":{\"dtype\":\"" + dtype_name(t.dtype) + "\",\"shape\":[";
        for (size_t i = 0; i < t.shape.size(); ++i) h += (i ? "," : "") + std::to_string(t.shape[i]);
        const size_t end = off + t.nbytes();
        h += "],\"data_offsets\":[" + std::to_string(off) + "," + std::to_string(end) + "]}";
        off = end;
    }
    h += "}";
    while (h.size() % 8) h += ' ';
    file_size_ = int64_t(8 + h.size() + off);
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::runtime_error(path + ": cannot create: " + std::strerror(errno));
    uint8_t len[8];
    for (int i = 0; i < 8; ++i) len[i] = uint8_t((uint64_t(h.size()) >> (8 * i)) & 0xFF);
    append(len, 8);
    append(h.data(), h.size());
}

SafetensorsWriter::~SafetensorsWriter() {
    if (fd_ >= 0) ::close(fd_);
}

void SafetensorsWriter::append(const void* data, size_t n) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    if (written_ + int64_t(n) > file_size_)
        throw std::logic_error(path_ + ": more bytes appended than the header's tensors hold");
    sha_.update(p, n);
    written_ += int64_t(n);
    while (n > 0) {
        const size_t take = std::min(n, buf_.size() - buf_len_);
        std::memcpy(buf_.data() + buf_len_, p, take);
        buf_len_ += take;
        p += take;
        n -= take;
        if (buf_len_ == buf_.size()) flush();
    }
}

void SafetensorsWriter::flush() {
    size_t off = 0;
    while (off < buf_len_) {
        const ssize_t w = ::write(fd_, buf_.data() + off, buf_len_ - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error(path_ + ": write failed: " + std::strerror(errno));
        }
        off += size_t(w);
    }
    buf_len_ = 0;
}

std::string SafetensorsWriter::finish() {
    if (written_ != file_size_)
        throw std::logic_error(path_ + ": " + std::to_string(written_) + " bytes appended, the header needs " + std::to_string(file_size_));
    flush();
    if (::fsync(fd_) != 0) throw std::runtime_error(path_ + ": fsync failed: " + std::strerror(errno));
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) throw std::runtime_error(path_ + ": close failed: " + std::strerror(errno));
    return sha_.hex();
}

}  // namespace dsv32
