#include "crm/value_conversion.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>

#include "core/request_body.hpp"

namespace crmsync::sender {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool digits_at(std::string_view s, std::size_t from, std::size_t n, int& out) {
    if (from + n > s.size()) return false;
    out = 0;
    for (std::size_t i = from; i < from + n; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

// A date or date-time in the ISO 8601 forms the plugin renders and people store in text:
// YYYY-MM-DD, then optionally [T or space]hh:mm[:ss[.fraction]], then optionally Z or an
// offset (+hh, +hh:mm, +hhmm). Years 0001-9999 only: the CRMs store no others (the plugin
// writes others as "+10000-..." and "-0043-...", which do not parse).
struct Moment {
    date::year_month_day day{};
    bool has_time = false;
    milliseconds time_of_day{0};   // fraction truncated to milliseconds, as the CRMs store it
    std::optional<minutes> offset;  // east of UTC; nullopt: the text names no zone
};

std::optional<Moment> parse_moment(std::string_view s) {
    int y = 0, mo = 0, d = 0;
    if (!digits_at(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits_at(s, 5, 2, mo) || s[7] != '-' ||
        !digits_at(s, 8, 2, d) || y == 0)
        return std::nullopt;
    Moment m;
    m.day = date::year{y} / date::month{static_cast<unsigned>(mo)} / date::day{static_cast<unsigned>(d)};
    if (!m.day.ok()) return std::nullopt;
    std::size_t i = 10;
    if (i < s.size() && (s[i] == 'T' || s[i] == ' ')) {
        int h = 0, mi = 0, sec = 0;
        if (!digits_at(s, i + 1, 2, h) || i + 3 >= s.size() || s[i + 3] != ':' || !digits_at(s, i + 4, 2, mi))
            return std::nullopt;
        i += 6;
        if (i < s.size() && s[i] == ':') {
            if (!digits_at(s, i + 1, 2, sec)) return std::nullopt;
            i += 3;
        }
        int ms = 0, place = 100;
        if (i < s.size() && s[i] == '.') {
            const std::size_t start = ++i;
            for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i, place /= 10) ms += (s[i] - '0') * place;
            if (i == start) return std::nullopt;
        }
        // 24:00:00 is the end of the day in ISO 8601 and in PostgreSQL; 60 s is a leap second.
        if (h > 24 || mi > 59 || sec > 60 || (h == 24 && (mi || sec || ms))) return std::nullopt;
        m.has_time = true;
        m.time_of_day = std::chrono::hours(h) + minutes(mi) + std::chrono::seconds(std::min(sec, 59)) + milliseconds(ms);
    }
    if (i < s.size()) {
        if (s[i] == 'Z' || s[i] == 'z') {
            m.offset = minutes(0);
            ++i;
        } else if (s[i] == '+' || s[i] == '-') {
            int oh = 0, om = 0;
            if (!digits_at(s, i + 1, 2, oh)) return std::nullopt;
            std::size_t j = i + 3;
            if (j < s.size() && s[j] == ':') ++j;
            if (j < s.size()) {
                if (!digits_at(s, j, 2, om)) return std::nullopt;
                j += 2;
            }
            if (oh > 15 || om > 59) return std::nullopt;
            m.offset = minutes((oh * 60 + om) * (s[i] == '-' ? -1 : 1));
            i = j;
        }
    }
    if (i != s.size()) return std::nullopt;
    return m;
}

using Instant = date::sys_time<milliseconds>;

// The instant a moment names: its own offset, else read in the wall-clock zone. A local time
// the zone skips (the hour a DST change leaves out) is taken as the moment of the change; one
// it repeats, as the earlier of the two.
Instant instant_of(const Moment& m, const WallClockZone& zone) {
    const auto local = date::local_days(m.day).time_since_epoch() + m.time_of_day;
    if (m.offset) return Instant(local - *m.offset);
    if (!zone.zone()) return Instant(local);
    return zone.zone()->to_sys(date::local_time<milliseconds>(local), date::choose::earliest);
}

std::string date_text(const date::year_month_day& day) {
    char text[16];
    std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(day.year()), static_cast<unsigned>(day.month()),
                  static_cast<unsigned>(day.day()));
    return text;
}

std::string utc_text(Instant instant) {
    const auto day = date::floor<date::days>(instant);
    const date::hh_mm_ss<milliseconds> time(instant - day);
    char text[40];
    std::snprintf(text, sizeof text, "%sT%02d:%02d:%02d.%03dZ", date_text(date::year_month_day(day)).c_str(),
                  static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                  static_cast<int>(time.seconds().count()), static_cast<int>(time.subseconds().count()));
    return text;
}

// The calendar day a moment falls on: as written when it names no zone (a `timestamp` is
// already wall-clock time), else the day in the wall-clock zone.
date::year_month_day day_of(const Moment& m, const WallClockZone& zone) {
    if (!m.offset) return date::year_month_day(date::local_days(m.day) + date::floor<date::days>(m.time_of_day));
    const Instant instant = instant_of(m, zone);
    if (!zone.zone()) return date::year_month_day(date::floor<date::days>(instant));
    return date::year_month_day(date::floor<date::days>(zone.zone()->to_local(instant)));
}

// RFC 8259's number grammar: what both CRMs parse as a number.
bool is_json_number(std::string_view s) {
    std::size_t i = 0;
    auto digits = [&] {
        const std::size_t start = i;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
        return i > start;
    };
    if (i < s.size() && s[i] == '-') ++i;
    if (i < s.size() && s[i] == '0') ++i;
    else if (!digits()) return false;
    if (i < s.size() && s[i] == '.') {
        ++i;
        if (!digits()) return false;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
        if (!digits()) return false;
    }
    return i == s.size();
}

// PostgreSQL's boolean input spellings (boolin), which is also what people store in text.
std::optional<bool> parse_boolean(std::string_view s) {
    const std::string v = lower(trim(s));
    if (v == "true" || v == "t" || v == "yes" || v == "y" || v == "on" || v == "1") return true;
    if (v == "false" || v == "f" || v == "no" || v == "n" || v == "off" || v == "0") return false;
    return std::nullopt;
}

std::string quoted(std::string_view s) {
    std::string out;
    append_json_string(out, s);
    return out;
}

std::string options_text(const CrmProperty& p) {
    if (p.options.empty()) return "it has no options";
    std::string out = "its options are ";
    for (std::size_t i = 0; i < p.options.size() && i < 10; ++i) out += (i ? ", " : "") + quoted(p.options[i]);
    if (p.options.size() > 10) out += ", ... (" + std::to_string(p.options.size()) + " in all)";
    return out;
}

bool has_option(const CrmProperty& p, std::string_view v) {
    return std::find(p.options.begin(), p.options.end(), v) != p.options.end();
}

Error refuse(const std::string& why) { return Error{why}; }

using Converted = Result<std::optional<std::string>>;

Converted keep() { return Converted(std::optional<std::string>()); }
Converted put(std::string json) { return Converted(std::optional<std::string>(std::move(json))); }

// A JSON string, in either dialect.
Converted as_string(std::string text, const JsonScalar& value) {
    if (value.kind == JsonScalar::Kind::string && value.text == text) return keep();
    return put(quoted(text));
}

Converted to_number(ValueDialect dialect, const JsonScalar& value) {
    if (value.kind == JsonScalar::Kind::number) return dialect == ValueDialect::hubspot ? put(quoted(value.text)) : keep();
    if (value.kind == JsonScalar::Kind::boolean)
        return refuse("a boolean is not a number; map a numeric column or convert it in a view");
    const std::string_view text = trim(value.text);
    if (!is_json_number(text)) {
        if (text == "NaN" || text == "Infinity" || text == "-Infinity")
            return refuse("is not a finite number, and a number property holds only those");
        return refuse("is not a number (digits with an optional sign, fraction and exponent)");
    }
    if (dialect == ValueDialect::hubspot) return text == value.text ? keep() : put(quoted(text));
    return put(std::string(text));
}

Converted to_boolean(ValueDialect dialect, const JsonScalar& value) {
    std::optional<bool> b;
    if (value.kind == JsonScalar::Kind::boolean) b = value.text == "true";
    else if (value.kind == JsonScalar::Kind::number && (value.text == "0" || value.text == "1")) b = value.text == "1";
    else if (value.kind == JsonScalar::Kind::string) b = parse_boolean(value.text);
    if (!b) return refuse("is not a boolean (true/false, t/f, yes/no, on/off or 1/0)");
    const char* word = *b ? "true" : "false";
    if (dialect == ValueDialect::hubspot) return as_string(word, value);
    return value.kind == JsonScalar::Kind::boolean ? keep() : put(word);
}

Converted to_date(const JsonScalar& value, const WallClockZone& zone) {
    if (value.kind != JsonScalar::Kind::string) return refuse("is not a date (YYYY-MM-DD)");
    if (value.text == "infinity" || value.text == "-infinity")
        return refuse("is infinite, and a date property holds only calendar days; map a column that is NULL instead");
    const auto m = parse_moment(trim(value.text));
    if (!m) return refuse("is not a date (YYYY-MM-DD, or a timestamp to take the day of; years 1 to 9999)");
    return as_string(date_text(day_of(*m, zone)), value);
}

Converted to_datetime(const JsonScalar& value, const WallClockZone& zone) {
    if (value.kind != JsonScalar::Kind::string) return refuse("is not a timestamp (ISO 8601)");
    if (value.text == "infinity" || value.text == "-infinity")
        return refuse("is infinite, and a datetime property holds only real instants; map a column that is NULL instead");
    const auto m = parse_moment(trim(value.text));
    if (!m) return refuse("is not a timestamp (ISO 8601: YYYY-MM-DDThh:mm:ss with an optional fraction and zone; "
                          "years 1 to 9999)");
    const Instant instant = instant_of(*m, zone);
    if (date::year_month_day(date::floor<date::days>(instant)).year() < date::year{1} ||
        date::year_month_day(date::floor<date::days>(instant)).year() > date::year{9999})
        return refuse("falls outside the years 1 to 9999 in UTC");
    return as_string(utc_text(instant), value);
}

Converted to_option(ValueDialect dialect, const CrmProperty& property, const JsonScalar& value, bool several) {
    // Salesforce accepts any value in a picklist that is not restricted ("Picklist ...
    // restrictedPicklist", DescribeSObjectResult Field).
    if (dialect == ValueDialect::salesforce && !property.restricted_options) return keep();
    if (value.kind == JsonScalar::Kind::boolean || value.kind == JsonScalar::Kind::number) {
        if (!has_option(property, value.text))
            return refuse("is not one of the property's options; " + options_text(property));
        return as_string(value.text, value);
    }
    if (!several) {
        if (!has_option(property, value.text))
            return refuse("is not one of the property's options (matched exactly, case included); " +
                          options_text(property));
        return keep();
    }
    // Several options separated by ";" (both CRMs); an empty item (from an empty string in a
    // text[]) names no option and is left out.
    std::string joined;
    std::size_t start = 0;
    while (start <= value.text.size()) {
        const std::size_t end = std::min(value.text.find(';', start), value.text.size());
        const std::string_view item = std::string_view(value.text).substr(start, end - start);
        if (!item.empty()) {
            if (!has_option(property, item))
                return refuse("holds \"" + std::string(item) + "\", which is not one of the property's options " +
                              "(matched exactly, case included); " + options_text(property));
            joined += (joined.empty() ? "" : ";") + std::string(item);
        }
        start = end + 1;
    }
    return as_string(joined, value);
}

}  // namespace

Result<std::optional<std::string>> convert_value(ValueDialect dialect, const CrmProperty& property,
                                                 const JsonScalar& value, const WallClockZone& zone) {
    // A clear is a clear, whatever the type: HubSpot "" ("Properties values can be cleared by
    // passing an empty string", Update contacts), Salesforce null.
    if (value.kind == JsonScalar::Kind::null) return keep();
    if (dialect == ValueDialect::hubspot && value.kind == JsonScalar::Kind::string && value.text.empty()) return keep();
    switch (property.type) {
        case CrmType::number: return to_number(dialect, value);
        case CrmType::boolean: return to_boolean(dialect, value);
        case CrmType::date: return to_date(value, zone);
        case CrmType::datetime: return to_datetime(value, zone);
        case CrmType::enumeration: return to_option(dialect, property, value, false);
        case CrmType::multi_enumeration: return to_option(dialect, property, value, true);
        default:
            // Text, ids and types the sender does not know: as rendered (HubSpot stores every value
            // as a string, so a number or boolean becomes its text).
            return keep();
    }
}

}  // namespace crmsync::sender
