// Commit times arrive as ISO 8601 UTC text (docs/mapping.md, "Output messages": 2026-11-24T10:00:00.123456Z), in
// webhook events and in the X-Crmsync-Commit-Time header; latency is measured against them.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace crmsync::mock_crm {

// Microseconds since the Unix epoch. Accepts "YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+00:00|+00)";
// anything else (other offsets included: the plugin always writes UTC) is nullopt.
std::optional<int64_t> parse_commit_time_us(std::string_view text);

// Wall clock now, in the same unit: commit times come from the database server's wall clock.
int64_t wall_clock_now_us();

}  // namespace crmsync::mock_crm
