#include "salesforce_oauth.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <cstdio>
#include <memory>

namespace crmsync::mock_crm {
namespace {

HttpReply oauth_error(int status, std::string_view error, std::string_view description) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    write_key(w, "error");
    write_string(w, error);
    write_key(w, "error_description");
    write_string(w, description);
    w.EndObject();
    return {status, writer_text(buf), {}};
}

std::string field(const std::vector<std::pair<std::string, std::string>>& form, std::string_view name) {
    for (const auto& [k, v] : form)
        if (k == name) return v;
    return {};
}

std::optional<std::string> base64url_decode(std::string_view in) {
    std::string s(in);
    for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
    while (s.size() % 4) s.push_back('=');
    std::string out(s.size() / 4 * 3, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
    if (n < 0) return std::nullopt;
    size_t pad = 0;
    for (size_t i = s.size(); i > 0 && s[i - 1] == '='; --i) ++pad;
    out.resize(static_cast<size_t>(n) - pad);
    return out;
}

std::string base64(std::string_view in) {
    std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

using PKeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

// The certificate (or bare public key) uploaded to the connected app.
PKeyPtr load_public_key(const std::string& path) {
    PKeyPtr none(nullptr, EVP_PKEY_free);
    std::FILE* f = std::fopen(path.c_str(), "r");
    if (!f) return none;
    X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
    EVP_PKEY* key = nullptr;
    if (cert) {
        key = X509_get_pubkey(cert);
        X509_free(cert);
    } else {
        std::rewind(f);
        key = PEM_read_PUBKEY(f, nullptr, nullptr, nullptr);
    }
    std::fclose(f);
    return PKeyPtr(key, EVP_PKEY_free);
}

bool verify_rs256(const std::string& path, std::string_view signed_part, const std::string& signature) {
    PKeyPtr key = load_public_key(path);
    if (!key) return false;
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1) return false;
    return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                            reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) == 1;
}

// The JWT bearer checks, in the order the flow's page lists what the assertion must hold;
// "" when the assertion is good, else the error_description.
std::string check_assertion(std::string_view jwt, const OAuthOptions& o, int64_t now_s) {
    size_t dot1 = jwt.find('.'), dot2 = dot1 == std::string_view::npos ? dot1 : jwt.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos) return "invalid assertion";
    auto header = base64url_decode(jwt.substr(0, dot1));
    auto claims = base64url_decode(jwt.substr(dot1 + 1, dot2 - dot1 - 1));
    auto signature = base64url_decode(jwt.substr(dot2 + 1));
    if (!header || !claims || !signature) return "invalid assertion";
    JsonParseResult h = parse_json(*header), c = parse_json(*claims);
    if (!h.error.empty() || !c.error.empty() || !h.doc.IsObject() || !c.doc.IsObject()) return "invalid assertion";
    const rapidjson::Value* alg = find_member(h.doc, "alg");
    // "Salesforce requires that a JWT is signed using RSA SHA256" (the JWT flow page).
    if (!alg || !is_string(*alg) || string_of(*alg) != "RS256") return "invalid assertion";
    if (o.jwt_cert_path.empty() || !verify_rs256(o.jwt_cert_path, jwt.substr(0, dot2), *signature))
        return "invalid assertion";
    auto claim = [&](const char* name) -> std::string {
        const rapidjson::Value* v = find_member(c.doc, name);
        return v && is_string(*v) ? std::string(string_of(*v)) : std::string();
    };
    if (claim("iss") != o.client_id) return "client identifier invalid";  // answered as invalid_client_id
    if (claim("aud") != o.audience) return "audience is invalid";
    const rapidjson::Value* exp = find_member(c.doc, "exp");
    auto exp_s = exp ? as_uint64(*exp) : std::nullopt;
    // "exp: ... the expiration time of the assertion within 3 minutes".
    if (!exp_s || static_cast<int64_t>(*exp_s) <= now_s) return "expired authorization code";
    if (static_cast<int64_t>(*exp_s) > now_s + 180 + 5) return "invalid assertion";
    if (claim("sub") != o.username) return "user hasn't approved this consumer";
    return {};
}

