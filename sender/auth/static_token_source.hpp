// The token an operator provisions: [target] token_file or token_env (auth.method = static).
//
// A file is re-read on refresh(), so a rotated token is picked up without a restart (write the
// new token to the file, then SIGHUP; a 401 does the same). A file that has become unreadable
// or empty keeps the previous token and refresh() says which file and what is wrong. An
// environment variable cannot change inside a running process: refresh() keeps the value.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "auth/token_source.hpp"

namespace crmsync::sender::auth {

class StaticTokenSource final : public TokenSource {
public:
    // No token at all (a webhook without authentication): token() returns an empty value.
    StaticTokenSource() = default;
    static StaticTokenSource from_file(std::filesystem::path path, Secret initial);
    static StaticTokenSource from_environment(std::string variable, Secret value);

    Result<AccessToken> token(WallClock::time_point now) override;
    Status refresh(WallClock::time_point now, std::string_view reason) override;
    std::string describe() const override;

private:
    Secret token_;
    std::filesystem::path file_;  // empty: not from a file
    std::string variable_;        // empty: not from the environment
};

}  // namespace crmsync::sender::auth
