// HubSpot associations (v4): the association types a portal has between two object types, and
// the associations between records, kept both ways as HubSpot shows them.
//
// Sources (cited again where each behaviour is implemented):
//   "Associations v4" guide, https://developers.hubspot.com/docs/api-reference/crm-associations-v4/guide
//     (also https://developers.hubspot.com/docs/api/crm/associations): association types are
//     directional ("Association types are unidirectional": a contact-to-company type has its own
//     id, the company-to-contact one another); the HubSpot-defined types, among them unlabeled
//     and Primary; "Unlabeled: an association type added when any ... record is associated ...
//     When a record has a primary association or a custom association label, those types will be
//     listed alongside the unlabeled association type"; "You can create up to 10 association
//     types between each object pairing".
//   HubSpot's OpenAPI specs, https://github.com/HubSpot/HubSpot-public-api-spec-collection,
//     PublicApiSpecs/CRM/Associations/Rollouts/130902/v4/associations.json and
//     PublicApiSpecs/CRM/Associations Schema/Rollouts/130902/v4/associationsSchema.json
//     (AssociationSpec {associationCategory, associationTypeId}, category enum
//     HUBSPOT_DEFINED/USER_DEFINED/INTEGRATOR_DEFINED; typeId "uniquely identif[ies] a specific
//     association type within its Association Category"; PublicAssociationDefinitionCreateRequest
//     {name, label required; inverseLabel}).
//   "Associate records" in the knowledge base, https://knowledge.hubspot.com/records/associate-records:
//     "Associations are always two-way (i.e., if record A is associated to record B, record B is
//     also associated to record A)".
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "json.h"

namespace crmsync::mock_crm {

struct AssociationSpec {
    std::string category;  // HUBSPOT_DEFINED, USER_DEFINED
    int64_t type_id = 0;
    auto operator<=>(const AssociationSpec&) const = default;
};

struct AssociationType {
    std::string from;  // object names as the mock keeps them: "contacts", "companies", ...
    std::string to;
    AssociationSpec spec;
    std::optional<std::string> label;  // null for the unlabeled type
    int64_t inverse_type_id = 0;       // the same association seen from `to`, same category
    bool unlabeled = false;            // the default (most generic) type of the pair
    bool primary = false;              // at most one per from-record (the "Primary" company)
    std::string name;                  // USER_DEFINED: the name it was created with
};

// The association definitions of the portal: HubSpot's own between contacts, companies and
// deals, and the labels created through POST .../labels.
class HubSpotAssociationTypes {
public:
    HubSpotAssociationTypes();  // HubSpot's defined types

    std::vector<const AssociationType*> between(std::string_view from, std::string_view to) const;
    const AssociationType* find(std::string_view from, std::string_view to, const AssociationSpec& spec) const;
    const AssociationType* unlabeled(std::string_view from, std::string_view to) const;
    const AssociationType* inverse(const AssociationType& t) const;

    // POST /crm/v4/associations/{from}/{to}/labels. On success (200) `created` holds the new
    // from->to type and its inverse; else the HTTP status and the message.
    std::pair<int, std::string> create_label(std::string_view from, std::string_view to, const rapidjson::Value& body,
                                             std::vector<const AssociationType*>& created);

    // The state file keeps created labels, as a portal keeps its schema:
    // [{"from","to","typeId","name","label","inverseTypeId","inverseLabel"}...].
    bool has_custom() const;
    void write_custom(JsonWriter& w) const;
    std::string read_custom(const rapidjson::Value& saved);  // "" or what is wrong

    void reset();

private:
    std::vector<AssociationType> types_;
    int64_t next_user_type_id_ = 1;
};

// A record as associations name it: its object and creation index (the HubSpot id derives
// from the index, hubspot_api.h).
struct RecordAddress {
    std::string object;
    uint32_t index = 0;
    auto operator<=>(const RecordAddress&) const = default;
};

// The associations between records. Each directed entry from->to carries the types seen from
// `from`; the caller adds both directions (HubSpot shows an association from either side).
class AssociationStore {
public:
    using Types = std::set<AssociationSpec>;

    bool add(const RecordAddress& from, const RecordAddress& to, const AssociationSpec& spec);
    // Removes `spec` from every association of `from` (a Primary moving to another record).
    std::vector<RecordAddress> remove_type_from_all(const RecordAddress& from, const AssociationSpec& spec);
    void remove_type(const RecordAddress& from, const RecordAddress& to, const AssociationSpec& spec);
    // Removes every type between a and b, both ways; whether there was any.
    bool remove_between(const RecordAddress& a, const RecordAddress& b);
    // Removes every association of r, both ways (the record was archived).
    void remove_record(const RecordAddress& r);

    // The records of to_object associated from `from`, with the types seen from `from`.
    std::map<RecordAddress, Types> targets(const RecordAddress& from, std::string_view to_object) const;
    // Every association of `from`, to any object.
    const std::map<RecordAddress, Types>* all_of(const RecordAddress& from) const;

    bool empty() const { return edges_.empty(); }
    void clear() { edges_.clear(); }

    // The state file: [[fromObject, fromIndex, toObject, toIndex, category, typeId], ...], every
    // directed entry, sorted.
    void write_saved(JsonWriter& w) const;
    // Replaces the store with the saved entries; "" or what is wrong, naming where.
    std::string read_saved(const rapidjson::Value& saved);

private:
    std::map<RecordAddress, std::map<RecordAddress, Types>> edges_;
};

// HubSpot's object type id for the mock's object name ("contacts" -> "0-1"); custom objects
// keep their name. ("Understanding the CRM", https://developers.hubspot.com/docs/api/crm/understanding-the-crm.)
std::string hubspot_object_type_id(std::string_view object);

}  // namespace crmsync::mock_crm
