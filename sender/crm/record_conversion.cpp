#include "crm/record_conversion.hpp"

#include <vector>

#include "core/rapidjson.hpp"
#include "core/request_body.hpp"

namespace crmsync::sender {
namespace {

// Reads the record with RapidJSON's SAX reader (numbers kept as their digits) and notes where
// each property value starts and ends, so a converted value replaces exactly those bytes.
class PropertyScanner : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, PropertyScanner> {
public:
    PropertyScanner(ValueDialect dialect, std::string_view record, const rapidjson::MemoryStream& stream,
                    const CrmObjectSchema& schema, std::string_view id_field, const WallClockZone& zone)
        : dialect_(dialect), record_(record), stream_(stream), schema_(schema), id_field_(id_field), zone_(zone) {}

    struct Replacement {
        std::size_t begin, end;
        std::string json;
    };
    std::vector<Replacement> replacements;
    std::optional<ValueRefusal> refusal;

    bool StartObject() {
        // HubSpot: the object under the top-level "properties" key.
        if (dialect_ == ValueDialect::hubspot && level_ == 1 && key_ == "properties") properties_level_ = 2;
        ++level_;
        return true;
    }
    bool EndObject(rapidjson::SizeType) {
        if (level_ == properties_level_) properties_level_ = 0;
        --level_;
        return true;
    }
    bool StartArray() {
        ++level_;
        return true;
    }
    bool EndArray(rapidjson::SizeType) {
        --level_;
        return true;
    }
    bool Key(const char* text, rapidjson::SizeType size, bool) {
        key_.assign(text, size);
        key_end_ = stream_.Tell();
        return true;
    }
    bool Null() { return scalar(JsonScalar::Kind::null, "null", 4); }
    bool Bool(bool b) { return b ? scalar(JsonScalar::Kind::boolean, "true", 4) : scalar(JsonScalar::Kind::boolean, "false", 5); }
    bool RawNumber(const char* text, rapidjson::SizeType size, bool) { return scalar(JsonScalar::Kind::number, text, size); }
    bool String(const char* text, rapidjson::SizeType size, bool) { return scalar(JsonScalar::Kind::string, text, size); }

private:
    bool at_property() const {
        if (dialect_ == ValueDialect::hubspot) return properties_level_ != 0 && level_ == properties_level_;
        return level_ == 1 && key_ != "attributes" && key_ != id_field_;
    }

    bool scalar(JsonScalar::Kind kind, const char* text, rapidjson::SizeType size) {
        if (!at_property()) return true;
        const CrmProperty* property = schema_.find(key_);
        if (!property) return true;
        JsonScalar value{kind, std::string(text, size)};
        auto converted = convert_value(dialect_, *property, value, zone_);
        if (!converted) {
            ValueRefusal r;
            r.property = key_;
            r.property_type = property->raw_type;
            r.value = value.text.size() > 200 ? value.text.substr(0, 200) + "..." : value.text;
            r.reason = converted.error();
            refusal = std::move(r);
            return false;  // the first refusal is enough: the record is not sent
        }
        if (!*converted) return true;
        // The value starts after the key's closing quote, the colon and any blanks.
        std::size_t begin = key_end_;
        while (begin < record_.size() && (record_[begin] == ':' || record_[begin] == ' ' || record_[begin] == '\t' ||
                                          record_[begin] == '\n' || record_[begin] == '\r'))
            ++begin;
        replacements.push_back({begin, stream_.Tell(), std::move(**converted)});
        return true;
    }

    ValueDialect dialect_;
    std::string_view record_;
    const rapidjson::MemoryStream& stream_;
    const CrmObjectSchema& schema_;
    std::string_view id_field_;
    const WallClockZone& zone_;
    int level_ = 0;
    int properties_level_ = 0;
    std::string key_;
    std::size_t key_end_ = 0;
};

}  // namespace

ConvertedRecord convert_record(ValueDialect dialect, std::string_view record, const CrmObjectSchema& schema,
                               std::string_view id_field, const WallClockZone& zone) {
    ConvertedRecord out;
    rapidjson::MemoryStream stream(record.data(), record.size());
    PropertyScanner scanner(dialect, record, stream, schema, id_field, zone);
    rapidjson::Reader reader;
    try {
        reader.Parse<rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseStopWhenDoneFlag>(stream, scanner);
    } catch (const std::logic_error&) {
        return out;  // not what the plugin writes: sent as it is, the CRM answers for it
    }
    if (scanner.refusal) {
        out.refusal = std::move(scanner.refusal);
        return out;
    }
    if (reader.HasParseError() || scanner.replacements.empty()) return out;
    std::string rewritten;
    rewritten.reserve(record.size() + 16 * scanner.replacements.size());
    std::size_t at = 0;
    for (const auto& r : scanner.replacements) {
        rewritten.append(record.substr(at, r.begin - at));
        rewritten += r.json;
        at = r.end;
    }
    rewritten.append(record.substr(at));
    out.record = std::move(rewritten);
    return out;
}

std::vector<RecordOutcome> convert_batch(ValueDialect dialect, const CrmObjectSchema* schema, Batch& part,
                                         const WallClockZone& zone, const PropertySource& source) {
    std::vector<RecordOutcome> refused;
    if (!schema || part.action != Action::upsert) return refused;
    const char* crm = dialect == ValueDialect::hubspot ? "HubSpot" : "Salesforce";
    for (std::size_t i = 0; i < part.entries.size(); ++i) {
        BatchEntry& entry = part.entries[i];
        ConvertedRecord converted = convert_record(dialect, entry.record(), *schema, part.id_field, zone);
        if (converted.refusal) {
            const ValueRefusal& r = *converted.refusal;
            std::string value;
            append_json_string(value, r.value);
            const std::string from = source ? source(part.object, r.property) : std::string();
            refused.push_back({i, RecordOutcome::Kind::rejected,
                               "property \"" + r.property + "\" of " + crm + " " + part.object + " (" + r.property_type +
                                   ")" + (from.empty() ? "" : ", from " + from) + ": value " + value + " " + r.reason +
                                   "; not sent. Fix the row, or map a column whose values fit the property "
                                   "(docs/mapping.md, \"Property types\")"});
            continue;
        }
        if (!converted.record) continue;
        entry.bytes = std::move(*converted.record);
        entry.record_offset = 0;
        entry.record_size = entry.bytes.size();
        entry.whole_message = false;
    }
    return refused;
}

}  // namespace crmsync::sender
