// What a JSON answer from a provider may contain (token endpoint answers, JWKS, userinfo; ID
// tokens are bounded in vault/jose.h). A hostile or broken provider's answer past these limits is
// refused by sb::ParseJson with a named limit, which each caller turns into its own classified
// failure. Documented in docs/operations.md, "JSON limits".
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "sb/base/json.h"

namespace sb::oauth {

inline constexpr JsonLimits kProviderJsonLimits{.max_bytes = 1 << 20,
                                                .max_depth = 16,
                                                .max_string_bytes = 64 << 10,
                                                .max_members = 1000,
                                                .max_values = 10'000};

// The answer as JSON, or null when it is not JSON within kProviderJsonLimits: for callers that
// treat both alike (an error body without OAuth members, a userinfo answer without identity).
inline Json ProviderJsonOrNull(std::string_view text) {
  Result<Json> parsed = ParseJson(text, kProviderJsonLimits);
  return parsed.ok() ? std::move(*parsed) : Json();
}

// The account a userinfo answer names: the first of "sub", "id", "user_id", "account_id" that is
// a non-empty string or an integer, and "email" when it is a string. Empty members when the
// answer is not a JSON object within kProviderJsonLimits or names no account.
struct UserinfoIdentity {
  std::string subject;
  std::string email;
};
UserinfoIdentity ParseUserinfo(std::string_view body);

}  // namespace sb::oauth
