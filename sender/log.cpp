#include "log.hpp"

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace crmsync::sender {
namespace {

std::mutex g_log_mutex;

// Under systemd (JOURNAL_STREAM is set) a "<N>" prefix carries the priority to journald.
const bool g_journal = std::getenv("JOURNAL_STREAM") != nullptr;

void write_line(const char* priority, const char* level, std::string_view message) {
    std::lock_guard<std::mutex> lock(g_log_mutex);
    std::fprintf(stderr, "%scrmsync-sender %s: %.*s\n", g_journal ? priority : "", level,
                 static_cast<int>(message.size()), message.data());
    std::fflush(stderr);
}

}  // namespace

void log_info(std::string_view message) { write_line("<6>", "info", message); }
void log_warning(std::string_view message) { write_line("<4>", "warning", message); }
void log_error(std::string_view message) { write_line("<3>", "error", message); }

}  // namespace crmsync::sender
