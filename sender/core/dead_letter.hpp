// A record the CRM refused, on its way to crmsync.dead_letters (docs/operations.md, "Dead
// letters"). Written by io/dead_letter_store, produced by the delivery engine and the run loop.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/lsn.hpp"
#include "core/result.hpp"

namespace crmsync::sender {

struct DeadLetter {
    EventId event;
    std::string object;
    std::optional<std::string> key;
    std::string payload;  // the plugin message (webhook) or the record
    long http_status = 0;
    std::string error;
};

// Where rejected records go; false when the write failed (nothing is settled then).
using DeadLetterWriter = std::function<Status(const std::vector<DeadLetter>&)>;

}  // namespace crmsync::sender
