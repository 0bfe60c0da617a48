// Salesforce's REST API (target.api_version, default v59.0). Requests:
//   upsert  PATCH /services/data/vNN.N/composite/sobjects/{SObject}/{ExternalIdField}
//           {"allOrNone":false,"records":[<record>,...]} (sObject Collections, ≤ 200 records)
//   delete  POST /services/data/vNN.N/composite, one DELETE subrequest per record by external id
//           (≤ 25; the API has no collection delete by external id)
//   verify  GET /services/data/vNN.N/sobjects/{SObject}/describe: before a delete's 404 is taken
//           as "already gone", that the sObject and its external id field exist (a 404 also
//           means a wrong object or field name, or one the integration user cannot see)
//   schema  the same describe before the sObject's first upsert: each value is converted to its
//           field's type (crm/value_conversion.hpp)
// What each answer means: the tables in salesforce_adapter.cpp.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "crm/crm_adapter.hpp"
#include "crm/schema_cache.hpp"

namespace crmsync::sender {

// The REST API version used when target.api_version is not set.
inline constexpr std::string_view kDefaultSalesforceApiVersion = "v59.0";

class SalesforceAdapter final : public CrmAdapter {
public:
    explicit SalesforceAdapter(std::string api_version = std::string(kDefaultSalesforceApiVersion),
                               WallClockZone time_zone = {}, PropertySource property_source = {});

    Format format() const override { return Format::salesforce; }
    Stage first_stage(const Batch&) const override { return Stage::send; }
    Result<CrmRequest> build(Stage stage, const Batch& part, std::span<const std::string> crm_ids) const override;
    ResponseVerdict classify(Stage stage, const PartView& part, const CrmAnswer& answer,
                             std::chrono::system_clock::time_point now) override;
    QuotaReport quota(const CrmAnswer& answer) const override;
    bool needs_schema(const Batch& part) const override;
    std::vector<RecordOutcome> convert(Batch& part) const override;

    std::string base_path() const { return "/services/data/" + api_version_; }

private:
    ResponseVerdict classify_answer(Stage stage, const PartView& part, const CrmAnswer& answer,
                                    std::chrono::system_clock::time_point now);
    ResponseVerdict classify_describe(const PartView& part, const CrmAnswer& answer);
    ResponseVerdict classify_schema(const PartView& part, const CrmAnswer& answer,
                                    std::chrono::system_clock::time_point now);
    ResponseVerdict classify_composite_delete(const PartView& part, const CrmAnswer& answer);

    std::string api_version_;
    WallClockZone time_zone_;
    PropertySource property_source_;
    SchemaCache schemas_;
    // (sObject, external id field) confirmed to exist and be usable as an external id.
    std::map<std::pair<std::string, std::string>, bool> verified_;
};

// Salesforce's per-record error codes (StatusCode) by what they mean for the record.
enum class SalesforceErrorClass {
    transient,      // try the record again later
    configuration,  // the mapping or the org's setup is wrong: every record would fail
    rejected,       // this record's data was refused: dead-letter it
    gone,           // a delete of a record that is already deleted
};
SalesforceErrorClass classify_salesforce_error(std::string_view status_code);

}  // namespace crmsync::sender
