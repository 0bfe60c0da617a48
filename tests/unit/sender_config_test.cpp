// Config: defaults, caps, environment overrides, every kind of bad input, and the token
// never showing up in a message.
#include "core/config.hpp"

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

using namespace crmsync::sender;
using namespace std::chrono_literals;

namespace {

class ConfigTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("crmsync_config_test_" + std::to_string(::getpid()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::filesystem::path write(const std::string& name, const std::string& content, mode_t mode = 0600) {
        const auto path = dir_ / name;
        std::ofstream(path) << content;
        ::chmod(path.c_str(), mode);
        return path;
    }

    ConfigLoad parse(const std::string& text, const Environment& env = {}) {
        return parse_config(text, (dir_ / "crm.toml").string(), env);
    }

    static std::string all(const std::vector<std::string>& messages) {
        std::string out;
        for (const auto& m : messages) out += m + "\n";
        return out;
    }

    // Exactly one error, containing every fragment.
    void expect_error(const ConfigLoad& load, std::initializer_list<std::string_view> fragments) {
        ASSERT_EQ(load.errors.size(), 1u) << all(load.errors);
        EXPECT_FALSE(load.config);
        for (auto fragment : fragments)
            EXPECT_NE(load.errors[0].find(fragment), std::string::npos) << "missing \"" << fragment << "\" in\n" << load.errors[0];
    }

    std::filesystem::path dir_;
};

// A throwaway RSA key for [auth] private_key_file, made once.
const std::string& rsa_key_pem() {
    static const std::string pem = [] {
        EVP_PKEY* key = EVP_RSA_gen(2048);
        BIO* bio = BIO_new(BIO_s_mem());
        PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
        char* data = nullptr;
        const long size = BIO_get_mem_data(bio, &data);
        std::string text(data, static_cast<std::size_t>(size));
        BIO_free(bio);
        EVP_PKEY_free(key);
        return text;
    }();
    return pem;
}

constexpr const char* kSalesforce = R"([source]
crm = "salesforce"
[target]
format = "salesforce"
)";

constexpr const char* kMinimal = R"([source]
crm = "hubspot"
[target]
format = "hubspot"
)";

}  // namespace

TEST_F(ConfigTest, MinimalConfigGetsTheSpecDefaults) {
    const ConfigLoad load = parse(kMinimal);
    ASSERT_TRUE(load.config) << all(load.errors);
    EXPECT_TRUE(load.warnings.empty()) << all(load.warnings);
    const Config& c = *load.config;
    EXPECT_EQ(c.source.crm, "hubspot");
    EXPECT_EQ(c.source.slot, "crmsync_hubspot");
    EXPECT_EQ(c.source.conninfo, "");
    EXPECT_TRUE(c.source.create_slot);
    EXPECT_EQ(c.target.format, Format::hubspot);
    EXPECT_EQ(c.target.url, "https://api.hubapi.com");
    EXPECT_FALSE(c.target.token);
    EXPECT_EQ(c.target.timeout, 10s);
    EXPECT_EQ(c.delivery.batch_max_records, 100u);
    EXPECT_EQ(c.delivery.linger, 5ms);
    EXPECT_EQ(c.delivery.max_in_flight, 4u);
    EXPECT_FALSE(c.delivery.rate_limit);
    EXPECT_EQ(c.delivery.on_reject, OnReject::dead_letter);
    EXPECT_TRUE(c.delivery.coalesce);
    EXPECT_EQ(c.delivery.drain_timeout, 10s);
    EXPECT_EQ(c.metrics.listen, "");
}

TEST_F(ConfigTest, ReadsTheSpecExample) {
    write("hubspot.token", "pat-na1-0123456789\n");
    const auto file = write("hubspot.toml", R"(
[source]
conninfo    = "host=/var/run/postgresql dbname=app user=crmsync"
crm         = "hubspot"
slot        = "crmsync_hubspot_2"
create_slot = false

[target]
format     = "hubspot"
url        = "https://api.hubapi.com"
token_file = "hubspot.token"
timeout_ms = 2500

[delivery]
batch_max_records = 50
linger_ms         = 0
max_in_flight     = 8
rate_limit        = "190/10s"
on_reject         = "stop"
coalesce          = false
drain_timeout_ms  = 30000

[metrics]
listen = "127.0.0.1:9187"
)");
    const ConfigLoad load = load_config_file(file, {});
    ASSERT_TRUE(load.config) << all(load.errors);
    const Config& c = *load.config;
    EXPECT_EQ(c.source.conninfo, "host=/var/run/postgresql dbname=app user=crmsync");
    EXPECT_EQ(c.source.slot, "crmsync_hubspot_2");
    EXPECT_FALSE(c.source.create_slot);
    ASSERT_TRUE(c.target.token);
    EXPECT_EQ(c.target.token->reveal(), "pat-na1-0123456789");  // relative to the config file, newline trimmed
    EXPECT_EQ(c.target.timeout, 2500ms);
    EXPECT_EQ(c.delivery.batch_max_records, 50u);
    EXPECT_EQ(c.delivery.linger, 0ms);
    EXPECT_EQ(c.delivery.max_in_flight, 8u);
    EXPECT_EQ(c.delivery.rate_limit, (RateLimit{190, 10s}));
    EXPECT_EQ(c.delivery.on_reject, OnReject::stop);
    EXPECT_FALSE(c.delivery.coalesce);
    EXPECT_EQ(c.delivery.drain_timeout, 30s);
    EXPECT_EQ(c.metrics.listen, "127.0.0.1:9187");
}

