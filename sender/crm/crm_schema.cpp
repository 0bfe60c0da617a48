#include "crm/crm_schema.hpp"

namespace crmsync::sender {

std::string_view crm_type_name(CrmType type) {
    switch (type) {
        case CrmType::string: return "string";
        case CrmType::text: return "text";
        case CrmType::number: return "number";
        case CrmType::boolean: return "boolean";
        case CrmType::date: return "date";
        case CrmType::datetime: return "datetime";
        case CrmType::enumeration: return "enumeration";
        case CrmType::multi_enumeration: return "multi_enumeration";
        case CrmType::id: return "id";
        case CrmType::reference: return "reference";
        case CrmType::other: return "other";
    }
    return "other";
}

const CrmProperty* CrmObjectSchema::find(std::string_view name) const {
    for (const auto& p : properties)
        if (p.name == name) return &p;
    return nullptr;
}

}  // namespace crmsync::sender
