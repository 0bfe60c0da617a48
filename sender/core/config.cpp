#include "core/config.hpp"

#include "auth/jwt.hpp"
#include "core/secret_file.hpp"

#include <toml++/toml.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <charconv>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <variant>

namespace crmsync::sender {

namespace {

enum class Kind { string, integer, boolean };

struct KeySpec {
    std::string_view section;
    std::string_view key;
    Kind kind;
};

constexpr KeySpec kKeys[] = {
    {"source", "conninfo", Kind::string},        {"source", "crm", Kind::string},
    {"source", "slot", Kind::string},            {"source", "create_slot", Kind::boolean},
    {"source", "failover", Kind::boolean},
    {"source", "origin", Kind::string},          {"source", "changed_only", Kind::boolean},
    {"source", "messages", Kind::boolean},
    {"target", "format", Kind::string},          {"target", "url", Kind::string},
    {"target", "token_file", Kind::string},      {"target", "token_env", Kind::string},
    {"target", "timeout_ms", Kind::integer},     {"target", "api_version", Kind::string},
    {"target", "time_zone", Kind::string},
    {"delivery", "batch_max_records", Kind::integer},
    {"delivery", "linger_ms", Kind::integer},    {"delivery", "max_in_flight", Kind::integer},
    {"delivery", "rate_limit", Kind::string},    {"delivery", "on_reject", Kind::string},
    {"delivery", "coalesce", Kind::boolean},     {"delivery", "drain_timeout_ms", Kind::integer},
    {"metrics", "listen", Kind::string},         {"backfill", "initial_sync", Kind::boolean},
    {"backfill", "chunk_rows", Kind::integer},
    {"auth", "method", Kind::string},            {"auth", "login_url", Kind::string},
    {"auth", "client_id", Kind::string},         {"auth", "username", Kind::string},
    {"auth", "private_key_file", Kind::string},  {"auth", "client_secret_file", Kind::string},
    {"auth", "refresh_token_file", Kind::string}, {"auth", "session_lifetime_s", Kind::integer},
};

constexpr std::string_view kSections[] = {"source", "target", "delivery", "metrics", "backfill", "auth"};

// Keys whose empty value (typically from the environment) means "not set".
bool empty_means_unset(std::string_view section, std::string_view key) {
    return (section == "target" && (key == "token_file" || key == "token_env")) ||
           (section == "delivery" && key == "rate_limit") || (section == "auth" && key.ends_with("_file"));
}

const KeySpec* find_key(std::string_view section, std::string_view key) {
    for (const auto& spec : kKeys)
        if (spec.section == section && spec.key == key) return &spec;
    return nullptr;
}

bool known_section(std::string_view section) {
    return std::find(std::begin(kSections), std::end(kSections), section) != std::end(kSections);
}

std::string kind_name(Kind kind) {
    switch (kind) {
        case Kind::string: return "a string";
        case Kind::integer: return "an integer";
        case Kind::boolean: return "a boolean (true or false)";
    }
    return "?";
}

std::string toml_type_name(const toml::node& node) {
    switch (node.type()) {
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a floating-point number";
        case toml::node_type::boolean: return "a boolean";
        case toml::node_type::date: return "a date";
        case toml::node_type::time: return "a time";
        case toml::node_type::date_time: return "a date-time";
        case toml::node_type::array: return "an array";
        case toml::node_type::table: return "a table";
        default: return "nothing";
    }
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = up;
        }
    }
    return row[b.size()];
}

std::optional<std::string_view> closest(std::string_view word, const std::vector<std::string_view>& candidates) {
    std::optional<std::string_view> best;
    std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
    for (auto candidate : candidates) {
        const std::size_t d = edit_distance(word, candidate);
        if (d < best_distance) {
            best = candidate;
            best_distance = d;
        }
    }
    return best;
}

std::vector<std::string_view> keys_of(std::string_view section) {
    std::vector<std::string_view> keys;
    for (const auto& spec : kKeys)
        if (spec.section == section) keys.push_back(spec.key);
    return keys;
}

std::string join(const std::vector<std::string_view>& words) {
    std::string out;
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (i) out += ", ";
        out += words[i];
    }
    return out;
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string env_name(const KeySpec& spec) { return "CRMSYNC_" + upper(spec.section) + "_" + upper(spec.key); }

