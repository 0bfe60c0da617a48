#include "core/lsn.hpp"

#include <charconv>
#include <cstdio>

namespace crmsync::sender {

namespace {

std::optional<std::uint32_t> parse_hex_group(std::string_view digits) {
    if (digits.empty() || digits.size() > 8) return std::nullopt;
    std::uint32_t value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, 16);
    if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
    return value;
}

}  // namespace

std::optional<Lsn> parse_lsn(std::string_view text) {
    auto slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto high = parse_hex_group(text.substr(0, slash));
    auto low = parse_hex_group(text.substr(slash + 1));
    if (!high || !low) return std::nullopt;
    return Lsn{(std::uint64_t{*high} << 32) | *low};
}

std::string format_lsn(Lsn lsn) {
    char buffer[24];
    int n = std::snprintf(buffer, sizeof buffer, "%X/%X", static_cast<unsigned>(lsn.value >> 32),
                          static_cast<unsigned>(lsn.value & 0xFFFFFFFFu));
    return std::string(buffer, static_cast<std::size_t>(n));
}

std::string format_event_id(const EventId& id) {
    return format_lsn(id.commit_lsn) + "#" + std::to_string(id.seq);
}

}  // namespace crmsync::sender
