#include "checkpoint/json.h"

#include <cstdlib>
#include <cstring>

namespace dsv32 {

const Json* Json::find(const std::string& key) const {
    if (type_ != OBJECT) return nullptr;
    for (const auto& kv : obj_)
        if (kv.first == key) return &kv.second;
    return nullptr;
}

class JsonParser {
public:
    JsonParser(const char* p, size_t n) : s_(p), n_(n) {}

    Json parse_document() {
        Json v = value(0);
        ws();
        if (i_ != n_) fail("trailing characters");
        return v;
    }

private:
    const char* s_;
    size_t n_;
    size_t i_ = 0;

    [[noreturn]] void fail(const char* what) const {
        throw std::runtime_error(std::string("invalid JSON: ") + what + " at offset " + std::to_string(i_));
    }
    void ws() {
        while (i_ < n_ && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
    }
    bool lit(const char* w) {
        size_t l = std::strlen(w);
        if (n_ - i_ >= l && std::memcmp(s_ + i_, w, l) == 0) { i_ += l; return true; }
        return false;
    }
    Json value(int depth) {
        if (depth > 64) fail("nesting too deep");
        ws();
        if (i_ >= n_) fail("unexpected end");
        Json v;
        char c = s_[i_];
        if (c == '{') {
            v.type_ = Json::OBJECT;
            ++i_;
            ws();
            if (i_ < n_ && s_[i_] == '}') { ++i_; return v; }
            for (;;) {
                ws();
                if (i_ >= n_ || s_[i_] != '"') fail("expected a string key");
                std::string k = string();
                ws();
                if (i_ >= n_ || s_[i_] != ':') fail("expected ':'");
                ++i_;
                v.obj_.emplace_back(std::move(k), value(depth + 1));
                ws();
                if (i_ < n_ && s_[i_] == ',') { ++i_; continue; }
                if (i_ < n_ && s_[i_] == '}') { ++i_; return v; }
                fail("expected ',' or '}'");
            }
        }
        if (c == '[') {
            v.type_ = Json::ARRAY;
            ++i_;
            ws();
            if (i_ < n_ && s_[i_] == ']') { ++i_; return v; }
            for (;;) {
                v.arr_.push_back(value(depth + 1));
                ws();
                if (i_ < n_ && s_[i_] == ',') { ++i_; continue; }
                if (i_ < n_ && s_[i_] == ']') { ++i_; return v; }
                fail("expected ',' or ']'");
            }
        }
        if (c == '"') { v.type_ = Json::STRING; v.str_ = string(); return v; }
        if (lit("true")) { v.type_ = Json::BOOL; v.b_ = true; return v; }
        if (lit("false")) { v.type_ = Json::BOOL; v.b_ = false; return v; }
        if (lit("null")) return v;
        if (c == '-' || (c >= '0' && c <= '9')) { v.type_ = Json::NUMBER; v.num_ = number(); return v; }
        fail("unexpected character");
    }
    double number() {
        size_t st = i_;
        if (s_[i_] == '-') ++i_;
        if (i_ >= n_ || !(s_[i_] >= '0' && s_[i_] <= '9')) fail("bad number");
        if (s_[i_] == '0') ++i_;
        else while (i_ < n_ && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
        if (i_ < n_ && s_[i_] == '.') {
            ++i_;
            if (i_ >= n_ || !(s_[i_] >= '0' && s_[i_] <= '9')) fail("bad number");
            while (i_ < n_ && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
        }
        if (i_ < n_ && (s_[i_] == 'e' || s_[i_] == 'E')) {
            ++i_;
            if (i_ < n_ && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
            if (i_ >= n_ || !(s_[i_] >= '0' && s_[i_] <= '9')) fail("bad number");
            while (i_ < n_ && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
        }
        std::string tok(s_ + st, i_ - st);
        return std::strtod(tok.c_str(), nullptr);
    }
    static void utf8(std::string& o, uint32_t cp) {
        if (cp < 0x80) o += char(cp);
        else if (cp < 0x800) { o += char(0xC0 | (cp >> 6)); o += char(0x80 | (cp & 0x3F)); }
        else if (cp < 0x10000) { o += char(0xE0 | (cp >> 12)); o += char(0x80 | ((cp >> 6) & 0x3F)); o += char(0x80 | (cp & 0x3F)); }
        else { o += char(0xF0 | (cp >> 18)); o += char(0x80 | ((cp >> 12) & 0x3F)); o += char(0x80 | ((cp >> 6) & 0x3F)); o += char(0x80 | (cp & 0x3F)); }
    }
    uint32_t hex4() {
        if (n_ - i_ < 4) fail("bad \\u escape");
        uint32_t v = 0;
        for (int k = 0; k < 4; ++k) {
            char c = s_[i_++];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= uint32_t(c - '0');
            else if (c >= 'a' && c <= 'f') v |= uint32_t(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= uint32_t(c - 'A' + 10);
            else fail("bad \\u escape");
        }
        return v;
    }
    std::string string() {
        ++i_;  // opening quote
        std::string o;
        for (;;) {
            if (i_ >= n_) fail("unterminated string");
            char c = s_[i_++];
            if (c == '"') return o;
            if ((unsigned char)c < 0x20) fail("control character in string");
            if (c != '\\') { o += c; continue; }
            if (i_ >= n_) fail("unterminated string");
            char e = s_[i_++];
            switch (e) {
                case '"': o += '"'; break;
                case '\\': o += '\\'; break;
                case '/': o += '/'; break;
                case 'b': o += '\b'; break;
                case 'f': o += '\f'; break;
                case 'n': o += '\n'; break;
                case 'r': o += '\r'; break;
                case 't': o += '\t'; break;
                case 'u': {
                    uint32_t cp = hex4();
                    if (cp >= 0xD800 && cp < 0xDC00 && n_ - i_ >= 6 && s_[i_] == '\\' && s_[i_ + 1] == 'u') {
                        i_ += 2;
                        uint32_t lo = hex4();
                        if (lo >= 0xDC00 && lo < 0xE000) cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        else fail("bad surrogate pair");
                    }
                    utf8(o, cp);
                    break;
                }
                default: fail("bad escape");
            }
        }
    }
};

Json Json::parse(const char* data, size_t len) { return JsonParser(data, len).parse_document(); }
Json Json::parse(const std::string& text) { return parse(text.data(), text.size()); }

}  // namespace dsv32
