// Trello's REST API (1): the key and token as query parameters (?key=&token=),
// GET /1/members/me as verification route and GET /1/members/me/boards as list route, and
// Trello's plain-text errors ("invalid key", "invalid token", "Cannot GET /1/...").
#include <cctype>
#include <memory>
#include <string>
#include <variant>

#include "sandbox/keyed/providers.h"
#include "sandbox/keyed/wire.h"

namespace sandbox::keyed {
namespace {

using sb::http::Request;
using sb::http::Response;

// The account, or the 401 to answer with: a bad or missing key is reported before the token,
// as Trello does.
std::variant<std::shared_ptr<const KeyedAccount>, Response> Authenticate(
    const CredentialStore& store, const Request& request) {
  const std::string_view key = request.Query("key").value_or("");
  const std::string_view token = request.Query("token").value_or("");
  if (key.empty() || !store.FindBy("trello", {{"api_key", key}})) {
    return Response::Text(401, "invalid key");
  }
  if (auto account = store.FindBy("trello", {{"api_key", key}, {"token", token}})) return account;
  return Response::Text(401, "invalid token");
}

sb::Json MemberJson(const KeyedAccount& account) {
  std::string initials;
  for (size_t i = 0; i < account.name.size(); ++i) {
    if ((i == 0 || account.name[i - 1] == ' ') && account.name[i] != ' ') {
      initials += account.name[i];
    }
  }
  return {{"id", account.id},         {"username", account.username},
          {"fullName", account.name}, {"initials", initials},
          {"email", account.email},   {"url", "https://trello.com/" + account.username},
          {"confirmed", true},        {"memberType", "normal"}};
}

void AddAuthenticated(sb::http::Router& router, std::string_view pattern,
                      const CredentialStore& store, sb::Json (*answer)(const KeyedAccount&)) {
  AddRoute(router, "GET", pattern, [&store, answer](Request& request) {
    auto account = Authenticate(store, request);
    if (auto* error = std::get_if<Response>(&account)) return std::move(*error);
    return Response::Json(200, answer(*std::get<0>(account)));
  });
}

sb::Json Boards(const KeyedAccount& account) { return account.items; }

}  // namespace

sb::Json TrelloSamples(const KeyedAccount& account) {
  std::mt19937_64 rng = AccountRng(account);
  static constexpr std::string_view kNames[] = {"Product Roadmap", "Sprint Board",
                                                "Marketing Calendar"};
  sb::Json boards = sb::Json::array();
  for (std::string_view name : kNames) {
    const std::string short_link = RandomText(rng, 8, kAlphanumerics);
    std::string slug;
    for (char c : name)
      slug += c == ' ' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    boards.push_back({{"id", RandomText(rng, 24, kHexDigits)},
                      {"name", name},
                      {"desc", ""},
                      {"closed", false},
                      {"idOrganization", nullptr},
                      {"pinned", false},
                      {"shortLink", short_link},
                      {"url", "https://trello.com/b/" + short_link + "/" + slug},
                      {"shortUrl", "https://trello.com/b/" + short_link}});
  }
  return boards;
}

void AddTrelloRoutes(sb::http::Router& router, const CredentialStore& store) {
  AddAuthenticated(router, "/trello/1/members/me", store, MemberJson);
  AddAuthenticated(router, "/trello/1/members/me/boards", store, Boards);
  AddCatchAll(router, "trello", [](Request& request) {
    return Response::Text(404, "Cannot " + request.method + " " + ProviderPath(request, "trello"));
  });
}

}  // namespace sandbox::keyed