std::string random_token() {
    unsigned char bytes[32];
    RAND_bytes(bytes, sizeof bytes);
    // The shape of a Salesforce access token: the org id, '!', then an opaque part.
    std::string opaque = base64(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes));
    for (char& ch : opaque) ch = ch == '+' ? '.' : ch == '/' ? '_' : ch;
    while (!opaque.empty() && opaque.back() == '=') opaque.pop_back();
    return "00Dxx0000000001!" + opaque;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> parse_form(std::string_view body) {
    std::vector<std::pair<std::string, std::string>> out;
    auto decode = [](std::string_view s) {
        std::string plus(s);
        for (char& c : plus) c = c == '+' ? ' ' : c;
        return percent_decode(plus).value_or(plus);
    };
    size_t pos = 0;
    while (pos <= body.size()) {
        size_t end = body.find('&', pos);
        if (end == std::string_view::npos) end = body.size();
        std::string_view pair = body.substr(pos, end - pos);
        if (!pair.empty()) {
            size_t eq = pair.find('=');
            out.emplace_back(decode(pair.substr(0, eq)), eq == std::string_view::npos ? "" : decode(pair.substr(eq + 1)));
        }
        pos = end + 1;
    }
    return out;
}

HttpReply salesforce_oauth_token(std::string_view body, const OAuthOptions& o, TokenStore& tokens,
                                 const std::string& instance_url, int64_t now_s) {
    auto form = parse_form(body);
    std::string grant = field(form, "grant_type");
    if (!o.configured()) return oauth_error(400, "invalid_client_id", "client identifier invalid");
    if (grant == "urn:ietf:params:oauth:grant-type:jwt-bearer") {
        std::string problem = check_assertion(field(form, "assertion"), o, now_s);
        if (problem == "client identifier invalid") return oauth_error(400, "invalid_client_id", problem);
        if (!problem.empty()) return oauth_error(400, "invalid_grant", problem);
    } else if (grant == "refresh_token") {
        if (field(form, "client_id") != o.client_id) return oauth_error(400, "invalid_client_id", "client identifier invalid");
        if (!field(form, "client_secret").empty() && field(form, "client_secret") != o.client_secret)
            return oauth_error(400, "invalid_client", "invalid client credentials");
        if (o.refresh_token.empty() || field(form, "refresh_token") != o.refresh_token)
            return oauth_error(400, "invalid_grant", "expired access/refresh token");
    } else if (grant == "client_credentials") {
        if (field(form, "client_id") != o.client_id) return oauth_error(400, "invalid_client_id", "client identifier invalid");
        if (field(form, "client_secret") != o.client_secret)
            return oauth_error(400, "invalid_client", "invalid client credentials");
    } else {
        return oauth_error(400, "unsupported_grant_type", "grant type not supported");
    }
    std::string token = random_token();
    tokens.issue(token, now_s);
    std::string issued_at = std::to_string(now_s * 1000);
    std::string id = "https://login.salesforce.com/id/00Dxx0000000001EAA/005xx0000000001AAA";
    // "signature: Base64-encoded HMAC-SHA256 signature signed with the client_secret ... of
    // the concatenated ID and issued_at values" (the flows' response descriptions).
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    std::string signed_text = id + issued_at;
    HMAC(EVP_sha256(), o.client_secret.data(), static_cast<int>(o.client_secret.size()),
         reinterpret_cast<const unsigned char*>(signed_text.data()), signed_text.size(), mac, &mac_len);
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    write_key(w, "access_token");
    write_string(w, token);
    write_key(w, "signature");
    write_string(w, base64(std::string_view(reinterpret_cast<char*>(mac), mac_len)));
    write_key(w, "scope");
    write_string(w, "api");
    write_key(w, "instance_url");
    write_string(w, instance_url);
    write_key(w, "id");
    write_string(w, id);
    write_key(w, "token_type");
    write_string(w, "Bearer");
    write_key(w, "issued_at");
    write_string(w, issued_at);
    w.EndObject();
    return {200, writer_text(buf), {}};
}

}  // namespace crmsync::mock_crm
