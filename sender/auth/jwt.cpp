#include "auth/jwt.hpp"

#include "core/rapidjson.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>

namespace crmsync::sender::auth {

namespace {

struct BioFree {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// A key with a passphrase would need the passphrase stored next to it: no gain. Refuse it
// instead of letting OpenSSL prompt on a terminal the daemon does not have.
int no_passphrase(char*, int, int, void*) { return -1; }

// OpenSSL's reason for the last failure (it names the problem, e.g. "bad base64 decode"; it
// never quotes the key), and the error queue emptied for the next call.
std::string openssl_reason() {
    const unsigned long code = ERR_peek_last_error();
    const char* reason = code ? ERR_reason_error_string(code) : nullptr;
    ERR_clear_error();
    if (!code) return "";
    return std::string(" (OpenSSL: ") + (reason ? reason : "unknown reason") + ")";
}

Result<PkeyPtr> load_rsa_key(const Secret& pem) {
    const std::string& text = pem.reveal();
    if (text.find("-----BEGIN") == std::string::npos)
        return Error{"is not a PEM file; expected \"-----BEGIN PRIVATE KEY-----\" or \"-----BEGIN RSA PRIVATE KEY-----\""};
    if (text.find("ENCRYPTED") != std::string::npos)
        return Error{"is encrypted with a passphrase; store it unencrypted with restricted permissions "
                     "(openssl pkey -in key.pem -out key-plain.pem)"};
    if (text.find("PRIVATE KEY-----") == std::string::npos)
        return Error{"holds no private key (a certificate or public key?); expected the RSA private key whose "
                     "certificate is uploaded to the connected app"};
    std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    if (!bio) return Error{"cannot be loaded: out of memory"};
    PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
    if (!key) return Error{"is not a readable PEM private key" + openssl_reason()};
    if (EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA)
        return Error{"is not an RSA key; Salesforce's JWT bearer flow signs with RS256 (generate one with "
                     "openssl req -x509 -newkey rsa:2048 ...)"};
    return key;
}

std::string json_claims(const JwtClaims& claims) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.StartObject();
    writer.Key("iss");
    writer.String(claims.issuer);
    writer.Key("sub");
    writer.String(claims.subject);
    writer.Key("aud");
    writer.String(claims.audience);
    writer.Key("exp");
    writer.Int64(std::chrono::duration_cast<std::chrono::seconds>(claims.expires.time_since_epoch()).count());
    writer.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

std::string base64url(std::string_view bytes) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const unsigned n = static_cast<unsigned char>(bytes[i]) << 16 | static_cast<unsigned char>(bytes[i + 1]) << 8 |
                           static_cast<unsigned char>(bytes[i + 2]);
        out += kAlphabet[n >> 18 & 63];
        out += kAlphabet[n >> 12 & 63];
        out += kAlphabet[n >> 6 & 63];
        out += kAlphabet[n & 63];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest > 0) {
        unsigned n = static_cast<unsigned char>(bytes[i]) << 16;
        if (rest == 2) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        out += kAlphabet[n >> 18 & 63];
        out += kAlphabet[n >> 12 & 63];
        if (rest == 2) out += kAlphabet[n >> 6 & 63];
    }
    return out;
}

std::string jwt_signing_input(const JwtClaims& claims) {
    return base64url(R"({"alg":"RS256"})") + "." + base64url(json_claims(claims));
}

Result<std::string> sign_jwt_rs256(const JwtClaims& claims, const Secret& private_key_pem) {
    auto key = load_rsa_key(private_key_pem);
    if (!key) return Error{"the private key " + key.error()};
    const std::string input = jwt_signing_input(claims);
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    std::size_t length = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key->get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &length, reinterpret_cast<const unsigned char*>(input.data()),
                       input.size()) != 1)
        return Error{"cannot sign the JWT with the private key" + openssl_reason()};
    std::string signature(length, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
        return Error{"cannot sign the JWT with the private key" + openssl_reason()};
    signature.resize(length);
    return input + "." + base64url(signature);
}

Status check_rsa_private_key(const Secret& private_key_pem) {
    auto key = load_rsa_key(private_key_pem);
    if (!key) return Error{key.error()};
    return ok_status();
}

}  // namespace crmsync::sender::auth
