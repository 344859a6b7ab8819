// Helpers the keyed providers' wire code shares: reading the credentials a request carries
// (Bearer, Basic, a header, query parameters), registering routes and a provider's catch-all
// 404, and the deterministic generators behind each account's sample items. Pure functions;
// thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>

#include "sandbox/keyed/credential_store.h"

#include "sb/base/json.h"
#include "sb/http/request.h"
#include "sb/http/response.h"
#include "sb/http/router.h"

namespace sandbox::keyed {

// The token of "Authorization: Bearer <token>" (scheme case-insensitive), or nullopt.
std::optional<std::string> BearerToken(const sb::http::Request& request);
// The (user, password) of "Authorization: Basic <base64(user:password)>", or nullopt.
std::optional<std::pair<std::string, std::string>> BasicCredentials(
    const sb::http::Request& request);

// Registers one route (aborts on a malformed or duplicate pattern: a programming error).
void AddRoute(sb::http::Router& router, std::string_view method, std::string_view pattern,
              sb::http::Handler handler);
// Answers every other path under /<provider> (any usual method) with `not_found`, so that
// unknown routes get the provider's own 404 rather than the router's problem+json.
void AddCatchAll(sb::http::Router& router, std::string_view provider, sb::http::Handler not_found);
// The request path without the "/<provider>" prefix, e.g. "/v1/account".
std::string ProviderPath(const sb::http::Request& request, std::string_view provider);

// `id` as a JSON number when it is a decimal integer (Postmark and SendGrid ids are numbers),
// else as a string (an id given at registration may be anything).
sb::Json NumberOrString(std::string_view id);

// A generator seeded from the account (provider and id): the same items for the same account.
std::mt19937_64 AccountRng(const KeyedAccount& account);
// `n` characters drawn from `alphabet`.
std::string RandomText(std::mt19937_64& rng, size_t n, std::string_view alphabet);
inline constexpr std::string_view kHexDigits = "0123456789abcdef";
inline constexpr std::string_view kAlphanumerics =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
// A sample item's time: a fixed day in 2024 plus a deterministic offset, in Unix seconds.
int64_t SampleUnixSeconds(std::mt19937_64& rng);
// "Fri, 01 Mar 2024 09:00:00 +0000" (Twilio's dates) and "2024-03-01T09:00:00Z".
std::string Rfc2822(int64_t unix_seconds);
std::string Rfc3339(int64_t unix_seconds);

// Sample people for items: first name, last name.
struct SamplePerson {
  std::string_view first;
  std::string_view last;
};
const SamplePerson& PickPerson(std::mt19937_64& rng);

}  // namespace sandbox::keyed
