// JOSE for ID tokens: strict compact JWS parsing (RFC 7515) and signature verification against
// an issuer's JSON Web Key Set (RFC 7517) with an algorithm allow-list (OA-14, RFC 8725).
//
// Only asymmetric algorithms exist here: RS256, PS256 and ES256. `none` and every HS* are
// rejected by name, so an RSA or EC public key can never be used as an HMAC secret (key
// confusion). Header parameters that would let a token name its own key (`jwk`, `jku`, `x5u`,
// `x5c`) are never read; `crit` is rejected because no extension is understood.
//
// Error messages never contain the token or any value taken from it. OpenSSL stays out of this
// header. A JsonWebKeySet is immutable after Parse and cheap to copy (keys are shared), so one set
// may verify from several threads at once. Thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sb/base/json.h"
#include "sb/base/status.h"

namespace sb::vault {

// A parsed, not yet verified, compact JWS.
// Json's noexcept constructors allocate only for non-null values, which tidy cannot see.
// NOLINTNEXTLINE(bugprone-exception-escape)
struct Jws {
  Json header;                // the protected header, a JSON object
  Json payload;               // the payload, a JSON object (JWT claims)
  std::string signing_input;  // ASCII(BASE64URL(header) || '.' || BASE64URL(payload))
  std::string signature;      // raw signature bytes
  std::string alg;            // header "alg"
  std::string kid;            // header "kid", empty when absent
};

inline constexpr size_t kMaxCompactJwsBytes = 16384;
// What a JWS header or payload may contain (sb::ParseJson; docs/operations.md, "JSON limits").
inline constexpr JsonLimits kJoseJsonLimits{.max_bytes = kMaxCompactJwsBytes,
                                            .max_depth = 16,
                                            .max_string_bytes = kMaxCompactJwsBytes,
                                            .max_members = 1000,
                                            .max_values = 10'000};

// Parses `token` as a compact JWS: exactly three base64url parts without padding, header and
// payload JSON objects within kJoseJsonLimits, at most `max_bytes` in all, a string `alg`, an
// optional string `kid`, no `crit`. Does not verify anything. INVALID_ARGUMENT on any violation.
Result<Jws> ParseCompactJws(std::string_view token, size_t max_bytes = kMaxCompactJwsBytes);

namespace internal {
struct JsonWebKey;  // one usable public key; defined in jose.cc
}  // namespace internal

class JsonWebKeySet {
 public:
  // Parses a JWKS document ({"keys": [...]}) and keeps the keys usable for signature
  // verification: RSA keys (n, e) of 2048 to 8192 bits and EC P-256 keys (crv, x, y). Keys with
  // `use` other than "sig", an unknown `kty`, another curve, an `alg` other than RS256, PS256 or
  // ES256, or an RSA modulus outside that range are skipped. INVALID_ARGUMENT when the document
  // is not a JWKS, a supported key is malformed (bad base64url, missing member, point not on the
  // curve), or no usable key remains.
  static Result<JsonWebKeySet> Parse(const Json& jwks);

  // Verifies the signature of `jws`.
  //   UNAUTHENTICATED: alg is none, HS*, unsupported or not in `allowed_algs`; the key named by
  //     kid does not fit alg; the token has no kid and several keys fit; the signature is bad.
  //   NOT_FOUND: no key has the token's kid (or, without a kid, no key fits alg); the caller
  //     refetches the JWKS once, for key rotation.
  Status Verify(const Jws& jws, const std::vector<std::string>& allowed_algs) const;

  // Number of usable keys.
  size_t size() const { return keys_.size(); }

 private:
  JsonWebKeySet() = default;
  std::vector<std::shared_ptr<const internal::JsonWebKey>> keys_;
};

}  // namespace sb::vault
