// RsaSigningKey: the RS256 key the sandbox signs id_tokens and access tokens with, plus the
// ways its public half is published (JWKS entry, self-signed certificate, PEM).
//
// Google publishes both a JWKS (/oauth2/v3/certs) and a map kid -> PEM certificate
// (/oauth2/v1/certs, which google-auth-library verifies id_tokens against); Microsoft's JWKS
// entries carry x5c/x5t. So each key gets a self-signed certificate at generation time.
// Immutable after Generate, hence safe to share between threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <openssl/types.h>

#include "sb/base/json.h"
#include "sb/base/status.h"

namespace sandbox::crypto {

class RsaSigningKey {
 public:
  // Generates a key of `bits` (2048..8192) with e = 65537, a random kid (32 hex digits) and a
  // self-signed certificate, CN=switchboard-sandbox signing key, valid now-1 day..now+365 days.
  static sb::Result<RsaSigningKey> Generate(int bits = 2048);

  RsaSigningKey(RsaSigningKey&&) noexcept = default;
  RsaSigningKey& operator=(RsaSigningKey&&) noexcept = default;
  RsaSigningKey(const RsaSigningKey&) = delete;
  RsaSigningKey& operator=(const RsaSigningKey&) = delete;
  ~RsaSigningKey() = default;

  const std::string& kid() const { return kid_; }

  // RSASSA-PKCS1-v1_5 with SHA-256 over `message`: the raw signature bytes (bits/8 of them).
  sb::Result<std::string> SignRs256(std::string_view message) const;

  // The JWKS entry: kty, use, alg, kid, n, e, x5c (base64 DER certificate), x5t (base64url
  // SHA-1 thumbprint of that DER).
  nlohmann::json PublicJwk() const;

  // The self-signed certificate as PEM.
  const std::string& certificate_pem() const { return certificate_pem_; }
  // SubjectPublicKeyInfo PEM ("BEGIN PUBLIC KEY").
  const std::string& public_key_pem() const { return public_key_pem_; }

 private:
  struct PkeyFree {
    void operator()(EVP_PKEY* key) const;
  };

  RsaSigningKey() = default;

  std::unique_ptr<EVP_PKEY, PkeyFree> key_;
  std::string kid_;
  std::string certificate_pem_;
  std::string public_key_pem_;
  // Computed once at generation so PublicJwk cannot fail.
  nlohmann::json public_jwk_;
};

}  // namespace sandbox::crypto
