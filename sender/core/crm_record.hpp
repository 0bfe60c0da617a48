// What the sender knows about each target format: API batch limits, which plugin messages
// a format can deliver at all, and where a record names its external-id field.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/plugin_message.hpp"
#include "core/result.hpp"

namespace crmsync::sender {

enum class Format { webhook, hubspot, salesforce };

std::string_view format_name(Format format);
std::optional<Format> parse_format(std::string_view name);

inline constexpr std::size_t kHubspotBatchLimit = 100;           // inputs per batch request
inline constexpr std::size_t kSalesforceCollectionLimit = 200;   // records per sObject Collections request
inline constexpr std::size_t kSalesforceCompositeLimit = 25;     // subrequests per Composite request
inline constexpr std::size_t kWebhookBatchLimit = 10'000;        // our own ceiling; webhook is configurable
inline constexpr std::size_t kDefaultWebhookBatch = 100;

// The cap for delivery.batch_max_records (docs/operations.md, delivery rule 3), and its default.
std::size_t max_batch_records(Format format);
std::size_t default_batch_records(Format format);

// The limit of one request of this kind; may be below max_batch_records: Salesforce deletes
// by external id go through the Composite API, 25 subrequests at most.
std::size_t api_batch_limit(Format format, Action action);

// Why this message cannot be delivered in this format (the sender dead-letters it and
// settles it), or nullopt. Commit markers are never delivered: they feed the FlushTracker.
std::optional<std::string> undeliverable_reason(Format format, const PluginMessage& message);

// The field a CRM record is matched on: HubSpot's "idProperty" value, Salesforce's external-id
// field (the first field after "attributes"). Empty for webhook and for a null record. Reads
// only the record's first members.
Result<std::string> record_id_field(Format format, std::string_view record);

}  // namespace crmsync::sender
