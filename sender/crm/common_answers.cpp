#include "crm/common_answers.hpp"

#include <algorithm>

#include "core/backoff.hpp"

namespace crmsync::sender::answers {

std::string short_body(std::string_view body) {
    constexpr size_t kMax = 500;
    size_t cut = std::min(body.size(), kMax);
    if (cut < body.size())
        while (cut > 0 && (static_cast<unsigned char>(body[cut]) & 0xC0) == 0x80) --cut;
    std::string text(body.substr(0, cut));
    for (char& c : text)
        if (c == '\n' || c == '\r') c = ' ';
    if (body.size() > kMax) text += "...";
    return text;
}

ResponseVerdict verdict(ResponseVerdict::Kind kind, std::string error) {
    ResponseVerdict v;
    v.kind = kind;
    v.error = std::move(error);
    return v;
}

std::optional<ResponseVerdict> transport_or_transient(const CrmAnswer& answer, std::chrono::system_clock::time_point now,
                                                      std::string_view crm_name) {
    using Kind = ResponseVerdict::Kind;
    const std::string status = "HTTP " + std::to_string(answer.status);
    if (answer.status == 0)
        return verdict(Kind::retry, "no answer from " + std::string(crm_name) + ": " + std::string(answer.transport_error));
    if (answer.status >= 300 && answer.status < 400)
        return verdict(Kind::retry, status + " (redirected: check target.url): " + short_body(answer.body));
    // RFC 9110 15.5.9 (408), RFC 6585 4 (429), 15.6 (5xx): the request may succeed later.
    if (answer.status == 408 || answer.status == 429 || answer.status >= 500) {
        ResponseVerdict v = verdict(Kind::retry, status + ": " + short_body(answer.body));
        if (answer.retry_after_header) v.retry_after = parse_retry_after(*answer.retry_after_header, now);
        return v;
    }
    return std::nullopt;
}

bool parse(std::string_view body, rapidjson::Document& doc) {
    return !body.empty() && !doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size()).HasParseError();
}

const rapidjson::Value* member(const rapidjson::Value& object, const char* name) {
    if (!object.IsObject()) return nullptr;
    auto it = object.FindMember(name);
    return it == object.MemberEnd() ? nullptr : &it->value;
}

std::string string_or(const rapidjson::Value* value, std::string fallback) {
    return value && value->IsString() ? std::string(value->GetString(), value->GetStringLength()) : fallback;
}

std::string_view string_view_of(const rapidjson::Value& value) {
    return value.IsString() ? std::string_view(value.GetString(), value.GetStringLength()) : std::string_view();
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

}  // namespace crmsync::sender::answers
