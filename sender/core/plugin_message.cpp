#include "core/plugin_message.hpp"

#include "core/rapidjson.hpp"

#include <charconv>
#include <cstring>
#include <chrono>
#include <cstdint>

namespace crmsync::sender {

std::string_view action_name(Action action) {
    switch (action) {
        case Action::upsert: return "upsert";
        case Action::delete_: return "delete";
        case Action::truncate: return "truncate";
        case Action::message: return "message";
        case Action::commit: return "commit";
    }
    return "?";
}

namespace {

enum Field : unsigned {
    f_action = 1u << 0,
    f_object = 1u << 1,
    f_key = 1u << 2,
    f_table = 1u << 3,
    f_commit_lsn = 1u << 4,
    f_seq = 1u << 5,
    f_xid = 1u << 6,
    f_commit_time = 1u << 7,
    f_end_lsn = 1u << 8,
    f_count = 1u << 9,
    f_error = 1u << 10,
    f_prefix = 1u << 11,
    f_transactional = 1u << 12,
    f_record = 1u << 13,
};

struct NamedField {
    std::string_view name;
    Field field;
};

constexpr NamedField kFields[] = {
    {"action", f_action},   {"object", f_object},         {"key", f_key},
    {"table", f_table},     {"commit_lsn", f_commit_lsn}, {"seq", f_seq},
    {"xid", f_xid},         {"commit_time", f_commit_time}, {"end_lsn", f_end_lsn},
    {"count", f_count},     {"error", f_error},           {"prefix", f_prefix},
    {"transactional", f_transactional}, {"record", f_record},
};

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Accepts exactly the bytes RFC 3629 allows (no overlongs, no surrogates, <= U+10FFFF).
bool valid_utf8(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* end = p + s.size();
    while (p < end) {
        unsigned c = *p;
        if (c < 0x80) {
            ++p;
            continue;
        }
        int extra;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) extra = 1;
        else if (c == 0xE0) { extra = 2; lo = 0xA0; }
        else if (c >= 0xE1 && c <= 0xEC) extra = 2;
        else if (c == 0xED) { extra = 2; hi = 0x9F; }
        else if (c >= 0xEE && c <= 0xEF) extra = 2;
        else if (c == 0xF0) { extra = 3; lo = 0x90; }
        else if (c >= 0xF1 && c <= 0xF3) extra = 3;
        else if (c == 0xF4) { extra = 3; hi = 0x8F; }
        else return false;
        if (end - p <= extra) return false;
        if (p[1] < lo || p[1] > hi) return false;
        for (int i = 2; i <= extra; ++i)
            if (p[i] < 0x80 || p[i] > 0xBF) return false;
        p += extra + 1;
    }
    return true;
}

// Collects the single string RapidJSON decodes (escapes, \u surrogate pairs, UTF-8 check).
struct StringCapture : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, StringCapture> {
    std::string* out = nullptr;
    bool String(const char* s, rapidjson::SizeType n, bool) {
        out->assign(s, n);
        return true;
    }
    bool Default() { return false; }
};

class MessageScanner {
public:
    explicit MessageScanner(std::string_view in) : in_(in) {}

