// The zone the database's wall-clock times are in (target.time_zone): a `timestamp without
// time zone` is read in it, and a date property takes a `timestamptz`'s calendar day in it.
// Zones come from the system's tz database (/usr/share/zoneinfo) through the date library
// (libhowardhinnant-date-dev), so daylight saving time follows the zone's rules.
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"

namespace date {
class time_zone;
}

namespace crmsync::sender {

class WallClockZone {
public:
    WallClockZone() = default;  // UTC
    // An IANA name ("Europe/Berlin") or "UTC"; the error names what the tz database does not know.
    static Result<WallClockZone> named(std::string_view name);

    const std::string& name() const { return name_; }
    const date::time_zone* zone() const { return zone_; }  // nullptr: UTC

private:
    std::string name_ = "UTC";
    const date::time_zone* zone_ = nullptr;
};

}  // namespace crmsync::sender