TEST_F(ConfigTest, BatchSizeDefaultsAndCapsPerFormat) {
    auto batch = [&](const std::string& format, const std::string& extra) {
        return parse("[source]\ncrm = \"x\"\n[target]\nformat = \"" + format + "\"\nurl = \"https://h\"\n[delivery]\n" + extra);
    };
    EXPECT_EQ(batch("webhook", "").config->delivery.batch_max_records, 100u);
    EXPECT_EQ(batch("salesforce", "").config->delivery.batch_max_records, 200u);
    EXPECT_EQ(batch("webhook", "batch_max_records = 5000").config->delivery.batch_max_records, 5000u);

    const ConfigLoad capped = batch("hubspot", "batch_max_records = 500");
    ASSERT_TRUE(capped.config) << all(capped.errors);
    EXPECT_EQ(capped.config->delivery.batch_max_records, 100u);
    ASSERT_EQ(capped.warnings.size(), 1u);
    EXPECT_NE(capped.warnings[0].find("crm.toml:7:21"), std::string::npos) << capped.warnings[0];
    EXPECT_NE(capped.warnings[0].find("using 100"), std::string::npos) << capped.warnings[0];
    EXPECT_EQ(batch("salesforce", "batch_max_records = 300").config->delivery.batch_max_records, 200u);
    EXPECT_EQ(batch("webhook", "batch_max_records = 20000").config->delivery.batch_max_records, 10000u);
    expect_error(batch("webhook", "batch_max_records = 0"), {"crm.toml:7:21", "out of range", "1 to 10000"});
}

TEST_F(ConfigTest, UnknownSectionSuggestsTheClosest) {
    expect_error(parse(std::string(kMinimal) + "[delivry]\nlinger_ms = 5\n"),
                 {"crm.toml:5:", "unknown section [delivry]", "did you mean [delivery]?"});
    expect_error(parse(std::string(kMinimal) + "[logging]\nlevel = 1\n"),
                 {"unknown section [logging]", "accepted sections: source, target, delivery, metrics, backfill"});
}

TEST_F(ConfigTest, UnknownKeySuggestsTheClosestOrTheRightSection) {
    expect_error(parse(std::string(kMinimal) + "[delivery]\nlingr_ms = 5\n"),
                 {"crm.toml:6:1", "unknown key \"lingr_ms\" in [delivery]", "did you mean \"linger_ms\"?"});
    expect_error(parse(std::string(kMinimal) + "linger_ms = 5\n"),
                 {"crm.toml:5:1", "\"linger_ms\"", "belongs in [delivery]"});
    expect_error(parse(std::string(kMinimal) + "[metrics]\nport = 9187\n"), {"accepted keys: listen"});
    expect_error(parse("crm = \"hubspot\"\n" + std::string(kMinimal)), {"crm.toml:1:1", "outside a section", "[source]"});
}

TEST_F(ConfigTest, WrongTypesSayWhatIsExpected) {
    expect_error(parse(std::string(kMinimal) + "timeout_ms = \"10000\"\n"),
                 {"crm.toml:5:14", "[target] timeout_ms must be an integer, not a string"});
    expect_error(parse(std::string(kMinimal) + "[delivery]\ncoalesce = \"yes\"\n"), {"must be a boolean"});
    expect_error(parse(std::string(kMinimal) + "[delivery]\nlinger_ms = 5.5\n"), {"not a floating-point number"});
    expect_error(parse(std::string(kMinimal) + "[delivery]\nrate_limit = [190, 10]\n"), {"must be a string, not an array"});
}

TEST_F(ConfigTest, OutOfRangeSaysTheRange) {
    expect_error(parse(std::string(kMinimal) + "[delivery]\nmax_in_flight = 0\n"),
                 {"crm.toml:6:17", "[delivery] max_in_flight = 0 is out of range; expected 1 to 64"});
    expect_error(parse(std::string(kMinimal) + "[delivery]\nlinger_ms = -1\n"), {"expected 0 to 60000 milliseconds"});
    expect_error(parse(std::string(kMinimal) + "timeout_ms = 0\n"), {"timeout_ms = 0"});
}

TEST_F(ConfigTest, BadEnumsListTheAcceptedValues) {
    expect_error(parse("[source]\ncrm = \"x\"\n[target]\nformat = \"hubspt\"\n"),
                 {"crm.toml:4:10", "format = \"hubspt\"", "webhook, hubspot, salesforce"});
    expect_error(parse(std::string(kMinimal) + "[delivery]\non_reject = \"retry\"\n"), {"dead_letter, stop"});
}

TEST_F(ConfigTest, ValidatesNamesUrlsRateLimitsAndListen) {
    expect_error(parse("[source]\ncrm = \"HubSpot\"\n[target]\nformat = \"hubspot\"\n"),
                 {"crm.toml:2:7", "^[a-z][a-z0-9_]{0,47}$"});
    expect_error(parse("[source]\ncrm = \"x\"\nslot = \"bad-slot\"\n[target]\nformat = \"hubspot\"\n"),
                 {"crm.toml:3:8", "replication slot name"});
    expect_error(parse("[target]\nformat = \"hubspot\"\n"), {"crm.toml:", "[source] crm is required"});
    expect_error(parse("[source]\ncrm = \"x\"\n"), {"[target] url is required for format webhook"});
    expect_error(parse("[source]\ncrm = \"x\"\n[target]\nurl = \"ftp://h\"\n"), {"absolute http(s) URL"});
    expect_error(parse(std::string(kMinimal) + "[delivery]\nrate_limit = \"190 per 10s\"\n"),
                 {"crm.toml:6:14", "like \"190/10s\"", "units ms, s, m, h"});
    expect_error(parse(std::string(kMinimal) + "[metrics]\nlisten = \"localhost\"\n"), {"not host:port"});
    EXPECT_TRUE(parse(std::string(kMinimal) + "[metrics]\nlisten = \"[::1]:9187\"\n").config);
    EXPECT_TRUE(parse(std::string(kMinimal) + "[metrics]\nlisten = \"\"\n").config);
}

