// HighLevel (LeadConnector) API v2 with a Private Integration token: "Authorization: Bearer
// <api_key>" plus "Version: 2021-07-28", GET /locations/{locationId} as verification route and
// GET /contacts/?locationId= as list route; a token reaches its own location only. Errors are
// NestJS-style {"statusCode","message"}.
#include <memory>
#include <optional>
#include <string>

#include "sandbox/keyed/providers.h"
#include "sandbox/keyed/wire.h"

namespace sandbox::keyed {
namespace {

using sb::http::Request;
using sb::http::Response;

Response Error(int status, sb::Json message, std::string_view error = {}) {
  sb::Json body = {{"statusCode", status}, {"message", std::move(message)}};
  if (!error.empty()) body["error"] = error;
  return Response::Json(status, body);
}

// The account, or null with `error` set: 401 for the token (checked first), then 400 without
// the Version header.
std::shared_ptr<const KeyedAccount> Authenticate(const CredentialStore& store,
                                                 const Request& request, Response& error) {
  const auto token = BearerToken(request);
  auto account = token ? store.FindBy("gohighlevel", {{"api_key", *token}}) : nullptr;
  if (!account) {
    error = Error(401, "Invalid Private Integration token");
    return nullptr;
  }
  if (!request.Header("Version") || request.Header("Version")->empty()) {
    error = Error(400, "Version header was not found");
    return nullptr;
  }
  return account;
}

Response Forbidden() { return Error(403, "The token does not have access to this location."); }

Response Location(const KeyedAccount& account, std::string_view location_id) {
  if (location_id != account.id) return Forbidden();
  return Response::Json(200, {{"location",
                               {{"id", account.id},
                                {"name", account.name},
                                {"email", account.email},
                                {"timezone", "America/New_York"},
                                {"country", "US"},
                                {"address", "1 Main St"},
                                {"city", "New York"},
                                {"state", "NY"}}}});
}

Response Contacts(const KeyedAccount& account, const Request& request) {
  const auto location_id = request.Query("locationId");
  if (!location_id || location_id->empty()) {
    return Error(422, sb::Json::array({"locationId should not be empty"}), "Unprocessable Entity");
  }
  if (*location_id != account.id) return Forbidden();
  return Response::Json(200, {{"contacts", account.items},
                              {"meta",
                               {{"total", account.items.size()},
                                {"currentPage", 1},
                                {"nextPage", nullptr},
                                {"prevPage", nullptr}}}});
}

Response NotFound(const Request& request) {
  return Error(404, "Cannot " + request.method + " " + ProviderPath(request, "gohighlevel"),
               "Not Found");
}

}  // namespace

sb::Json HighLevelSamples(const KeyedAccount& account) {
  std::mt19937_64 rng = AccountRng(account);
  sb::Json contacts = sb::Json::array();
  for (int i = 0; i < 3; ++i) {
    const SamplePerson& person = PickPerson(rng);
    contacts.push_back({{"id", RandomText(rng, 20, kAlphanumerics)},
                        {"locationId", account.id},
                        {"firstName", person.first},
                        {"lastName", person.last},
                        {"contactName", std::string(person.first) + " " + std::string(person.last)},
                        {"email", "contact" + std::to_string(i + 1) + "@example.com"},
                        {"phone", "+1212555" + RandomText(rng, 4, "0123456789")},
                        {"dateAdded", Rfc3339(SampleUnixSeconds(rng))}});
  }
  return contacts;
}

void AddHighLevelRoutes(sb::http::Router& router, const CredentialStore& store) {
  AddRoute(router, "GET", "/gohighlevel/locations/{locationId}", [&store](Request& request) {
    Response error;
    const auto account = Authenticate(store, request, error);
    return account ? Location(*account, *request.PathParam("locationId")) : error;
  });
  const auto contacts = [&store](Request& request) {
    Response error;
    const auto account = Authenticate(store, request, error);
    return account ? Contacts(*account, request) : error;
  };
  AddRoute(router, "GET", "/gohighlevel/contacts", contacts);
  // "/contacts/" (HighLevel's documented form) has an empty last segment, which no route
  // pattern can name: the catch-all serves it.
  AddCatchAll(router, "gohighlevel", [contacts](Request& request) {
    if (request.method == "GET" && request.path == "/gohighlevel/contacts/") {
      return contacts(request);
    }
    return NotFound(request);
  });
}

}  // namespace sandbox::keyed