std::string in_quotes(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (static_cast<unsigned char>(c) < 0x20) out += '?';
        else out += c;
    }
    return out + "\"";
}

struct RawValue {
    std::variant<std::string, std::int64_t, bool> value;
    std::string origin;  // "file:line:col" or "environment CRMSYNC_..."
};

class ConfigReader {
public:
    ConfigReader(std::string_view source_name, const Environment& env) : source_(source_name), env_(env) {}

    ConfigLoad read(std::string_view text);

private:
    std::string where(const toml::source_region& region) const {
        return source_ + ":" + std::to_string(region.begin.line) + ":" + std::to_string(region.begin.column);
    }
    void error(const std::string& origin, const std::string& text) { load_.errors.push_back(origin + ": " + text); }
    void warning(const std::string& origin, const std::string& text) { load_.warnings.push_back(origin + ": " + text); }

    void gather_file(const toml::table& root);
    void gather_environment();
    void build();
    void load_token(Config& config);
    void load_auth(Config& config, bool format_known);
    std::filesystem::path resolved_path(const RawValue& value) const;
    std::optional<Secret> load_secret_file(std::string_view key, std::string_view holds, std::filesystem::path& path);

    const RawValue* raw(std::string_view section, std::string_view key) const {
        auto found = values_.find(std::string(section) + "." + std::string(key));
        return found == values_.end() ? nullptr : &found->second;
    }
    std::optional<std::string> get_string(std::string_view section, std::string_view key) const {
        const RawValue* value = raw(section, key);
        return value ? std::optional<std::string>(std::get<std::string>(value->value)) : std::nullopt;
    }
    std::optional<bool> get_bool(std::string_view section, std::string_view key) const {
        const RawValue* value = raw(section, key);
        return value ? std::optional<bool>(std::get<bool>(value->value)) : std::nullopt;
    }
    std::string origin_of(std::string_view section, std::string_view key) const {
        const RawValue* value = raw(section, key);
        return value ? value->origin : source_;
    }
    // An integer within [min, max], or the fallback; out of range is an error.
    std::int64_t get_integer(std::string_view section, std::string_view key, std::int64_t fallback, std::int64_t min,
                             std::int64_t max, std::string_view unit) {
        const RawValue* value = raw(section, key);
        if (!value) return fallback;
        const std::int64_t v = std::get<std::int64_t>(value->value);
        if (v < min || v > max) {
            error(value->origin, "[" + std::string(section) + "] " + std::string(key) + " = " + std::to_string(v) +
                                     " is out of range; expected " + std::to_string(min) + " to " + std::to_string(max) +
                                     std::string(unit));
            return fallback;
        }
        return v;
    }

    std::string source_;
    const Environment& env_;
    std::map<std::string, RawValue> values_;  // "section.key"
    ConfigLoad load_;
};

void ConfigReader::gather_file(const toml::table& root) {
    const std::vector<std::string_view> sections(std::begin(kSections), std::end(kSections));
    for (auto&& [name, node] : root) {
        const std::string section(name.str());
        if (!node.is_table()) {
            std::string hint = "every key belongs to a section ([source], [target], [delivery], [metrics], [backfill], "
                               "[auth])";
            for (const auto& spec : kKeys)
                if (spec.key == section) hint = "put it under [" + std::string(spec.section) + "]";
            error(where(name.source()), "key " + in_quotes(section) + " outside a section; " + hint);
            continue;
        }
        if (!known_section(section)) {
            std::string text = "unknown section [" + section + "]";
            if (auto suggestion = closest(section, sections)) text += "; did you mean [" + std::string(*suggestion) + "]?";
            else text += "; accepted sections: " + join(sections);
            error(where(name.source()), text);
            continue;
        }
        for (auto&& [key_name, value] : *node.as_table()) {
            const std::string key(key_name.str());
            const KeySpec* spec = find_key(section, key);
            if (!spec) {
                std::string text = "unknown key " + in_quotes(key) + " in [" + section + "]";
                const KeySpec* elsewhere = nullptr;
                for (const auto& other : kKeys)
                    if (other.key == key) elsewhere = &other;
                if (elsewhere) text += "; it belongs in [" + std::string(elsewhere->section) + "]";
                else if (auto suggestion = closest(key, keys_of(section)))
                    text += "; did you mean " + in_quotes(*suggestion) + "?";
                else text += "; accepted keys: " + join(keys_of(section));
                error(where(key_name.source()), text);
                continue;
            }
            RawValue raw_value;
            raw_value.origin = where(value.source());
            bool typed = false;
            switch (spec->kind) {
                case Kind::string:
                    if (auto s = value.value<std::string>(); s && value.is_string()) {
                        raw_value.value = *s;
                        typed = true;
                    }
                    break;
                case Kind::integer:
                    if (value.is_integer()) {
                        raw_value.value = *value.value<std::int64_t>();
                        typed = true;
                    }
                    break;
                case Kind::boolean:
                    if (value.is_boolean()) {
                        raw_value.value = *value.value<bool>();
                        typed = true;
                    }
                    break;
            }
            if (!typed) {
                error(raw_value.origin, "[" + section + "] " + key + " must be " + kind_name(spec->kind) + ", not " +
                                            toml_type_name(value));
                continue;
            }
            if (spec->kind == Kind::string && empty_means_unset(section, key) &&
                std::get<std::string>(raw_value.value).empty())
                continue;
            values_[section + "." + key] = std::move(raw_value);
        }
    }
}