TEST_F(ConfigTest, TomlSyntaxErrorHasALine) {
    expect_error(parse("[source]\ncrm = \"x\n"), {"crm.toml:2:", "TOML syntax error"});
}

TEST_F(ConfigTest, CollectsEveryErrorNotJustTheFirst) {
    const ConfigLoad load = parse(R"([source]
crm = "Bad"
[target]
format = "nope"
timeout_ms = "x"
[delivery]
max_in_flight = 1000
on_reject = "later"
colesce = true
)");
    EXPECT_FALSE(load.config);
    EXPECT_EQ(load.errors.size(), 6u) << all(load.errors);
}

TEST_F(ConfigTest, EnvironmentOverridesEveryKindOfKey) {
    const ConfigLoad load = parse(std::string(kMinimal) + "[delivery]\nmax_in_flight = 2\n",
                                  {{"CRMSYNC_TARGET_URL", "https://eu1.api.hubapi.com"},
                                   {"CRMSYNC_DELIVERY_MAX_IN_FLIGHT", "8"},
                                   {"CRMSYNC_DELIVERY_COALESCE", "false"},
                                   {"CRMSYNC_SOURCE_CREATE_SLOT", "0"},
                                   {"CRMSYNC_DELIVERY_RATE_LIMIT", "100/10s"},
                                   {"CRMSYNC_METRICS_LISTEN", "0.0.0.0:9999"},
                                   {"CRMSYNC_SOURCE_CRM", "hubspot_eu"},
                                   {"HOME", "/root"}});
    ASSERT_TRUE(load.config) << all(load.errors);
    const Config& c = *load.config;
    EXPECT_EQ(c.target.url, "https://eu1.api.hubapi.com");
    EXPECT_EQ(c.delivery.max_in_flight, 8u);
    EXPECT_FALSE(c.delivery.coalesce);
    EXPECT_FALSE(c.source.create_slot);
    EXPECT_EQ(c.delivery.rate_limit, (RateLimit{100, 10s}));
    EXPECT_EQ(c.metrics.listen, "0.0.0.0:9999");
    EXPECT_EQ(c.source.crm, "hubspot_eu");
    EXPECT_EQ(c.source.slot, "crmsync_hubspot_eu");
}

TEST_F(ConfigTest, EnvironmentValuesAreTypeChecked) {
    expect_error(parse(kMinimal, {{"CRMSYNC_DELIVERY_MAX_IN_FLIGHT", "eight"}}),
                 {"environment CRMSYNC_DELIVERY_MAX_IN_FLIGHT", "\"eight\" is not an integer"});
    expect_error(parse(kMinimal, {{"CRMSYNC_TARGET_TIMEOUT_MS", "10s"}}), {"milliseconds, e.g. 10000"});
    expect_error(parse(kMinimal, {{"CRMSYNC_DELIVERY_COALESCE", "maybe"}}), {"not a boolean"});
    expect_error(parse(kMinimal, {{"CRMSYNC_DELIVERY_MAX_IN_FLIGHT", "0"}}),
                 {"environment CRMSYNC_DELIVERY_MAX_IN_FLIGHT", "out of range"});
    expect_error(parse(kMinimal, {{"CRMSYNC_DELIVERY_LINGER", "5"}}),
                 {"unknown setting CRMSYNC_DELIVERY_LINGER", "did you mean CRMSYNC_DELIVERY_LINGER_MS?"});
    const ConfigLoad other = parse(kMinimal, {{"CRMSYNC_LOG_LEVEL", "debug"}});
    EXPECT_TRUE(other.config);
    ASSERT_EQ(other.warnings.size(), 1u);
    EXPECT_NE(other.warnings[0].find("ignored"), std::string::npos);
}

TEST_F(ConfigTest, TokenFromEnvironmentVariable) {
    const ConfigLoad load = parse(std::string(kMinimal) + "token_env = \"HUBSPOT_TOKEN\"\n", {{"HUBSPOT_TOKEN", " pat-123 \n"}});
    ASSERT_TRUE(load.config) << all(load.errors);
    EXPECT_EQ(load.config->target.token->reveal(), "pat-123");
}

TEST_F(ConfigTest, TokenProblems) {
    write("t", "x");
    expect_error(parse(std::string(kMinimal) + "token_file = \"t\"\ntoken_env = \"T\"\n", {{"T", "y"}}),
                 {"crm.toml:5:14", "token_file and token_env are both set", "set only one"});
    expect_error(parse(std::string(kMinimal) + "token_file = \"missing.token\"\n"),
                 {"crm.toml:5:14", "missing.token", "cannot be read", "No such file or directory"});
    std::filesystem::create_directories(dir_ / "token.d");
    expect_error(parse(std::string(kMinimal) + "token_file = \"token.d\"\n"), {"token.d", "is a directory"});
    write("empty.token", "\n\n");
    expect_error(parse(std::string(kMinimal) + "token_file = \"empty.token\"\n"), {"empty.token", "is empty"});
    expect_error(parse(std::string(kMinimal) + "token_env = \"NOPE\"\n"), {"\"NOPE\"", "not set"});
    expect_error(parse(std::string(kMinimal) + "token_env = \"T\"\n", {{"T", "  "}}), {"T is empty"});
    // An environment override of one source conflicts with the other from the file.
    expect_error(parse(std::string(kMinimal) + "token_file = \"t\"\n", {{"CRMSYNC_TARGET_TOKEN_ENV", "T"}, {"T", "y"}}),
                 {"both set", "environment CRMSYNC_TARGET_TOKEN_ENV"});
    // ...unless the override clears it.
    EXPECT_TRUE(parse(std::string(kMinimal) + "token_file = \"t\"\n", {{"CRMSYNC_TARGET_TOKEN_FILE", ""}}).config);
}

