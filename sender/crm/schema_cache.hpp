// The target schema an adapter converts values with (record_conversion.hpp), per object: read
// before the object's first upsert (Stage::schema: HubSpot properties API, Salesforce
// describe), and read again once the CRM has refused a property or a value of that object,
// at most once a minute, so that a property created or retyped meanwhile is seen.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include "crm/crm_adapter.hpp"
#include "crm/crm_schema.hpp"

namespace crmsync::sender {

class SchemaCache {
public:
    using Clock = std::chrono::system_clock;
    static constexpr auto kRereadAfter = std::chrono::seconds(60);

    // Never read, or refused something since it was read.
    bool needs(std::string_view object) const;
    // The schema read; also a schema that could not be read (`fetch.problem`): the object's
    // values are then sent as rendered until it is read again.
    void store(SchemaFetch fetch, Clock::time_point now);
    // The CRM's verdict on a part: when it refused a property or a value of an upsert (a
    // configuration hold, a rejected record, a request split to find one), the object's schema
    // is read again before its next upsert, unless it was read less than kRereadAfter ago.
    void note_verdict(Stage stage, const PartView& part, const ResponseVerdict& verdict, Clock::time_point now);
    // nullptr when the object's schema is unknown or could not be read.
    const CrmObjectSchema* find(std::string_view object) const;

private:
    struct Entry {
        SchemaFetch fetch;
        Clock::time_point read_at;
        bool stale = false;
    };
    std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace crmsync::sender
