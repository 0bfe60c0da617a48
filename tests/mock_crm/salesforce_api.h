// Salesforce REST endpoints the sender uses, shaped like the real API (v59.0; any vNN.N path):
//   PATCH  /services/data/vNN.N/composite/sobjects/{SObject}/{ExternalIdField}
//          sObject Collections upsert, one result per record, allOrNone honoured
//   DELETE /services/data/vNN.N/sobjects/{SObject}/{ExternalIdField}/{value}
//   POST   /services/data/vNN.N/composite   (DELETE subrequests only)
//          a delete cascades to, clears, or is restricted by the records looking the deleted
//          one up, per each lookup field's delete constraint (salesforce_api.cpp, delete_plan)
//   GET    /services/data/vNN.N/sobjects/{SObject}/describe
// Records are checked against the typed fields of salesforce_schema.h.
#pragma once

#include "api_common.h"

namespace crmsync::mock_crm {

inline constexpr size_t kSalesforceMaxRecords = 200;
inline constexpr size_t kSalesforceMaxSubrequests = 25;

// path_params: {SObject, ExternalIdField}
HttpReply salesforce_upsert(const ApiRequest& req, ApiContext& ctx);
// path_params: {SObject, ExternalIdField, value, "vNN.N"}
HttpReply salesforce_delete(const ApiRequest& req, ApiContext& ctx);
HttpReply salesforce_composite(const ApiRequest& req, ApiContext& ctx);
// GET /services/data/vNN.N/sobjects/{SObject}/describe; path_params: {SObject}
HttpReply salesforce_describe(const ApiRequest& req, ApiContext& ctx);

// An 18-character Salesforce id for the record created with this index in sobject, with the
// real key prefix for common objects and the real case-safety checksum.
std::string salesforce_record_id(std::string_view sobject, uint32_t index);
// The record index an 18- or 15-character id of sobject names (salesforce_record_id's inverse),
// or nullopt for an id of another object or one the mock never made.
std::optional<uint32_t> salesforce_index_of(std::string_view sobject, std::string_view id);

// For /_mock/state: a Salesforce record's lookups set, one member per reference field with a
// value, named by its relationship: "Account":{"Id":"001...","key":"<Account's key>"} (key null
// when that record is gone). Nothing for other objects. Caller holds the lock.
void write_record_lookups(const SharedState& shared, std::string_view sobject, const CrmState::RecordRef& r,
                          JsonWriter& w);

}  // namespace crmsync::mock_crm