void ConfigReader::gather_environment() {
    constexpr std::string_view kPrefix = "CRMSYNC_";
    for (const auto& [name, text] : env_) {
        if (name.rfind(kPrefix, 0) != 0) continue;
        const std::string origin = "environment " + name;
        const KeySpec* spec = nullptr;
        for (const auto& candidate : kKeys)
            if (env_name(candidate) == name) spec = &candidate;
        if (!spec) {
            const std::string rest = name.substr(kPrefix.size());
            const std::string section = lower(rest.substr(0, rest.find('_')));
            std::vector<std::string> names;
            for (const auto& candidate : kKeys) names.push_back(env_name(candidate));
            std::vector<std::string_view> views(names.begin(), names.end());
            std::string text = "unknown setting " + name;
            if (auto suggestion = closest(name, views)) text += "; did you mean " + std::string(*suggestion) + "?";
            // Other CRMSYNC_* variables may be meant for other tools; only our sections are errors.
            if (known_section(section)) error(origin, text + " (accepted: " + join(views) + ")");
            else warning(origin, text + "; ignored");
            continue;
        }
        RawValue raw_value;
        raw_value.origin = origin;
        switch (spec->kind) {
            case Kind::string:
                if (text.empty() && empty_means_unset(spec->section, spec->key)) {
                    values_.erase(std::string(spec->section) + "." + std::string(spec->key));
                    continue;
                }
                raw_value.value = text;
                break;
            case Kind::integer: {
                std::int64_t v = 0;
                auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
                if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
                    error(origin, in_quotes(text) + " is not an integer; [" + std::string(spec->section) + "] " +
                                      std::string(spec->key) + " takes a whole number" +
                                      (spec->key.ends_with("_ms") ? " of milliseconds, e.g. 10000" : ", e.g. 100"));
                    continue;
                }
                raw_value.value = v;
                break;
            }
            case Kind::boolean: {
                const std::string l = lower(text);
                if (l == "true" || l == "1" || l == "yes" || l == "on") raw_value.value = true;
                else if (l == "false" || l == "0" || l == "no" || l == "off") raw_value.value = false;
                else {
                    error(origin, in_quotes(text) + " is not a boolean; expected true or false (also 1/0, yes/no, on/off)");
                    continue;
                }
                break;
            }
        }
        values_[std::string(spec->section) + "." + std::string(spec->key)] = std::move(raw_value);
    }
}

