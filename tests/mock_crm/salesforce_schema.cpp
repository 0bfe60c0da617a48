#include "salesforce_schema.h"

#include <cctype>
#include <charconv>

namespace crmsync::mock_crm {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

SalesforceField field(std::string name, std::string type, std::string label) {
    SalesforceField f;
    f.name = std::move(name);
    f.type = std::move(type);
    f.label = std::move(label);
    return f;
}

// A lookup field: type reference, the object it points to (describe's referenceTo) and its
// relationship name (describe's relationshipName), as the Object Reference lists them
// (Contact.AccountId: "Type reference ... This is a relationship field. Relationship Name
// Account, Refers To Account"; OwnerId: Refers To User, relationship Owner).
SalesforceField reference(std::string name, std::string label, std::string to, std::string relationship) {
    SalesforceField f = field(std::move(name), "reference", std::move(label));
    f.reference_to = std::move(to);
    f.relationship_name = std::move(relationship);
    return f;
}

// Id and the audit fields every object has: system-set, never createable or updateable
// ("System Fields", https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/system_fields.htm).
void add_system_fields(SalesforceObject& o, bool id_first) {
    SalesforceField id = field("Id", "id", o.label + " ID");
    id.id_lookup = true;  // Id is idLookup on every object
    id.createable = id.updateable = id.nillable = false;
    if (id_first) o.fields.insert(o.fields.begin(), id);
    for (const char* name : {"CreatedDate", "LastModifiedDate", "SystemModstamp"}) {
        SalesforceField f = field(name, "datetime", name);
        f.createable = f.updateable = f.nillable = false;
        o.fields.push_back(f);
    }
}

// Standard fields as the Object Reference lists them (a subset). idLookup per the reference:
// Account.Name, Contact.Email, Lead.Email carry it; none of them is unique, so two records can
// share a value ("Object Reference for Salesforce: Contact", Email: "Filter, Group, idLookup,
// Sort, Update"). Contact.LastName and Lead.LastName/Company are required (not nillable).
SalesforceObject account() {
    SalesforceObject o{"Account", "Account", false, {}};
    SalesforceField name = field("Name", "string", "Account Name");
    name.id_lookup = true;
    name.nillable = false;
    o.fields = {name,
                field("Website", "url", "Website"),
                field("Phone", "phone", "Account Phone"),
                field("NumberOfEmployees", "int", "Employees"),
                field("Industry", "picklist", "Industry"),
                field("AnnualRevenue", "currency", "Annual Revenue"),
                field("Description", "textarea", "Account Description"),
                reference("OwnerId", "Owner ID", "User", "Owner")};
    add_system_fields(o, true);
    return o;
}

// Contact.AccountId: deleting an Account deletes its Contacts. Salesforce Help, "Delete
// Accounts" (quoted at https://trailblazers.salesforce.com/answers?id=90630000000gyRjAAI): "When
// you delete an account it's moved to the Recycle Bin along with any of these related items:
// Contacts, Opportunities, ..."; the SOAP API's delete() "supports cascading deletions. If you
// delete a parent object, you delete its children automatically, as long as each child object
// can be deleted" (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_delete.htm).
// Describe shows it as cascadeDelete on the field (and on Account's child relationship).
SalesforceField account_lookup() {
    SalesforceField f = reference("AccountId", "Account ID", "Account", "Account");
    f.delete_constraint = DeleteConstraint::Cascade;
    return f;
}

SalesforceObject contact() {
    SalesforceObject o{"Contact", "Contact", false, {}};
    SalesforceField email = field("Email", "email", "Email");
    email.id_lookup = true;
    SalesforceField last = field("LastName", "string", "Last Name");
    last.nillable = false;
    o.fields = {field("FirstName", "string", "First Name"),
                last,
                email,
                field("Phone", "phone", "Business Phone"),
                field("Title", "string", "Title"),
                account_lookup(),
                field("Birthdate", "date", "Birthdate"),
                reference("OwnerId", "Owner ID", "User", "Owner")};
    add_system_fields(o, true);
    return o;
}

SalesforceObject lead() {
    SalesforceObject o{"Lead", "Lead", false, {}};
    SalesforceField email = field("Email", "email", "Email");
    email.id_lookup = true;
    SalesforceField last = field("LastName", "string", "Last Name");
    last.nillable = false;
    SalesforceField company = field("Company", "string", "Company");
    company.nillable = false;
    o.fields = {field("FirstName", "string", "First Name"), last, company, email,
                field("Phone", "phone", "Phone"), field("Status", "picklist", "Lead Status"),
                field("NumberOfEmployees", "int", "Employees"), field("Website", "url", "Website")};
    add_system_fields(o, true);
    return o;
}

// A custom object's standard fields: Id, Name (idLookup), OwnerId and the audit fields
// ("Custom Objects" in the Object Reference: "Name ... idLookup").
SalesforceObject custom_object(std::string name) {
    SalesforceObject o{name, name.substr(0, name.size() - 3), true, {}};
    SalesforceField n = field("Name", "string", o.label + " Name");
    n.id_lookup = true;
    o.fields = {n, reference("OwnerId", "Owner ID", "User", "Owner")};
    add_system_fields(o, true);
    return o;
}

bool known_type(std::string_view t) {
    for (const char* k : {"string", "textarea", "email", "url", "phone", "picklist", "multipicklist", "reference",
                          "int", "double", "currency", "percent", "boolean", "date", "datetime"})
        if (t == k) return true;
    return false;
}

bool digits(std::string_view s, size_t from, size_t n) {
    if (from + n > s.size()) return false;
    for (size_t i = from; i < from + n; ++i)
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    return true;
}

bool is_date(std::string_view s) {
    if (s.size() != 10 || !digits(s, 0, 4) || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' || !digits(s, 8, 2))
        return false;
    int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

// YYYY-MM-DDThh:mm:ss[.fff](Z|+hh[:mm]|-hh[:mm]|+hhmm): "dateTime ... use yyyy-MM-ddTHH:mm:ss.SSS+/-HH:mm
// or yyyy-MM-ddTHH:mm:ss.SSSZ" (Primitive Data Types). A value without a zone is refused. The
// mock also takes a space for the T (documents silent on it; what PostgreSQL prints).
bool is_datetime(std::string_view s) {
    if (s.size() < 20 || !is_date(s.substr(0, 10)) || (s[10] != 'T' && s[10] != ' ')) return false;
    if (!digits(s, 11, 2) || s[13] != ':' || !digits(s, 14, 2) || s[16] != ':' || !digits(s, 17, 2)) return false;
    size_t i = 19;
    if (i < s.size() && s[i] == '.') {
        ++i;
        size_t start = i;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
        if (i == start) return false;
    }
    std::string_view zone = s.substr(i);
    if (zone == "Z") return true;
    if (zone.size() < 3 || (zone[0] != '+' && zone[0] != '-') || !digits(zone, 1, 2)) return false;
    if (zone.size() == 3) return true;
    if (zone.size() == 5) return digits(zone, 3, 2);
    return zone.size() == 6 && zone[3] == ':' && digits(zone, 4, 2);
}

bool is_number_text(std::string_view s) {
    double d = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

std::string salesforce_match_key(std::string_view value) { return lower(value); }

const SalesforceField* SalesforceObject::field(std::string_view n) const {
    std::string want = lower(n);
    for (const auto& f : fields)
        if (lower(f.name) == want) return &f;
    return nullptr;
}

const SalesforceField* SalesforceObject::relationship(std::string_view n) const {
    std::string want = lower(n);
    for (const auto& f : fields)
        if (!f.relationship_name.empty() && lower(f.relationship_name) == want) return &f;
    return nullptr;
}

SalesforceSchema::SalesforceSchema() { reset(); }

void SalesforceSchema::reset() {
    objects_.clear();
    duplicates_.clear();
    for (SalesforceObject o : {account(), contact(), lead()}) objects_.emplace(lower(o.name), std::move(o));
}

const SalesforceObject* SalesforceSchema::find(std::string_view sobject) const {
    auto it = objects_.find(lower(sobject));
    return it == objects_.end() ? nullptr : &it->second;
}

std::string SalesforceSchema::declare(const rapidjson::Value& body) {
    if (!body.IsObject()) return "expected {\"sobject\":NAME,\"fields\":[...]}";
    const rapidjson::Value* sobject = find_member(body, "sobject");
    const rapidjson::Value* fields = find_member(body, "fields");
    if (!sobject || !is_string(*sobject) || sobject->GetStringLength() == 0) return "sobject: required, a name";
    if (!fields || !fields->IsArray()) return "fields: required, an array";
    std::string name(string_of(*sobject));
    std::vector<SalesforceField> parsed;
    for (rapidjson::SizeType i = 0; i < fields->Size(); ++i) {
        const rapidjson::Value& f = (*fields)[i];
        std::string where = "fields[" + std::to_string(i) + "]";
        const rapidjson::Value* fname = find_member(f, "name");
        const rapidjson::Value* type = find_member(f, "type");
        if (!fname || !is_string(*fname)) return where + ".name: required";
        if (!type || !is_string(*type)) return where + ".type: required";
        SalesforceField sf;
        sf.name = string_of(*fname);
        sf.type = lower(string_of(*type));
        sf.label = sf.name;
        sf.custom = true;
        // Custom field API names end in __c ("Custom Fields" in the Object Reference).
        if (sf.name.size() < 4 || sf.name.substr(sf.name.size() - 3) != "__c")
            return where + ".name: a custom field's API name ends in __c, got " + sf.name;
        if (!known_type(sf.type)) return where + ".type: unknown field type " + sf.type;
        auto flag = [&](const char* key) {
            const rapidjson::Value* v = find_member(f, key);
            return v && v->IsBool() && v->GetBool();
        };
        sf.external_id = flag("externalId");
        sf.unique = flag("unique");
        // An External ID field can only be text, number or email ("Custom Field Attributes":
        // "External ID ... on text, number, or email fields").
        if (sf.external_id && sf.type != "string" && sf.type != "email" && sf.type != "int" && sf.type != "double")
            return where + ": an External ID field must be text, number or email, got " + sf.type;
        sf.id_lookup = sf.external_id;  // describe shows idLookup true for External ID fields
        if (sf.type == "reference") {
            // A custom lookup points to one object; its relationship name is the field's API
            // name with __r for __c ("Relationship Names" in the SOQL and SOSL Reference,
            // https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_relationships_and_custom_objects.htm:
            // "append __r to the name of the custom relationship field").
            const rapidjson::Value* to = find_member(f, "referenceTo");
            if (!to || !is_string(*to)) return where + ".referenceTo: required for a reference field, an sObject name";
            std::string target(string_of(*to));
            bool self = lower(target) == lower(name);
            if (!self && !find(target)) return where + ".referenceTo: unknown sObject " + target + " (declare it first)";
            sf.reference_to = self ? name : find(target)->name;
            sf.relationship_name = sf.name.substr(0, sf.name.size() - 3) + "__r";
        }
        // "What to do if the lookup record is deleted?" (Salesforce Help, custom lookup fields):
        // "Clear the value of this field" (the default), "Don't allow deletion of the lookup
        // record that's part of a lookup relationship", "Delete this record also". The mock takes
        // them under the Metadata API's CustomField deleteConstraint names: SetNull, Restrict,
        // Cascade. Cascade is off by default and "Cascade-delete and its related options aren't
        // available for lookup relationships to standard objects", where the Help article's own
        // example is a custom object's lookup to Account (Knowledge Article 000382017, "Enable
        // 'cascade delete on custom lookup relationships' feature",
        // https://help.salesforce.com/s/articleView?id=000382017&type=1): the mock refuses Cascade
        // for a field on a standard object. A lookup to its own object has no options and is
        // always cleared (Knowledge Article 000383277, "'What to Do if the Lookup Record Is
        // Deleted?' Options Are Not Available on a Custom Lookup Field",
        // https://help.salesforce.com/s/articleView?id=000383277&type=1).
        if (const rapidjson::Value* dc = find_member(f, "deleteConstraint"); dc && !dc->IsNull()) {
            std::string v = is_string(*dc) ? std::string(string_of(*dc)) : std::string();
            if (sf.type != "reference") return where + ".deleteConstraint: only a reference field has one";
            if (v == "SetNull") {
                sf.delete_constraint = DeleteConstraint::SetNull;
            } else if (v == "Restrict") {
                sf.delete_constraint = DeleteConstraint::Restrict;
            } else if (v == "Cascade") {
                sf.delete_constraint = DeleteConstraint::Cascade;
            } else {
                return where + ".deleteConstraint: SetNull, Restrict or Cascade, got " + to_json_text(*dc);
            }
            bool custom_object = name.size() >= 4 && name.substr(name.size() - 3) == "__c";
            if (sf.delete_constraint == DeleteConstraint::Cascade && !custom_object)
                return where + ".deleteConstraint: Cascade is only available for a lookup on a custom object, not on " + name;
            if (sf.delete_constraint != DeleteConstraint::SetNull && lower(sf.reference_to) == lower(name))
                return where + ".deleteConstraint: a lookup to its own object is always cleared (SetNull)";
        }
        parsed.push_back(std::move(sf));
    }
    auto it = objects_.find(lower(name));
    if (it == objects_.end()) {
        if (name.size() < 4 || name.substr(name.size() - 3) != "__c")
            return "sobject: " + name + " is not a standard object the mock knows, and a custom object's name ends in __c";
        it = objects_.emplace(lower(name), custom_object(name)).first;
    }
    SalesforceObject& o = it->second;
    for (auto& f : parsed) {
        bool replaced = false;
        for (auto& existing : o.fields)
            if (lower(existing.name) == lower(f.name)) {
                if (!existing.custom) return "fields: " + f.name + " is a standard field of " + o.name;
                existing = f;
                replaced = true;
            }
        if (!replaced) o.fields.push_back(std::move(f));
    }
    return {};
}

std::string SalesforceSchema::add_duplicate(const rapidjson::Value& body) {
    const rapidjson::Value* sobject = body.IsObject() ? find_member(body, "sobject") : nullptr;
    const rapidjson::Value* key = body.IsObject() ? find_member(body, "value") : nullptr;
    if (!sobject || !is_string(*sobject) || !key || !is_string(*key))
        return "expected {\"sobject\":NAME,\"value\":EXTERNAL_ID_VALUE}";
    if (!find(string_of(*sobject))) return "sobject: unknown " + std::string(string_of(*sobject));
    duplicates_.emplace(lower(string_of(*sobject)), salesforce_match_key(string_of(*key)));
    return {};
}

bool SalesforceSchema::is_duplicate(std::string_view sobject, std::string_view key) const {
    return duplicates_.count({lower(sobject), salesforce_match_key(key)}) > 0;
}

std::optional<std::string> SalesforceSchema::check_value(const SalesforceField& f, const rapidjson::Value& v) {
    if (v.IsNull()) return std::nullopt;
    const std::string& t = f.type;
    std::string text = v.IsBool() ? (v.GetBool() ? "true" : "false") : std::string(v.IsObject() || v.IsArray() ? "" : string_of(v));
    const char* kind = v.IsBool() ? "VALUE_TRUE" : is_number(v) ? "VALUE_NUMBER" : v.IsString() ? "VALUE_STRING"
                                                                                               : "START_OBJECT";
    auto complaint = [&](const char* java_type) {
        return std::string("Cannot deserialize instance of ") + java_type + " from " + kind + " value " + text +
               " or request may be missing a required field";
    };
    if (v.IsObject() || v.IsArray()) return complaint(t.c_str());
    if (t == "boolean") {
        if (v.IsBool() || text == "true" || text == "false") return std::nullopt;
        return complaint("boolean");
    }
    if (t == "int" || t == "double" || t == "currency" || t == "percent") {
        if (is_number(v) || (v.IsString() && is_number_text(text))) return std::nullopt;
        return complaint(t == "int" ? "int" : "double");
    }
    if (t == "date") return v.IsString() && is_date(text) ? std::nullopt : std::optional(complaint("date"));
    if (t == "datetime") return v.IsString() && is_datetime(text) ? std::nullopt : std::optional(complaint("datetime"));
    return std::nullopt;  // text types take strings, numbers and booleans as their text
}

bool SalesforceSchema::has_custom() const {
    if (!duplicates_.empty()) return true;
    for (const auto& [key, o] : objects_)
        for (const auto& f : o.fields)
            if (f.custom) return true;
    return false;
}

void SalesforceSchema::write_custom(JsonWriter& w) const {
    w.StartObject();
    write_key(w, "fields");
    w.StartArray();
    for (const auto& [key, o] : objects_) {
        bool any = false;
        for (const auto& f : o.fields) any |= f.custom;
        if (!any && !o.custom) continue;
        w.StartObject();
        write_key(w, "sobject");
        write_string(w, o.name);
        write_key(w, "fields");
        w.StartArray();
        for (const auto& f : o.fields) {
            if (!f.custom) continue;
            w.StartObject();
            write_key(w, "name");
            write_string(w, f.name);
            write_key(w, "type");
            write_string(w, f.type);
            write_key(w, "externalId");
            w.Bool(f.external_id);
            write_key(w, "unique");
            w.Bool(f.unique);
            if (!f.reference_to.empty()) {
                write_key(w, "referenceTo");
                write_string(w, f.reference_to);
            }
            if (f.delete_constraint != DeleteConstraint::SetNull) {
                write_key(w, "deleteConstraint");
                write_string(w, f.delete_constraint == DeleteConstraint::Restrict ? "Restrict" : "Cascade");
            }
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
    }
    w.EndArray();
    write_key(w, "duplicates");
    w.StartArray();
    for (const auto& [sobject, key] : duplicates_) {
        w.StartArray();
        write_string(w, find(sobject)->name);
        write_string(w, key);
        w.EndArray();
    }
    w.EndArray();
    w.EndObject();
}

std::string SalesforceSchema::read_custom(const rapidjson::Value& saved) {
    const rapidjson::Value* fields = saved.IsObject() ? find_member(saved, "fields") : nullptr;
    const rapidjson::Value* dups = saved.IsObject() ? find_member(saved, "duplicates") : nullptr;
    if (!fields || !fields->IsArray() || !dups || !dups->IsArray())
        return "salesforce_schema: must be {\"fields\":[...],\"duplicates\":[...]}";
    for (rapidjson::SizeType i = 0; i < fields->Size(); ++i)
        if (std::string e = declare((*fields)[i]); !e.empty())
            return "salesforce_schema.fields[" + std::to_string(i) + "]: " + e;
    for (rapidjson::SizeType i = 0; i < dups->Size(); ++i) {
        const rapidjson::Value& d = (*dups)[i];
        if (!d.IsArray() || d.Size() != 2 || !is_string(d[0]) || !is_string(d[1]) || !find(string_of(d[0])))
            return "salesforce_schema.duplicates[" + std::to_string(i) + "]: must be [sobject, value]";
        duplicates_.emplace(lower(string_of(d[0])), std::string(string_of(d[1])));
    }
    return {};
}

void SalesforceSchema::write_describe(JsonWriter& w, const SalesforceObject& o) {
    // The shape of "sObject Describe": the object's own properties, then fields[] with each
    // field's describe properties (a subset).
    w.StartObject();
    write_key(w, "name");
    write_string(w, o.name);
    write_key(w, "label");
    write_string(w, o.label);
    write_key(w, "custom");
    w.Bool(o.custom);
    write_key(w, "createable");
    w.Bool(true);
    write_key(w, "updateable");
    w.Bool(true);
    write_key(w, "deletable");
    w.Bool(true);
    write_key(w, "queryable");
    w.Bool(true);
    write_key(w, "fields");
    w.StartArray();
    for (const auto& f : o.fields) {
        w.StartObject();
        write_key(w, "name");
        write_string(w, f.name);
        write_key(w, "label");
        write_string(w, f.label);
        write_key(w, "type");
        write_string(w, f.type);
        write_key(w, "custom");
        w.Bool(f.custom);
        write_key(w, "externalId");
        w.Bool(f.external_id);
        write_key(w, "unique");
        w.Bool(f.unique);
        write_key(w, "idLookup");
        w.Bool(f.id_lookup);
        write_key(w, "createable");
        w.Bool(f.createable);
        write_key(w, "updateable");
        w.Bool(f.updateable);
        write_key(w, "nillable");
        w.Bool(f.nillable);
        write_key(w, "caseSensitive");
        w.Bool(false);
        // referenceTo (the objects a reference field can point to, empty for other types) and
        // relationshipName (null when none), as "sObject Describe" lists them per field.
        write_key(w, "referenceTo");
        w.StartArray();
        if (!f.reference_to.empty()) write_string(w, f.reference_to);
        w.EndArray();
        write_key(w, "relationshipName");
        if (f.relationship_name.empty()) {
            w.Null();
        } else {
            write_string(w, f.relationship_name);
        }
        // cascadeDelete / restrictedDelete: what deleting the referenced record does to this
        // one, as describe shows them per field (false and false: the lookup is cleared).
        write_key(w, "cascadeDelete");
        w.Bool(f.delete_constraint == DeleteConstraint::Cascade);
        write_key(w, "restrictedDelete");
        w.Bool(f.delete_constraint == DeleteConstraint::Restrict);
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
}

}  // namespace crmsync::mock_crm
