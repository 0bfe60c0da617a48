// Logging: one line per event on stderr (journald adds the time), with a syslog priority
// prefix systemd understands. Never pass a secret: config errors, libpq and curl messages
// are already free of them.
#pragma once

#include <string>
#include <string_view>

namespace crmsync::sender {

void log_info(std::string_view message);
void log_warning(std::string_view message);
void log_error(std::string_view message);

}  // namespace crmsync::sender
