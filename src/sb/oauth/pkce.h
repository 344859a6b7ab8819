// PKCE, state and nonce values for the authorization code flow.
//
// PKCE is S256 only (OA-01, OA-02): there is no code path for "plain". Every generated secret
// (verifier, state, nonce) is 32 bytes from the injected Random, base64url without padding:
// 43 characters, 256 bits (OA-16).
#pragma once

#include <string>
#include <string_view>

#include "sb/base/random.h"

namespace sb::oauth {

struct Pkce {
  std::string verifier;   // sent to the token endpoint
  std::string challenge;  // BASE64URL(SHA256(verifier)), sent with code_challenge_method=S256
};

Pkce NewPkce(Random& random);

// BASE64URL(SHA256(verifier)) (RFC 7636 section 4.2).
std::string S256Challenge(std::string_view verifier);

// RFC 7636 section 4.1: 43..128 characters of [A-Za-z0-9-._~].
bool IsValidVerifier(std::string_view verifier);

// A fresh `state` or `nonce` value: 32 random bytes, base64url.
std::string NewOpaqueSecret(Random& random);

}  // namespace sb::oauth
