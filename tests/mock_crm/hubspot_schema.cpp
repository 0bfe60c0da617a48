#include "hubspot_schema.h"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <set>

namespace crmsync::mock_crm {
namespace {

using Props = std::map<std::string, HubSpotProperty, std::less<>>;

HubSpotProperty prop(std::string name, std::string label, std::string type, std::string field_type,
                     std::string group, bool unique = false, bool read_only = false,
                     std::vector<HubSpotOption> options = {}) {
    HubSpotProperty p;
    p.name = std::move(name);
    p.label = std::move(label);
    p.type = std::move(type);
    p.field_type = std::move(field_type);
    p.group_name = std::move(group);
    p.has_unique_value = unique;
    p.read_only_value = read_only;
    p.options = std::move(options);
    p.hubspot_defined = true;
    return p;
}

void add(Props& props, HubSpotProperty p) { props.emplace(p.name, std::move(p)); }

// Default properties: "HubSpot's default contact properties", "...company properties",
// "...deal properties" (knowledge.hubspot.com, linked from "CRM API | Properties",
// https://developers.hubspot.com/docs/api/crm/properties). A subset: the common ones.
// email is the contact's unique identifier ("Contacts" guide,
// https://developers.hubspot.com/docs/api/crm/contacts: "email address is the primary unique
// identifier to avoid duplicate contacts"); hs_object_id is the record id, read-only and, per
// the error HubSpot answers ("Unable to perform update/upsert by non-unique 0-2 property
// hs_object_id", quoted in segmentio/action-destinations#3957), not usable as idProperty.
// companies.domain is NOT hasUniqueValue: HubSpot deduplicates on it in the app, but the API
// does not accept it as an idProperty (documents silent beyond hasUniqueValue: conservative).
Props default_contacts() {
    Props p;
    add(p, prop("email", "Email", "string", "text", "contactinformation", /*unique=*/true));
    add(p, prop("firstname", "First Name", "string", "text", "contactinformation"));
    add(p, prop("lastname", "Last Name", "string", "text", "contactinformation"));
    add(p, prop("phone", "Phone Number", "string", "phonenumber", "contactinformation"));
    add(p, prop("company", "Company Name", "string", "text", "contactinformation"));
    add(p, prop("website", "Website URL", "string", "text", "contactinformation"));
    add(p, prop("city", "City", "string", "text", "contactinformation"));
    add(p, prop("jobtitle", "Job Title", "string", "text", "contactinformation"));
    // Lifecycle stage internal values as the Contacts guide lists them ("values must refer to
    // the lifecycle stage's internal name").
    add(p, prop("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", "contactinformation", false, false,
                {{"Subscriber", "subscriber"},
                 {"Lead", "lead"},
                 {"Marketing Qualified Lead", "marketingqualifiedlead"},
                 {"Sales Qualified Lead", "salesqualifiedlead"},
                 {"Opportunity", "opportunity"},
                 {"Customer", "customer"},
                 {"Evangelist", "evangelist"},
                 {"Other", "other"}}));
    add(p, prop("hs_object_id", "Record ID", "number", "number", "contactinformation", false, true));
    add(p, prop("createdate", "Create Date", "datetime", "date", "contactinformation"));
    add(p, prop("lastmodifieddate", "Last Modified Date", "datetime", "date", "contactinformation", false, true));
    return p;
}

Props default_companies() {
    Props p;
    add(p, prop("name", "Company name", "string", "text", "companyinformation"));
    add(p, prop("domain", "Company Domain Name", "string", "text", "companyinformation"));
    add(p, prop("website", "Website URL", "string", "text", "companyinformation"));
    add(p, prop("phone", "Phone Number", "string", "phonenumber", "companyinformation"));
    add(p, prop("city", "City", "string", "text", "companyinformation"));
    add(p, prop("industry", "Industry", "enumeration", "select", "companyinformation", false, false,
                {{"Accounting", "ACCOUNTING"},
                 {"Computer Software", "COMPUTER_SOFTWARE"},
                 {"Financial Services", "FINANCIAL_SERVICES"},
                 {"Information Technology and Services", "INFORMATION_TECHNOLOGY_AND_SERVICES"},
                 {"Internet", "INTERNET"},
                 {"Retail", "RETAIL"}}));
    add(p, prop("numberofemployees", "Number of Employees", "number", "number", "companyinformation"));
    add(p, prop("annualrevenue", "Annual Revenue", "number", "number", "companyinformation"));
    add(p, prop("description", "Description", "string", "textarea", "companyinformation"));
    add(p, prop("hs_object_id", "Record ID", "number", "number", "companyinformation", false, true));
    add(p, prop("createdate", "Create Date", "datetime", "date", "companyinformation"));
    add(p, prop("hs_lastmodifieddate", "Last Modified Date", "datetime", "date", "companyinformation", false, true));
    return p;
}

Props default_deals() {
    Props p;
    add(p, prop("dealname", "Deal Name", "string", "text", "dealinformation"));
    add(p, prop("amount", "Amount", "number", "number", "dealinformation"));
    // The default sales pipeline's stage internal values ("Pipelines" guide,
    // https://developers.hubspot.com/docs/api/crm/pipelines; "Deals" guide: dealstage and
    // pipeline take internal ids). In HubSpot dealstage options live in the pipeline; the
    // mock lists the default pipeline's stages as the property's options.
    add(p, prop("dealstage", "Deal Stage", "enumeration", "radio", "dealinformation", false, false,
                {{"Appointment Scheduled", "appointmentscheduled"},
                 {"Qualified To Buy", "qualifiedtobuy"},
                 {"Presentation Scheduled", "presentationscheduled"},
                 {"Decision Maker Bought-In", "decisionmakerboughtin"},
                 {"Contract Sent", "contractsent"},
                 {"Closed Won", "closedwon"},
                 {"Closed Lost", "closedlost"}}));
    add(p, prop("pipeline", "Pipeline", "enumeration", "select", "dealinformation", false, false,
                {{"Sales Pipeline", "default"}}));
    add(p, prop("closedate", "Close Date", "datetime", "date", "dealinformation"));
    add(p, prop("description", "Deal Description", "string", "textarea", "dealinformation"));
    add(p, prop("hs_object_id", "Record ID", "number", "number", "dealinformation", false, true));
    add(p, prop("createdate", "Create Date", "datetime", "date", "dealinformation"));
    add(p, prop("hs_lastmodifieddate", "Last Modified Date", "datetime", "date", "dealinformation", false, true));
    return p;
}

// Valid type -> fieldType pairs, from the table "Property type and fieldType values" in
// "CRM API | Properties" (https://developers.hubspot.com/docs/api/crm/properties).
bool valid_field_type(std::string_view type, std::string_view field_type) {
    static const std::map<std::string_view, std::set<std::string_view>> kPairs = {
        {"bool", {"booleancheckbox", "calculation_equation"}},
        {"enumeration", {"booleancheckbox", "checkbox", "radio", "select", "calculation_equation"}},
        {"date", {"date"}},
        {"datetime", {"date"}},
        {"string", {"file", "text", "textarea", "calculation_equation", "html", "phonenumber"}},
        {"number", {"number", "calculation_equation"}},
    };
    auto it = kPairs.find(type);
    return it != kPairs.end() && it->second.count(field_type) > 0;
}

std::string value_text(const rapidjson::Value& v) {
    if (v.IsBool()) return v.GetBool() ? "true" : "false";
    return std::string(string_of(v));
}

// A decimal number as HubSpot's number properties take it: optional sign, digits, optional
// fraction and exponent.
bool is_decimal(std::string_view s) {
    if (s.empty()) return false;
    double d = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    return ec == std::errc() && end == s.data() + s.size();
}

bool is_iso_date(std::string_view s) {
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
    for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    int y = std::atoi(std::string(s.substr(0, 4)).c_str());
    int m = std::atoi(std::string(s.substr(5, 2)).c_str());
    int d = std::atoi(std::string(s.substr(8, 2)).c_str());
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1) return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

bool is_midnight_epoch_ms(std::string_view s) {
    int64_t ms = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), ms);
    return ec == std::errc() && end == s.data() + s.size() && ms % 86400000 == 0;
}

