// The parts of a CRM request every adapter shares (crm/*/): the request itself, the
// Idempotency-Key, URL joining and escaping, and records spliced byte for byte from the
// plugin's output (only our own small strings, keys and ids, are escaped here).
#pragma once

#include <string>
#include <string_view>

#include "core/batcher.hpp"
#include "core/lsn.hpp"

namespace crmsync::sender {

enum class HttpMethod { get, post, patch, delete_ };
std::string_view method_name(HttpMethod method);

struct CrmRequest {
    HttpMethod method = HttpMethod::post;
    std::string path;             // appended to target.url (see join_url); empty: the url itself
    std::string body;             // application/json; empty for GET
    std::string idempotency_key;  // the Idempotency-Key header; empty: none
};

// prefix + each entry's record, comma-separated + suffix.
std::string splice_records(std::string_view prefix, const Batch& batch, std::string_view suffix);
// prefix + each entry's whole plugin message, comma-separated + suffix.
std::string splice_messages(std::string_view prefix, const Batch& batch, std::string_view suffix);

// A JSON string literal of `value`, appended to `out`.
void append_json_string(std::string& out, std::string_view value);

// "crmsync-<first lsn>-<first seq>-<last lsn>-<last seq>": stable across retries of the same
// batch, distinct for every batch (each event is in exactly one).
std::string idempotency_key(EventId first, EventId last);

// base "https://api.hubapi.com/" + path "/crm/..." without doubling the slash.
std::string join_url(std::string_view base, std::string_view path);

// RFC 3986 percent-encoding of one path segment (everything but unreserved characters).
std::string encode_path_segment(std::string_view segment);

}  // namespace crmsync::sender
