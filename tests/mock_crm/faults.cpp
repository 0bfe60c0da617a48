#include "faults.h"

namespace crmsync::mock_crm {
namespace {

constexpr const char* kAcceptedKeys =
    "rate_429, retry_after_s, rate_500, rate_slow, slow_ms, rate_drop, drop_after_apply, down, "
    "reject_value, rate_lock_row, rate_omit_result, hubspot_per_10s, hubspot_daily, salesforce_daily, seed";

std::string check_rate(const rapidjson::Value& v, const char* key, double& out) {
    auto d = as_double(v);
    if (!d || !(*d >= 0.0 && *d <= 1.0))
        return std::string(key) + " must be a number from 0 to 1, got " + to_json_text(v);
    out = *d;
    return {};
}

std::string check_integer(const rapidjson::Value& v, const char* key, int64_t max, int64_t& out) {
    auto n = as_uint64(v);
    if (!n || *n > static_cast<uint64_t>(max))
        return std::string(key) + " must be an integer from 0 to " + std::to_string(max) + ", got " +
               to_json_text(v);
    out = static_cast<int64_t>(*n);
    return {};
}

std::string check_bool(const rapidjson::Value& v, const char* key, bool& out) {
    if (!v.IsBool()) return std::string(key) + " must be true or false, got " + to_json_text(v);
    out = v.GetBool();
    return {};
}

}  // namespace

std::string FaultInjector::configure(const rapidjson::Value& body) {
    if (!body.IsObject())
        return std::string("faults must be a JSON object, got ") + json_type_name(body);
    std::lock_guard lock(mutex_);
    FaultSettings next = settings_;
    std::optional<uint64_t> reseed;
    for (const auto& m : body.GetObject()) {
        std::string_view key(m.name.GetString(), m.name.GetStringLength());
        const rapidjson::Value& v = m.value;
        std::string error;
        if (key == "rate_429") {
            error = check_rate(v, "rate_429", next.rate_429);
        } else if (key == "retry_after_s") {
            error = check_integer(v, "retry_after_s", 3600, next.retry_after_s);
        } else if (key == "rate_500") {
            error = check_rate(v, "rate_500", next.rate_500);
        } else if (key == "rate_slow") {
            error = check_rate(v, "rate_slow", next.rate_slow);
        } else if (key == "slow_ms") {
            error = check_integer(v, "slow_ms", 600000, next.slow_ms);
        } else if (key == "rate_drop") {
            error = check_rate(v, "rate_drop", next.rate_drop);
        } else if (key == "drop_after_apply") {
            error = check_bool(v, "drop_after_apply", next.drop_after_apply);
        } else if (key == "down") {
            error = check_bool(v, "down", next.down);
        } else if (key == "reject_value") {
            if (v.IsNull()) {
                next.reject_value.clear();
            } else if (is_string(v)) {
                next.reject_value.assign(v.GetString(), v.GetStringLength());
            } else {
                error = "reject_value must be a string (\"\" or null turns it off), got " +
                        to_json_text(v);
            }
        } else if (key == "rate_lock_row") {
            error = check_rate(v, "rate_lock_row", next.rate_lock_row);
        } else if (key == "rate_omit_result") {
            error = check_rate(v, "rate_omit_result", next.rate_omit_result);
        } else if (key == "hubspot_per_10s") {
            error = check_integer(v, "hubspot_per_10s", 1000000000, next.hubspot_per_10s);
        } else if (key == "hubspot_daily") {
            error = check_integer(v, "hubspot_daily", 1000000000, next.hubspot_daily);
        } else if (key == "salesforce_daily") {
            error = check_integer(v, "salesforce_daily", 1000000000, next.salesforce_daily);
        } else if (key == "seed") {
            int64_t seed = 0;
            error = check_integer(v, "seed", INT64_MAX, seed);
            reseed = static_cast<uint64_t>(seed);
        } else {
            error = "unknown key \"" + std::string(key) + "\"; accepted keys: " + kAcceptedKeys;
        }
        if (!error.empty()) return error;
    }
    settings_ = next;
    if (reseed) {
        seed_ = *reseed;
        rng_.seed(seed_);
    }
    return {};
}

FaultSettings FaultInjector::settings() const {
    std::lock_guard lock(mutex_);
    return settings_;
}

double FaultInjector::draw() {
    // 53 random bits: the same value from the same seed with any standard library.
    return double(rng_() >> 11) * 0x1.0p-53;
}

FaultDecision FaultInjector::decide() {
    std::lock_guard lock(mutex_);
    FaultDecision d;
    double drop = draw(), limit = draw(), error = draw(), slow = draw();
    const FaultSettings& s = settings_;
    d.reject_value = s.reject_value;
    // The per-record lock draws come from the request's own draws, not new ones, so that the
    // sequence of request-level faults for a seed stays what it was before this fault existed.
    d.lock_row_rate = s.rate_lock_row;
    d.omit_result_rate = s.rate_omit_result;
    d.lock_row_seed = (uint64_t(drop * 0x1.0p53) << 11) ^ uint64_t(slow * 0x1.0p53);
    if (s.down) {
        d.down = true;
        return d;
    }
    if (drop < s.rate_drop) {
        (s.drop_after_apply ? d.drop_after_apply : d.drop) = true;
    } else if (limit < s.rate_429) {
        d.rate_limit = true;
        d.retry_after_s = s.retry_after_s;
    } else if (error < s.rate_500) {
        d.server_error = true;
    }
    if (slow < s.rate_slow) d.slow_ms = s.slow_ms;
    return d;
}

void FaultInjector::write_json(JsonWriter& w) const {
    std::lock_guard lock(mutex_);
    const FaultSettings& s = settings_;
    w.StartObject();
    write_key(w, "rate_429");
    w.Double(s.rate_429);
    write_key(w, "retry_after_s");
    w.Int64(s.retry_after_s);
    write_key(w, "rate_500");
    w.Double(s.rate_500);
    write_key(w, "rate_slow");
    w.Double(s.rate_slow);
    write_key(w, "slow_ms");
    w.Int64(s.slow_ms);
    write_key(w, "rate_drop");
    w.Double(s.rate_drop);
    write_key(w, "drop_after_apply");
    w.Bool(s.drop_after_apply);
    write_key(w, "down");
    w.Bool(s.down);
    write_key(w, "reject_value");
    write_string(w, s.reject_value);
    write_key(w, "rate_lock_row");
    w.Double(s.rate_lock_row);
    write_key(w, "rate_omit_result");
    w.Double(s.rate_omit_result);
    write_key(w, "hubspot_per_10s");
    w.Int64(s.hubspot_per_10s);
    write_key(w, "hubspot_daily");
    w.Int64(s.hubspot_daily);
    write_key(w, "salesforce_daily");
    w.Int64(s.salesforce_daily);
    write_key(w, "seed");
    w.Uint64(seed_);
    w.EndObject();
}

void FaultInjector::reset() {
    std::lock_guard lock(mutex_);
    settings_ = initial_;
    seed_ = initial_seed_;
    rng_.seed(seed_);
}

}  // namespace crmsync::mock_crm
