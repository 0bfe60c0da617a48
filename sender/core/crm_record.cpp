#include "core/crm_record.hpp"

#include "core/rapidjson.hpp"

namespace crmsync::sender {

std::string_view format_name(Format format) {
    switch (format) {
        case Format::webhook: return "webhook";
        case Format::hubspot: return "hubspot";
        case Format::salesforce: return "salesforce";
    }
    return "?";
}

std::optional<Format> parse_format(std::string_view name) {
    if (name == "webhook") return Format::webhook;
    if (name == "hubspot") return Format::hubspot;
    if (name == "salesforce") return Format::salesforce;
    return std::nullopt;
}

std::size_t max_batch_records(Format format) {
    switch (format) {
        case Format::hubspot: return kHubspotBatchLimit;
        case Format::salesforce: return kSalesforceCollectionLimit;
        case Format::webhook: return kWebhookBatchLimit;
    }
    return 1;
}

std::size_t default_batch_records(Format format) {
    return format == Format::webhook ? kDefaultWebhookBatch : max_batch_records(format);
}

std::size_t api_batch_limit(Format format, Action action) {
    if (format == Format::salesforce && action == Action::delete_) return kSalesforceCompositeLimit;
    return max_batch_records(format);
}

std::optional<std::string> undeliverable_reason(Format format, const PluginMessage& message) {
    if (message.action == Action::commit) return "commit markers are not delivered";
    if (format == Format::webhook) return std::nullopt;  // the receiver sees every event verbatim

    const std::string name(format_name(format));
    if (message.error) return "plugin reported: " + *message.error;
    switch (message.action) {
        case Action::upsert:
        case Action::delete_:
            if (!message.key) return std::string(action_name(message.action)) + " without a key cannot be sent to " + name;
            return std::nullopt;
        case Action::truncate: return name + " has no truncate; truncate of " + message.table.value_or("?") + " not applied";
        case Action::message: return "logical decoding messages are delivered to webhook targets only, not to " + name;
        case Action::commit: break;
    }
    return "not deliverable";
}

namespace {

// Stops the parse (by returning false) as soon as the id field is known.
struct IdFieldFinder : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, IdFieldFinder> {
    Format format;
    int depth = 0;
    bool expect_id_property_value = false;
    std::optional<std::string> found;

    bool StartObject() {
        ++depth;
        return true;
    }
    bool EndObject(rapidjson::SizeType) {
        --depth;
        return true;
    }
    bool StartArray() {
        ++depth;
        return true;
    }
    bool EndArray(rapidjson::SizeType) {
        --depth;
        return true;
    }
    bool Key(const char* s, rapidjson::SizeType n, bool) {
        if (depth != 1) return true;
        const std::string_view key(s, n);
        if (format == Format::hubspot) {
            expect_id_property_value = key == "idProperty";
            return true;
        }
        if (key == "attributes") return true;
        found = std::string(key);
        return false;
    }
    bool String(const char* s, rapidjson::SizeType n, bool) {
        if (depth == 1 && expect_id_property_value) {
            found = std::string(s, n);
            return false;
        }
        return true;
    }
    bool Default() {
        expect_id_property_value = false;
        return true;
    }
};

}  // namespace

Result<std::string> record_id_field(Format format, std::string_view record) {
    if (format == Format::webhook || record == "null") return std::string();
    try {
        IdFieldFinder finder;
        finder.format = format;
        rapidjson::MemoryStream stream(record.data(), record.size());
        rapidjson::Reader reader;
        auto parsed = reader.Parse<rapidjson::kParseNumbersAsStringsFlag>(stream, finder);
        if (finder.found) return *finder.found;
        if (parsed.IsError())
            return Error{std::string("record is not valid JSON: ") + rapidjson::GetParseError_En(parsed.Code()) +
                         " at byte " + std::to_string(parsed.Offset())};
    } catch (const std::exception& e) {
        return Error{std::string("record: ") + e.what()};
    }
    return Error{format == Format::hubspot ? "hubspot record without \"idProperty\""
                                           : "salesforce record without a field after \"attributes\""};
}

}  // namespace crmsync::sender