void ConfigReader::load_token(Config& config) {
    // A Salesforce login brings its own token; load_auth() says the static one is ignored.
    if (auto method = get_string("auth", "method"); method && method->rfind("salesforce_", 0) == 0) return;
    const RawValue* file = raw("target", "token_file");
    const RawValue* env = raw("target", "token_env");
    if (file && env) {
        error(file->origin, "[target] token_file and token_env are both set (token_env at " + env->origin +
                                "); set only one of them");
        return;
    }
    if (env) {
        const std::string& variable = std::get<std::string>(env->value);
        auto found = env_.find(variable);
        if (found == env_.end()) {
            error(env->origin, "[target] token_env names " + in_quotes(variable) + ", which is not set in the environment");
            return;
        }
        std::string_view token = found->second;
        while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.remove_suffix(1);
        while (!token.empty() && std::isspace(static_cast<unsigned char>(token.front()))) token.remove_prefix(1);
        if (token.empty()) {
            error(env->origin, "[target] token_env: the environment variable " + variable + " is empty");
            return;
        }
        config.target.token = Secret(std::string(token));
        config.target.token_env = variable;
    } else if (file) {
        std::filesystem::path path;
        config.target.token = load_secret_file("token_file", "the API token", path);
        if (!config.target.token) return;
        config.target.token_file = path;
    } else {
        return;
    }
    // The token goes into an HTTP header: one line of visible ASCII, nothing else.
    const std::string& token = config.target.token->reveal();
    const RawValue* origin = file ? file : env;
    for (unsigned char c : token)
        if (c < 0x21 || c > 0x7E) {
            error(origin->origin, "[target] the token contains whitespace or control characters; "
                                  "a bearer token is a single line of visible ASCII");
            return;
        }
}

std::filesystem::path ConfigReader::resolved_path(const RawValue& value) const {
    std::filesystem::path path = std::get<std::string>(value.value);
    // A path from the environment is the operator's (or systemd's %d) and relative to the cwd.
    if (path.is_relative() && value.origin.rfind("environment ", 0) != 0)
        path = std::filesystem::path(source_).parent_path() / path;
    return path;
}

// `key` is "token_file" in [target] or a *_file key in [auth].
std::optional<Secret> ConfigReader::load_secret_file(std::string_view key, std::string_view holds,
                                                     std::filesystem::path& path) {
    const std::string_view section = key == "token_file" ? "target" : "auth";
    const RawValue* value = raw(section, key);
    if (!value) return std::nullopt;
    path = resolved_path(*value);
    const std::string prefix = "[" + std::string(section) + "] " + std::string(key) + " ";
    auto secret = read_secret_file(path, holds);
    if (!secret) {
        error(value->origin, prefix + secret.error());
        return std::nullopt;
    }
    if (readable_by_everyone(path))
        warning(value->origin, prefix + in_quotes(path.string()) +
                                   " is readable by every user; chmod 600 it (or use systemd LoadCredential=)");
    return std::move(secret).value();
}