std::string options_list(const HubSpotProperty& p) {
    std::string out = "[";
    for (size_t i = 0; i < p.options.size(); ++i) out += (i ? ", " : "") + p.options[i].value;
    return out + "]";
}

bool has_option(const HubSpotProperty& p, std::string_view v) {
    for (const auto& o : p.options)
        if (o.value == v) return true;
    return false;
}

}  // namespace

HubSpotSchema::HubSpotSchema() { reset(); }

void HubSpotSchema::reset() {
    objects_.clear();
    objects_["contacts"] = default_contacts();
    objects_["companies"] = default_companies();
    objects_["deals"] = default_deals();
}

std::optional<std::string> HubSpotSchema::object_type(std::string_view path_type) const {
    // Object type ids 0-1, 0-2, 0-3 name the same objects ("Understanding the CRM",
    // https://developers.hubspot.com/docs/api/crm/understanding-the-crm, object type ids).
    if (path_type == "0-1") return "contacts";
    if (path_type == "0-2") return "companies";
    if (path_type == "0-3") return "deals";
    std::string lower(path_type);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (objects_.count(lower)) return lower;
    return std::nullopt;
}

const Props* HubSpotSchema::properties(std::string_view object) const {
    auto it = objects_.find(object);
    return it == objects_.end() ? nullptr : &it->second;
}

