#include "api_common.h"

#include <cstdio>
#include <random>

namespace crmsync::mock_crm {

std::string writer_text(const rapidjson::StringBuffer& buf) {
    return std::string(buf.GetString(), buf.GetSize());
}

std::string hubspot_correlation_id() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    uint64_t a = rng(), b = rng();
    char out[37];
    std::snprintf(out, sizeof out, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                  static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                  static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                  static_cast<unsigned long long>(b & 0xffffffffffffULL));
    return out;
}

std::string hubspot_error_body(std::string_view category, std::string_view message) {
    // {"status":"error","message":...,"correlationId":...,"category":...}: the error shape in
    // "API usage guidelines and limits" / error handling pages and every quoted real response.
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    write_key(w, "status");
    write_string(w, "error");
    write_key(w, "message");
    write_string(w, message);
    write_key(w, "correlationId");
    write_string(w, hubspot_correlation_id());
    write_key(w, "category");
    write_string(w, category);
    w.EndObject();
    return writer_text(buf);
}

std::string salesforce_error_body(std::string_view error_code, std::string_view message) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartArray();
    w.StartObject();
    write_key(w, "message");
    write_string(w, message);
    write_key(w, "errorCode");
    write_string(w, error_code);
    w.EndObject();
    w.EndArray();
    return writer_text(buf);
}

std::string webhook_error_body(std::string_view message) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    write_key(w, "error");
    write_string(w, message);
    w.EndObject();
    return writer_text(buf);
}

std::optional<std::string> percent_decode(std::string_view segment) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    out.reserve(segment.size());
    for (size_t i = 0; i < segment.size(); ++i) {
        if (segment[i] != '%') {
            out.push_back(segment[i]);
            continue;
        }
        if (i + 2 >= segment.size()) return std::nullopt;
        int hi = hex(segment[i + 1]), lo = hex(segment[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

std::optional<std::vector<std::string>> split_path(std::string_view target) {
    target = target.substr(0, target.find('?'));
    std::vector<std::string> segments;
    size_t pos = 0;
    while (pos < target.size()) {
        if (target[pos] == '/') {
            ++pos;
            continue;
        }
        size_t end = target.find('/', pos);
        if (end == std::string_view::npos) end = target.size();
        auto decoded = percent_decode(target.substr(pos, end - pos));
        if (!decoded) return std::nullopt;
        segments.push_back(std::move(*decoded));
        pos = end;
    }
    return segments;
}

bool is_poison_value(const rapidjson::Value& v, std::string_view needle) {
    return !needle.empty() && is_string(v) && string_of(v).find(needle) != std::string_view::npos;
}

}  // namespace crmsync::mock_crm
