#include "sb/oauth/pkce.h"

#include <algorithm>

#include "sb/base/encoding.h"
#include "sb/vault/digest.h"

namespace sb::oauth {
namespace {

constexpr size_t kSecretBytes = 32;

}  // namespace

std::string NewOpaqueSecret(Random& random) { return Base64UrlEncode(random.Bytes(kSecretBytes)); }

Pkce NewPkce(Random& random) {
  Pkce pkce;
  pkce.verifier = NewOpaqueSecret(random);
  pkce.challenge = S256Challenge(pkce.verifier);
  return pkce;
}

std::string S256Challenge(std::string_view verifier) {
  return Base64UrlEncode(vault::Sha256(verifier));
}

bool IsValidVerifier(std::string_view verifier) {
  if (verifier.size() < 43 || verifier.size() > 128) return false;
  return std::all_of(verifier.begin(), verifier.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
  });
}

}  // namespace sb::oauth
