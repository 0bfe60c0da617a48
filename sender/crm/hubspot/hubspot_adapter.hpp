// HubSpot's CRM objects API (v3 paths, or the date-versioned paths HubSpot introduced in
// 2025: target.api_version). Requests:
//   upsert  POST {objects}/{object}/batch/upsert {"inputs":[<record>,...]} (records spliced)
//   delete  POST {objects}/{object}/batch/archive {"inputs":[{"id":<HubSpot id>},...]}; when
//           records are keyed by another unique property (email, ...), HubSpot's ids are read
//           first with batch/read by idProperty (Stage::lookup), and only those found are
//           archived (Stage::by_crm_id): a record that is not there is already gone.
//   schema  GET /crm/v3/properties/{object} before the object's first upsert: each value is
//           converted to its property's type (crm/value_conversion.hpp).
// What each answer means: the table in hubspot_adapter.cpp.
#pragma once

#include <string>

#include "crm/crm_adapter.hpp"
#include "crm/schema_cache.hpp"

namespace crmsync::sender {

class HubspotAdapter final : public CrmAdapter {
public:
    // api_version: "v3" (/crm/v3/objects/...) or a date version such as "2026-03"
    // (/crm/objects/2026-03/...).
    explicit HubspotAdapter(std::string api_version = "v3", WallClockZone time_zone = {}, PropertySource property_source = {});

    Format format() const override { return Format::hubspot; }
    Stage first_stage(const Batch& part) const override;
    Result<CrmRequest> build(Stage stage, const Batch& part, std::span<const std::string> crm_ids) const override;
    ResponseVerdict classify(Stage stage, const PartView& part, const CrmAnswer& answer,
                             std::chrono::system_clock::time_point now) override;
    QuotaReport quota(const CrmAnswer& answer) const override;
    bool needs_schema(const Batch& part) const override;
    std::vector<RecordOutcome> convert(Batch& part) const override;

    // The path of an objects endpoint: "/crm/v3/objects/contacts/batch/upsert".
    std::string objects_path(std::string_view object, std::string_view operation) const;

private:
    ResponseVerdict classify_answer(Stage stage, const PartView& part, const CrmAnswer& answer,
                                    std::chrono::system_clock::time_point now);
    ResponseVerdict classify_schema(const PartView& part, const CrmAnswer& answer,
                                    std::chrono::system_clock::time_point now);

    std::string api_version_;
    WallClockZone time_zone_;
    PropertySource property_source_;
    SchemaCache schemas_;
};

// HubSpot deletes by its own id when the records are keyed by it.
bool keyed_by_hubspot_id(std::string_view id_field);

}  // namespace crmsync::sender
