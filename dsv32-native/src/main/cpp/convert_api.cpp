// convert_api.cpp: dsv32_convert (dsv32.h), the C entry point of model/convert.h.
#include <new>
#include <string>

#include "dsv32/dsv32.h"
#include "model/convert.h"

namespace dsv32 {
void set_last_error(const std::string& msg);  // api.cpp
}

extern "C" int dsv32_convert(const char* src_dir, const char* out_dir, const dsv32_convert_options* options, dsv32_convert_result* out) {
    auto fail = [](int code, const std::string& msg) {
        dsv32::set_last_error("dsv32_convert: " + msg);
        return code;
    };
    if (!src_dir || !*src_dir) return fail(DSV32_ERR_INVALID_ARGUMENT, "src_dir is NULL or empty");
    if (!out_dir || !*out_dir) return fail(DSV32_ERR_INVALID_ARGUMENT, "out_dir is NULL or empty");
    if (!options) return fail(DSV32_ERR_INVALID_ARGUMENT, "options is NULL (mp is required)");
    const dsv32_convert_options o = *options;
    if (o.mp < 1 || o.mp > 1024) return fail(DSV32_ERR_INVALID_ARGUMENT, "mp " + std::to_string(o.mp) + " is outside [1, 1024]");
    if (o.n_threads < 0 || o.n_threads > 4096) return fail(DSV32_ERR_INVALID_ARGUMENT, "bad n_threads " + std::to_string(o.n_threads));
    dsv32::Progress progress;
    if (o.progress) {
        progress = [&o](const char* stage, int64_t done, int64_t total) {
            try {
                o.progress(o.progress_user, stage, done, total);
            } catch (...) {
                // A throwing callback must not break the convert (as for dsv32_model_open).
            }
        };
    }
    dsv32::ConvertOptions co;
    co.src_dir = src_dir;
    co.out_dir = out_dir;
    co.mp = o.mp;
    co.n_threads = o.n_threads;
    co.force = o.force != 0;
    try {
        const dsv32::ConvertResult r = dsv32::convert_checkpoint(co, progress);
        if (out) {
            out->files = r.files;
            out->verified = r.verified ? 1 : 0;
            out->tensors = r.tensors;
            out->bytes = r.bytes;
        }
        dsv32::set_last_error("");
        return DSV32_OK;
    } catch (const std::bad_alloc&) {
        return fail(DSV32_ERR_CAPACITY, std::string("out of memory converting ") + src_dir);
    } catch (const dsv32::ConvertOptionError& e) {
        return fail(DSV32_ERR_INVALID_ARGUMENT, e.what());
    } catch (const dsv32::ShardError& e) {
        return fail(DSV32_ERR_INVALID_ARGUMENT, std::string(src_dir) + ": " + e.what());
    } catch (const std::exception& e) {
        return fail(DSV32_ERR_CHECKPOINT, e.what());
    } catch (...) {
        return fail(DSV32_ERR_INTERNAL, "unknown exception");
    }
}