    Result<PluginMessage> parse();

private:
    Error fail(std::string what) const {
        return Error{"plugin message: " + what + " at byte " + std::to_string(pos_)};
    }
    void skip_space() {
        while (pos_ < in_.size() && is_json_space(in_[pos_])) ++pos_;
    }
    bool consume(char c) {
        if (pos_ < in_.size() && in_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    bool consume_literal(std::string_view word) {
        if (in_.substr(pos_, word.size()) != word) return false;
        pos_ += word.size();
        return true;
    }
    char peek() const { return pos_ < in_.size() ? in_[pos_] : '\0'; }

    Status read_string(std::string& out);
    // A view of the input when the string is plain ASCII, else of `scratch`, which holds it decoded.
    Status read_string_view(std::string_view& out, std::string& scratch);
    Status read_nullable_string(std::optional<std::string>& out);
    Status read_uint(std::uint64_t& out);
    Status read_nullable_uint(std::optional<std::uint64_t>& out);
    Status read_lsn(Lsn& out);
    Status skip_value();
    Status check_record(const PluginMessage& message, unsigned seen);

    std::string_view in_;
    std::size_t pos_ = 0;
};

// Marks (high bit of each byte) the bytes a string cannot skip over: '"', '\\', controls and
// non-ASCII. Exact for the lowest marked byte, which is all the scan uses.
std::uint64_t special_bytes(std::uint64_t w) {
    constexpr std::uint64_t ones = 0x0101010101010101ULL, high = ones * 0x80;
    auto zero_bytes = [](std::uint64_t x) { return (x - ones) & ~x & high; };
    return ((w - ones * 0x20) & ~w & high) | zero_bytes(w ^ (ones * '"')) | zero_bytes(w ^ (ones * '\\')) |
           (w & high);
}

// Most strings of a message are plain ASCII (names, LSNs, times, keys): they are found 8 bytes
// at a time and handed out as views of the input, with nothing to check or decode.
Status MessageScanner::read_string_view(std::string_view& out, std::string& scratch) {
    if (!consume('"')) return fail("expected a string");
    const std::size_t begin = pos_;
    std::size_t i = begin;
    for (;;) {
        while (in_.size() - i >= 8) {
            std::uint64_t w;
            std::memcpy(&w, in_.data() + i, 8);
            if (std::uint64_t m = special_bytes(w)) {
                i += static_cast<std::size_t>(__builtin_ctzll(m)) / 8;
                break;
            }
            i += 8;
        }
        if (i >= in_.size()) return fail("unterminated string");
        const auto c = static_cast<unsigned char>(in_[i]);
        if (c == '"') {
            out = in_.substr(begin, i - begin);
            pos_ = i + 1;
            return ok_status();
        }
        if (c == '\\' || c >= 0x80) break;
        if (c < 0x20) {
            pos_ = i;
            return fail("control character in string");
        }
        ++i;
    }
    // Escapes or non-ASCII bytes: the careful path.
    pos_ = begin - 1;
    if (auto status = read_string(scratch); !status) return status;
    out = scratch;
    return ok_status();
}

Status MessageScanner::read_string(std::string& out) {
    if (!consume('"')) return fail("expected a string");
    const std::size_t begin = pos_;
    bool escaped = false;
    std::size_t i = begin;
    while (i < in_.size()) {
        const char c = in_[i];
        if (c == '"') break;
        if (c == '\\') {
            escaped = true;
            i += 2;
            continue;
        }
        if (static_cast<unsigned char>(c) < 0x20) {
            pos_ = i;
            return fail("control character in string");
        }
        ++i;
    }
    if (i >= in_.size()) return fail("unterminated string");
    const std::string_view raw = in_.substr(begin, i - begin);
    if (!escaped) {
        if (!valid_utf8(raw)) return fail("invalid UTF-8 in string");
        out.assign(raw);
        pos_ = i + 1;
        return ok_status();
    }
    // Rare path: let RapidJSON decode the escapes of the quoted span.
    const std::string_view quoted = in_.substr(begin - 1, raw.size() + 2);
    rapidjson::MemoryStream stream(quoted.data(), quoted.size());
    rapidjson::Reader reader;
    StringCapture capture;
    capture.out = &out;
    auto parsed = reader.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseStopWhenDoneFlag>(stream, capture);
    if (parsed.IsError()) {
        pos_ = begin - 1 + parsed.Offset();
        return fail(std::string("bad string: ") + rapidjson::GetParseError_En(parsed.Code()));
    }
    pos_ = i + 1;
    return ok_status();
}

Status MessageScanner::read_nullable_string(std::optional<std::string>& out) {
    if (consume_literal("null")) {
        out.reset();
        return ok_status();
    }
    std::string_view value;
    std::string scratch;
    if (auto status = read_string_view(value, scratch); !status) return status;
    out.emplace(value);
    return ok_status();
}

Status MessageScanner::read_uint(std::uint64_t& out) {
    const std::size_t begin = pos_;
    while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') ++pos_;
    const std::string_view digits = in_.substr(begin, pos_ - begin);
    if (digits.empty()) return fail("expected an unsigned integer");
    if (digits.size() > 1 && digits[0] == '0') return fail("leading zero in integer");
    const char next = peek();
    if (next == '.' || next == 'e' || next == 'E') return fail("expected an integer, not a fraction");
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
    if (ec != std::errc() || end != digits.data() + digits.size()) return fail("integer out of range");
    return ok_status();
}

Status MessageScanner::read_nullable_uint(std::optional<std::uint64_t>& out) {
    if (consume_literal("null")) {
        out.reset();
        return ok_status();
    }
    std::uint64_t value = 0;
    if (auto status = read_uint(value); !status) return status;
    out = value;
    return ok_status();
}

Status MessageScanner::read_lsn(Lsn& out) {
    const std::size_t begin = pos_;
    std::string_view text;
    std::string scratch;
    if (auto status = read_string_view(text, scratch); !status) return status;
    auto lsn = parse_lsn(text);
    if (!lsn) {
        pos_ = begin;
        return fail("bad LSN \"" + std::string(text) + "\" (expected hex \"X/Y\")");
    }
    out = *lsn;
    return ok_status();
}

// Unknown fields (a newer plugin) are skipped, whatever their value, so that an additive
// change to the format does not stop delivery.
Status MessageScanner::skip_value() {
    rapidjson::MemoryStream stream(in_.data() + pos_, in_.size() - pos_);
    rapidjson::Reader reader;
    rapidjson::BaseReaderHandler<> ignore;
    auto parsed = reader.Parse<rapidjson::kParseStopWhenDoneFlag | rapidjson::kParseNumbersAsStringsFlag |
                               rapidjson::kParseValidateEncodingFlag>(stream, ignore);
    if (parsed.IsError()) {
        pos_ += parsed.Offset();
        return fail(std::string("bad value: ") + rapidjson::GetParseError_En(parsed.Code()));
    }
    pos_ += stream.Tell();
    return ok_status();
}

Result<PluginMessage> MessageScanner::parse() {
    PluginMessage message;
    std::string_view action_text;
    std::string action_scratch;
    unsigned seen = 0;
    std::string name_scratch;
    std::size_t next_known = 0;

    skip_space();
    if (!consume('{')) return fail("expected '{'");
    for (;;) {
        skip_space();
        std::string_view name;
        if (auto status = read_string_view(name, name_scratch); !status) return Error{status.error()};
        skip_space();
        if (!consume(':')) return fail("expected ':' after \"" + std::string(name) + "\"");
        skip_space();

        // The plugin writes fields in a fixed order, the order of kFields: the search starts
        // after the previous field's entry and usually ends there.
        Field field{};
        for (std::size_t k = 0; k < std::size(kFields); ++k) {
            const NamedField& known = kFields[(next_known + k) % std::size(kFields)];
            if (known.name == name) {
                field = known.field;
                next_known = (next_known + k + 1) % std::size(kFields);
                break;
            }
        }
        if (field != 0 && (seen & field)) return fail("duplicate field \"" + std::string(name) + "\"");
        seen |= field;

        Status status = ok_status();
        switch (field) {
            case f_action: status = read_string_view(action_text, action_scratch); break;
            case f_object: status = read_nullable_string(message.object); break;
            case f_key: status = read_nullable_string(message.key); break;
            case f_table: status = read_nullable_string(message.table); break;
            case f_commit_lsn: status = read_lsn(message.commit_lsn); break;
            case f_seq: status = read_uint(message.seq); break;
            case f_xid: status = read_nullable_uint(message.xid); break;
            case f_commit_time: status = read_nullable_string(message.commit_time); break;
            case f_end_lsn: {
                Lsn lsn;
                status = read_lsn(lsn);
                message.end_lsn = lsn;
                break;
            }
            case f_count: {
                std::uint64_t count = 0;
                status = read_uint(count);
                message.count = count;
                break;
            }
            case f_error: status = read_nullable_string(message.error); break;
            case f_prefix: status = read_nullable_string(message.prefix); break;
            case f_transactional:
                if (consume_literal("true")) message.transactional = true;
                else if (consume_literal("false")) message.transactional = false;
                else status = fail("\"transactional\" must be true or false");
                break;
            case f_record: {
                // Everything up to the final '}' is the record: it is the last field.
                std::size_t end = in_.size();
                while (end > pos_ && is_json_space(in_[end - 1])) --end;
                if (end <= pos_ || in_[end - 1] != '}') return fail("message does not end with '}'");
                --end;
                while (end > pos_ && is_json_space(in_[end - 1])) --end;
                message.record = in_.substr(pos_, end - pos_);
                if (message.record.empty()) return fail("empty record");
                pos_ = in_.size();
                break;
            }
            default: status = skip_value(); break;
        }
        if (!status) return Error{status.error()};
        if (field == f_record) break;

        skip_space();
        if (consume(',')) continue;
        if (consume('}')) {
            skip_space();
            if (pos_ != in_.size()) return fail("trailing bytes after the message");
            break;
        }
        return fail("expected ',' or '}'");
    }

    if (!(seen & f_action)) return Error{"plugin message: no \"action\" field"};
    if (action_text == "upsert") message.action = Action::upsert;
    else if (action_text == "delete") message.action = Action::delete_;
    else if (action_text == "truncate") message.action = Action::truncate;
    else if (action_text == "message") message.action = Action::message;
    else if (action_text == "commit") message.action = Action::commit;
    else
        return Error{"plugin message: unknown action \"" + std::string(action_text) +
                     "\" (expected upsert, delete, truncate, message or commit)"};

    if (message.commit_time) {
        // Every message of a transaction carries the same commit_time: parse it once.
        thread_local bool have_last = false;
        thread_local std::string last_text;
        thread_local std::int64_t last_us = 0;
        if (!have_last || *message.commit_time != last_text) {
            auto micros = parse_commit_time(*message.commit_time);
            if (!micros) return Error{"plugin message: commit_time: " + micros.error()};
            last_text = *message.commit_time;
            last_us = *micros;
            have_last = true;
        }
        message.commit_time_us = last_us;
    }
    if (auto status = check_record(message, seen); !status) return Error{status.error()};
    return message;
}

// The per-action contract of docs/mapping.md (the messages): which fields must be there and what they hold.
Status MessageScanner::check_record(const PluginMessage& m, unsigned seen) {
    const std::string_view action = action_name(m.action);
    auto missing = [&](std::string_view field) {
        return Error{"plugin message: " + std::string(action) + " without \"" + std::string(field) + "\""};
    };
    auto wrong = [&](std::string what) { return Error{"plugin message: " + std::string(action) + ": " + what}; };

    if (!(seen & f_commit_lsn)) return missing("commit_lsn");
    if (m.action == Action::commit) {
        if (!m.end_lsn) return missing("end_lsn");
        if (!m.count) return missing("count");
        // Null after a non-transactional message, which is confirmed like a transaction of
        // its own but belongs to none.
        if (!(seen & f_xid)) return missing("xid");
        if (!(seen & f_commit_time)) return missing("commit_time");
        if (seen & f_seq) return wrong("a commit marker has no \"seq\"");
        if (seen & f_record) return wrong("a commit marker has no \"record\"");
        return ok_status();
    }

    if (!(seen & f_seq)) return missing("seq");
    if (m.seq == 0) return wrong("\"seq\" is 1-based, got 0");
    if (!(seen & f_record)) return missing("record");
    if (seen & (f_end_lsn | f_count)) return wrong("\"end_lsn\" and \"count\" belong to commit markers");

    const char first = m.record.front();
    const bool record_is_object = first == '{' && m.record.back() == '}';
    switch (m.action) {
        case Action::upsert:
        case Action::delete_:
        case Action::truncate:
            if (!m.object) return missing("object");
            if (!m.table) return missing("table");
            // Null in a backfilled row: it comes from a read, not from a transaction.
            if (!(seen & f_xid)) return missing("xid");
            if (!(seen & f_commit_time)) return missing("commit_time");
            if (!(seen & f_key)) return missing("key");
            break;
        default: break;
    }
    switch (m.action) {
        case Action::upsert:
            // The plugin sends an upsert it cannot key with "key":null and an "error", so that
            // it is dead-lettered rather than dropped; without the error it is malformed.
            if (!m.key && !m.error) return wrong("\"key\" must be a string (or null with an \"error\")");
            if (!record_is_object) return wrong("\"record\" must be an object");
            break;
        case Action::delete_:
            if (!record_is_object && !m.record_is_null()) return wrong("\"record\" must be an object or null");
            break;
        case Action::truncate:
            if (m.key) return wrong("\"key\" must be null");
            if (!m.record_is_null()) return wrong("\"record\" must be null");
            break;
        case Action::message:
            if (!m.prefix) return missing("prefix");
            if (!m.transactional) return missing("transactional");
            if (m.object || m.key) return wrong("\"object\" and \"key\" must be null");
            if (std::string_view("{[\"-0123456789tfn").find(first) == std::string_view::npos)
                return wrong("\"record\" is not a JSON value");
            break;
        case Action::commit: break;
    }
    return ok_status();
}

bool read_fixed_digits(std::string_view text, std::size_t& pos, std::size_t count, int& out) {
    if (pos + count > text.size()) return false;
    int value = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const char c = text[pos + i];
        if (c < '0' || c > '9') return false;
        value = value * 10 + (c - '0');
    }
    pos += count;
    out = value;
    return true;
}

bool expect_char(std::string_view text, std::size_t& pos, char c) {
    if (pos >= text.size() || text[pos] != c) return false;
    ++pos;
    return true;
}

}  // namespace

Result<PluginMessage> parse_plugin_message(std::string_view json) {
    try {
        return MessageScanner(json).parse();
    } catch (const std::exception& e) {  // RAPIDJSON_ASSERT throws; never abort the daemon
        return Error{std::string("plugin message: ") + e.what()};
    }
}

Result<std::int64_t> parse_commit_time(std::string_view text) {
    const Error bad{"\"" + std::string(text) + "\" is not an RFC 3339 timestamp like 2026-11-24T10:00:00.123456Z"};
    std::size_t pos = 0;
    int year, month, day, hour, minute, second;
    if (!read_fixed_digits(text, pos, 4, year) || !expect_char(text, pos, '-') ||
        !read_fixed_digits(text, pos, 2, month) || !expect_char(text, pos, '-') ||
        !read_fixed_digits(text, pos, 2, day) || !expect_char(text, pos, 'T') ||
        !read_fixed_digits(text, pos, 2, hour) || !expect_char(text, pos, ':') ||
        !read_fixed_digits(text, pos, 2, minute) || !expect_char(text, pos, ':') ||
        !read_fixed_digits(text, pos, 2, second))
        return bad;
    std::int64_t micros = 0;
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        std::size_t digits = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            if (digits < 6) micros = micros * 10 + (text[pos] - '0');
            ++digits;
            ++pos;
        }
        if (digits == 0 || digits > 9) return bad;
        for (std::size_t i = digits; i < 6; ++i) micros *= 10;
    }
    std::int64_t offset_seconds = 0;
    if (pos < text.size() && text[pos] == 'Z') {
        ++pos;
    } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
        const int sign = text[pos] == '+' ? 1 : -1;
        ++pos;
        int oh, om;
        if (!read_fixed_digits(text, pos, 2, oh) || !expect_char(text, pos, ':') ||
            !read_fixed_digits(text, pos, 2, om) || oh > 23 || om > 59)
            return bad;
        offset_seconds = sign * (oh * 3600 + om * 60);
    } else {
        return bad;
    }
    if (pos != text.size() || hour > 23 || minute > 59 || second > 59) return bad;

    const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                                           std::chrono::day(static_cast<unsigned>(day))};
    if (!date.ok()) return bad;
    const std::int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
    const std::int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
    return seconds * 1'000'000 + micros;
}

}  // namespace crmsync::sender