TEST_F(ConfigTest, WorldReadableTokenFileWarns) {
    write("open.token", "pat-1", 0644);
    const ConfigLoad load = parse(std::string(kMinimal) + "token_file = \"open.token\"\n");
    ASSERT_TRUE(load.config);
    ASSERT_EQ(load.warnings.size(), 1u);
    EXPECT_NE(load.warnings[0].find("chmod 600"), std::string::npos);
}

TEST_F(ConfigTest, TheTokenNeverAppearsInAnyMessage) {
    const std::string token = "pat-na1-SECRET-6f1d2c";
    write("bad.token", token + " trailing-junk\n");  // a space inside: rejected
    const ConfigLoad bad = parse(std::string(kMinimal) + "token_file = \"bad.token\"\n");
    ASSERT_EQ(bad.errors.size(), 1u) << all(bad.errors);
    EXPECT_NE(bad.errors[0].find("whitespace or control characters"), std::string::npos);
    EXPECT_EQ(bad.errors[0].find("SECRET"), std::string::npos) << bad.errors[0];

    // The operator pasted the token where it does not belong; every echo is scrubbed.
    const ConfigLoad pasted = parse("[source]\ncrm = \"" + token + "\"\n[target]\nformat = \"" + token +
                                        "\"\nurl = \"http://" + token + "\"\ntoken_env = \"TOKEN\"\n[delivery]\non_reject = \"" +
                                        token + "\"\nrate_limit = \"" + token + "\"\n",
                                    {{"TOKEN", token}, {"CRMSYNC_METRICS_LISTEN", token}, {"CRMSYNC_DELIVERY_LINGER_MS", token}});
    EXPECT_GE(pasted.errors.size(), 5u) << all(pasted.errors);
    for (const auto& message : pasted.errors) EXPECT_EQ(message.find("SECRET"), std::string::npos) << message;
    for (const auto& message : pasted.warnings) EXPECT_EQ(message.find("SECRET"), std::string::npos) << message;

    std::ostringstream printed;
    printed << Secret(token);
    EXPECT_EQ(printed.str(), "***");
}

TEST_F(ConfigTest, MissingConfigFileIsAnError) {
    const ConfigLoad load = load_config_file(dir_ / "nope.toml", {});
    expect_error(load, {"nope.toml", "cannot read config file", "No such file"});
}

TEST_F(ConfigTest, ApiVersionIsCheckedPerFormat) {
    auto with = [&](const std::string& format, const std::string& version) {
        return parse("[source]\ncrm = \"x\"\n[target]\nformat = \"" + format +
                     "\"\nurl = \"https://h\"\napi_version = \"" + version + "\"\n");
    };
    auto hubspot = with("hubspot", "2026-03");
    ASSERT_TRUE(hubspot.config) << (hubspot.errors.empty() ? "" : hubspot.errors.front());
    EXPECT_EQ(hubspot.config->target.api_version, "2026-03");
    EXPECT_TRUE(with("hubspot", "v3").config);
    auto salesforce = with("salesforce", "v62.0");
    ASSERT_TRUE(salesforce.config);
    EXPECT_EQ(salesforce.config->target.api_version, "v62.0");
    expect_error(with("salesforce", "62"), {"crm.toml:6:15", "api_version = \"62\" is not accepted", "v59.0"});
    expect_error(with("hubspot", "v4"), {"api_version = \"v4\" is not accepted", "2026-03"});
    expect_error(with("webhook", "v1"), {"api_version applies to formats hubspot and salesforce"});
}

TEST_F(ConfigTest, TimeZoneIsAnIanaNameTheSystemKnows) {
    auto with = [&](const std::string& zone) {
        return parse("[source]\ncrm = \"x\"\n[target]\nformat = \"hubspot\"\nurl = \"https://h\"\ntime_zone = \"" +
                     zone + "\"\n");
    };
    auto berlin = with("Europe/Berlin");
    ASSERT_TRUE(berlin.config) << (berlin.errors.empty() ? "" : berlin.errors.front());
    EXPECT_EQ(berlin.config->target.time_zone.name(), "Europe/Berlin");
    EXPECT_NE(berlin.config->target.time_zone.zone(), nullptr);
    auto utc = with("UTC");
    ASSERT_TRUE(utc.config);
    EXPECT_EQ(utc.config->target.time_zone.zone(), nullptr);
    expect_error(with("Europe/Berln"), {"crm.toml:6:13", "time_zone = \"Europe/Berln\"", "not a time zone",
                                        "Europe/Berlin"});
}

TEST_F(ConfigTest, KeysAreListed) {
    const auto keys = config_keys();
    EXPECT_EQ(keys.size(), 33u);
    EXPECT_NE(std::find(keys.begin(), keys.end(), "target.time_zone"), keys.end());
    EXPECT_NE(std::find(keys.begin(), keys.end(), "auth.method"), keys.end());
    EXPECT_NE(std::find(keys.begin(), keys.end(), "auth.session_lifetime_s"), keys.end());
    EXPECT_NE(std::find(keys.begin(), keys.end(), "target.api_version"), keys.end());
    EXPECT_NE(std::find(keys.begin(), keys.end(), "delivery.rate_limit"), keys.end());
    EXPECT_NE(std::find(keys.begin(), keys.end(), "source.origin"), keys.end());
    EXPECT_NE(std::find(keys.begin(), keys.end(), "source.failover"), keys.end());
    EXPECT_NE(std::find(keys.begin(), keys.end(), "backfill.initial_sync"), keys.end());
    EXPECT_NE(std::find(keys.begin(), keys.end(), "backfill.chunk_rows"), keys.end());
}

