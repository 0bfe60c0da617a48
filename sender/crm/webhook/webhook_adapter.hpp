// Any HTTP endpoint: POST {"events":[<message>,...]} to target.url, the plugin's messages
// verbatim (docs/operations.md, "Webhook receivers"). The receiver's contract is ours, so its
// answers are read as docs/operations.md defines them:
// | answer                               | verdict                                            |
// |--------------------------------------|----------------------------------------------------|
// | no answer, 3xx, 408, 429, 5xx        | retry (Retry-After honoured)                       |
// | 2xx                                  | every event accepted                               |
// | 401                                  | unauthorized: re-read the token, send again        |
// | 403, 404, 405                        | configuration: URL or token wrong; events wait     |
// | 400/409/413/422 with rejected[index] | those dead-lettered, the others sent again         |
// | 400/409/413/422 naming none          | split the request to find the event                |
// | other 4xx                            | retry (not an event's fault)                       |
#pragma once

#include "crm/crm_adapter.hpp"

namespace crmsync::sender {

class WebhookAdapter final : public CrmAdapter {
public:
    Format format() const override { return Format::webhook; }
    Stage first_stage(const Batch&) const override { return Stage::send; }
    Result<CrmRequest> build(Stage stage, const Batch& part, std::span<const std::string> crm_ids) const override;
    ResponseVerdict classify(Stage stage, const PartView& part, const CrmAnswer& answer,
                             std::chrono::system_clock::time_point now) override;
};

}  // namespace crmsync::sender
