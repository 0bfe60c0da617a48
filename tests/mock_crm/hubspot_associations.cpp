#include "hubspot_associations.h"

#include <algorithm>
#include <tuple>

namespace crmsync::mock_crm {
namespace {

constexpr const char* kHubSpotDefined = "HUBSPOT_DEFINED";
constexpr const char* kUserDefined = "USER_DEFINED";

// "You can create up to 10 association types between each object pairing (e.g. contacts and
// companies)" (Associations v4 guide, "Create association types").
constexpr size_t kMaxLabelsPerPair = 10;

AssociationType defined(std::string from, std::string to, int64_t id, int64_t inverse,
                        std::optional<std::string> label, bool primary = false) {
    AssociationType t;
    t.from = std::move(from);
    t.to = std::move(to);
    t.spec = {kHubSpotDefined, id};
    t.label = std::move(label);
    t.inverse_type_id = inverse;
    t.unlabeled = !t.label.has_value();
    t.primary = primary;
    return t;
}

// The HubSpot-defined types between the mock's three standard objects, from the table
// "Association type ID values" of the Associations v4 guide (contact to company 279 / Primary 1,
// company to contact 280 / Primary 2, deal to contact 3, contact to deal 4, deal to company 341 /
// Primary 5, company to deal 342 / Primary 6, contact to contact 449, company to company 450,
// deal to deal 451). 279 also in "Associations" overview,
// https://developers.hubspot.com/docs/api-reference/latest/crm/associations/overview. A record has
// at most one Primary company ("Primary: the main company that the other record is associated
// with ... this API supports changing which company is considered the primary").
std::vector<AssociationType> hubspot_defined_types() {
    return {
        defined("contacts", "companies", 279, 280, std::nullopt),
        defined("contacts", "companies", 1, 2, "Primary", /*primary=*/true),
        defined("companies", "contacts", 280, 279, std::nullopt),
        defined("companies", "contacts", 2, 1, "Primary"),
        defined("deals", "contacts", 3, 4, std::nullopt),
        defined("contacts", "deals", 4, 3, std::nullopt),
        defined("deals", "companies", 341, 342, std::nullopt),
        defined("deals", "companies", 5, 6, "Primary", /*primary=*/true),
        defined("companies", "deals", 342, 341, std::nullopt),
        defined("companies", "deals", 6, 5, "Primary"),
        defined("contacts", "contacts", 449, 449, std::nullopt),
        defined("companies", "companies", 450, 450, std::nullopt),
        defined("deals", "deals", 451, 451, std::nullopt),
    };
}

std::optional<std::string> text_member(const rapidjson::Value& v, const char* name) {
    const rapidjson::Value* m = v.IsObject() ? find_member(v, name) : nullptr;
    if (!m || !is_string(*m)) return std::nullopt;
    return std::string(string_of(*m));
}

}  // namespace

std::string hubspot_object_type_id(std::string_view object) {
    if (object == "contacts") return "0-1";
    if (object == "companies") return "0-2";
    if (object == "deals") return "0-3";
    return std::string(object);
}

// --- types ---------------------------------------------------------------------------------

HubSpotAssociationTypes::HubSpotAssociationTypes() { reset(); }

void HubSpotAssociationTypes::reset() {
    types_ = hubspot_defined_types();
    next_user_type_id_ = 1;
}

std::vector<const AssociationType*> HubSpotAssociationTypes::between(std::string_view from, std::string_view to) const {
    std::vector<const AssociationType*> out;
    for (const auto& t : types_)
        if (t.from == from && t.to == to) out.push_back(&t);
    return out;
}

const AssociationType* HubSpotAssociationTypes::find(std::string_view from, std::string_view to,
                                                     const AssociationSpec& spec) const {
    for (const auto& t : types_)
        if (t.from == from && t.to == to && t.spec == spec) return &t;
    return nullptr;
}

const AssociationType* HubSpotAssociationTypes::unlabeled(std::string_view from, std::string_view to) const {
    for (const auto& t : types_)
        if (t.from == from && t.to == to && t.unlabeled) return &t;
    return nullptr;
}

const AssociationType* HubSpotAssociationTypes::inverse(const AssociationType& t) const {
    return find(t.to, t.from, {t.spec.category, t.inverse_type_id});
}

std::pair<int, std::string> HubSpotAssociationTypes::create_label(std::string_view from, std::string_view to,
                                                                  const rapidjson::Value& body,
                                                                  std::vector<const AssociationType*>& created) {
    // name and label are required (PublicAssociationDefinitionCreateRequest); inverseLabel
    // names the reverse direction of a paired label, else both directions carry `label`.
    auto name = text_member(body, "name");
    auto label = text_member(body, "label");
    if (!body.IsObject()) return {400, "Invalid input JSON: expected an object"};
    if (!name || name->empty()) return {400, "Invalid input JSON: missing required field \"name\""};
    if (!label || label->empty()) return {400, "Invalid input JSON: missing required field \"label\""};
    std::string inverse_label = text_member(body, "inverseLabel").value_or(*label);
    size_t user_defined = 0;
    for (const auto& t : types_) {
        if (t.from != from || t.to != to || t.spec.category != kUserDefined) continue;
        ++user_defined;
        // The documents do not say what a second definition with the same name answers; the
        // mock refuses it (409, as the properties API answers a duplicate name).
        if (t.name == *name) return {409, "An association definition named '" + *name + "' already exists."};
    }
    if (user_defined >= kMaxLabelsPerPair)
        return {400, "At most " + std::to_string(kMaxLabelsPerPair) + " association labels can be created between " +
                         hubspot_object_type_id(from) + " and " + hubspot_object_type_id(to)};

    // Type ids are unique within their category (AssociationSpecWithLabel.typeId), so a
    // USER_DEFINED id may equal a HUBSPOT_DEFINED one: the category tells them apart.
    bool same_object = from == to;
    AssociationType forward;
    forward.from = std::string(from);
    forward.to = std::string(to);
    forward.spec = {kUserDefined, next_user_type_id_++};
    forward.label = *label;
    forward.name = *name;
    AssociationType backward = forward;
    if (!same_object || inverse_label != *label) {
        backward.from = std::string(to);
        backward.to = std::string(from);
        backward.spec.type_id = next_user_type_id_++;
        backward.label = inverse_label;
    }
    forward.inverse_type_id = backward.spec.type_id;
    backward.inverse_type_id = forward.spec.type_id;
    types_.push_back(forward);
    bool distinct = backward.spec.type_id != forward.spec.type_id;
    if (distinct) types_.push_back(backward);
    created.push_back(find(forward.from, forward.to, forward.spec));
    if (distinct) created.push_back(find(backward.from, backward.to, backward.spec));
    return {200, {}};
}

bool HubSpotAssociationTypes::has_custom() const {
    return std::any_of(types_.begin(), types_.end(), [](const auto& t) { return t.spec.category == kUserDefined; });
}

void HubSpotAssociationTypes::write_custom(JsonWriter& w) const {
    // One entry per create_label call: the forward type (its inverse is found by id).
    w.StartArray();
    std::set<std::tuple<std::string, std::string, int64_t>> covered;  // types written, as forward or inverse
    for (const auto& t : types_) {
        if (t.spec.category != kUserDefined || covered.count({t.from, t.to, t.spec.type_id})) continue;
        const AssociationType* back = inverse(t);
        covered.insert({t.to, t.from, t.inverse_type_id});
        w.StartObject();
        write_key(w, "from");
        write_string(w, t.from);
        write_key(w, "to");
        write_string(w, t.to);
        write_key(w, "typeId");
        w.Int64(t.spec.type_id);
        write_key(w, "name");
        write_string(w, t.name);
        write_key(w, "label");
        write_string(w, t.label.value_or(""));
        write_key(w, "inverseTypeId");
        w.Int64(t.inverse_type_id);
        write_key(w, "inverseLabel");
        write_string(w, back && back->label ? *back->label : t.label.value_or(""));
        w.EndObject();
    }
    w.EndArray();
}

std::string HubSpotAssociationTypes::read_custom(const rapidjson::Value& saved) {
    reset();
    if (!saved.IsArray()) return "hubspot_association_labels: must be an array";
    for (rapidjson::SizeType i = 0; i < saved.Size(); ++i) {
        const rapidjson::Value& d = saved[i];
        std::string where = "hubspot_association_labels[" + std::to_string(i) + "]";
        auto from = text_member(d, "from");
        auto to = text_member(d, "to");
        const rapidjson::Value* id = d.IsObject() ? find_member(d, "typeId") : nullptr;
        const rapidjson::Value* inverse_id = d.IsObject() ? find_member(d, "inverseTypeId") : nullptr;
        auto type_id = id ? as_uint64(*id) : std::nullopt;
        auto inverse_type_id = inverse_id ? as_uint64(*inverse_id) : std::nullopt;
        if (!from || !to || !type_id || !inverse_type_id)
            return where + ": needs from, to, typeId, name, label, inverseTypeId, inverseLabel";
        // Re-created in saved order, so each gets the id it had.
        next_user_type_id_ = static_cast<int64_t>(*type_id);
        std::vector<const AssociationType*> created;
        auto [status, message] = create_label(*from, *to, d, created);
        if (status != 200) return where + ": " + message;
        if (created.back()->spec.type_id != static_cast<int64_t>(*inverse_type_id))
            return where + ".inverseTypeId: expected " + std::to_string(created.back()->spec.type_id);
    }
    return {};
}

// --- associations between records ----------------------------------------------------------

bool AssociationStore::add(const RecordAddress& from, const RecordAddress& to, const AssociationSpec& spec) {
    return edges_[from][to].insert(spec).second;
}

std::vector<RecordAddress> AssociationStore::remove_type_from_all(const RecordAddress& from, const AssociationSpec& spec) {
    std::vector<RecordAddress> had;
    auto it = edges_.find(from);
    if (it == edges_.end()) return had;
    for (const auto& [to, types] : it->second)
        if (types.count(spec)) had.push_back(to);
    for (const auto& to : had) remove_type(from, to, spec);
    return had;
}

void AssociationStore::remove_type(const RecordAddress& from, const RecordAddress& to, const AssociationSpec& spec) {
    auto it = edges_.find(from);
    if (it == edges_.end()) return;
    auto jt = it->second.find(to);
    if (jt == it->second.end()) return;
    jt->second.erase(spec);
    if (jt->second.empty()) it->second.erase(jt);
    if (it->second.empty()) edges_.erase(it);
}

bool AssociationStore::remove_between(const RecordAddress& a, const RecordAddress& b) {
    bool any = false;
    for (const auto& [x, y] : {std::pair{a, b}, std::pair{b, a}}) {
        auto it = edges_.find(x);
        if (it == edges_.end()) continue;
        any |= it->second.erase(y) > 0;
        if (it->second.empty()) edges_.erase(it);
    }
    return any;
}

void AssociationStore::remove_record(const RecordAddress& r) {
    auto it = edges_.find(r);
    if (it == edges_.end()) return;
    std::vector<RecordAddress> others;
    for (const auto& [to, types] : it->second) others.push_back(to);
    edges_.erase(it);
    for (const auto& o : others) remove_between(o, r);
}

std::map<RecordAddress, AssociationStore::Types> AssociationStore::targets(const RecordAddress& from,
                                                                           std::string_view to_object) const {
    std::map<RecordAddress, Types> out;
    auto it = edges_.find(from);
    if (it == edges_.end()) return out;
    for (const auto& [to, types] : it->second)
        if (to.object == to_object && !types.empty()) out.emplace(to, types);
    return out;
}

const std::map<RecordAddress, AssociationStore::Types>* AssociationStore::all_of(const RecordAddress& from) const {
    auto it = edges_.find(from);
    return it == edges_.end() ? nullptr : &it->second;
}

void AssociationStore::write_saved(JsonWriter& w) const {
    w.StartArray();
    for (const auto& [from, tos] : edges_)
        for (const auto& [to, types] : tos)
            for (const auto& spec : types) {
                w.StartArray();
                write_string(w, from.object);
                w.Uint(from.index);
                write_string(w, to.object);
                w.Uint(to.index);
                write_string(w, spec.category);
                w.Int64(spec.type_id);
                w.EndArray();
            }
    w.EndArray();
}

std::string AssociationStore::read_saved(const rapidjson::Value& saved) {
    clear();
    if (!saved.IsArray()) return "associations: must be an array";
    for (rapidjson::SizeType i = 0; i < saved.Size(); ++i) {
        const rapidjson::Value& e = saved[i];
        std::string where = "associations[" + std::to_string(i) + "]";
        auto index = [&](rapidjson::SizeType k) { return as_uint64(e[k]); };
        if (!e.IsArray() || e.Size() != 6 || !is_string(e[0]) || !index(1) || *index(1) > UINT32_MAX ||
            !is_string(e[2]) || !index(3) || *index(3) > UINT32_MAX || !is_string(e[4]) || !index(5))
            return where + ": must be [fromObject, fromIndex, toObject, toIndex, category, typeId]";
        RecordAddress from{std::string(string_of(e[0])), static_cast<uint32_t>(*index(1))};
        RecordAddress to{std::string(string_of(e[2])), static_cast<uint32_t>(*index(3))};
        if (!add(from, to, {std::string(string_of(e[4])), static_cast<int64_t>(*index(5))}))
            return where + ": listed twice";
    }
    return {};
}

}  // namespace crmsync::mock_crm
