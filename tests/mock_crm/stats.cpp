#include "stats.h"

namespace crmsync::mock_crm {

RecordCounts& RecordCounts::operator+=(const RecordCounts& o) {
    upserted += o.upserted;
    deleted += o.deleted;
    rejected += o.rejected;
    duplicates += o.duplicates;
    order_violations += o.order_violations;
    truncates += o.truncates;
    messages += o.messages;
    return *this;
}

namespace {

const char* fault_name(InjectedFault f) {
    switch (f) {
    case InjectedFault::kDrop: return "dropped";
    case InjectedFault::kRateLimit: return "rate_limited";
    case InjectedFault::kServerError: return "server_errors";
    case InjectedFault::kSlow: return "slowed";
    case InjectedFault::kDown: return "down";
    }
    return "unknown";
}

}  // namespace

void Stats::count_response(std::string_view route, int status) {
    std::lock_guard lock(mutex_);
    ++total_;
    ++by_status_[status];
    auto it = by_route_.find(route);
    if (it == by_route_.end()) it = by_route_.emplace(std::string(route), 0).first;
    ++it->second;
}

void Stats::count_fault(std::string_view route, InjectedFault fault) {
    std::lock_guard lock(mutex_);
    ++faults_[fault_name(fault)];
    // A dropped request got no response, so it has no status; it still was a request.
    if (fault == InjectedFault::kDrop || fault == InjectedFault::kDown) {
        ++total_;
        auto it = by_route_.find(route);
        if (it == by_route_.end()) it = by_route_.emplace(std::string(route), 0).first;
        ++it->second;
    }
}

void Stats::note_idempotency_key(std::string_view key) {
    std::lock_guard lock(mutex_);
    if (!idempotency_keys_.emplace(key).second) ++repeated_keys_;
}

void Stats::add_records(const RecordCounts& delta) {
    std::lock_guard lock(mutex_);
    records_ += delta;
}

void Stats::add_latency(int64_t latency_us, uint64_t weight) {
    std::lock_guard lock(mutex_);
    latency_.add(latency_us, weight);
}

RecordCounts Stats::records() const {
    std::lock_guard lock(mutex_);
    return records_;
}

void Stats::write_json(JsonWriter& w, size_t stored_records) const {
    std::lock_guard lock(mutex_);
    auto ms = [](int64_t us) { return double(us) / 1000.0; };
    w.StartObject();
    write_key(w, "requests");
    w.StartObject();
    write_key(w, "total");
    w.Uint64(total_);
    write_key(w, "by_status");
    w.StartObject();
    for (const auto& [status, n] : by_status_) {
        write_key(w, std::to_string(status));
        w.Uint64(n);
    }
    w.EndObject();
    write_key(w, "by_route");
    w.StartObject();
    for (const auto& [route, n] : by_route_) {
        write_key(w, route);
        w.Uint64(n);
    }
    w.EndObject();
    w.EndObject();

    write_key(w, "records");
    w.StartObject();
    const std::pair<const char*, uint64_t> counts[] = {
        {"upserted", records_.upserted},     {"deleted", records_.deleted},
        {"rejected", records_.rejected},     {"duplicates", records_.duplicates},
        {"order_violations", records_.order_violations},
        {"truncates", records_.truncates},   {"messages", records_.messages},
        {"stored", stored_records}};
    for (const auto& [name, n] : counts) {
        write_key(w, name);
        w.Uint64(n);
    }
    w.EndObject();

    write_key(w, "idempotency_keys");
    w.StartObject();
    write_key(w, "distinct");
    w.Uint64(idempotency_keys_.size());
    write_key(w, "repeated");
    w.Uint64(repeated_keys_);
    w.EndObject();

    write_key(w, "faults");
    w.StartObject();
    for (const auto& [name, n] : faults_) {
        write_key(w, name);
        w.Uint64(n);
    }
    w.EndObject();

    write_key(w, "latency_ms");
    w.StartObject();
    write_key(w, "count");
    w.Uint64(latency_.count());
    const std::pair<const char*, int64_t> points[] = {{"p50", latency_.quantile_us(0.50)},
                                                       {"p95", latency_.quantile_us(0.95)},
                                                       {"p99", latency_.quantile_us(0.99)},
                                                       {"max", latency_.max_us()}};
    for (const auto& [name, us] : points) {
        write_key(w, name);
        w.Double(ms(us));
    }
    write_key(w, "mean");
    w.Double(latency_.mean_us() / 1000.0);
    w.EndObject();
    w.EndObject();
}

void Stats::clear() {
    std::lock_guard lock(mutex_);
    total_ = 0;
    by_status_.clear();
    by_route_.clear();
    faults_.clear();
    records_ = {};
    idempotency_keys_.clear();
    repeated_keys_ = 0;
    latency_.clear();
}

}  // namespace crmsync::mock_crm
