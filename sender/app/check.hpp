// `crmsync-sender check`: everything `run` needs, tested in order, each failure with what to
// do about it. Exit status 0 when all pass.
#pragma once

#include "core/config.hpp"

namespace crmsync::sender {

int run_check(const Config& config);

}  // namespace crmsync::sender