const HubSpotProperty* HubSpotSchema::find(std::string_view object, std::string_view name) const {
    const Props* props = properties(object);
    if (!props) return nullptr;
    auto it = props->find(name);
    return it == props->end() ? nullptr : &it->second;
}

std::pair<int, std::string> HubSpotSchema::create(std::string_view object, const rapidjson::Value& body) {
    if (!body.IsObject()) return {400, "Invalid input JSON: expected an object"};
    auto text = [&](const char* key) -> std::optional<std::string> {
        const rapidjson::Value* v = find_member(body, key);
        if (!v || !is_string(*v)) return std::nullopt;
        return std::string(string_of(*v));
    };
    // Required on create: name, label, type, fieldType, groupName ("Create a property",
    // https://developers.hubspot.com/docs/api-reference/latest/crm/properties/create-property.md).
    for (const char* key : {"name", "label", "type", "fieldType", "groupName"})
        if (!text(key) || text(key)->empty())
            return {400, std::string("Invalid input JSON: missing required field \"") + key + "\""};
    HubSpotProperty p;
    p.name = *text("name");
    p.label = *text("label");
    p.type = *text("type");
    p.field_type = *text("fieldType");
    p.group_name = *text("groupName");
    p.description = text("description").value_or("");
    // Internal names are lower case letters, digits and underscores starting with a letter
    // (the properties guide: the internal name "must be used when referencing the property via
    // the API"; the allowed characters are not spelled out there: conservative).
    if (!std::islower(static_cast<unsigned char>(p.name[0])) ||
        p.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos)
        return {400, "Property name \"" + p.name +
                         "\" is not valid: use lower case letters, digits and underscores, starting with a letter"};
    if (!valid_field_type(p.type, p.field_type))
        return {400, "Property type \"" + p.type + "\" does not support fieldType \"" + p.field_type + "\""};
    if (const rapidjson::Value* u = find_member(body, "hasUniqueValue"); u && u->IsBool())
        p.has_unique_value = u->GetBool();
    if (const rapidjson::Value* opts = find_member(body, "options"); opts && opts->IsArray()) {
        for (const auto& o : opts->GetArray()) {
            const rapidjson::Value* label = find_member(o, "label");
            const rapidjson::Value* value = find_member(o, "value");
            if (!label || !value || !is_string(*label) || !is_string(*value))
                return {400, "Each option needs a string label and value"};
            p.options.push_back({std::string(string_of(*label)), std::string(string_of(*value))});
        }
    }
    // A bool property is a single checkbox with the options true and false (the properties
    // guide: "bool ... booleancheckbox ... options of true or false").
    if (p.type == "bool" && p.options.empty()) p.options = {{"Yes", "true"}, {"No", "false"}};
    if (p.type == "enumeration" && p.options.empty())
        return {400, "Property \"" + p.name + "\" of type enumeration needs options"};
    Props& props = objects_[std::string(object)];
    if (props.count(p.name)) return {409, "Property named '" + p.name + "' already exists."};
    props.emplace(p.name, std::move(p));
    return {201, {}};
}

