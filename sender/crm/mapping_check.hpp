// One crmsync.mappings row against the CRM's schema of its object: does every mapped property
// exist and take writes, does the id property identify one record, does each column's type fit
// its property's, can the token write the object at all. Pure: `check` fetches the schema
// (crm/*/..._schema.hpp) and prints the findings (docs/troubleshooting.md, check FAIL lines).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crm/crm_schema.hpp"

namespace crmsync::sender {

enum class SchemaCrm { hubspot, salesforce };

struct MappedColumn {
    std::string column;
    std::string pg_type;  // format_type() of the column (of a domain's base type)
    std::string property;
};

struct MappingUnderCheck {
    std::string table;  // as regclass prints it
    std::string object;
    std::string id_column;
    std::string id_column_type;
    std::optional<std::string> id_property;  // NULL: the id column's mapped name, else its own
    std::vector<MappedColumn> columns;       // the columns sent, in table order
};

struct Finding {
    enum class Severity { fail, note };
    Severity severity = Severity::fail;
    std::string what;
    std::string fix;
    bool operator==(const Finding&) const = default;
};

// The property records are matched on (docs/mapping.md, "id_property").
std::string effective_id_property(const MappingUnderCheck& mapping);

// Whether a value of a Postgres column type, in the form the plugin renders it, is accepted by
// a property of this type. The one compatibility table; lenient where the text form is taken.
enum class TypeFit { fits, fits_if_listed, does_not_fit };
TypeFit type_fit(std::string_view pg_type, CrmType property_type);

// Findings for one mapping: problems with the schema request itself (unknown object, missing
// scope) or, when the schema was read, with each property. Empty: the mapping fits.
std::vector<Finding> check_mapping(SchemaCrm crm, const MappingUnderCheck& mapping, const SchemaFetch& fetch);

// A HubSpot object against the scopes the token was granted: writing records needs
// crm.objects.<object>.write (fail); deletes read ids first (crm.objects.<object>.read, note), and
// the sender converts values with the object's properties (crm.schemas.<object>.read, note).
// `tables`: the mapped tables, for the message.
std::vector<Finding> check_hubspot_scopes(const std::string& object, const std::string& tables,
                                          const std::vector<std::string>& scopes);

}  // namespace crmsync::sender
