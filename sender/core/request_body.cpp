#include "core/request_body.hpp"

#include "core/rapidjson.hpp"

#include <vector>

namespace crmsync::sender {

std::string_view method_name(HttpMethod method) { return method == HttpMethod::patch ? "PATCH" : "POST"; }

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

namespace {

void append_json_string(std::string& out, std::string_view value) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
    out.append(buffer.GetString(), buffer.GetSize());
}

// {"<field>":[r1,r2,...]} spliced from each entry's bytes.
template <class Bytes>
std::string splice_array(std::string_view prefix, const Batch& batch, Bytes bytes_of, std::string_view suffix) {
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

std::string hubspot_objects_path(const Batch& batch, std::string_view operation) {
    return "/crm/v3/objects/" + encode_path_segment(batch.object) + "/batch/" + std::string(operation);
}

std::string salesforce_base() { return "/services/data/" + std::string(kSalesforceApiVersion); }

}  // namespace

CrmRequest build_hubspot_archive(const Batch& batch, std::span<const std::string> hubspot_ids) {
    CrmRequest request;
    request.path = hubspot_objects_path(batch, "archive");
    request.body = R"({"inputs":[)";
    for (std::size_t i = 0; i < hubspot_ids.size(); ++i) {
        if (i) request.body += ',';
        request.body += R"({"id":)";
        append_json_string(request.body, hubspot_ids[i]);
        request.body += '}';
    }
    request.body += "]}";
    request.idempotency_key = idempotency_key(batch.first_event(), batch.last_event()) + "-archive";
    return request;
}

Result<CrmRequest> build_request(Format format, const Batch& batch) {
    if (batch.entries.empty()) return Error{"empty batch"};
    CrmRequest request;
    request.idempotency_key = idempotency_key(batch.first_event(), batch.last_event());

    if (format == Format::webhook) {
        for (const auto& entry : batch.entries)
            if (!entry.whole_message) return Error{"webhook batch holds a coalesced record"};
        request.body = splice_array(R"({"events":[)", batch, [](const BatchEntry& e) { return e.message(); }, "]}");
        return request;
    }

    for (const auto& entry : batch.entries)
        if (entry.action != batch.action || entry.object != batch.object || !entry.key)
            return Error{"batch mixes objects or actions, or holds a keyless record"};

    if (format == Format::hubspot) {
        if (batch.action == Action::upsert) {
            request.path = hubspot_objects_path(batch, "upsert");
            request.body = splice_array(R"({"inputs":[)", batch, [](const BatchEntry& e) { return e.record(); }, "]}");
            return request;
        }
        if (batch.action == Action::delete_) {
            if (batch.id_field.empty() || batch.id_field == "hs_object_id") {
                std::vector<std::string> ids;
                ids.reserve(batch.entries.size());
                for (const auto& entry : batch.entries) ids.push_back(*entry.key);
                return build_hubspot_archive(batch, ids);
            }
            request.path = hubspot_objects_path(batch, "read");
            // The idProperty comes back too, so each HubSpot id can be matched to its key.
            request.body = R"({"idProperty":)";
            append_json_string(request.body, batch.id_field);
            request.body += R"(,"properties":[)";
            append_json_string(request.body, batch.id_field);
            request.body += R"(,"hs_object_id"],"propertiesWithHistory":[],"inputs":[)";
            for (std::size_t i = 0; i < batch.entries.size(); ++i) {
                if (i) request.body += ',';
                request.body += R"({"id":)";
                append_json_string(request.body, *batch.entries[i].key);
                request.body += '}';
            }
            request.body += "]}";
            request.hubspot_lookup_then_archive = true;
            return request;
        }
    }

    if (format == Format::salesforce) {
        if (batch.id_field.empty()) return Error{"salesforce batch without an external-id field"};
        if (batch.action == Action::upsert) {
            if (batch.entries.size() > kSalesforceCollectionLimit) return Error{"salesforce batch over 200 records"};
            request.method = HttpMethod::patch;
            request.path = salesforce_base() + "/composite/sobjects/" + encode_path_segment(batch.object) + "/" +
                           encode_path_segment(batch.id_field);
            request.body = splice_array(R"({"allOrNone":false,"records":[)", batch,
                                        [](const BatchEntry& e) { return e.record(); }, "]}");
            return request;
        }
        if (batch.action == Action::delete_) {
            if (batch.entries.size() > kSalesforceCompositeLimit) return Error{"salesforce composite over 25 subrequests"};
            request.path = salesforce_base() + "/composite";
            const std::string prefix = salesforce_base() + "/sobjects/" + encode_path_segment(batch.object) + "/" +
                                       encode_path_segment(batch.id_field) + "/";
            request.body = R"({"allOrNone":false,"compositeRequest":[)";
            for (std::size_t i = 0; i < batch.entries.size(); ++i) {
                if (i) request.body += ',';
                request.body += R"({"method":"DELETE","url":)";
                append_json_string(request.body, prefix + encode_path_segment(*batch.entries[i].key));
                request.body += R"(,"referenceId":"d)" + std::to_string(i) + "\"}";
            }
            request.body += "]}";
            return request;
        }
    }
    return Error{std::string(format_name(format)) + " cannot deliver " + std::string(action_name(batch.action))};
}

}  // namespace crmsync::sender
