// safetensors.h: memory-mapped safetensors files (one or many, with model.safetensors.index.json), validated.
#ifndef DSV32_CHECKPOINT_SAFETENSORS_H
#define DSV32_CHECKPOINT_SAFETENSORS_H

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace dsv32 {

enum class DType { F8_E4M3, BF16, F16, F32 };
const char* dtype_name(DType t);
size_t dtype_size(DType t);

class MappedFile {
public:
    explicit MappedFile(const std::string& path);  // throws std::runtime_error naming the file
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }
    const std::string& path() const { return path_; }

private:
    std::string path_;
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
};

struct TensorInfo {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    const uint8_t* data;  // inside the mapping
    size_t nbytes;
    const MappedFile* file;
    int64_t numel() const {
        int64_t n = 1;
        for (int64_t d : shape) n *= d;
        return n;
    }
};

// All tensors of a checkpoint directory. Every header is validated on open: length, JSON, dtype, shape,
// offsets inside the file and consistent with shape x dtype size, no overlapping or duplicated names.
class SafetensorsSet {
public:
    // progress (may be empty): ("map", bytes of the files mapped and validated so far, bytes of all files), per file.
    explicit SafetensorsSet(const std::string& dir,
                            const std::function<void(const char* stage, int64_t done, int64_t total)>& progress = {});
    // One file only (a rank file of a converted checkpoint), validated like the files of a directory.
    static std::shared_ptr<const SafetensorsSet> open_file(const std::string& path);
    const TensorInfo* find(const std::string& name) const;
    const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
    // Bytes [p, p + n) no longer needed in memory, if they lie inside one of the mapped files: their whole pages are
    // dropped from the process (the mapping is private and read-only, so a later read faults them back in from the
    // file). Returns whether the range was found. For a tensor the engine has copied (the head in row panels).
    bool release(const void* p, size_t n) const;

private:
    SafetensorsSet() = default;
    void add_file(const std::string& path);
    std::vector<std::unique_ptr<MappedFile>> files_;
    std::map<std::string, TensorInfo> tensors_;
};

std::string shape_str(const std::vector<int64_t>& s);

}  // namespace dsv32

#endif
