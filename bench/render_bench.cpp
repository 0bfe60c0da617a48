// How fast the plugin's rendering core turns column values into CRM JSON: a whole upsert
// message for a realistic 13-column CRM row per format, and each value kind on its own.
// Every benchmark renders into one StringOut that is cleared, not reallocated, per
// iteration, as the walsender reuses ctx->out.
//
//   cmake --build build-render -j1 --target render_bench && build-render/bench/render_bench
#include "render/json_text.hpp"
#include "render/message.hpp"
#include "render/out_buffer.hpp"
#include "render/value.hpp"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace crmsync::render;

constexpr int64_t kCommitTime = 848829600123456;  // 2026-11-24T10:00:00.123456Z

std::string from_hex(std::string_view hex) {
    std::string bytes;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) bytes.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    return bytes;
}

// Stored bytes as the plugin reads them from a PostgreSQL 15 tuple (after the varlena header).
const std::string kStoredRevenue = from_hex("01817d0000008813");  // numeric 1250000.50
const std::string kStoredDigits45 = from_hex("8a810c00800dd21ed2042e163423800dd21ed2042e1634237a0d");  // 123...012.345
// jsonb {"lang": "de", "optin": true, "channels": ["email", "sms"]}
const std::string kStoredPreferences = from_hex(
    "030000200400008005000000080000000200000000000030150000506c616e676f7074696e6368616e6e656c7364650002000040050000"
    "8003000000656d61696c736d73");

// A contacts row as a CRM sync sees it: mostly short text, a few typed values, a text[]
// multi-select and a jsonb document; numeric and jsonb as stored, as the plugin reads them.
struct CrmRow {
    std::string shape_text;
    RelationShape shape;
    std::vector<std::string> names;
    std::vector<Property> props;
    Value tags[3];
    TxnStamp txn;
    Value id;

    explicit CrmRow(Format format) {
        const bool sf = format == Format::Salesforce;
        StringOut text;
        build_relation_shape(text.buffer(), shape, format, sf ? "Contact" : "contacts", "public.contacts",
                             sf ? "Email" : "email");
        shape_text = text.str();
        shape.text = shape_text.data();
        build_txn_stamp(txn, 0x16B37A0, 761, true, kCommitTime);

        tags[0] = Value::text("vip");
        tags[1] = Value::text("newsletter");
        tags[2] = Value::text("beta");
        id = Value::text("ann.mueller@example.com");
        add("email", id);
        add("firstname", Value::text("Ann"));
        add("lastname", Value::text("M\xC3\xBCller"));
        add("company", Value::text("M\xC3\xBCller & S\xC3\xB6hne GmbH"));
        add("phone", Value::text("+49 30 1234567"));
        add("lead_score", Value::from_int(87));
        add("annual_revenue", Value::stored_numeric(kStoredRevenue.data(), kStoredRevenue.size()));
        add("is_customer", Value::from_bool(true));
        add("birth_date", Value::date_days(-5678));
        add("created_at", Value::timestamptz(kCommitTime - 86400LL * 1000000 * 400));
        add("updated_at", Value::timestamptz(kCommitTime));
        add("tags", Value::array_of(tags, 3));
        add("preferences", Value::stored_jsonb(kStoredPreferences.data(), kStoredPreferences.size()));
        for (size_t i = 0; i < props.size(); ++i)
            props[i].name = {names[i].data(), static_cast<uint32_t>(names[i].size())};
    }

    void add(std::string_view name, const Value& v) {
        StringOut out;
        write_property_name(out.buffer(), name);
        names.push_back(out.str());
        Property p;
        p.value = v;
        props.push_back(p);  // names are pointed at once all are in place
    }
};

