#include "core/wall_clock_zone.hpp"

#include <date/tz.h>

namespace crmsync::sender {

Result<WallClockZone> WallClockZone::named(std::string_view name) {
    WallClockZone out;
    if (name == "UTC" || name == "Etc/UTC") return out;
    try {
        out.zone_ = date::locate_zone(name);
    } catch (const std::exception&) {
        return Error{"\"" + std::string(name) + "\" is not a time zone this system's tz database (/usr/share/zoneinfo, "
                     "package tzdata) knows; expected an IANA name such as \"Europe/Berlin\" or \"America/New_York\", "
                     "or \"UTC\""};
    }
    out.name_ = std::string(name);
    return out;
}

}  // namespace crmsync::sender