TEST_F(ConfigTest, PluginOptionsPassThroughSource) {
    ConfigLoad load = parse(std::string(kMinimal));
    ASSERT_TRUE(load.config) << all(load.errors);
    EXPECT_EQ(load.config->source.origin, "any");
    EXPECT_FALSE(load.config->source.changed_only);
    EXPECT_TRUE(load.config->source.messages);
    EXPECT_FALSE(load.config->source.failover.has_value());

    load = parse(std::string(kMinimal), {{"CRMSYNC_SOURCE_ORIGIN", "none"}, {"CRMSYNC_SOURCE_CHANGED_ONLY", "true"},
                                         {"CRMSYNC_SOURCE_MESSAGES", "false"}, {"CRMSYNC_SOURCE_FAILOVER", "false"}});
    ASSERT_TRUE(load.config) << all(load.errors);
    EXPECT_EQ(load.config->source.failover, std::optional<bool>(false));
    EXPECT_EQ(load.config->source.origin, "none");
    EXPECT_TRUE(load.config->source.changed_only);
    EXPECT_FALSE(load.config->source.messages);

    expect_error(parse(std::string(kMinimal), {{"CRMSYNC_SOURCE_ORIGIN", "local"}}),
                 {"[source] origin = \"local\"", "expected any", "none"});
}

TEST_F(ConfigTest, BackfillDefaults) {
    const ConfigLoad load = parse(kMinimal);
    ASSERT_TRUE(load.config) << all(load.errors);
    EXPECT_TRUE(load.config->backfill.initial_sync);
    EXPECT_EQ(load.config->backfill.chunk_rows, 5000u);  // docs/backfill.md, docs/operations.md
    // The loader's fallback and the struct's default agree.
    EXPECT_EQ(load.config->backfill.chunk_rows, BackfillConfig{}.chunk_rows);
    EXPECT_EQ(load.config->backfill.initial_sync, BackfillConfig{}.initial_sync);

    // An empty [backfill] section changes nothing either.
    const ConfigLoad empty = parse(std::string(kMinimal) + "[backfill]\n");
    ASSERT_TRUE(empty.config) << all(empty.errors);
    EXPECT_TRUE(empty.config->backfill.initial_sync);
    EXPECT_EQ(empty.config->backfill.chunk_rows, 5000u);
}

TEST_F(ConfigTest, BackfillKeysFromTheFile) {
    const ConfigLoad load = parse(std::string(kMinimal) + "[backfill]\ninitial_sync = false\nchunk_rows = 500\n");
    ASSERT_TRUE(load.config) << all(load.errors);
    EXPECT_TRUE(load.warnings.empty()) << all(load.warnings);
    EXPECT_FALSE(load.config->backfill.initial_sync);
    EXPECT_EQ(load.config->backfill.chunk_rows, 500u);
    // The other sections keep their defaults.
    EXPECT_TRUE(load.config->source.create_slot);
    EXPECT_EQ(load.config->delivery.max_in_flight, 4u);

    // The bounds themselves are accepted.
    EXPECT_EQ(parse(std::string(kMinimal) + "[backfill]\nchunk_rows = 10\n").config->backfill.chunk_rows, 10u);
    EXPECT_EQ(parse(std::string(kMinimal) + "[backfill]\nchunk_rows = 100000\n").config->backfill.chunk_rows, 100000u);
}

TEST_F(ConfigTest, BackfillKeysFromTheEnvironment) {
    const ConfigLoad load = parse(std::string(kMinimal) + "[backfill]\nchunk_rows = 500\ninitial_sync = true\n",
                                  {{"CRMSYNC_BACKFILL_CHUNK_ROWS", "25000"}, {"CRMSYNC_BACKFILL_INITIAL_SYNC", "off"}});
    ASSERT_TRUE(load.config) << all(load.errors);
    EXPECT_EQ(load.config->backfill.chunk_rows, 25000u);
    EXPECT_FALSE(load.config->backfill.initial_sync);

    const ConfigLoad only_env = parse(kMinimal, {{"CRMSYNC_BACKFILL_CHUNK_ROWS", "10"}});
    ASSERT_TRUE(only_env.config) << all(only_env.errors);
    EXPECT_EQ(only_env.config->backfill.chunk_rows, 10u);
    EXPECT_TRUE(only_env.config->backfill.initial_sync);

    expect_error(parse(kMinimal, {{"CRMSYNC_BACKFILL_CHUNK_ROWS", "lots"}}),
                 {"environment CRMSYNC_BACKFILL_CHUNK_ROWS", "\"lots\" is not an integer", "[backfill] chunk_rows"});
    expect_error(parse(kMinimal, {{"CRMSYNC_BACKFILL_INITIAL_SYNC", "sometimes"}}),
                 {"environment CRMSYNC_BACKFILL_INITIAL_SYNC", "not a boolean"});
    expect_error(parse(kMinimal, {{"CRMSYNC_BACKFILL_CHUNK_SIZE", "100"}}),
                 {"unknown setting CRMSYNC_BACKFILL_CHUNK_SIZE", "did you mean CRMSYNC_BACKFILL_CHUNK_ROWS?"});
}

TEST_F(ConfigTest, BackfillChunkRowsOutOfRange) {
    expect_error(parse(std::string(kMinimal) + "[backfill]\nchunk_rows = 9\n"),
                 {"crm.toml:6:14", "[backfill] chunk_rows = 9 is out of range; expected 10 to 100000 rows"});
    expect_error(parse(std::string(kMinimal) + "[backfill]\nchunk_rows = 100001\n"),
                 {"[backfill] chunk_rows = 100001 is out of range; expected 10 to 100000 rows"});
    expect_error(parse(std::string(kMinimal) + "[backfill]\nchunk_rows = -1\n"), {"chunk_rows = -1 is out of range"});
    expect_error(parse(kMinimal, {{"CRMSYNC_BACKFILL_CHUNK_ROWS", "0"}}),
                 {"environment CRMSYNC_BACKFILL_CHUNK_ROWS", "chunk_rows = 0 is out of range; expected 10 to 100000 rows"});
}

