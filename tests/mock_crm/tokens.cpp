#include "tokens.h"

namespace crmsync::mock_crm {

TokenStore::TokenStore(std::vector<std::string> static_tokens, int64_t ttl_s, int64_t now_s) : ttl_s_(ttl_s) {
    rotate(std::move(static_tokens), now_s);
}

bool TokenStore::required() const {
    std::lock_guard lock(mutex_);
    return !static_.empty() || oauth_used_;
}

TokenCheck TokenStore::check(const std::string& header, int64_t now_s, int64_t* expired_for_s) const {
    static const std::string kBearer = "Bearer ";
    if (header.empty()) return TokenCheck::kMissing;
    if (header.compare(0, kBearer.size(), kBearer) != 0) return TokenCheck::kUnknown;
    std::string token = header.substr(kBearer.size());
    std::lock_guard lock(mutex_);
    auto it = issued_at_.find(token);
    if (it == issued_at_.end()) return TokenCheck::kUnknown;
    if (ttl_s_ > 0 && now_s >= it->second + ttl_s_) {
        if (expired_for_s) *expired_for_s = now_s - (it->second + ttl_s_);
        return TokenCheck::kExpired;
    }
    return TokenCheck::kValid;
}

void TokenStore::rotate(std::vector<std::string> tokens, int64_t now_s,
                        std::map<std::string, std::vector<std::string>> scopes) {
    std::lock_guard lock(mutex_);
    for (const auto& t : static_) issued_at_.erase(t);
    static_.clear();
    scopes_ = std::move(scopes);
    for (auto& t : tokens) {
        if (t.empty()) continue;
        issued_at_[t] = now_s;
        static_.push_back(std::move(t));
    }
}

void TokenStore::issue(const std::string& token, int64_t now_s) {
    std::lock_guard lock(mutex_);
    issued_at_[token] = now_s;
    oauth_used_ = true;
}

std::optional<std::vector<std::string>> TokenStore::scopes_of(const std::string& token) const {
    std::lock_guard lock(mutex_);
    auto it = scopes_.find(token);
    if (it == scopes_.end()) return std::nullopt;
    return it->second;
}

bool TokenStore::known(const std::string& token) const {
    std::lock_guard lock(mutex_);
    return issued_at_.count(token) > 0;
}

std::vector<std::string> TokenStore::static_tokens() const {
    std::lock_guard lock(mutex_);
    return static_;
}

}  // namespace crmsync::mock_crm