void ConfigReader::load_auth(Config& config, bool format_known) {
    AuthConfig& auth = config.auth;
    bool method_known = true;
    if (auto method = get_string("auth", "method")) {
        if (*method == "static") auth.method = AuthMethod::static_token;
        else if (*method == "salesforce_jwt") auth.method = AuthMethod::salesforce_jwt;
        else if (*method == "salesforce_refresh_token") auth.method = AuthMethod::salesforce_refresh_token;
        else if (*method == "salesforce_client_credentials") auth.method = AuthMethod::salesforce_client_credentials;
        else {
            method_known = false;
            error(origin_of("auth", "method"),
                  "[auth] method = " + in_quotes(*method) + " is not accepted; expected one of static, salesforce_jwt, "
                                                            "salesforce_refresh_token, salesforce_client_credentials");
        }
    }
    const std::string method_name = "auth.method = " + std::string(auth_method_name(auth.method));

    if (!method_known) return;
    if (auth.method == AuthMethod::static_token) {
        // [auth] keys without a login method would silently do nothing: say so.
        for (std::string_view key : {"login_url", "client_id", "username", "private_key_file", "client_secret_file",
                                     "refresh_token_file", "session_lifetime_s"})
            if (raw("auth", key))
                warning(origin_of("auth", key), "[auth] " + std::string(key) +
                                                    " is ignored with method static (the token comes from "
                                                    "[target] token_file or token_env); set [auth] method to use it");
        return;
    }

    // A Salesforce login.
    if (format_known && config.target.format != Format::salesforce)
        error(origin_of("auth", "method"), "[auth] " + method_name + " needs [target] format = \"salesforce\" (it is " +
                                               std::string(format_name(config.target.format)) +
                                               "); use method static for other targets");
    // A warning, not an error: the packaged systemd unit always sets CRMSYNC_TARGET_TOKEN_FILE.
    for (std::string_view key : {"token_file", "token_env"})
        if (raw("target", key))
            warning(origin_of("target", key), "[target] " + std::string(key) + " is ignored with " + method_name +
                                                  ": the access token comes from the login");

    if (auto url = get_string("auth", "login_url")) {
        std::string trimmed = *url;
        while (trimmed.ends_with('/')) trimmed.pop_back();
        const bool https = trimmed.rfind("https://", 0) == 0;
        // Plain http only to this machine: a local mock, never a real login over the network.
        const bool local_http = trimmed.rfind("http://localhost", 0) == 0 || trimmed.rfind("http://127.", 0) == 0 ||
                                trimmed.rfind("http://[::1]", 0) == 0;
        const std::size_t host_start = trimmed.find("://") + 3;
        const bool has_path = trimmed.find('/', host_start) != std::string::npos;
        if ((!https && !local_http) || trimmed.size() <= host_start || has_path ||
            trimmed.find_first_of(" \t\r\n?#@") != std::string::npos)
            error(origin_of("auth", "login_url"),
                  "[auth] login_url = " + in_quotes(*url) +
                      " is not accepted; expected an https:// URL without a path: https://login.salesforce.com, "
                      "https://test.salesforce.com (sandboxes) or your My Domain, e.g. "
                      "https://example.my.salesforce.com");
        else auth.login_url = trimmed;
    }
    if (auth.method == AuthMethod::salesforce_client_credentials &&
        (auth.login_url == "https://login.salesforce.com" || auth.login_url == "https://test.salesforce.com"))
        error(origin_of("auth", "login_url"),
              "[auth] " + method_name + " needs login_url set to your My Domain (e.g. "
                                        "\"https://example.my.salesforce.com\"); Salesforce does not accept the "
                                        "client credentials flow at " + auth.login_url);

    auth.client_id = get_string("auth", "client_id").value_or("");
    if (auth.client_id.empty())
        error(origin_of("auth", "client_id"), "[auth] client_id is required for " + method_name +
                                                  ": the connected app's consumer key (or CRMSYNC_AUTH_CLIENT_ID)");
    else if (auth.client_id.find_first_of(" \t\r\n") != std::string::npos)
        error(origin_of("auth", "client_id"), "[auth] client_id contains whitespace; expected the consumer key as "
                                              "shown in Salesforce (one word)");

    auto require = [&](std::string_view key, std::string_view what) {
        if (!raw("auth", key))
            error(source_, "[auth] " + std::string(key) + " is required for " + method_name + ": " + std::string(what) +
                               " (or CRMSYNC_AUTH_" + upper(key) + ")");
    };
    auto unused = [&](std::string_view key) {
        if (raw("auth", key))
            warning(origin_of("auth", key), "[auth] " + std::string(key) + " is not used by " + method_name + "; ignored");
    };
    switch (auth.method) {
        case AuthMethod::salesforce_jwt:
            auth.username = get_string("auth", "username").value_or("");
            if (auth.username.empty())
                error(origin_of("auth", "username"), "[auth] username is required for " + method_name +
                                                         ": the Salesforce username the sender acts as (or "
                                                         "CRMSYNC_AUTH_USERNAME)");
            require("private_key_file", "the PEM file with the RSA private key whose certificate is uploaded to the "
                                        "connected app");
            auth.private_key = load_secret_file("private_key_file", "a PEM RSA private key", auth.private_key_file);
            if (auth.private_key) {
                if (Status usable = auth::check_rsa_private_key(*auth.private_key); !usable)
                    error(origin_of("auth", "private_key_file"), "[auth] private_key_file " +
                                                                     in_quotes(auth.private_key_file.string()) + ": " +
                                                                     usable.error());
            }
            unused("client_secret_file");
            unused("refresh_token_file");
            break;
        case AuthMethod::salesforce_refresh_token:
            require("refresh_token_file", "the file holding the refresh token issued to the connected app");
            auth.refresh_token = load_secret_file("refresh_token_file", "the OAuth refresh token", auth.refresh_token_file);
            // Optional: a connected app may be set not to require the secret for refresh.
            auth.client_secret = load_secret_file("client_secret_file", "the consumer secret", auth.client_secret_file);
            unused("username");
            unused("private_key_file");
            break;
        case AuthMethod::salesforce_client_credentials:
            require("client_secret_file", "the file holding the connected app's consumer secret");
            auth.client_secret = load_secret_file("client_secret_file", "the consumer secret", auth.client_secret_file);
            unused("username");
            unused("private_key_file");
            unused("refresh_token_file");
            break;
        case AuthMethod::static_token: break;
    }
    for (const auto* secret : {&auth.client_secret, &auth.refresh_token})
        if (*secret && (*secret)->reveal().find_first_of(" \t\r\n") != std::string::npos)
            error(origin_of("auth", secret == &auth.client_secret ? "client_secret_file" : "refresh_token_file"),
                  std::string("[auth] ") + (secret == &auth.client_secret ? "client_secret_file" : "refresh_token_file") +
                      " holds whitespace inside the value; expected one line as Salesforce shows it");
    auth.session_lifetime =
        std::chrono::seconds(get_integer("auth", "session_lifetime_s", 7200, 300, 86'400, " seconds (the org's "
                                                                                          "session timeout, 2 h = 7200)"));
}