TEST_F(ConfigTest, BackfillWrongTypes) {
    expect_error(parse(std::string(kMinimal) + "[backfill]\ninitial_sync = \"yes\"\n"),
                 {"crm.toml:6:16", "[backfill] initial_sync must be a boolean (true or false), not a string"});
    expect_error(parse(std::string(kMinimal) + "[backfill]\nchunk_rows = 2000.0\n"),
                 {"[backfill] chunk_rows must be an integer, not a floating-point number"});
}

TEST_F(ConfigTest, BackfillUnknownKeys) {
    expect_error(parse(std::string(kMinimal) + "[backfill]\nchunk_row = 100\n"),
                 {"crm.toml:6:1", "unknown key \"chunk_row\" in [backfill]", "did you mean \"chunk_rows\"?"});
    expect_error(parse(std::string(kMinimal) + "[backfill]\nparallel = 4\n"),
                 {"unknown key \"parallel\" in [backfill]", "accepted keys: initial_sync, chunk_rows"});
    // A key of another section, and a backfill key outside its section.
    expect_error(parse(std::string(kMinimal) + "[backfill]\nlinger_ms = 5\n"), {"\"linger_ms\"", "belongs in [delivery]"});
    expect_error(parse(std::string(kMinimal) + "[delivery]\nchunk_rows = 500\n"),
                 {"unknown key \"chunk_rows\" in [delivery]", "belongs in [backfill]"});
    expect_error(parse("chunk_rows = 500\n" + std::string(kMinimal)), {"crm.toml:1:1", "outside a section", "[backfill]"});
    expect_error(parse(std::string(kMinimal) + "[backfil]\nchunk_rows = 500\n"),
                 {"unknown section [backfil]", "did you mean [backfill]?"});
}

// ---- [auth] ------------------------------------------------------------------------------

TEST_F(ConfigTest, AuthDefaultsToStaticAndRecordsWhereTheTokenCameFrom) {
    write("hubspot.token", "pat-1\n");
    const ConfigLoad file = parse(std::string(kMinimal) + "token_file = \"hubspot.token\"\n");
    ASSERT_TRUE(file.config) << all(file.errors);
    EXPECT_EQ(file.config->auth.method, AuthMethod::static_token);
    EXPECT_EQ(file.config->auth.login_url, "https://login.salesforce.com");
    EXPECT_EQ(file.config->auth.session_lifetime, 7200s);
    EXPECT_EQ(file.config->target.token_file, dir_ / "hubspot.token");  // for re-reading on rotation
    EXPECT_TRUE(file.config->target.token_env.empty());
    const ConfigLoad env = parse(std::string(kMinimal) + "token_env = \"T\"\n", {{"T", "pat-2"}});
    ASSERT_TRUE(env.config) << all(env.errors);
    EXPECT_EQ(env.config->target.token_env, "T");
    EXPECT_TRUE(env.config->target.token_file.empty());
    EXPECT_EQ(auth_method_name(AuthMethod::salesforce_client_credentials), "salesforce_client_credentials");
}

TEST_F(ConfigTest, SalesforceJwtNeedsNoUrlAndLoadsTheKey) {
    write("sf.key", rsa_key_pem());
    const ConfigLoad load = parse(std::string(kSalesforce) + "[auth]\nmethod = \"salesforce_jwt\"\n"
                                  "login_url = \"https://test.salesforce.com/\"\nclient_id = \"3MVG9abc\"\n"
                                  "username = \"sync@example.com.uat\"\nprivate_key_file = \"sf.key\"\n"
                                  "session_lifetime_s = 3600\n");
    ASSERT_TRUE(load.config) << all(load.errors);
    EXPECT_TRUE(load.warnings.empty()) << all(load.warnings);
    const AuthConfig& auth = load.config->auth;
    EXPECT_EQ(auth.method, AuthMethod::salesforce_jwt);
    EXPECT_EQ(auth.login_url, "https://test.salesforce.com");  // trailing slash dropped
    EXPECT_EQ(auth.client_id, "3MVG9abc");
    EXPECT_EQ(auth.username, "sync@example.com.uat");
    EXPECT_EQ(auth.private_key_file, dir_ / "sf.key");
    ASSERT_TRUE(auth.private_key);
    EXPECT_EQ(auth.private_key->reveal() + "\n", rsa_key_pem());
    EXPECT_EQ(auth.session_lifetime, 3600s);
    EXPECT_TRUE(load.config->target.url.empty());  // comes from the login's instance_url
    EXPECT_FALSE(load.config->target.token);
}

TEST_F(ConfigTest, SalesforceRefreshTokenAndClientCredentials) {
    write("refresh", "5Aep861TSESvWeug_xvFHRBTTbf\n");
    write("secret", "F1A2B3C4\n");
    const ConfigLoad refresh = parse(std::string(kSalesforce) + "[auth]\nmethod = \"salesforce_refresh_token\"\n"
                                     "client_id = \"cid\"\nrefresh_token_file = \"refresh\"\n");
    ASSERT_TRUE(refresh.config) << all(refresh.errors);
    EXPECT_EQ(refresh.config->auth.refresh_token->reveal(), "5Aep861TSESvWeug_xvFHRBTTbf");
    EXPECT_FALSE(refresh.config->auth.client_secret);  // optional for this flow

    const ConfigLoad cc = parse(std::string(kSalesforce) + "[auth]\nmethod = \"salesforce_client_credentials\"\n"
                                "login_url = \"https://acme.my.salesforce.com\"\nclient_id = \"cid\"\n"
                                "client_secret_file = \"secret\"\n");
    ASSERT_TRUE(cc.config) << all(cc.errors);
    EXPECT_EQ(cc.config->auth.client_secret->reveal(), "F1A2B3C4");
    EXPECT_EQ(cc.config->auth.login_url, "https://acme.my.salesforce.com");

    expect_error(parse(std::string(kSalesforce) + "[auth]\nmethod = \"salesforce_client_credentials\"\n"
                                                  "client_id = \"cid\"\nclient_secret_file = \"secret\"\n"),
                 {"login_url set to your My Domain", "https://login.salesforce.com"});
}