std::optional<HubSpotValueError> HubSpotSchema::check_value(std::string_view object, std::string_view name,
                                                            const rapidjson::Value& value) const {
    const HubSpotProperty* p = find(object, name);
    std::string n(name);
    if (!p) return HubSpotValueError{n, "PROPERTY_DOESNT_EXIST", "Property \"" + n + "\" does not exist"};
    if (p->read_only_value)
        return HubSpotValueError{n, "READ_ONLY_VALUE", "\"" + n + "\" is a read only property; its value cannot be set."};
    // "" (and null) clears a value whatever its type ("Update contacts": "Properties values
    // can be cleared by passing an empty string").
    if (value.IsNull()) return std::nullopt;
    std::string v = value_text(value);
    if (v.empty()) return std::nullopt;
    if (p->type == "number") {
        if (!is_decimal(v)) return HubSpotValueError{n, "INVALID_LONG", v + " is not a valid number."};
    } else if (p->type == "date") {
        // Midnight UTC only: "Date properties ... must be set to midnight UTC for the date you
        // want ... If you try to set a value that is not midnight UTC, you will receive an
        // error." (timestamps FAQ); YYYY-MM-DD is the other accepted form (date format changelog).
        if (!is_iso_date(v) && !is_midnight_epoch_ms(v))
            return HubSpotValueError{n, "INVALID_DATE",
                                     v + " is not a valid date: use YYYY-MM-DD or a millisecond timestamp at midnight UTC"};
    } else if (p->type == "bool" || p->type == "enumeration") {
        // Enumeration (and single-checkbox bool) values must be one of the options' internal
        // values, exactly ("true" not "True"); multiple checkboxes take several separated by
        // ';'. Shape of the error from a real response quoted in gitcoinco/code_fund_ads#479:
        // "... was not one of the allowed options: [...]", error INVALID_OPTION.
        size_t start = 0;
        while (true) {
            size_t end = p->field_type == "checkbox" ? v.find(';', start) : std::string::npos;
            std::string one = v.substr(start, end == std::string::npos ? std::string::npos : end - start);
            if (!has_option(*p, one))
                return HubSpotValueError{n, "INVALID_OPTION",
                                         one + " was not one of the allowed options: " + options_list(*p)};
            if (end == std::string::npos) break;
            start = end + 1;
        }
    }
    // datetime and string: any value. The timestamps FAQ says any millisecond timestamp is a
    // valid datetime and the date changelog adds ISO 8601; the mock does not check the form of
    // a datetime (documents silent on what is rejected).
    return std::nullopt;
}

void HubSpotSchema::write_custom(JsonWriter& w) const {
    w.StartObject();
    for (const auto& [object, props] : objects_) {
        bool any = false;
        for (const auto& [name, p] : props) any |= !p.hubspot_defined;
        if (!any) continue;
        write_key(w, object);
        w.StartArray();
        for (const auto& [name, p] : props)
            if (!p.hubspot_defined) write_property(w, p);
        w.EndArray();
    }
    w.EndObject();
}

bool HubSpotSchema::has_custom() const {
    for (const auto& [object, props] : objects_)
        for (const auto& [name, p] : props)
            if (!p.hubspot_defined) return true;
    return false;
}

std::string HubSpotSchema::read_custom(const rapidjson::Value& saved) {
    if (!saved.IsObject()) return "hubspot_properties: must be an object";
    for (const auto& m : saved.GetObject()) {
        std::string object(m.name.GetString(), m.name.GetStringLength());
        std::string where = "hubspot_properties[" + quote_json_string(object) + "]";
        if (!m.value.IsArray()) return where + ": must be an array";
        for (rapidjson::SizeType i = 0; i < m.value.Size(); ++i) {
            auto [status, message] = create(object, m.value[i]);
            if (status != 201) return where + "[" + std::to_string(i) + "]: " + message;
        }
    }
    return {};
}

void HubSpotSchema::write_property(JsonWriter& w, const HubSpotProperty& p) {
    // Shape of a property in "CRM API | Properties" / "Create a property" responses.
    w.StartObject();
    write_key(w, "name");
    write_string(w, p.name);
    write_key(w, "label");
    write_string(w, p.label);
    write_key(w, "type");
    write_string(w, p.type);
    write_key(w, "fieldType");
    write_string(w, p.field_type);
    write_key(w, "description");
    write_string(w, p.description);
    write_key(w, "groupName");
    write_string(w, p.group_name);
    write_key(w, "options");
    w.StartArray();
    int order = 0;
    for (const auto& o : p.options) {
        w.StartObject();
        write_key(w, "label");
        write_string(w, o.label);
        write_key(w, "value");
        write_string(w, o.value);
        write_key(w, "displayOrder");
        w.Int(order++);
        write_key(w, "hidden");
        w.Bool(false);
        w.EndObject();
    }
    w.EndArray();
    write_key(w, "calculated");
    w.Bool(false);
    write_key(w, "externalOptions");
    w.Bool(false);
    write_key(w, "hasUniqueValue");
    w.Bool(p.has_unique_value);
    write_key(w, "hidden");
    w.Bool(false);
    write_key(w, "hubspotDefined");
    w.Bool(p.hubspot_defined);
    write_key(w, "modificationMetadata");
    w.StartObject();
    write_key(w, "archivable");
    w.Bool(!p.hubspot_defined);
    write_key(w, "readOnlyDefinition");
    w.Bool(p.hubspot_defined);
    write_key(w, "readOnlyValue");
    w.Bool(p.read_only_value);
    w.EndObject();
    write_key(w, "formField");
    w.Bool(!p.read_only_value);
    write_key(w, "archived");
    w.Bool(false);
    w.EndObject();
}

}  // namespace crmsync::mock_crm
