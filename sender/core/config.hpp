// The sender's configuration: /etc/crmsync/<crm>.toml (docs/operations.md, "Configuration file"), every key overridable
// by an environment variable CRMSYNC_<SECTION>_<KEY>.
//
// Loading collects every problem instead of stopping at the first, each with where it came
// from (file:line:column, or the environment variable), what is wrong and what is accepted:
// an operator fixes a config in one round. Invariant: the API token is held in a Secret and no
// error or warning ever contains it (values are echoed only where harmless, and every message
// is scrubbed of the token as a last line of defence).
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crm_record.hpp"
#include "core/rate_limiter.hpp"
#include "core/wall_clock_zone.hpp"
#include "core/secret.hpp"

namespace crmsync::sender {

enum class OnReject { dead_letter, stop };

struct SourceConfig {
    std::string conninfo;     // libpq; empty = libpq defaults (PG* environment); replication=database is added
    std::string crm;          // ^[a-z][a-z0-9_]{0,47}$
    std::string slot;         // default crmsync_<crm>
    bool create_slot = true;
    // A failover slot (PostgreSQL 17+: kept on a physical standby by slot synchronisation).
    // Unset: one where the server has them; true: required (refused before 17); false: never.
    std::optional<bool> failover;
    std::string origin = "any";  // plugin option origin: any | none (skip replicated-in changes)
    bool changed_only = false;   // plugin option changed-only
    bool messages = true;        // plugin option messages
};

struct TargetConfig {
    Format format = Format::webhook;
    std::string url;                 // hubspot defaults to https://api.hubapi.com; empty with a
                                     // Salesforce auth method: the login answer's instance_url
    std::optional<Secret> token;     // from token_file or token_env; none = no Authorization header
    std::filesystem::path token_file;  // resolved; set when the token came from a file (re-read on rotation)
    std::string token_env;             // the variable's name when the token came from the environment
    std::chrono::milliseconds timeout{10'000};
    std::string api_version;         // empty: the adapter's default (hubspot v3, salesforce v59.0)
    // The zone of the database's wall-clock times: a `timestamp` is read in it when a datetime
    // property needs an instant, and a date property takes a `timestamptz`'s day in it.
    WallClockZone time_zone;
};

// How the sender gets its bearer token (sender/auth/). static: target.token_file / token_env,
// as before [auth] existed. The Salesforce methods log in to the org and renew the session
// before it expires; their secrets come only from files and are held as Secrets.
enum class AuthMethod { static_token, salesforce_jwt, salesforce_refresh_token, salesforce_client_credentials };

std::string_view auth_method_name(AuthMethod method);  // the config spelling, e.g. "salesforce_jwt"

struct AuthConfig {
    AuthMethod method = AuthMethod::static_token;
    std::string login_url = "https://login.salesforce.com";  // no trailing slash
    std::string client_id;                                   // the connected app's consumer key
    std::string username;                                    // salesforce_jwt: the user the sender acts as
    std::filesystem::path private_key_file;                  // salesforce_jwt: PEM RSA key (resolved path)
    std::optional<Secret> private_key;
    std::filesystem::path client_secret_file;                // refresh_token (optional), client_credentials
    std::optional<Secret> client_secret;
    std::filesystem::path refresh_token_file;                // salesforce_refresh_token
    std::optional<Secret> refresh_token;
    std::chrono::seconds session_lifetime{7200};             // the org's session timeout; renewed at 90 %
};

struct DeliveryConfig {
    std::size_t batch_max_records = kDefaultWebhookBatch;  // default and cap: the format's API limit
    std::chrono::milliseconds linger{5};
    std::size_t max_in_flight = 4;
    std::optional<RateLimit> rate_limit;
    OnReject on_reject = OnReject::dead_letter;
    bool coalesce = true;                                  // CRM formats only; webhook never coalesces
    std::chrono::milliseconds drain_timeout{10'000};       // SIGTERM: finish in-flight requests within this
};

struct MetricsConfig {
    std::string listen;  // "host:port" for /metrics and /healthz; empty = off
};

struct BackfillConfig {
    bool initial_sync = true;      // a slot the sender creates starts with a copy of every mapped table
    std::size_t chunk_rows = 5000; // rows per read (and per re-sync watermark)
};

struct Config {
    SourceConfig source;
    TargetConfig target;
    AuthConfig auth;
    DeliveryConfig delivery;
    MetricsConfig metrics;
    BackfillConfig backfill;
};

// Injectable so tests do not touch the process environment.
using Environment = std::map<std::string, std::string, std::less<>>;
Environment environment_from(char** envp);

struct ConfigLoad {
    std::optional<Config> config;  // set exactly when `errors` is empty
    std::vector<std::string> errors;
    std::vector<std::string> warnings;
};

// Relative token_file (and [auth] *_file) paths are resolved against the config file's directory.
ConfigLoad load_config_file(const std::filesystem::path& path, const Environment& env);

// `source_name` names the text in messages and anchors relative token_file paths.
ConfigLoad parse_config(std::string_view toml_text, std::string_view source_name, const Environment& env);

// The accepted keys, as "section.key", for --help and docs.
std::vector<std::string> config_keys();

}  // namespace crmsync::sender