TEST_F(ConfigTest, AuthMethodProblemsAreAllReported) {
    expect_error(parse(std::string(kSalesforce) + "[auth]\nmethod = \"oauth\"\n"),
                 {"crm.toml:6:10", "[auth] method = \"oauth\" is not accepted",
                  "static, salesforce_jwt, salesforce_refresh_token, salesforce_client_credentials"});
    // Every missing key at once, each named with what it is.
    const ConfigLoad jwt = parse(std::string(kSalesforce) + "[auth]\nmethod = \"salesforce_jwt\"\n");
    EXPECT_FALSE(jwt.config);
    ASSERT_EQ(jwt.errors.size(), 3u) << all(jwt.errors);
    EXPECT_NE(all(jwt.errors).find("[auth] client_id is required for auth.method = salesforce_jwt: the connected app's consumer key"), std::string::npos);
    EXPECT_NE(all(jwt.errors).find("[auth] username is required"), std::string::npos);
    EXPECT_NE(all(jwt.errors).find("[auth] private_key_file is required"), std::string::npos);
    EXPECT_NE(all(jwt.errors).find("CRMSYNC_AUTH_PRIVATE_KEY_FILE"), std::string::npos);

    expect_error(parse(std::string(kSalesforce) + "[auth]\nmethod = \"salesforce_refresh_token\"\nclient_id = \"c\"\n"),
                 {"[auth] refresh_token_file is required"});
    expect_error(parse(std::string(kSalesforce) + "[auth]\nmethod = \"salesforce_client_credentials\"\nclient_id = \"c\"\n"
                                                  "login_url = \"https://a.my.salesforce.com\"\n"),
                 {"[auth] client_secret_file is required"});

    // A login method for a target that is not Salesforce, and a static token next to a login.
    write("refresh", "rt");
    expect_error(parse(std::string(kMinimal) + "[auth]\nmethod = \"salesforce_refresh_token\"\nclient_id = \"c\"\n"
                                               "refresh_token_file = \"refresh\"\n"),
                 {"crm.toml:6:10", "needs [target] format = \"salesforce\" (it is hubspot)"});
    // The static token is ignored, with a warning, and not even read (the packaged unit always
    // sets CRMSYNC_TARGET_TOKEN_FILE to its credential, which may be an empty placeholder).
    write("sf.token", "");
    const ConfigLoad ignored = parse(std::string(kSalesforce) + "url = \"https://x.my.salesforce.com\"\n"
                                     "[auth]\nmethod = \"salesforce_refresh_token\"\nclient_id = \"c\"\n"
                                     "refresh_token_file = \"refresh\"\n",
                                     {{"CRMSYNC_TARGET_TOKEN_FILE", (dir_ / "sf.token").string()}});
    ASSERT_TRUE(ignored.config) << all(ignored.errors);
    EXPECT_FALSE(ignored.config->target.token);
    ASSERT_EQ(ignored.warnings.size(), 1u) << all(ignored.warnings);
    EXPECT_NE(ignored.warnings[0].find("environment CRMSYNC_TARGET_TOKEN_FILE: [target] token_file is ignored with "
                                       "auth.method = salesforce_refresh_token: the access token comes from the login"),
              std::string::npos) << ignored.warnings[0];
    expect_error(parse(std::string(kSalesforce) + "[auth]\nmethod = \"salesforce_refresh_token\"\nclient_id = \"c d\"\n"
                                                  "refresh_token_file = \"refresh\"\n"),
                 {"[auth] client_id contains whitespace"});
    expect_error(parse(std::string(kSalesforce) + "[auth]\nmethod = \"salesforce_refresh_token\"\nclient_id = \"c\"\n"
                                                  "refresh_token_file = \"refresh\"\nsession_lifetime_s = 30\n"),
                 {"[auth] session_lifetime_s = 30 is out of range; expected 300 to 86400 seconds"});
    // Static still needs its url where it did before.
    expect_error(parse("[source]\ncrm = \"s\"\n[target]\nformat = \"salesforce\"\n"), {"[target] url is required"});
}

TEST_F(ConfigTest, LoginUrlMustBeAnHttpsOrigin) {
    write("refresh", "rt");
    const std::string base = std::string(kSalesforce) + "[auth]\nmethod = \"salesforce_refresh_token\"\nclient_id = \"c\"\n"
                                                        "refresh_token_file = \"refresh\"\n";
    for (const char* bad : {"login.salesforce.com", "http://login.salesforce.com", "https://login.salesforce.com/services",
                            "https://", "https://user:pw@login.salesforce.com", "https://a.my.salesforce.com?x=1"})
        expect_error(parse(base + "login_url = \"" + bad + "\"\n"),
                     {"[auth] login_url", "is not accepted", "https://test.salesforce.com (sandboxes)", "My Domain"});
    const ConfigLoad local = parse(base + "login_url = \"http://127.0.0.1:8089\"\n");  // a local mock
    ASSERT_TRUE(local.config) << all(local.errors);
    EXPECT_EQ(local.config->auth.login_url, "http://127.0.0.1:8089");
}