void ConfigReader::build() {
    Config config;

    // [source]
    config.source.conninfo = get_string("source", "conninfo").value_or("");
    if (auto crm = get_string("source", "crm")) {
        static const std::regex kCrm("^[a-z][a-z0-9_]{0,47}$");
        if (!std::regex_match(*crm, kCrm))
            error(origin_of("source", "crm"), "[source] crm = " + in_quotes(*crm) +
                                                  " is not a valid crm name; expected ^[a-z][a-z0-9_]{0,47}$ "
                                                  "(lower case letter, then letters, digits, _)");
        config.source.crm = *crm;
    } else {
        error(source_, "[source] crm is required: the crm name in crmsync.mappings, e.g. crm = \"hubspot\" "
                       "(or CRMSYNC_SOURCE_CRM)");
    }
    config.source.slot = get_string("source", "slot").value_or("crmsync_" + config.source.crm);
    if (raw("source", "slot")) {
        static const std::regex kSlot("^[a-z0-9_]{1,63}$");
        if (!std::regex_match(config.source.slot, kSlot))
            error(origin_of("source", "slot"), "[source] slot = " + in_quotes(config.source.slot) +
                                                   " is not a valid replication slot name; expected 1 to 63 "
                                                   "lower case letters, digits and _");
    }
    config.source.create_slot = get_bool("source", "create_slot").value_or(true);
    config.source.failover = get_bool("source", "failover");
    // The plugin's options (docs/mapping.md, plugin options), passed on START_REPLICATION.
    if (auto origin = get_string("source", "origin")) {
        if (*origin == "any" || *origin == "none")
            config.source.origin = *origin;
        else
            error(origin_of("source", "origin"), "[source] origin = " + in_quotes(*origin) +
                                                     " is not accepted; expected any (send every change) or none "
                                                     "(skip changes that carry a replication origin)");
    }
    config.backfill.initial_sync = get_bool("backfill", "initial_sync").value_or(true);
    config.backfill.chunk_rows = static_cast<std::size_t>(get_integer("backfill", "chunk_rows", 5000, 10, 100'000, " rows"));
    config.source.changed_only = get_bool("source", "changed_only").value_or(false);
    config.source.messages = get_bool("source", "messages").value_or(true);

    // [target]
    // A bad format is reported once; checks that depend on the format are skipped, so the
    // operator does not get a cascade of errors about a format they did not choose.
    bool format_known = true;
    if (auto format = get_string("target", "format")) {
        if (auto parsed = parse_format(*format)) config.target.format = *parsed;
        else {
            format_known = false;
            error(origin_of("target", "format"),
                  "[target] format = " + in_quotes(*format) + " is not accepted; expected one of webhook, hubspot, salesforce");
        }
    }
    const std::optional<std::string> method = get_string("auth", "method");
    // An unknown method is reported once, by load_auth(): no url error as a consequence of it.
    const bool salesforce_login = method && *method != "static";
    if (auto url = get_string("target", "url")) {
        config.target.url = *url;
        const bool https = url->rfind("https://", 0) == 0;
        const bool http = url->rfind("http://", 0) == 0;
        const std::size_t host_start = https ? 8 : 7;
        if ((!https && !http) || url->size() <= host_start || (*url)[host_start] == '/' ||
            url->find_first_of(" \t\r\n") != std::string::npos)
            error(origin_of("target", "url"), "[target] url is not an absolute http(s) URL; expected e.g. "
                                              "\"https://api.hubapi.com\" or \"https://crm.example.com/hooks/crmsync\"");
    } else if (config.target.format == Format::hubspot) {
        config.target.url = "https://api.hubapi.com";
    } else if (salesforce_login) {
        // The login answers with the org's instance_url; the sender uses that.
    } else if (format_known) {
        error(source_, "[target] url is required for format " + std::string(format_name(config.target.format)) +
                           " (or CRMSYNC_TARGET_URL)");
    }
    config.target.timeout =
        std::chrono::milliseconds(get_integer("target", "timeout_ms", 10'000, 1, 3'600'000, " milliseconds"));
    if (auto version = get_string("target", "api_version")) {
        auto digits = [](std::string_view text) {
            return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
        };
        const std::string_view v = *version;
        bool valid = false;
        std::string expected;
        if (config.target.format == Format::hubspot) {
            // "v3" paths, or HubSpot's date-versioned paths ("2026-03").
            valid = v == "v3" || (v.size() == 7 && digits(v.substr(0, 4)) && v[4] == '-' && digits(v.substr(5)));
            expected = "v3 (/crm/v3/objects/...) or a date version such as 2026-03 (/crm/objects/2026-03/...)";
        } else if (config.target.format == Format::salesforce) {
            const auto dot = v.find('.');
            valid = v.size() >= 4 && v[0] == 'v' && dot != std::string_view::npos && digits(v.substr(1, dot - 1)) &&
                    digits(v.substr(dot + 1));
            expected = "a REST API version such as v59.0 (GET /services/data lists the org's)";
        } else if (format_known) {
            error(origin_of("target", "api_version"), "[target] api_version applies to formats hubspot and salesforce, "
                                                      "not webhook; remove it");
            valid = true;
        }
        if (!valid && format_known)
            error(origin_of("target", "api_version"),
                  "[target] api_version = " + in_quotes(*version) + " is not accepted; expected " + expected);
        config.target.api_version = *version;
    }
    if (auto zone_name = get_string("target", "time_zone")) {
        if (auto zone = WallClockZone::named(*zone_name))
            config.target.time_zone = std::move(*zone);
        else
            error(origin_of("target", "time_zone"), "[target] time_zone = " + in_quotes(*zone_name) + ": " + zone.error());
    }
    load_token(config);
    load_auth(config, format_known);
    if (config.target.token && config.target.url.rfind("http://", 0) == 0) {
        const std::string_view rest = std::string_view(config.target.url).substr(7);
        if (rest.rfind("localhost", 0) != 0 && rest.rfind("127.", 0) != 0 && rest.rfind("[::1]", 0) != 0)
            warning(origin_of("target", "url"), "[target] url is plain http:// to a remote host: the token travels "
                                                "unencrypted");
    }

    // [delivery]
    const auto cap = static_cast<std::int64_t>(max_batch_records(config.target.format));
    if (const RawValue* value = raw("delivery", "batch_max_records")) {
        const std::int64_t v = std::get<std::int64_t>(value->value);
        if (v < 1) {
            error(value->origin, "[delivery] batch_max_records = " + std::to_string(v) +
                                     " is out of range; expected 1 to " + std::to_string(cap));
        } else if (v > cap && format_known) {
            warning(value->origin, "[delivery] batch_max_records = " + std::to_string(v) + " exceeds the " +
                                       std::string(format_name(config.target.format)) + " limit; using " +
                                       std::to_string(cap));
            config.delivery.batch_max_records = static_cast<std::size_t>(cap);
        } else {
            config.delivery.batch_max_records = static_cast<std::size_t>(v);
        }
    } else {
        config.delivery.batch_max_records = default_batch_records(config.target.format);
    }
    config.delivery.linger = std::chrono::milliseconds(get_integer("delivery", "linger_ms", 5, 0, 60'000, " milliseconds"));
    config.delivery.max_in_flight = static_cast<std::size_t>(get_integer("delivery", "max_in_flight", 4, 1, 64, ""));
    if (auto text = get_string("delivery", "rate_limit")) {
        auto limit = parse_rate_limit(*text);
        if (limit) config.delivery.rate_limit = *limit;
        else error(origin_of("delivery", "rate_limit"), "[delivery] " + limit.error());
    }
    if (auto text = get_string("delivery", "on_reject")) {
        if (*text == "dead_letter") config.delivery.on_reject = OnReject::dead_letter;
        else if (*text == "stop") config.delivery.on_reject = OnReject::stop;
        else
            error(origin_of("delivery", "on_reject"),
                  "[delivery] on_reject = " + in_quotes(*text) + " is not accepted; expected one of dead_letter, stop");
    }
    config.delivery.coalesce = get_bool("delivery", "coalesce").value_or(true);
    config.delivery.drain_timeout = std::chrono::milliseconds(
        get_integer("delivery", "drain_timeout_ms", 10'000, 0, 3'600'000, " milliseconds"));

    // [metrics]
    if (auto listen = get_string("metrics", "listen"); listen && !listen->empty()) {
        const auto colon = listen->rfind(':');
        std::uint32_t port = 0;
        bool ok = colon != std::string::npos && colon > 0 && colon + 1 < listen->size();
        if (ok) {
            auto [end, ec] = std::from_chars(listen->data() + colon + 1, listen->data() + listen->size(), port);
            ok = ec == std::errc() && end == listen->data() + listen->size() && port >= 1 && port <= 65535;
        }
        if (ok && (*listen)[0] == '[') ok = (*listen)[colon - 1] == ']';
        if (!ok)
            error(origin_of("metrics", "listen"), "[metrics] listen = " + in_quotes(*listen) +
                                                      " is not host:port; expected e.g. \"127.0.0.1:9187\", "
                                                      "\"[::1]:9187\", or \"\" to turn metrics off");
        config.metrics.listen = *listen;
    }

    // Last line of defence: whatever was echoed above, no secret ever leaves in a message.
    for (const auto* secret : {&config.target.token, &config.auth.client_secret, &config.auth.refresh_token,
                               &config.auth.private_key}) {
        if (!*secret || (*secret)->empty()) continue;
        const std::string& text = (*secret)->reveal();
        for (auto* list : {&load_.errors, &load_.warnings})
            for (auto& message : *list)
                for (auto at = message.find(text); at != std::string::npos; at = message.find(text, at + 3))
                    message.replace(at, text.size(), "***");
    }
    if (load_.errors.empty()) load_.config = std::move(config);
}

ConfigLoad ConfigReader::read(std::string_view text) {
    try {
        toml::table root = toml::parse(text, source_);
        gather_file(root);
    } catch (const toml::parse_error& e) {
        error(where(e.source()), "TOML syntax error: " + std::string(e.description()));
        return std::move(load_);
    }
    gather_environment();
    build();
    return std::move(load_);
}

}  // namespace

Environment environment_from(char** envp) {
    Environment env;
    for (char** p = envp; p && *p; ++p) {
        const std::string_view entry(*p);
        const auto eq = entry.find('=');
        if (eq == std::string_view::npos) continue;
        env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
    }
    return env;
}

ConfigLoad parse_config(std::string_view toml_text, std::string_view source_name, const Environment& env) {
    return ConfigReader(source_name, env).read(toml_text);
}

ConfigLoad load_config_file(const std::filesystem::path& path, const Environment& env) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        ConfigLoad load;
        load.errors.push_back(path.string() + ": cannot read config file: " + std::strerror(errno));
        return load;
    }
    std::ostringstream content;
    content << in.rdbuf();
    return parse_config(content.str(), path.string(), env);
}

std::string_view auth_method_name(AuthMethod method) {
    switch (method) {
        case AuthMethod::static_token: return "static";
        case AuthMethod::salesforce_jwt: return "salesforce_jwt";
        case AuthMethod::salesforce_refresh_token: return "salesforce_refresh_token";
        case AuthMethod::salesforce_client_credentials: return "salesforce_client_credentials";
    }
    return "?";
}

std::vector<std::string> config_keys() {
    std::vector<std::string> keys;
    for (const auto& spec : kKeys) keys.push_back(std::string(spec.section) + "." + std::string(spec.key));
    return keys;
}

}  // namespace crmsync::sender
