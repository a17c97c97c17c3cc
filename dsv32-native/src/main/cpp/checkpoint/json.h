// json.h: a small hand-written JSON parser (config.json, safetensors headers, test case files).
// Strict RFC 8259 subset: no comments, no trailing commas; nesting depth limited; errors carry the byte offset.
#ifndef DSV32_CHECKPOINT_JSON_H
#define DSV32_CHECKPOINT_JSON_H

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace dsv32 {

class Json {
public:
    enum Type { NUL, BOOL, NUMBER, STRING, ARRAY, OBJECT };

    Json() = default;
    Type type() const { return type_; }
    bool is_null() const { return type_ == NUL; }
    bool is_bool() const { return type_ == BOOL; }
    bool is_number() const { return type_ == NUMBER; }
    bool is_string() const { return type_ == STRING; }
    bool is_array() const { return type_ == ARRAY; }
    bool is_object() const { return type_ == OBJECT; }

    bool as_bool() const { return b_; }
    double as_number() const { return num_; }
    const std::string& as_string() const { return str_; }
    const std::vector<Json>& items() const { return arr_; }
    const std::vector<std::pair<std::string, Json>>& members() const { return obj_; }

    // Object lookup: nullptr if absent or not an object.
    const Json* find(const std::string& key) const;

    // Parses text; throws std::runtime_error("... at offset N") on malformed input.
    static Json parse(const std::string& text);
    static Json parse(const char* data, size_t len);

private:
    friend class JsonParser;
    Type type_ = NUL;
    bool b_ = false;
    double num_ = 0;
    std::string str_;
    std::vector<Json> arr_;
    std::vector<std::pair<std::string, Json>> obj_;
};

}  // namespace dsv32

#endif
