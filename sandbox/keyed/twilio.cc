// Twilio's REST API (2010-04-01): HTTP Basic with account_sid:auth_token, the Account resource
// as verification route and Messages.json as list route, and Twilio's error body
// {"code","message","more_info","status"}.
#include <memory>
#include <string>

#include "sandbox/keyed/providers.h"
#include "sandbox/keyed/wire.h"

namespace sandbox::keyed {
namespace {

using sb::http::Request;
using sb::http::Response;

constexpr std::string_view kApi = "/twilio/2010-04-01/Accounts";

Response Error(int status, int code, std::string message) {
  return Response::Json(
      status, {{"code", code},
               {"message", std::move(message)},
               {"more_info", "https://www.twilio.com/docs/errors/" + std::to_string(code)},
               {"status", status}});
}

Response Unauthorized() {
  Response response = Error(401, 20003, "Authenticate");
  response.SetHeader("WWW-Authenticate", "Basic realm=\"Twilio API\"");
  return response;
}

Response NotFound(const Request& request) {
  return Error(404, 20404,
               "The requested resource " + ProviderPath(request, "twilio") + " was not found");
}

std::shared_ptr<const KeyedAccount> Authenticate(const CredentialStore& store,
                                                 const Request& request) {
  const auto basic = BasicCredentials(request);
  if (!basic) return nullptr;
  return store.FindBy("twilio", {{"account_sid", basic->first}, {"auth_token", basic->second}});
}

std::string AccountUri(const KeyedAccount& account) { return "/2010-04-01/Accounts/" + account.id; }

sb::Json AccountJson(const KeyedAccount& account) {
  const std::string created = Rfc2822(account.created_ms / 1000);
  return {{"sid", account.id},
          {"owner_account_sid", account.id},
          {"friendly_name", account.name},
          {"status", "active"},
          {"type", "Full"},
          {"date_created", created},
          {"date_updated", created},
          {"uri", AccountUri(account) + ".json"},
          {"subresource_uris", {{"messages", AccountUri(account) + "/Messages.json"}}}};
}

sb::Json MessagesPage(const KeyedAccount& account) {
  const std::string uri = AccountUri(account) + "/Messages.json";
  const size_t count = account.items.size();
  return {{"messages", account.items},
          {"page", 0},
          {"page_size", 50},
          {"start", 0},
          {"end", count == 0 ? 0 : count - 1},
          {"uri", uri + "?PageSize=50&Page=0"},
          {"first_page_uri", uri + "?PageSize=50&Page=0"},
          {"next_page_uri", nullptr},
          {"previous_page_uri", nullptr}};
}

}  // namespace

sb::Json TwilioSamples(const KeyedAccount& account) {
  std::mt19937_64 rng = AccountRng(account);
  sb::Json messages = sb::Json::array();
  for (int i = 0; i < 3; ++i) {
    const std::string sent = Rfc2822(SampleUnixSeconds(rng));
    const SamplePerson& person = PickPerson(rng);
    messages.push_back({{"sid", "SM" + RandomText(rng, 32, kHexDigits)},
                        {"account_sid", account.id},
                        {"body", "Hi " + std::string(person.first) + ", your code is " +
                                     RandomText(rng, 6, "0123456789")},
                        {"from", "+15005550006"},
                        {"to", "+1415555010" + std::to_string(i)},
                        {"status", "delivered"},
                        {"direction", "outbound-api"},
                        {"num_segments", "1"},
                        {"date_created", sent},
                        {"date_sent", sent},
                        {"date_updated", sent}});
  }
  return messages;
}

void AddTwilioRoutes(sb::http::Router& router, const CredentialStore& store) {
  // {sid_json} is "<AccountSid>.json": the router matches whole segments only.
  AddRoute(router, "GET", std::string(kApi) + "/{sid_json}", [&store](Request& request) {
    const auto account = Authenticate(store, request);
    if (!account) return Unauthorized();
    if (*request.PathParam("sid_json") != account->id + ".json") return NotFound(request);
    return Response::Json(200, AccountJson(*account));
  });
  AddRoute(router, "GET", std::string(kApi) + "/{sid}/Messages.json", [&store](Request& request) {
    const auto account = Authenticate(store, request);
    if (!account) return Unauthorized();
    if (*request.PathParam("sid") != account->id) return NotFound(request);
    return Response::Json(200, MessagesPage(*account));
  });
  AddCatchAll(router, "twilio", [](Request& request) { return NotFound(request); });
}

}  // namespace sandbox::keyed
