// Stripe's API (v1): the secret key as "Authorization: Bearer <key>" or as the Basic user name
// with an empty password, GET /v1/account as verification route and GET /v1/customers as list
// route, and Stripe's error body {"error":{"type","message"}} (an invalid key is shown masked).
#include <charconv>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "sandbox/keyed/providers.h"
#include "sandbox/keyed/wire.h"

namespace sandbox::keyed {
namespace {

using sb::http::Request;
using sb::http::Response;

Response Error(int status, std::string message, std::string_view param = {}) {
  sb::Json error = {{"type", "invalid_request_error"}, {"message", std::move(message)}};
  if (!param.empty()) error["param"] = param;
  return Response::Json(status, {{"error", std::move(error)}});
}

// "sk_test_****abcd": the key's well-known prefix and, for keys long enough to keep the rest
// secret, its last four characters; never the key itself.
std::string MaskedKey(std::string_view key) {
  std::string prefix;
  for (std::string_view known :
       {"sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_", "pk_live_"}) {
    if (key.starts_with(known)) prefix = std::string(known);
  }
  const std::string last4 = key.size() >= 16 ? std::string(key.substr(key.size() - 4)) : "";
  return prefix + "****" + last4;
}

std::optional<std::string> ApiKey(const Request& request) {
  if (auto bearer = BearerToken(request)) return bearer;
  if (auto basic = BasicCredentials(request)) return basic->first;
  return std::nullopt;
}

// The account, or the 401 to answer with.
std::variant<std::shared_ptr<const KeyedAccount>, Response> Authenticate(
    const CredentialStore& store, const Request& request) {
  const auto key = ApiKey(request);
  if (!key) {
    return Error(401,
                 "You did not provide an API key. You need to provide your API key in the "
                 "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                 "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
                 "or we can help at https://support.stripe.com/.");
  }
  if (auto account = store.FindBy("stripe", {{"api_key", *key}})) return account;
  return Error(401, "Invalid API Key provided: " + MaskedKey(*key));
}

sb::Json AccountJson(const KeyedAccount& account) {
  return {{"id", account.id},
          {"object", "account"},
          {"email", account.email},
          {"country", "US"},
          {"default_currency", "usd"},
          {"type", "standard"},
          {"charges_enabled", true},
          {"payouts_enabled", true},
          {"details_submitted", true},
          {"business_profile", {{"name", account.name}}},
          {"settings", {{"dashboard", {{"display_name", account.name}, {"timezone", "Etc/UTC"}}}}},
          {"created", account.created_ms / 1000}};
}

// ?limit= 1..100 (default 10), as Stripe's list endpoints take it.
std::variant<size_t, Response> Limit(const Request& request) {
  const auto text = request.Query("limit");
  if (!text) return size_t{10};
  size_t limit = 0;
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), limit);
  if (error != std::errc() || end != text->data() + text->size()) {
    return Error(400, "Invalid integer: " + std::string(text->substr(0, 32)), "limit");
  }
  if (limit < 1 || limit > 100) {
    return Error(400,
                 "This value must be greater than or equal to 1 and less than or equal to "
                 "100.",
                 "limit");
  }
  return limit;
}

Response Customers(const KeyedAccount& account, size_t limit) {
  sb::Json data = sb::Json::array();
  for (size_t i = 0; i < account.items.size() && i < limit; ++i) data.push_back(account.items[i]);
  return Response::Json(200, {{"object", "list"},
                              {"data", std::move(data)},
                              {"has_more", account.items.size() > limit},
                              {"url", "/v1/customers"}});
}

Response NotFound(const Request& request) {
  return Error(404, "Unrecognized request URL (" + request.method + ": " +
                        ProviderPath(request, "stripe") +
                        "). Please see https://stripe.com/docs or we can help at "
                        "https://support.stripe.com/.");
}

}  // namespace

sb::Json StripeSamples(const KeyedAccount& account) {
  std::mt19937_64 rng = AccountRng(account);
  sb::Json customers = sb::Json::array();
  for (int i = 0; i < 3; ++i) {
    const SamplePerson& person = PickPerson(rng);
    const std::string id = "cus_" + RandomText(rng, 14, kAlphanumerics);
    customers.push_back({{"id", id},
                         {"object", "customer"},
                         {"email", "customer" + std::to_string(i + 1) + "@example.com"},
                         {"name", std::string(person.first) + " " + std::string(person.last)},
                         {"created", SampleUnixSeconds(rng)},
                         {"currency", "usd"},
                         {"livemode", false}});
  }
  return customers;
}

void AddStripeRoutes(sb::http::Router& router, const CredentialStore& store) {
  AddRoute(router, "GET", "/stripe/v1/account", [&store](Request& request) {
    auto account = Authenticate(store, request);
    if (auto* error = std::get_if<Response>(&account)) return std::move(*error);
    return Response::Json(200, AccountJson(*std::get<0>(account)));
  });
  AddRoute(router, "GET", "/stripe/v1/customers", [&store](Request& request) {
    auto account = Authenticate(store, request);
    if (auto* error = std::get_if<Response>(&account)) return std::move(*error);
    auto limit = Limit(request);
    if (auto* error = std::get_if<Response>(&limit)) return std::move(*error);
    return Customers(*std::get<0>(account), std::get<size_t>(limit));
  });
  AddCatchAll(router, "stripe", [](Request& request) { return NotFound(request); });
}

}  // namespace sandbox::keyed
