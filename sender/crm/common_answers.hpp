// What every CRM's answers share: transport failures, redirects, throttling and server errors
// (RFC 9110 semantics), the JSON helpers the adapters read bodies with, and the one-line text
// of an answer that goes into logs and dead letters.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/rapidjson.hpp"
#include "crm/crm_adapter.hpp"

#include <rapidjson/document.h>

namespace crmsync::sender::answers {

// At most 500 bytes, never cut inside a UTF-8 sequence (the text is stored in
// crmsync.dead_letters.crm_error, and Postgres refuses invalid UTF-8), newlines flattened.
std::string short_body(std::string_view body);

ResponseVerdict verdict(ResponseVerdict::Kind kind, std::string error = {});

// The verdict for answers whose meaning does not depend on the CRM: no answer at all (transport
// error), a redirect (not followed: the URL is the operator's), 408, 429 and 5xx (transient;
// Retry-After honoured). nullopt for everything else: the adapter decides.
std::optional<ResponseVerdict> transport_or_transient(const CrmAnswer& answer, std::chrono::system_clock::time_point now,
                                                      std::string_view crm_name);

// Parses the body; false when it is empty or not JSON.
bool parse(std::string_view body, rapidjson::Document& doc);
const rapidjson::Value* member(const rapidjson::Value& object, const char* name);
std::string string_or(const rapidjson::Value* value, std::string fallback);
std::string_view string_view_of(const rapidjson::Value& value);

// ASCII case-insensitive equality (HubSpot matches emails that way).
bool iequals(std::string_view a, std::string_view b);

}  // namespace crmsync::sender::answers
