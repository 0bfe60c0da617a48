// Reading a credential from a file: the CRM token, an OAuth client secret or refresh token,
// a private key. One reader so the config loader (at start) and the token sources (again on
// SIGHUP or a 401, for rotation without restart) trim and complain the same way.
//
// Invariant: an error names the file and what is wrong with it, never its content.
#pragma once

#include <filesystem>
#include <string_view>

#include "core/result.hpp"
#include "core/secret.hpp"

namespace crmsync::sender {

// The whole file, leading and trailing whitespace trimmed (a final newline is how editors
// save). `holds` completes "it must hold ...", e.g. "the API token". Errors read
// "\"<path>\" is a directory; ...", "\"<path>\" cannot be read: <reason>",
// "\"<path>\" is empty; it must hold <holds>": the caller prefixes the key.
Result<Secret> read_secret_file(const std::filesystem::path& path, std::string_view holds);

// Every user may read it: worth a warning, not an error (a container may not care).
bool readable_by_everyone(const std::filesystem::path& path);

}  // namespace crmsync::sender
