// Secret: a credential (the CRM API token; for a Salesforce login also the consumer secret,
// refresh token and private key) that cannot leak through logging.
//
// Invariant: no way to turn a Secret into text except reveal(), which only the HTTP layer (the
// Authorization header), the auth layer (the token request body, JWT signing, scrubbing its
// own messages) and the config loader's checks call. Streaming or formatting it prints "***".
// Grep for reveal() to audit every use.
#pragma once

#include <ostream>
#include <string>
#include <utility>

namespace crmsync::sender {

class Secret {
public:
    Secret() = default;
    explicit Secret(std::string value) : value_(std::move(value)) {}

    const std::string& reveal() const { return value_; }
    bool empty() const { return value_.empty(); }

    friend std::ostream& operator<<(std::ostream& out, const Secret&) { return out << "***"; }
    friend bool operator==(const Secret&, const Secret&) = default;

private:
    std::string value_;
};

}  // namespace crmsync::sender