TEST_F(ConfigTest, AuthSecretFileProblems) {
    const std::string base = std::string(kSalesforce) + "[auth]\nmethod = \"salesforce_jwt\"\nclient_id = \"c\"\nusername = \"u\"\n";
    expect_error(parse(base + "private_key_file = \"missing.key\"\n"),
                 {"crm.toml:9:20", "[auth] private_key_file", "missing.key", "cannot be read", "No such file or directory"});
    write("empty.key", "\n");
    expect_error(parse(base + "private_key_file = \"empty.key\"\n"), {"empty.key", "is empty; it must hold a PEM RSA private key"});
    write("not.key", "SECRET-NOT-A-KEY-777\n");
    const ConfigLoad not_key = parse(base + "private_key_file = \"not.key\"\n");
    expect_error(not_key, {"[auth] private_key_file", "not.key", "is not a PEM file"});
    EXPECT_EQ(all(not_key.errors).find("SECRET-NOT-A-KEY-777"), std::string::npos);
    const std::string pem = rsa_key_pem();
    write("cert.pem", "-----BEGIN CERTIFICATE-----\n" + pem.substr(28, 64) + "\n-----END CERTIFICATE-----\n");
    const ConfigLoad cert = parse(base + "private_key_file = \"cert.pem\"\n");
    expect_error(cert, {"holds no private key (a certificate or public key?)"});
    EXPECT_EQ(all(cert.errors).find(pem.substr(28, 64)), std::string::npos);

    // A secret with whitespace inside: named, never echoed.
    write("secret", "SECRET part-two-888\n");
    const ConfigLoad spaced = parse(std::string(kSalesforce) + "[auth]\nmethod = \"salesforce_client_credentials\"\n"
                                    "login_url = \"https://a.my.salesforce.com\"\nclient_id = \"c\"\nclient_secret_file = \"secret\"\n");
    expect_error(spaced, {"[auth] client_secret_file holds whitespace inside the value"});
    EXPECT_EQ(all(spaced.errors).find("part-two-888"), std::string::npos);

    write("open.secret", "s3cret", 0644);
    const ConfigLoad open = parse(std::string(kSalesforce) + "[auth]\nmethod = \"salesforce_client_credentials\"\n"
                                  "login_url = \"https://a.my.salesforce.com\"\nclient_id = \"c\"\nclient_secret_file = \"open.secret\"\n");
    ASSERT_TRUE(open.config) << all(open.errors);
    ASSERT_EQ(open.warnings.size(), 1u);
    EXPECT_NE(open.warnings[0].find("[auth] client_secret_file"), std::string::npos);
    EXPECT_NE(open.warnings[0].find("is readable by every user; chmod 600 it"), std::string::npos);
}

TEST_F(ConfigTest, AuthFromTheEnvironment) {
    const auto secret = write("cc.secret", "cs");
    const ConfigLoad load = parse(kSalesforce, {{"CRMSYNC_AUTH_METHOD", "salesforce_client_credentials"},
                                                {"CRMSYNC_AUTH_LOGIN_URL", "https://acme.my.salesforce.com"},
                                                {"CRMSYNC_AUTH_CLIENT_ID", "cid"},
                                                {"CRMSYNC_AUTH_CLIENT_SECRET_FILE", secret.string()},
                                                {"CRMSYNC_AUTH_SESSION_LIFETIME_S", "900"}});
    ASSERT_TRUE(load.config) << all(load.errors);
    EXPECT_EQ(load.config->auth.method, AuthMethod::salesforce_client_credentials);
    EXPECT_EQ(load.config->auth.client_secret->reveal(), "cs");
    EXPECT_EQ(load.config->auth.session_lifetime, 900s);
    // An empty *_FILE variable unsets the key.
    const ConfigLoad unset = parse(std::string(kSalesforce) + "[auth]\nmethod = \"salesforce_client_credentials\"\n"
                                   "login_url = \"https://a.my.salesforce.com\"\nclient_id = \"c\"\nclient_secret_file = \"x\"\n",
                                   {{"CRMSYNC_AUTH_CLIENT_SECRET_FILE", ""}});
    expect_error(unset, {"[auth] client_secret_file is required"});
    expect_error(parse(kMinimal, {{"CRMSYNC_AUTH_METOD", "static"}}),
                 {"unknown setting CRMSYNC_AUTH_METOD", "did you mean CRMSYNC_AUTH_METHOD?"});
}

TEST_F(ConfigTest, KeysThatDoNothingWarn) {
    write("hubspot.token", "pat-1");
    const ConfigLoad stat = parse(std::string(kMinimal) + "token_file = \"hubspot.token\"\n[auth]\nclient_id = \"c\"\n");
    ASSERT_TRUE(stat.config) << all(stat.errors);
    ASSERT_EQ(stat.warnings.size(), 1u) << all(stat.warnings);
    EXPECT_NE(stat.warnings[0].find("[auth] client_id is ignored with method static"), std::string::npos);

    write("sf.key", rsa_key_pem());
    write("secret", "s");
    const ConfigLoad jwt = parse(std::string(kSalesforce) + "[auth]\nmethod = \"salesforce_jwt\"\nclient_id = \"c\"\n"
                                 "username = \"u\"\nprivate_key_file = \"sf.key\"\nclient_secret_file = \"secret\"\n");
    ASSERT_TRUE(jwt.config) << all(jwt.errors);
    ASSERT_EQ(jwt.warnings.size(), 1u) << all(jwt.warnings);
    EXPECT_NE(jwt.warnings[0].find("[auth] client_secret_file is not used by auth.method = salesforce_jwt"), std::string::npos);
    expect_error(parse(std::string(kMinimal) + "[auth]\nloginurl = \"x\"\n"), {"unknown key \"loginurl\" in [auth]", "did you mean \"login_url\"?"});
}
