#include "core/backoff.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <memory>
#include <random>

namespace crmsync::sender {

Backoff::RandomSource Backoff::seeded_random_source() {
    std::random_device device;
    auto engine = std::make_shared<std::mt19937_64>((std::uint64_t{device()} << 32) | device());
    return [engine] { return (*engine)(); };
}

Backoff::Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap)
    : Backoff(base, cap, seeded_random_source()) {}

Backoff::Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap, RandomSource random)
    : base_(std::max(base, std::chrono::milliseconds(1))), cap_(std::max(cap, base_)), random_(std::move(random)) {}

std::chrono::milliseconds Backoff::ceiling(unsigned attempt) const {
    // Doubling saturates at the cap long before 2^attempt could overflow.
    std::int64_t ceiling = base_.count();
    for (unsigned i = 0; i < attempt && ceiling < cap_.count(); ++i) ceiling *= 2;
    return std::chrono::milliseconds(std::min<std::int64_t>(ceiling, cap_.count()));
}

std::chrono::milliseconds Backoff::delay(unsigned attempt, std::optional<std::chrono::milliseconds> retry_after) {
    const auto top = static_cast<unsigned __int128>(ceiling(attempt).count());
    // Scale a 64-bit draw onto [0, top] without modulo bias worth mentioning at these sizes.
    const auto draw = static_cast<unsigned __int128>(random_());
    const auto jittered = std::chrono::milliseconds(static_cast<std::int64_t>(((top + 1) * draw) >> 64));
    if (retry_after && *retry_after > jittered) return *retry_after;
    return jittered;
}

namespace {

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

struct Cursor {
    std::string_view text;
    std::size_t pos = 0;

    bool literal(std::string_view s) {
        if (text.substr(pos, s.size()) != s) return false;
        pos += s.size();
        return true;
    }
    bool number(std::size_t min_digits, std::size_t max_digits, int& out) {
        std::size_t n = 0;
        int value = 0;
        while (pos + n < text.size() && n < max_digits && text[pos + n] >= '0' && text[pos + n] <= '9')
            value = value * 10 + (text[pos + n++] - '0');
        if (n < min_digits) return false;
        pos += n;
        out = value;
        return true;
    }
    bool month(unsigned& out) {
        for (unsigned i = 0; i < kMonths.size(); ++i)
            if (literal(kMonths[i])) {
                out = i + 1;
                return true;
            }
        return false;
    }
    bool skip_day_name() {  // "Sun" or "Sunday"; we do not check it against the date
        std::size_t n = 0;
        while (pos + n < text.size() && ((text[pos + n] >= 'A' && text[pos + n] <= 'Z') ||
                                         (text[pos + n] >= 'a' && text[pos + n] <= 'z')))
            ++n;
        if (n < 3) return false;
        pos += n;
        return true;
    }
    bool time(int& h, int& m, int& s) {
        return number(2, 2, h) && literal(":") && number(2, 2, m) && literal(":") && number(2, 2, s) && h < 24 &&
               m < 60 && s < 61;
    }
    bool done() const { return pos == text.size(); }
};

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) {
    int day = 0, year = 0, h = 0, m = 0, s = 0;
    unsigned month = 0;
    Cursor c{text};
    if (!c.skip_day_name()) return std::nullopt;
    bool parsed = false;
    if (c.literal(", ")) {
        const std::size_t after_comma = c.pos;
        // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
        parsed = c.number(2, 2, day) && c.literal(" ") && c.month(month) && c.literal(" ") && c.number(4, 4, year) &&
                 c.literal(" ") && c.time(h, m, s) && c.literal(" GMT") && c.done();
        if (!parsed) {
            // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" (two-digit year: RFC 9110 says the
            // nearest century that is not more than 50 years ahead; 1970-2069 is close enough)
            c.pos = after_comma;
            parsed = c.number(2, 2, day) && c.literal("-") && c.month(month) && c.literal("-") &&
                     c.number(2, 2, year) && c.literal(" ") && c.time(h, m, s) && c.literal(" GMT") && c.done();
            if (parsed) year += year < 70 ? 2000 : 1900;
        }
    } else if (c.literal(" ")) {
        // asctime: "Sun Nov  6 08:49:37 1994"
        parsed = c.month(month) && c.literal(" ") && (c.literal(" ") || true) && c.number(1, 2, day) &&
                 c.literal(" ") && c.time(h, m, s) && c.literal(" ") && c.number(4, 4, year) && c.done();
    }
    if (!parsed) return std::nullopt;
    const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(month),
                                           std::chrono::day(static_cast<unsigned>(day))};
    if (!date.ok()) return std::nullopt;
    return std::chrono::sys_days(date) + std::chrono::hours(h) + std::chrono::minutes(m) + std::chrono::seconds(s);
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now) {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r')) value.remove_suffix(1);
    if (value.empty()) return std::nullopt;

    if (value.find_first_not_of("0123456789") == std::string_view::npos) {
        std::uint64_t seconds = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
        // Absurd values saturate at a day rather than overflow; the caller may cap further.
        if (ec == std::errc::result_out_of_range || seconds > 86'400) seconds = 86'400;
        else if (ec != std::errc()) return std::nullopt;
        return std::chrono::milliseconds(static_cast<std::int64_t>(seconds) * 1000);
    }

    auto date = parse_http_date(value);
    if (!date) return std::nullopt;
    if (*date <= now) return std::chrono::milliseconds(0);
    return std::chrono::ceil<std::chrono::milliseconds>(*date - now);
}

}  // namespace crmsync::sender
