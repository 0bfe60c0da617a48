// Bearer tokens the mock accepts: static ones (--token, rotated through POST /_mock/tokens)
// and ones its Salesforce OAuth endpoint issued. Every token expires --token-ttl-s seconds
// after it was issued (0 = never), as real access tokens do; an expired one answers 401 with
// each API's own body (see mock_crm_server.cpp).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace crmsync::mock_crm {

enum class TokenCheck { kValid, kMissing, kUnknown, kExpired };

class TokenStore {
public:
    TokenStore(std::vector<std::string> static_tokens, int64_t ttl_s, int64_t now_s);

    // Whether CRM requests need a token at all: some token was ever configured or issued.
    bool required() const;
    TokenCheck check(const std::string& authorization_header, int64_t now_s, int64_t* expired_for_s = nullptr) const;

    // Replaces the accepted static tokens (issued now); an empty list turns auth off unless
    // OAuth issued tokens. `scopes`: the HubSpot scopes a token was granted, as a private app's
    // token carries the scopes ticked for the app; a token not listed has every scope.
    void rotate(std::vector<std::string> tokens, int64_t now_s,
                std::map<std::string, std::vector<std::string>> scopes = {});
    // The token's granted scopes; nullopt: all of them (or not a token of ours).
    std::optional<std::vector<std::string>> scopes_of(const std::string& token) const;
    bool known(const std::string& token) const;
    // Records a token the OAuth endpoint issued.
    void issue(const std::string& token, int64_t now_s);
    int64_t ttl_s() const { return ttl_s_; }
    std::vector<std::string> static_tokens() const;

private:
    mutable std::mutex mutex_;
    std::map<std::string, int64_t> issued_at_;  // token -> issue time (s)
    std::vector<std::string> static_;
    std::map<std::string, std::vector<std::string>> scopes_;
    bool oauth_used_ = false;
    int64_t ttl_s_;
};

}  // namespace crmsync::mock_crm
