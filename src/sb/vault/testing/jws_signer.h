// JwsSigner: a key pair generated with OpenSSL that signs compact JWS (RS256, PS256, ES256) and
// publishes its public JWK, for tests of JWS verification and ID-token validation. Test-only.
//
// Header-only on purpose: tests of higher modules (oauth) link only their own library, and this
// keeps OpenSSL code inside vault/ (its home) without a separate library target. Only tests
// include this header. Keys are immutable after generation; thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "sb/base/check.h"
#include "sb/base/encoding.h"
#include "sb/base/json.h"

namespace sb::vault::testing {

class JwsSigner {
 public:
  // A fresh RSA key of `bits` bits (1024 is allowed, for tests that expect it to be skipped).
  static JwsSigner GenerateRsa(unsigned int bits = 2048) {
    EVP_PKEY* key = EVP_RSA_gen(bits);
    SB_CHECK(key != nullptr);
    return JwsSigner(key, /*is_rsa=*/true);
  }
  // A fresh EC P-256 key.
  static JwsSigner GenerateP256() {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    SB_CHECK(key != nullptr);
    return JwsSigner(key, /*is_rsa=*/false);
  }

  // The public JWK: kty with n/e or crv/x/y, "use": "sig", and `kid` when not empty.
  Json PublicJwk(std::string_view kid = "") const {
    Json jwk = is_rsa_ ? Json{{"kty", "RSA"},
                              {"n", Base64UrlEncode(BnParam(OSSL_PKEY_PARAM_RSA_N, 0))},
                              {"e", Base64UrlEncode(BnParam(OSSL_PKEY_PARAM_RSA_E, 0))}}
                       : Json{{"kty", "EC"},
                              {"crv", "P-256"},
                              {"x", Base64UrlEncode(BnParam(OSSL_PKEY_PARAM_EC_PUB_X, 32))},
                              {"y", Base64UrlEncode(BnParam(OSSL_PKEY_PARAM_EC_PUB_Y, 32))}};
    jwk["use"] = "sig";
    if (!kid.empty()) jwk["kid"] = std::string(kid);
    return jwk;
  }

  // The raw JWS signature of `signing_input` under `alg` (RS256, PS256 or ES256; ES256 as R||S).
  std::string Sign(std::string_view alg, std::string_view signing_input) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX* pctx = nullptr;
    SB_CHECK(EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), nullptr, key_.get()) == 1);
    if (alg == "PS256") {
      SB_CHECK(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1);
      SB_CHECK(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) == 1);
    }
    size_t len = 0;
    const auto* in = reinterpret_cast<const unsigned char*>(signing_input.data());
    SB_CHECK(EVP_DigestSign(ctx, nullptr, &len, in, signing_input.size()) == 1);
    std::string sig(len, '\0');
    SB_CHECK(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                            signing_input.size()) == 1);
    EVP_MD_CTX_free(ctx);
    sig.resize(len);
    return alg == "ES256" ? DerToRaw(sig) : sig;
  }

  // A compact JWS of `header` and `payload` signed under header["alg"].
  std::string SignCompact(const Json& header, const Json& payload) const {
    const std::string input = SigningInput(header, payload);
    return input + "." + Base64UrlEncode(Sign(header.at("alg").get<std::string>(), input));
  }

  // BASE64URL(header) "." BASE64URL(payload), from the JSON texts as dumped.
  static std::string SigningInput(const Json& header, const Json& payload) {
    return Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(payload.dump());
  }

 private:
  JwsSigner(EVP_PKEY* key, bool is_rsa) : key_(key, EVP_PKEY_free), is_rsa_(is_rsa) {}

  // The big-endian bytes of a BIGNUM parameter, left-padded to `width` when not 0.
  std::string BnParam(const char* name, int width) const {
    BIGNUM* bn = nullptr;
    SB_CHECK(EVP_PKEY_get_bn_param(key_.get(), name, &bn) == 1);
    std::string out(static_cast<size_t>(width > 0 ? width : BN_num_bytes(bn)), '\0');
    SB_CHECK(BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()),
                          static_cast<int>(out.size())) >= 0);
    BN_free(bn);
    return out;
  }

  static std::string DerToRaw(const std::string& der) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
    SB_CHECK(sig != nullptr);
    std::string raw(64, '\0');
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    SB_CHECK(BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, 32) == 32);
    SB_CHECK(BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + 32, 32) == 32);
    ECDSA_SIG_free(sig);
    return raw;
  }

  std::shared_ptr<EVP_PKEY> key_;
  bool is_rsa_;
};

}  // namespace sb::vault::testing
