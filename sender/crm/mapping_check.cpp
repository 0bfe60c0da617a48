#include "crm/mapping_check.hpp"

#include <algorithm>
#include <cctype>

#include "crm/common_answers.hpp"
#include "crm/hubspot/hubspot_schema.hpp"

namespace crmsync::sender {
namespace {

// The column types the plugin renders differently (docs/mapping.md, type rendering); every
// other type goes out as its text form.
enum class PgKind { boolean, integer, numeric, date, timestamp, array, text };

PgKind pg_kind(std::string_view t) {
    if (t.ends_with("[]")) return PgKind::array;
    if (t == "boolean") return PgKind::boolean;
    if (t == "smallint" || t == "integer" || t == "bigint") return PgKind::integer;
    if (t.starts_with("numeric") || t == "real" || t == "double precision") return PgKind::numeric;
    if (t == "date") return PgKind::date;
    if (t.starts_with("timestamp")) return PgKind::timestamp;
    return PgKind::text;
}

// For the fix text: which column types a property type takes (type_fit's table in words).
std::string takes(CrmType type) {
    switch (type) {
        case CrmType::number: return "integer, numeric, real and double precision columns";
        case CrmType::boolean: return "boolean columns";
        case CrmType::date: return "date, timestamp and timestamptz columns (a timestamp goes out as its day)";
        case CrmType::datetime: return "timestamp, timestamptz and date columns";
        case CrmType::id:
        case CrmType::reference: return "text columns holding record ids";
        default: return "non-array columns";
    }
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

size_t distance(const std::string& a, const std::string& b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = up;
        }
    }
    return row[b.size()];
}

// Up to three names a typo or a case slip away from the missing one.
std::string close_names(const CrmObjectSchema& schema, std::string_view missing) {
    const std::string want = lower(missing);
    std::vector<std::pair<size_t, std::string>> near;
    for (const auto& p : schema.properties) {
        const size_t d = distance(want, lower(p.name));
        if (d <= 2) near.emplace_back(d, p.name);
    }
    std::stable_sort(near.begin(), near.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string out;
    for (size_t i = 0; i < near.size() && i < 3; ++i) out += (i ? ", " : "") + near[i].second;
    return out.empty() ? "" : " (close names: " + out + ")";
}

std::string options_text(const CrmProperty& p) {
    if (p.options.empty()) return "it lists no options";
    std::string out = "options: ";
    for (size_t i = 0; i < p.options.size() && i < 10; ++i) out += (i ? ", " : "") + p.options[i];
    if (p.options.size() > 10) out += ", ... (" + std::to_string(p.options.size()) + " in all)";
    return out;
}

class Rules {
public:
    Rules(SchemaCrm crm, const MappingUnderCheck& m, const CrmObjectSchema& schema)
        : hs_(crm == SchemaCrm::hubspot), m_(m), schema_(schema) {}

    std::vector<Finding> run() {
        if (!hs_ && (!schema_.creatable || !schema_.updatable))
            fail("the integration user cannot " +
                     std::string(!schema_.creatable && !schema_.updatable ? "create or update"
                                 : !schema_.creatable                     ? "create"
                                                                          : "update") +
                     " Salesforce " + m_.object + " records (describe: createable " + bool_text(schema_.creatable) +
                     ", updateable " + bool_text(schema_.updatable) + "); " + m_.table + " is mapped to it",
                 "Give the user's profile or a permission set Read, Create and Edit on " + m_.object + ".");
        const std::string id_property = effective_id_property(m_);
        check_id_property(id_property);
        for (const auto& c : m_.columns) check_column(c, id_property);
        return std::move(findings_);
    }

private:
    static std::string bool_text(bool b) { return b ? "true" : "false"; }

    void fail(std::string what, std::string fix) {
        findings_.push_back({Finding::Severity::fail, std::move(what), std::move(fix)});
    }
    void note(std::string what, std::string fix) {
        findings_.push_back({Finding::Severity::note, std::move(what), std::move(fix)});
    }

    std::string where(const std::string& property) const {
        return (hs_ ? "HubSpot property " : "Salesforce field ") + m_.object + "." + property;
    }

    void missing(const std::string& property, const std::string& source) {
        if (hs_)
            fail("HubSpot object " + m_.object + " has no property \"" + property + "\" (" + source + ")",
                 "Create it in HubSpot (Settings > Properties) with that internal name, or map to an existing "
                 "property with crmsync.map()" + close_names(schema_, property) + ".");
        else
            fail("Salesforce object " + m_.object + " has no field \"" + property +
                     "\" the integration user can see (" + source + ")",
                 "Create it in Setup (Object Manager > " + m_.object +
                     " > Fields & Relationships) and grant the user field-level security on it, or map to an "
                     "existing field with crmsync.map()" + close_names(schema_, property) + ".");
    }

    void check_id_property(const std::string& id_property) {
        const std::string source = "the id property of " + m_.table;
        if (!hs_ && answers::iequals(id_property, "Id")) {
            fail("Salesforce cannot upsert " + m_.object + " by Id (" + source + "): Id is not an External ID field",
                 "Create an External ID field (Unique) for the key in Setup and name it as id_property with "
                 "crmsync.map().");
            return;
        }
        const CrmProperty* p = lookup(id_property);
        if (!p) {
            missing(id_property, source);
            return;
        }
        // Salesforce upserts match on an External ID field or an idLookup field and answer 300
        // when the key matches several records ("Upsert a record using an external ID",
        // https://developer.salesforce.com/docs/platform/api-rest/guide/resources-sobject-upsert-patch.md).
        if (hs_) {
            // "Batch upsert" (https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/batch/upsert-contacts):
            // idProperty is a property with unique values; contacts match by email natively.
            // hs_object_id is HubSpot's own record id, which the adapter keys deletes by directly.
            const bool native = (m_.object == "contacts" && id_property == "email") || id_property == "hs_object_id";
            if (!native && !p->unique_or_external_id)
                fail(where(id_property) + " (" + source + ") does not have unique values: HubSpot cannot upsert by it",
                     "HubSpot upserts only by a property with hasUniqueValue true, which is set when the property "
                     "is created: create one and name it as id_property with crmsync.map()" +
                         std::string(m_.object == "contacts" ? ", or match contacts on email" : "") + ".");
        } else if (p->unique_or_external_id) {
            if (!p->unique)
                note(where(id_property) + " (" + source + ") is an External ID but not Unique: a key shared by "
                         "several records answers 300 and that row goes to the dead letters",
                     "Mark the field Unique in Setup, or keep the keys unique in Salesforce.");
        } else if (p->id_lookup) {
            if (!p->unique)
                note(where(id_property) + " (" + source + ") is idLookup but not unique: a key shared by several "
                         "records answers 300 and that row goes to the dead letters",
                     "For one-to-one matching name an External ID field marked Unique as id_property, or keep "
                     "the keys unique in Salesforce.");
        } else {
            fail(where(id_property) + " (" + source + ") is not an External ID field: Salesforce cannot upsert by it",
                 "Mark it External ID (and Unique) in Setup, or name an External ID field as id_property with "
                 "crmsync.map().");
        }
        // The id column's type, unless a mapped column already brings it under that name.
        const bool mapped = std::any_of(m_.columns.begin(), m_.columns.end(),
                                        [&](const MappedColumn& c) { return c.property == id_property; });
        if (!mapped && !m_.id_column_type.empty())
            check_type({m_.id_column, m_.id_column_type, id_property}, *p);
    }

    void check_column(const MappedColumn& c, const std::string& id_property) {
        const std::string source = "column " + c.column + " of " + m_.table + " is mapped to it";
        const CrmProperty* p = lookup(c.property);
        if (!p) {
            // Already reported as the id property.
            if (c.property != id_property) missing(c.property, source);
            return;
        }
        if (!p->writable()) {
            if (hs_)
                fail(where(c.property) + " is read-only (calculated, or set only by HubSpot): " + source,
                     "Remove the column from the mapping's properties with crmsync.map(), or map it to a writable "
                     "property.");
            else
                fail(where(c.property) + " is read-only for the integration user (createable and updateable "
                         "false): " + source,
                     "Give the user Edit access to the field (field-level security), or remove the column from "
                     "the mapping's properties with crmsync.map().");
            return;
        }
        if (!hs_ && p->creatable != p->updatable)
            note(where(c.property) + " is " + (p->creatable ? "createable but not updateable" : "updateable but not createable") +
                     ": " + source,
                 std::string("Salesforce refuses it when ") + (p->creatable ? "updating" : "creating") +
                     " a record; grant the user Edit on it, or remove it from the mapping's properties.");
        check_type(c, *p);
    }

    void check_type(const MappedColumn& c, const CrmProperty& p) {
        const std::string column = "column " + c.column + " (" + c.pg_type + ") of " + m_.table;
        switch (type_fit(c.pg_type, p.type)) {
            case TypeFit::fits: return;
            case TypeFit::fits_if_listed:
                note(where(c.property) + " is " + (hs_ ? "an enumeration" : "a picklist") + " (" + p.raw_type +
                         "): each value of " + column + " must be one of its options",
                     "Values outside them are rejected; " + options_text(p) + ".");
                return;
            case TypeFit::does_not_fit:
                fail(column + " does not fit " + where(c.property) + ", a " + std::string(crm_type_name(p.type)) +
                         " property (" + p.raw_type + ")",
                     "A " + std::string(crm_type_name(p.type)) + " property takes " + takes(p.type) +
                         ": map a column of such a type (a view or generated column can convert it), map to a "
                         "string property, or change the property's type in " + (hs_ ? "HubSpot." : "Salesforce."));
                return;
        }
    }

    // Salesforce API names are case-insensitive ("Field names are not case-sensitive", SOAP API
    // Developer Guide, "Field Types"); HubSpot internal names are matched exactly.
    const CrmProperty* lookup(std::string_view name) const {
        if (hs_) return schema_.find(name);
        for (const auto& p : schema_.properties)
            if (answers::iequals(p.name, name)) return &p;
        return nullptr;
    }

    bool hs_;
    const MappingUnderCheck& m_;
    const CrmObjectSchema& schema_;
    std::vector<Finding> findings_;
};

}  // namespace

std::string effective_id_property(const MappingUnderCheck& mapping) {
    if (mapping.id_property) return *mapping.id_property;
    for (const auto& c : mapping.columns)
        if (c.column == mapping.id_column) return c.property;
    return mapping.id_column;
}

TypeFit type_fit(std::string_view pg_type, CrmType property_type) {
    const PgKind kind = pg_kind(pg_type);
    switch (property_type) {
        // The text form of any value is a string.
        case CrmType::string:
        case CrmType::text:
        case CrmType::other: return TypeFit::fits;
        case CrmType::number:
            return kind == PgKind::integer || kind == PgKind::numeric ? TypeFit::fits : TypeFit::does_not_fit;
        case CrmType::boolean: return kind == PgKind::boolean ? TypeFit::fits : TypeFit::does_not_fit;
        // A timestamp goes out as its calendar day (crm/value_conversion.hpp, target.time_zone).
        case CrmType::date:
            return kind == PgKind::date || kind == PgKind::timestamp ? TypeFit::fits : TypeFit::does_not_fit;
        // A date is an ISO 8601 datetime at midnight.
        case CrmType::datetime:
            return kind == PgKind::timestamp || kind == PgKind::date ? TypeFit::fits : TypeFit::does_not_fit;
        case CrmType::enumeration: return kind == PgKind::array ? TypeFit::does_not_fit : TypeFit::fits_if_listed;
        // Arrays go out ";"-joined, the form multi-value properties take.
        case CrmType::multi_enumeration: return TypeFit::fits_if_listed;
        case CrmType::id:
        case CrmType::reference: return kind == PgKind::text ? TypeFit::fits : TypeFit::does_not_fit;
    }
    return TypeFit::fits;
}

std::vector<Finding> check_mapping(SchemaCrm crm, const MappingUnderCheck& m, const SchemaFetch& fetch) {
    const bool hs = crm == SchemaCrm::hubspot;
    const std::string answer = "HTTP " + std::to_string(fetch.status) + (fetch.detail.empty() ? "" : ": " + fetch.detail);
    switch (fetch.problem) {
        case SchemaFetch::Problem::none: return Rules(crm, m, fetch.schema).run();
        case SchemaFetch::Problem::unknown_object:
            if (hs)
                return {{Finding::Severity::fail,
                         "HubSpot has no object type \"" + m.object + "\" (" + m.table + " is mapped to it; " + answer + ")",
                         "Fix the object with crmsync.map(): contacts, companies, deals, tickets, ..., or a custom "
                         "object's p_<name> or objectTypeId 2-<id>."}};
            return {{Finding::Severity::fail,
                     "Salesforce has no sObject \"" + m.object + "\" the integration user can see (" + m.table +
                         " is mapped to it; " + answer + ")",
                     "Fix the object with crmsync.map() (the API name: Contact, Account, custom objects end in __c), "
                     "or give the user's profile access to the object."}};
        case SchemaFetch::Problem::forbidden:
            if (hs)
                return {{Finding::Severity::fail,
                         "the token may not use HubSpot object " + m.object + " (" + answer + ")",
                         "Give the app the scope " + hubspot::write_scope(m.object) +
                             " (and the matching crm.schemas.*.read, with which check reads the properties)."}};
            return {{Finding::Severity::fail,
                     "the integration user may not describe Salesforce object " + m.object + " (" + answer + ")",
                     "Give the user's profile or a permission set Read, Create and Edit on " + m.object + "."}};
        case SchemaFetch::Problem::unauthorized:
            return {{Finding::Severity::fail, "the CRM refused the token reading the schema of " + m.object + " (" + answer + ")",
                     "Check target.token_file / token_env or [auth]: the token must be valid."}};
        case SchemaFetch::Problem::bad_answer: break;
    }
    return {{Finding::Severity::fail, "cannot read the schema of " + m.object + " (" + answer + ")",
             "Check that target.url is the CRM's API address; retry if the CRM was briefly failing."}};
}

std::vector<Finding> check_hubspot_scopes(const std::string& object, const std::string& tables,
                                          const std::vector<std::string>& scopes) {
    auto granted = [&](const std::string& s) { return std::find(scopes.begin(), scopes.end(), s) != scopes.end(); };
    const std::string fix_tail = " to the private app (Settings > Integrations > Private apps > Scopes), then put its "
                                 "new token in target.token_file (the sender re-reads it on SIGHUP).";
    std::vector<Finding> out;
    const std::string write = hubspot::scope("objects", object, "write");
    if (!granted(write))
        out.push_back({Finding::Severity::fail,
                       "the token cannot write HubSpot " + object + " records (" + tables + " is mapped to it): it "
                           "lacks the scope " + write,
                       "Add " + write + fix_tail});
    const std::string read = hubspot::scope("objects", object, "read");
    if (!granted(read))
        out.push_back({Finding::Severity::note,
                       "the token cannot read HubSpot " + object + " records (scope " + read + "): deletes, which "
                           "look up HubSpot's record ids first, will be held",
                       "Add " + read + fix_tail});
    const std::string schemas = hubspot::scope("schemas", object, "read");
    if (!granted(schemas))
        out.push_back({Finding::Severity::note,
                       "the token cannot read the properties of HubSpot " + object + " (scope " + schemas +
                           "): values go out unconverted to the property types, and the mapping is not checked "
                           "against them",
                       "Add " + schemas + fix_tail});
    return out;
}

}  // namespace crmsync::sender
