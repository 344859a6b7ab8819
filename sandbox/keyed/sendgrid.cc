// SendGrid's Web API v3: "Authorization: Bearer <api_key>", GET /v3/user/username as
// verification route and GET /v3/user/profile as the (single-item) list route, and SendGrid's
// error body {"errors":[{"field","message"}]}.
#include <memory>
#include <string>

#include "sandbox/keyed/providers.h"
#include "sandbox/keyed/wire.h"

namespace sandbox::keyed {
namespace {

using sb::http::Request;
using sb::http::Response;

Response Error(int status, std::string_view message) {
  return Response::Json(
      status, {{"errors", sb::Json::array({{{"field", nullptr}, {"message", message}}})}});
}

std::shared_ptr<const KeyedAccount> Authenticate(const CredentialStore& store,
                                                 const Request& request) {
  const auto key = BearerToken(request);
  return key ? store.FindBy("sendgrid", {{"api_key", *key}}) : nullptr;
}

// The route's answer for an authenticated account; 401 otherwise.
void AddAuthenticated(sb::http::Router& router, std::string_view pattern,
                      const CredentialStore& store, sb::Json (*answer)(const KeyedAccount&)) {
  AddRoute(router, "GET", pattern, [&store, answer](Request& request) {
    const auto account = Authenticate(store, request);
    if (!account) return Error(401, "authorization required");
    return Response::Json(200, answer(*account));
  });
}

sb::Json Username(const KeyedAccount& account) {
  return {{"username", account.username}, {"user_id", NumberOrString(account.id)}};
}

sb::Json Profile(const KeyedAccount& account) { return account.items.at(0); }

}  // namespace

sb::Json SendGridSamples(const KeyedAccount& account) {
  std::mt19937_64 rng = AccountRng(account);
  const size_t space = account.name.find(' ');
  const std::string first = account.name.substr(0, space);
  const std::string last = space == std::string::npos ? "" : account.name.substr(space + 1);
  sb::Json profile = {{"first_name", first},
                      {"last_name", last},
                      {"company", "Sandbox Mail " + RandomText(rng, 4, "ABCDEFGHJKLMNPQRSTUVWXYZ")},
                      {"address", "1 Market St"},
                      {"address2", ""},
                      {"city", "San Francisco"},
                      {"state", "CA"},
                      {"zip", "94105"},
                      {"country", "United States"},
                      {"phone", "+1415555" + RandomText(rng, 4, "0123456789")},
                      {"website", "https://example.com"}};
  return sb::Json::array({std::move(profile)});
}

void AddSendGridRoutes(sb::http::Router& router, const CredentialStore& store) {
  AddAuthenticated(router, "/sendgrid/v3/user/username", store, Username);
  AddAuthenticated(router, "/sendgrid/v3/user/profile", store, Profile);
  AddCatchAll(router, "sendgrid", [](Request&) { return Error(404, "resource not found"); });
}

}  // namespace sandbox::keyed
