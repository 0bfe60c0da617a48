// --state-file: the CRM state saved on a clean stop and loaded at start, so that a restarted
// mock behaves as if it had never stopped (stats and faults start afresh). The file:
//   {"format":"crmsync-mock-crm state","version":1,
//    "objects":{...CrmState::write_saved...},
//    "applied_events":["0/16B37A0/1",...]}   webhook event ids applied, sorted
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "api_common.h"

namespace crmsync::mock_crm {

inline constexpr std::string_view kStateFileFormat = "crmsync-mock-crm state";
inline constexpr int kStateFileVersion = 1;

struct LoadedState {
    size_t records = 0;         // live records
    size_t applied_events = 0;  // webhook event ids
};

// The state file's JSON text. Caller holds shared.mutex.
std::string state_file_text(const SharedState& shared);

// Writes the state to `path` atomically: a temporary file beside it, fsync, rename. Caller
// holds shared.mutex. Throws std::runtime_error "cannot save state file PATH: <why>".
void save_state_file(const std::string& path, const SharedState& shared);

// Replaces shared's state and applied event ids with the text's; returns "" or what is
// wrong ("<where>: <problem>"), leaving shared untouched on error.
std::string restore_state(std::string_view text, SharedState& shared);

// Loads `path` into shared; nullopt when there is no file there (shared left as it is).
// Throws std::runtime_error "cannot load state file PATH: <what is wrong>" when the file
// cannot be read or is not a valid state file.
std::optional<LoadedState> load_state_file(const std::string& path, SharedState& shared);

}  // namespace crmsync::mock_crm