void BM_UpsertRow(benchmark::State& state, Format format) {
    const CrmRow row(format);
    StringOut out;
    size_t bytes = 0;
    uint32_t seq = 0;
    for (auto _ : state) {
        out.clear();
        write_upsert(out.buffer(), row.shape, row.txn, ++seq, row.id, row.props.data(), row.props.size());
        benchmark::DoNotOptimize(out.buffer().data);
        benchmark::ClobberMemory();
        bytes += out.view().size();
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(static_cast<int64_t>(bytes));
    state.counters["msg_bytes"] = static_cast<double>(out.view().size());
}
BENCHMARK_CAPTURE(BM_UpsertRow, webhook, Format::Webhook);
BENCHMARK_CAPTURE(BM_UpsertRow, hubspot, Format::Hubspot);
BENCHMARK_CAPTURE(BM_UpsertRow, salesforce, Format::Salesforce);

// --- one value kind at a time ---------------------------------------------------------

// Renders v repeatedly; bytes_per_second counts `input_bytes` (the value's own size) when
// given, otherwise the output.
void run_value(benchmark::State& state, const Value& v, Format format, size_t input_bytes = 0) {
    StringOut out;
    size_t out_bytes = 0;
    for (auto _ : state) {
        out.clear();
        write_value(out.buffer(), v, format);
        benchmark::DoNotOptimize(out.buffer().data);
        benchmark::ClobberMemory();
        out_bytes += out.view().size();
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(input_bytes ? static_cast<int64_t>(input_bytes * state.iterations())
                                        : static_cast<int64_t>(out_bytes));
}

std::string repeat_to(std::string_view unit, size_t n) {
    std::string s;
    while (s.size() + unit.size() <= n) s += unit;
    while (s.size() < n) s += 'x';
    return s;
}

void BM_EscapeAsciiText(benchmark::State& state) {
    const std::string s = repeat_to("The quick brown fox jumps over the lazy dog. ", static_cast<size_t>(state.range(0)));
    run_value(state, Value::text(s), Format::Webhook, s.size());
}
BENCHMARK(BM_EscapeAsciiText)->Arg(16)->Arg(256)->Arg(4096)->Arg(1 << 20);

void BM_EscapeManyEscapes(benchmark::State& state) {
    // An escape every 2-3 bytes: quotes, backslashes, newlines, tabs, control characters.
    const std::string s = repeat_to("say \"hi\"\n\tC:\\dir\\\x01\x1f\r\n", static_cast<size_t>(state.range(0)));
    run_value(state, Value::text(s), Format::Webhook, s.size());
}
BENCHMARK(BM_EscapeManyEscapes)->Arg(256)->Arg(4096);

void BM_EscapeEmojiText(benchmark::State& state) {
    // 4-byte emoji, 3-byte CJK and 2-byte Latin, all validated and copied.
    const std::string s = repeat_to("\xF0\x9F\x98\x80 \xE6\x97\xA5\xE6\x9C\xAC M\xC3\xBCller \xF0\x9F\x8E\x89 ",
                                    static_cast<size_t>(state.range(0)));
    run_value(state, Value::text(s), Format::Webhook, s.size());
}
BENCHMARK(BM_EscapeEmojiText)->Arg(256)->Arg(4096);

void BM_TimestampTz(benchmark::State& state, Format format) {
    run_value(state, Value::timestamptz(kCommitTime), format);
}
BENCHMARK_CAPTURE(BM_TimestampTz, micros_webhook, Format::Webhook);
BENCHMARK_CAPTURE(BM_TimestampTz, millis_hubspot, Format::Hubspot);

void BM_Numeric(benchmark::State& state, std::string_view digits) { run_value(state, Value::numeric(digits), Format::Webhook); }
BENCHMARK_CAPTURE(BM_Numeric, short, std::string_view("1250000.50"));
BENCHMARK_CAPTURE(BM_Numeric, digits_45, std::string_view("123456789012345678901234567890123456789012.345"));

// What the plugin renders numeric and jsonb columns from: their stored bytes.
void BM_StoredNumeric(benchmark::State& state, const std::string* stored) {
    run_value(state, Value::stored_numeric(stored->data(), stored->size()), Format::Webhook);
}
BENCHMARK_CAPTURE(BM_StoredNumeric, short, &kStoredRevenue);
BENCHMARK_CAPTURE(BM_StoredNumeric, digits_45, &kStoredDigits45);

void BM_Jsonb(benchmark::State& state, Format format) {
    run_value(state, Value::stored_jsonb(kStoredPreferences.data(), kStoredPreferences.size()), format);
}
BENCHMARK_CAPTURE(BM_Jsonb, embedded_webhook, Format::Webhook);
BENCHMARK_CAPTURE(BM_Jsonb, string_hubspot, Format::Hubspot);

void BM_Base64(benchmark::State& state) {
    std::string bytes(static_cast<size_t>(state.range(0)), '\0');
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 131 + 17);
    run_value(state, Value::bytea(bytes.data(), bytes.size()), Format::Webhook, bytes.size());
}
BENCHMARK(BM_Base64)->Arg(1024);

void BM_Int64(benchmark::State& state) { run_value(state, Value::from_int(-1234567890123), Format::Webhook); }
BENCHMARK(BM_Int64);

void BM_Float8(benchmark::State& state) { run_value(state, Value::from_float8(0.1 + 0.2), Format::Webhook); }
BENCHMARK(BM_Float8);

void BM_TextArray(benchmark::State& state, Format format) {
    const Value items[] = {Value::text("vip"), Value::null(), Value::text("newsletter"), Value::text("beta")};
    run_value(state, Value::array_of(items, 4), format);
}
BENCHMARK_CAPTURE(BM_TextArray, json_webhook, Format::Webhook);
BENCHMARK_CAPTURE(BM_TextArray, joined_hubspot, Format::Hubspot);

// The check that decides whether a logical message's payload is embedded as JSON.
void BM_IsValidJson(benchmark::State& state) {
    const std::string doc = R"({"event":"signup","user":{"id":42,"email":"ann@example.com","tags":["a","b"]},"ok":true})";
    for (auto _ : state) benchmark::DoNotOptimize(is_valid_json(doc.data(), doc.size()));
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(static_cast<int64_t>(doc.size() * state.iterations()));
}
BENCHMARK(BM_IsValidJson);

}  // namespace
