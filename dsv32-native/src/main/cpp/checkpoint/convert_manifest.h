// convert_manifest.h: the manifest a convert writes next to the per-rank files (dsv32-convert.json), and finding the
// rank files model{r}-mp{N}.safetensors of a converted directory.
#ifndef DSV32_CHECKPOINT_CONVERT_MANIFEST_H
#define DSV32_CHECKPOINT_CONVERT_MANIFEST_H

#include <cstdint>
#include <string>
#include <vector>

namespace dsv32 {

constexpr const char* kManifestName = "dsv32-convert.json";

struct ConvertManifest {
    struct Source {
        std::string name;
        int64_t bytes = 0;
    };
    struct File {
        std::string name;  // model{rank}-mp{mp}.safetensors
        int rank = 0;
        int64_t bytes = 0;
        int64_t tensors = 0;
        std::string sha256;  // 64 lower-case hex digits
    };
    int mp = 0;
    std::string source_dir;
    std::vector<Source> source_files;  // the HF checkpoint's *.safetensors that were read
    std::vector<File> files;           // one per rank, in rank order

    std::string to_json() const;
    // Parses and checks the manifest (format, mp >= 1, one file per rank with its name, size and checksum);
    // throws std::runtime_error naming path and the field.
    static ConvertManifest parse(const std::string& text, const std::string& path);
};

// The rank files in dir: mp = 0 when there are none; else names[r] is rank r's file name ("" when missing). Throws
// std::runtime_error naming the directory when it holds rank files for more than one mp.
struct RankFiles {
    int mp = 0;
    std::vector<std::string> names;
    std::vector<std::string> others;  // the directory's other *.safetensors and model.safetensors.index.json
};
RankFiles find_rank_files(const std::string& dir);

// JSON string literal (quotes and escapes).
std::string json_quote(const std::string& s);

}  // namespace dsv32

#endif
