// Postmark's API: "X-Postmark-Server-Token: <server_token>", GET /server as verification route
// and GET /messages/outbound?count=&offset= as list route, and Postmark's error body
// {"ErrorCode","Message"} (401 for tokens, 422 for bad parameters).
#include <charconv>
#include <memory>
#include <optional>
#include <string>

#include "sandbox/keyed/providers.h"
#include "sandbox/keyed/wire.h"

namespace sandbox::keyed {
namespace {

using sb::http::Request;
using sb::http::Response;

constexpr int kTokenError = 10;           // "Bad or missing API token"
constexpr int kMessagesQueryError = 700;  // "Messages query exception"

Response Error(int status, int code, std::string_view message) {
  return Response::Json(status, {{"ErrorCode", code}, {"Message", message}});
}

// The account, or null with `error` set to the 401 to answer with.
std::shared_ptr<const KeyedAccount> Authenticate(const CredentialStore& store,
                                                 const Request& request, Response& error) {
  const auto token = request.Header("X-Postmark-Server-Token");
  if (!token || token->empty()) {
    error = Error(401, kTokenError,
                  "No Account or Server API tokens were supplied in the HTTP headers. Please add "
                  "a header for either X-Postmark-Server-Token or X-Postmark-Account-Token.");
    return nullptr;
  }
  auto account = store.FindBy("postmark", {{"server_token", *token}});
  if (!account) error = Error(401, kTokenError, "Request does not contain a valid Server token.");
  return account;
}

sb::Json ServerJson(const KeyedAccount& account) {
  return {{"ID", NumberOrString(account.id)},
          {"Name", account.name},
          {"ApiTokens", sb::Json::array()},  // Postmark lists them; the sandbox never echoes one
          {"Color", "blue"},
          {"SmtpApiActivated", true},
          {"RawEmailEnabled", false},
          {"DeliveryType", "Live"},
          {"ServerLink", "https://account.postmarkapp.com/servers/" + account.id + "/streams"},
          {"InboundAddress", account.username + "@inbound.postmarkapp.com"},
          {"InboundHookUrl", ""},
          {"TrackOpens", false},
          {"TrackLinks", "None"}};
}

std::optional<int64_t> IntQuery(const Request& request, std::string_view name) {
  const auto text = request.Query(name);
  if (!text) return std::nullopt;
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size()) return std::nullopt;
  return value;
}

Response Outbound(const KeyedAccount& account, const Request& request) {
  const auto count = IntQuery(request, "count");
  if (!count || *count < 1 || *count > 500) {
    return Error(422, kMessagesQueryError, "The 'count' parameter must be between 1 and 500.");
  }
  const auto offset = request.Query("offset") ? IntQuery(request, "offset") : int64_t{0};
  if (!offset || *offset < 0 || *offset + *count > 10'000) {
    return Error(422, kMessagesQueryError,
                 "The 'offset' parameter must be 0 or more, and count + offset at most 10000.");
  }
  sb::Json messages = sb::Json::array();
  const auto total = static_cast<int64_t>(account.items.size());
  for (int64_t i = *offset; i < total && i < *offset + *count; ++i) {
    messages.push_back(account.items[static_cast<size_t>(i)]);
  }
  return Response::Json(200, {{"TotalCount", total}, {"Messages", std::move(messages)}});
}

}  // namespace

sb::Json PostmarkSamples(const KeyedAccount& account) {
  std::mt19937_64 rng = AccountRng(account);
  static constexpr std::string_view kSubjects[] = {"Welcome aboard", "Your receipt",
                                                   "Password reset", "Weekly digest"};
  sb::Json messages = sb::Json::array();
  for (int i = 0; i < 4; ++i) {
    const SamplePerson& person = PickPerson(rng);
    const std::string email = "recipient" + std::to_string(i + 1) + "@example.com";
    const std::string id = RandomText(rng, 8, kHexDigits) + "-" + RandomText(rng, 4, kHexDigits) +
                           "-4" + RandomText(rng, 3, kHexDigits) + "-8" +
                           RandomText(rng, 3, kHexDigits) + "-" + RandomText(rng, 12, kHexDigits);
    messages.push_back({{"MessageID", id},
                        {"MessageStream", "outbound"},
                        {"To", sb::Json::array({{{"Email", email},
                                                 {"Name", std::string(person.first) + " " +
                                                              std::string(person.last)}}})},
                        {"Recipients", sb::Json::array({email})},
                        {"From", "\"" + account.name + "\" <" + account.email + ">"},
                        {"Subject", kSubjects[i]},
                        {"Status", "Sent"},
                        {"ReceivedAt", Rfc3339(SampleUnixSeconds(rng))},
                        {"TrackOpens", false},
                        {"TrackLinks", "None"}});
  }
  return messages;
}

void AddPostmarkRoutes(sb::http::Router& router, const CredentialStore& store) {
  AddRoute(router, "GET", "/postmark/server", [&store](Request& request) {
    Response error;
    const auto account = Authenticate(store, request, error);
    return account ? Response::Json(200, ServerJson(*account)) : error;
  });
  AddRoute(router, "GET", "/postmark/messages/outbound", [&store](Request& request) {
    Response error;
    const auto account = Authenticate(store, request, error);
    return account ? Outbound(*account, request) : error;
  });
  AddCatchAll(router, "postmark",
              [](Request&) { return Error(404, 404, "The requested resource was not found."); });
}

}  // namespace sandbox::keyed
