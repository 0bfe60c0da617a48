// How fast the sender turns plugin messages into CRM request bodies: per message what
// Session::handle_payload and the DeliveryEngine do on the hot path, minus the network:
// copy the payload out of the replication frame, parse_plugin_message, Batcher::add, and
// for every batch that comes out take_ready + the adapter's build + finished.
//
// The input is real plugin output: 10,000 upserts of the 13-column contacts row of
// render_bench, rendered by the plugin's own renderer (crmsync_render) with a distinct
// key each, in one transaction. items/s = records/s; bytes/s = request body bytes.
//
//   cmake --build build-bench -j1 --target batch_bench && build-bench/bench/batch_bench
#include "core/batcher.hpp"
#include "core/plugin_message.hpp"
#include "crm/crm_adapter.hpp"
#include "crm/record_conversion.hpp"

#include "render/message.hpp"
#include "render/out_buffer.hpp"
#include "render/value.hpp"

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace render = crmsync::render;
namespace sender = crmsync::sender;

constexpr int64_t kCommitTime = 848829600123456;  // 2026-11-24T10:00:00.123456Z, Postgres epoch
constexpr std::size_t kMessages = 10'000;

render::Format render_format(sender::Format format) {
    switch (format) {
        case sender::Format::hubspot: return render::Format::Hubspot;
        case sender::Format::salesforce: return render::Format::Salesforce;
        case sender::Format::webhook: break;
    }
    return render::Format::Webhook;
}

// `messages` upserts of a contacts row over `distinct_keys` keys, each key's upserts next to
// each other (key i * distinct_keys / messages): with fewer keys than messages, a key's later
// upserts land in the batch that holds its first one (what coalescing works on).
std::vector<std::string> plugin_messages(sender::Format format, std::size_t messages, std::size_t distinct_keys) {
    const render::Format rf = render_format(format);
    const bool sf = format == sender::Format::salesforce;
    render::StringOut shape_out;
    render::RelationShape shape;
    render::build_relation_shape(shape_out.buffer(), shape, rf, sf ? "Contact" : "contacts", "public.contacts",
                                 sf ? "Email" : "email");
    const std::string shape_text = shape_out.str();
    shape.text = shape_text.data();
    render::TxnStamp txn;
    render::build_txn_stamp(txn, 0x16B37A0, 761, true, kCommitTime);

    const char* names[] = {"email", "firstname", "lastname", "company", "phone", "lead_score", "annual_revenue",
                           "is_customer", "birth_date", "created_at", "updated_at", "tags", "preferences"};
    std::vector<std::string> name_text;
    for (const char* name : names) {
        render::StringOut out;
        render::write_property_name(out.buffer(), name);
        name_text.push_back(out.str());
    }
    const render::Value tags[] = {render::Value::text("vip"), render::Value::text("newsletter"),
                                  render::Value::text("beta")};

    std::vector<std::string> result;
    render::StringOut out;
    for (std::size_t i = 0; i < messages; ++i) {
        const std::string email = "user" + std::to_string(i * distinct_keys / messages) + "@example.com";
        const std::string first = "Ann" + std::to_string(i);
        const render::Value id = render::Value::text(email);
        const render::Value values[] = {
            id, render::Value::text(first), render::Value::text("M\xC3\xBCller"),
            render::Value::text("M\xC3\xBCller & S\xC3\xB6hne GmbH"), render::Value::text("+49 30 1234567"),
            render::Value::from_int(static_cast<int64_t>(i % 100)), render::Value::numeric("1250000.50"),
            render::Value::from_bool(i % 2 == 0), render::Value::date_days(-5678),
            render::Value::timestamptz(kCommitTime - 86400LL * 1000000 * 400), render::Value::timestamptz(kCommitTime),
            render::Value::array_of(tags, 3),
            render::Value::json(R"({"lang": "de", "optin": true, "channels": ["email", "sms"]})")};
        std::vector<render::Property> props(std::size(values));
        for (std::size_t p = 0; p < props.size(); ++p) {
            props[p].name = {name_text[p].data(), static_cast<uint32_t>(name_text[p].size())};
            props[p].value = values[p];
        }
        out.clear();
        render::write_upsert(out.buffer(), shape, txn, static_cast<uint32_t>(i + 1), id, props.data(), props.size());
        result.push_back(out.str());
    }
    return result;
}

