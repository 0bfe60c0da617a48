#include "core/request_body.hpp"

#include "core/rapidjson.hpp"

namespace crmsync::sender {

std::string_view method_name(HttpMethod method) {
    switch (method) {
        case HttpMethod::get: return "GET";
        case HttpMethod::patch: return "PATCH";
        case HttpMethod::delete_: return "DELETE";
        case HttpMethod::post: break;
    }
    return "POST";
}

std::string idempotency_key(EventId first, EventId last) {
    return "crmsync-" + format_lsn(first.commit_lsn) + "-" + std::to_string(first.seq) + "-" +
           format_lsn(last.commit_lsn) + "-" + std::to_string(last.seq);
}

std::string join_url(std::string_view base, std::string_view path) {
    while (!base.empty() && base.back() == '/') base.remove_suffix(1);
    std::string url(base);
    if (!path.empty() && path.front() != '/') url += '/';
    url += path;
    return url;
}

std::string encode_path_segment(std::string_view segment) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(segment.size());
    for (unsigned char c : segment) {
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 0xF];
        }
    }
    return out;
}

void append_json_string(std::string& out, std::string_view value) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
    out.append(buffer.GetString(), buffer.GetSize());
}

namespace {

template <class Bytes>
std::string splice(std::string_view prefix, const Batch& batch, Bytes bytes_of, std::string_view suffix) {
    std::size_t size = prefix.size() + suffix.size() + batch.entries.size();
    for (const auto& entry : batch.entries) size += bytes_of(entry).size();
    std::string body;
    body.reserve(size);
    body += prefix;
    for (std::size_t i = 0; i < batch.entries.size(); ++i) {
        if (i) body += ',';
        body += bytes_of(batch.entries[i]);
    }
    body += suffix;
    return body;
}

}  // namespace

std::string splice_records(std::string_view prefix, const Batch& batch, std::string_view suffix) {
    return splice(prefix, batch, [](const BatchEntry& e) { return e.record(); }, suffix);
}

std::string splice_messages(std::string_view prefix, const Batch& batch, std::string_view suffix) {
    return splice(prefix, batch, [](const BatchEntry& e) { return e.message(); }, suffix);
}

}  // namespace crmsync::sender
