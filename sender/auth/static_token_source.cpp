#include "auth/static_token_source.hpp"

#include "core/secret_file.hpp"

namespace crmsync::sender::auth {

StaticTokenSource StaticTokenSource::from_file(std::filesystem::path path, Secret initial) {
    StaticTokenSource source;
    source.file_ = std::move(path);
    source.token_ = std::move(initial);
    return source;
}

StaticTokenSource StaticTokenSource::from_environment(std::string variable, Secret value) {
    StaticTokenSource source;
    source.variable_ = std::move(variable);
    source.token_ = std::move(value);
    return source;
}

Result<AccessToken> StaticTokenSource::token(WallClock::time_point) { return AccessToken{token_, std::nullopt, std::nullopt}; }

Status StaticTokenSource::refresh(WallClock::time_point, std::string_view reason) {
    if (file_.empty()) return ok_status();
    auto fresh = read_secret_file(file_, "the API token");
    if (!fresh)
        return Error{"token_file " + fresh.error() + "; re-read after " + std::string(reason) +
                     ", keeping the previous token"};
    // The same rule as the config loader: the token goes into a header line.
    for (unsigned char c : fresh->reveal())
        if (c < 0x21 || c > 0x7E)
            return Error{"token_file \"" + file_.string() + "\" now holds whitespace or control characters inside "
                         "the token (re-read after " + std::string(reason) + "); a bearer token is a single line of "
                         "visible ASCII; keeping the previous token"};
    token_ = std::move(fresh).value();
    return ok_status();
}

std::string StaticTokenSource::describe() const {
    if (!file_.empty()) return "static token from file \"" + file_.string() + "\" (re-read on SIGHUP and on HTTP 401)";
    if (!variable_.empty()) return "static token from environment variable " + variable_;
    return "no token (no Authorization header)";
}

}  // namespace crmsync::sender::auth
