// One CRM record of the plugin's (HubSpot or Salesforce shape, docs/mapping.md "Record
// shapes") with each property value converted to its property's type (value_conversion.hpp).
// Only the values that change are rewritten; every other byte of the record stays as the
// plugin wrote it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/batcher.hpp"
#include "crm/crm_adapter.hpp"
#include "crm/crm_schema.hpp"
#include "crm/value_conversion.hpp"

namespace crmsync::sender {

// Why a record cannot be sent: the first value its property's type cannot take.
struct ValueRefusal {
    std::string property;
    std::string property_type;  // the CRM's own word, e.g. "date/date" (HubSpot type/fieldType), "datetime"
    std::string value;          // as rendered, shortened past 200 bytes
    std::string reason;
};

struct ConvertedRecord {
    std::optional<std::string> record;  // the rewritten record; nullopt: send it as it is
    std::optional<ValueRefusal> refusal;
};

// Properties the schema does not list pass as they are (the CRM answers for them), and so do
// the record's key (HubSpot "id", Salesforce's external-id field) and Salesforce "attributes".
// A record that is not the JSON object the plugin writes is left alone.
ConvertedRecord convert_record(ValueDialect dialect, std::string_view record, const CrmObjectSchema& schema,
                               std::string_view id_field, const WallClockZone& zone);

// Every upsert record of `part` converted in place (CrmAdapter::convert); the refused ones by
// index, with a reason that names the property, its type, where its values come from (when
// `source` knows) and the value. No schema: nothing to do.
std::vector<RecordOutcome> convert_batch(ValueDialect dialect, const CrmObjectSchema* schema, Batch& part,
                                         const WallClockZone& zone, const PropertySource& source = {});

}  // namespace crmsync::sender
