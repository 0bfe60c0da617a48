// The plugin's options, as passed to pg_logical_slot_get_changes() or START_REPLICATION.
#pragma once
#include "pg/postgres.hpp"
#include "render/value.hpp"

namespace crmsync::pg {

inline constexpr int kMaxCrmNameLength = 48;

struct PluginOptions {
    char crm[kMaxCrmNameLength + 1] = {};
    render::Format format = render::Format::Webhook;
    bool include_commits = true;
    bool skip_origin_changes = false;  // origin = none
    bool changed_only = false;
    bool messages = true;
};

// Reads the DefElem list; any unknown, duplicate or malformed option is an ERROR that names
// the option and what it accepts. Does not look at the catalog.
void parse_plugin_options(List* options, PluginOptions* out);

// True when the name matches ^[a-z][a-z0-9_]{0,47}$ (it becomes part of a slot name).
bool crm_name_is_valid(const char* name);

}  // namespace crmsync::pg
