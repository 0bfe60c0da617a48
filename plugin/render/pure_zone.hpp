// Included first by every .cpp of the pure zone (plugin/render): code that renders CRM
// JSON from plain values and never sees a Postgres header. It may throw; the Postgres zone
// converts exceptions at a guarded boundary (pg/guard.hpp). Keeping the zones apart is
// what lets the renderer be unit-tested and benchmarked without a server. Headers of the
// pure zone are included by both zones, so the check lives here, in the .cpp files.
#pragma once

#ifdef POSTGRES_H
static_assert(false, "plugin/render is the pure zone: it must not include Postgres headers");
#endif
