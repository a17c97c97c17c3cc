// convert.h: pre-shards a Hugging Face checkpoint for mp ranks into the per-rank files the official convert.py writes
// (architecture.md §2.2): model{rank}-mp{mp}.safetensors with convert.py's tensor names and slices, tensors kept in
// their stored dtypes (FP8 bytes and their scales as they are, no requantisation), plus config.json, the *token*
// files and a manifest (dsv32-convert.json: mp, the source files, each output file's size and SHA-256).
#ifndef DSV32_MODEL_CONVERT_H
#define DSV32_MODEL_CONVERT_H

#include <cstdint>
#include <stdexcept>
#include <string>

#include "model/model.h"

namespace dsv32 {

// A request convert refuses (bad mp, output directory not empty, output = input): an option error.
struct ConvertOptionError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

struct ConvertOptions {
    std::string src_dir, out_dir;
    int mp = 1;
    int n_threads = 0;   // files written / verified at once; 0 = one per core (at most mp)
    bool force = false;  // out_dir may hold files: the rank files, manifest and *.safetensors there are replaced
};

struct ConvertResult {
    int files = 0;        // rank files written
    int64_t tensors = 0;  // tensors in them, all ranks
    int64_t bytes = 0;    // bytes of the rank files
    bool verified = false;
};

// Stages reported (bytes): "map", "validate", "shard" (the source opened and split exactly as dsv32_model_open does),
// "convert" (rank file bytes written), "verify" (rank file bytes re-read and compared). Called on this thread only.
// The rank files are written under hidden temporary names, re-opened and checked tensor by tensor against
// shard_weights' views of the source (byte equality) and against their SHA-256, and renamed at the end (the manifest
// last): an interrupted convert leaves nothing that looks complete. Throws ConvertOptionError / ShardError for
// requests that cannot be done, std::runtime_error naming the file and tensor otherwise.
ConvertResult convert_checkpoint(const ConvertOptions& options, const Progress& progress = {});

}  // namespace dsv32

#endif