void BM_BatchAssembly(benchmark::State& state, sender::Format format, std::size_t distinct_keys, bool coalesce) {
    const std::vector<std::string> messages = plugin_messages(format, kMessages, distinct_keys);
    const auto now = sender::Batcher::Clock::now();
    std::size_t body_bytes = 0, requests = 0;
    const auto adapter = sender::make_adapter(format);
    for (auto _ : state) {
        sender::Batcher batcher(sender::BatcherOptions{format, sender::default_batch_records(format), 4,
                                                       std::chrono::milliseconds(5), coalesce});
        auto drain = [&] {
            while (auto batch = batcher.take_ready(now)) {
                auto request = adapter->build(adapter->first_stage(*batch), *batch, {});
                if (!request) state.SkipWithError(request.error().c_str());
                else body_bytes += request->body.size();
                ++requests;
                benchmark::DoNotOptimize(request);
                (void)batcher.finished(batch->sequence);
            }
        };
        for (const std::string& frame : messages) {
            std::string bytes(frame);  // the sender copies each payload out of its CopyData frame
            auto parsed = sender::parse_plugin_message(bytes);
            if (!parsed) {
                state.SkipWithError(parsed.error().c_str());
                break;
            }
            // As the sender does: the record views `bytes`' buffer, which moves with it.
            if (auto added = batcher.add(std::move(bytes), *parsed, now); !added) {
                state.SkipWithError(added.error().c_str());
                break;
            }
            drain();
        }
        batcher.seal_all();
        drain();
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * messages.size()));
    state.SetBytesProcessed(static_cast<int64_t>(body_bytes));
    state.counters["msg_bytes"] = static_cast<double>(messages.front().size());
    state.counters["events_per_request"] =
        static_cast<double>(state.iterations() * messages.size()) / static_cast<double>(requests ? requests : 1);
}
// What converting values to the property types adds per record (crm/record_conversion): the
// same 10,000 records against a schema that types every property the way a CRM would (number,
// boolean, date, datetime, multi-select, strings), so every record is read and the date and
// datetime values are checked; compare items/s with BM_BatchAssembly of the same format.
void BM_ConvertRecords(benchmark::State& state, sender::Format format) {
    const std::vector<std::string> messages = plugin_messages(format, kMessages, kMessages);
    std::vector<sender::PluginMessage> parsed;
    for (const auto& m : messages) parsed.push_back(*sender::parse_plugin_message(m));
    const bool sf = format == sender::Format::salesforce;
    sender::CrmObjectSchema schema;
    auto typed = [&](const char* name, sender::CrmType type, std::vector<std::string> options = {}) {
        sender::CrmProperty p;
        p.name = name;
        p.type = type;
        p.options = std::move(options);
        p.restricted_options = !p.options.empty();
        schema.properties.push_back(std::move(p));
    };
    typed("email", sender::CrmType::string);
    typed("firstname", sender::CrmType::string);
    typed("lastname", sender::CrmType::string);
    typed("company", sender::CrmType::string);
    typed("phone", sender::CrmType::string);
    typed("lead_score", sender::CrmType::number);
    typed("annual_revenue", sender::CrmType::number);
    typed("is_customer", sender::CrmType::boolean);
    typed("birth_date", sender::CrmType::date);
    typed("created_at", sender::CrmType::datetime);
    typed("updated_at", sender::CrmType::datetime);
    typed("tags", sender::CrmType::multi_enumeration, {"vip", "newsletter", "beta"});
    typed("preferences", sender::CrmType::text);
    const auto dialect = sf ? sender::ValueDialect::salesforce : sender::ValueDialect::hubspot;
    std::size_t rewritten = 0;
    for (auto _ : state) {
        for (const auto& message : parsed) {
            auto converted = sender::convert_record(dialect, message.record, schema, sf ? "Email" : "email", {});
            if (converted.refusal) state.SkipWithError(converted.refusal->reason.c_str());
            rewritten += converted.record ? 1 : 0;
            benchmark::DoNotOptimize(converted);
        }
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * parsed.size()));
    state.counters["rewritten_share"] =
        static_cast<double>(rewritten) / static_cast<double>(state.iterations() * parsed.size());
}
BENCHMARK_CAPTURE(BM_ConvertRecords, hubspot, sender::Format::hubspot)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ConvertRecords, salesforce, sender::Format::salesforce)->Unit(benchmark::kMillisecond);

BENCHMARK_CAPTURE(BM_BatchAssembly, webhook, sender::Format::webhook, kMessages, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_BatchAssembly, hubspot, sender::Format::hubspot, kMessages, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_BatchAssembly, salesforce, sender::Format::salesforce, kMessages, true)->Unit(benchmark::kMillisecond);
// Every key twice in a row on average: half the upserts are merged into an earlier record.
BENCHMARK_CAPTURE(BM_BatchAssembly, hubspot_coalescing, sender::Format::hubspot, kMessages / 2, true)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_BatchAssembly, salesforce_coalescing, sender::Format::salesforce, kMessages / 2, true)
    ->Unit(benchmark::kMillisecond);

// The parser alone: the part of the above that every message pays, batched or not.
void BM_ParsePluginMessage(benchmark::State& state, sender::Format format) {
    const std::vector<std::string> messages = plugin_messages(format, 1000, 1000);
    std::size_t i = 0;
    for (auto _ : state) {
        auto parsed = sender::parse_plugin_message(messages[i++ % messages.size()]);
        benchmark::DoNotOptimize(parsed);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * messages.front().size()));
}
BENCHMARK_CAPTURE(BM_ParsePluginMessage, webhook, sender::Format::webhook);
BENCHMARK_CAPTURE(BM_ParsePluginMessage, hubspot, sender::Format::hubspot);
BENCHMARK_CAPTURE(BM_ParsePluginMessage, salesforce, sender::Format::salesforce);

}  // namespace
