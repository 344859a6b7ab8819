// OpenID Connect ID token validation (OIDC Core 1.0 section 3.1.3.7, RFC 8725), in the order
// of OA-14: strict parsing, signature against the issuer's JWKS with an algorithm allow-list,
// then iss, aud/azp, exp, iat, nonce and sub.
//
// Pure apart from the injected Clock; thread-safe. Error messages name the failed check and
// never contain the token or claim values taken from it.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/json.h"
#include "sb/base/status.h"
#include "sb/vault/jose.h"

namespace sb::oauth {

struct IdTokenExpectations {
  // The issuer from discovery, compared byte for byte. It may contain "{tenantid}", which is
  // replaced by the token's `tid` claim (Microsoft multi-tenant endpoints, OA-15).
  std::string issuer;
  // Further exact issuers, e.g. Google's "accounts.google.com" beside
  // "https://accounts.google.com".
  std::vector<std::string> accepted_issuers;
  std::string client_id;
  // The nonce sent with the authorization request; when not empty the token must carry it.
  std::string nonce;
  // Per-provider allow-list; only RS256, PS256 and ES256 can ever pass (see vault/jose.h).
  std::vector<std::string> allowed_algs;
  // Leeway for exp, nbf and an iat slightly in the future.
  std::chrono::seconds clock_skew{300};
  // Tokens issued longer ago than this (by iat) are rejected.
  std::chrono::seconds max_age{86400};
};

// Json's noexcept constructors allocate only for non-null values, which tidy cannot see.
// NOLINTNEXTLINE(bugprone-exception-escape)
struct IdTokenClaims {
  std::string subject;  // sub
  std::string issuer;   // iss
  std::string email;
  bool email_verified = false;
  std::string name;
  std::string tenant_id;  // tid (Microsoft)
  std::string object_id;  // oid (Microsoft)
  std::string preferred_username;
  Json raw;  // the whole payload
};

// Validates `token` against `keys` (the issuer's JWKS) and `expected` at clock.Now().
//   INVALID_ARGUMENT: the token is not a well-formed compact JWS (vault::ParseCompactJws).
//   NOT_FOUND: no JWKS key has the token's kid; refetch the JWKS once and retry.
//   UNAUTHENTICATED: alg refused, bad signature, or a claim check failed; the message names
//     the check (e.g. "ID token iss does not match the expected issuer").
Result<IdTokenClaims> ValidateIdToken(std::string_view token, const vault::JsonWebKeySet& keys,
                                      const IdTokenExpectations& expected, const Clock& clock);

}  // namespace sb::oauth
