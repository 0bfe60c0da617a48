#include "crm/crm_adapter.hpp"
#include "crm/hubspot/hubspot_adapter.hpp"
#include "crm/salesforce/salesforce_adapter.hpp"
#include "crm/webhook/webhook_adapter.hpp"

namespace crmsync::sender {

std::optional<std::string_view> CrmAnswer::header(std::string_view lower_case_name) const {
    for (const auto& [name, value] : headers)
        if (name == lower_case_name) return std::string_view(value);
    return std::nullopt;
}

std::unique_ptr<CrmAdapter> make_adapter(Format format, const AdapterOptions& options) {
    switch (format) {
        case Format::hubspot:
            return std::make_unique<HubspotAdapter>(options.api_version.empty() ? "v3" : options.api_version,
                                                    options.time_zone, options.property_source);
        case Format::salesforce:
            return std::make_unique<SalesforceAdapter>(
                options.api_version.empty() ? std::string(kDefaultSalesforceApiVersion) : options.api_version,
                options.time_zone, options.property_source);
        case Format::webhook: break;
    }
    return std::make_unique<WebhookAdapter>();
}

}  // namespace crmsync::sender
