// safetensors_writer.h: writes one safetensors file, streaming (the data of one tensor at a time, through a fixed
// buffer), with its SHA-256 computed on the way.
#ifndef DSV32_CHECKPOINT_SAFETENSORS_WRITER_H
#define DSV32_CHECKPOINT_SAFETENSORS_WRITER_H

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "checkpoint/safetensors.h"
#include "checkpoint/sha256.h"

namespace dsv32 {

struct TensorSpec {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    size_t nbytes() const;
};

// Usage: SafetensorsWriter w(path, specs); then for each spec in order() append exactly its nbytes; then finish().
// The header lists the tensors in order(): by element size, largest first, then by name, so every tensor's data
// starts at a multiple of its element size (the header is padded with spaces to a multiple of 8, as safetensors does).
class SafetensorsWriter {
public:
    SafetensorsWriter(const std::string& path, std::vector<TensorSpec> specs);  // creates / truncates path
    ~SafetensorsWriter();                                                        // closes (an unfinished file stays partial)
    SafetensorsWriter(const SafetensorsWriter&) = delete;
    SafetensorsWriter& operator=(const SafetensorsWriter&) = delete;

    const std::vector<TensorSpec>& order() const { return specs_; }
    void append(const void* data, size_t n);  // the next bytes of the current tensor
    // Flushes, fsyncs and closes; checks every tensor got exactly its bytes. Returns the file's SHA-256 (hex).
    std::string finish();
    int64_t bytes_written() const { return written_; }  // header included
    int64_t file_size() const { return file_size_; }    // the size the file will have

private:
    void flush();
    std::string path_;
    int fd_ = -1;
    std::vector<TensorSpec> specs_;
    std::vector<uint8_t> buf_;
    size_t buf_len_ = 0;
    Sha256 sha_;
    int64_t written_ = 0, file_size_ = 0;
};

}  // namespace dsv32

#endif
