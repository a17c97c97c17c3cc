// sha256.h: SHA-256 (FIPS 180-4), streaming; the checksums of the manifest a convert writes (model/convert.h).
#ifndef DSV32_CHECKPOINT_SHA256_H
#define DSV32_CHECKPOINT_SHA256_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace dsv32 {

class Sha256 {
public:
    Sha256();
    void update(const void* data, size_t n);
    std::string hex();  // finishes: the digest as 64 lower-case hex digits (the object is spent afterwards)

private:
    void block(const uint8_t* p);
    uint32_t h_[8];
    uint8_t buf_[64];
    size_t buf_len_ = 0;
    uint64_t total_ = 0;
};

// The SHA-256 of a whole file, read in chunks; on_bytes (may be empty) is called with the bytes read so far.
// Throws std::runtime_error naming the file when it cannot be read.
std::string sha256_file(const std::string& path, const std::function<void(int64_t done)>& on_bytes = {});

}  // namespace dsv32

#endif
