// The Google origin's control routes (/_sandbox/...): accounts, OAuth clients, tokens minted
// for tests, seeded calendars, user-side changes and fault actions.
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "sandbox/core/url.h"
#include "sandbox/google/google.h"
#include "sandbox/google/seed.h"

#include "sb/base/check.h"

namespace sandbox::google {
namespace {

using sb::http::Request;
using sb::http::Response;

sb::Json AccountJson(const Account& account) {
  return {{"id", account.id},
          {"email", account.email},
          {"name", account.name},
          {"given_name", account.given_name},
          {"family_name", account.family_name},
          {"time_zone", account.time_zone}};
}

// `size` bytes of 'x' in 256 KiB chunks, produced as they are written (large downloads for
// benchmarks without holding them in memory).
class BytesSource final : public sb::http::BodySource {
 public:
  explicit BytesSource(uint64_t size) : left_(size) {}
  sb::Result<std::optional<std::string>> Next() override {
    if (left_ == 0) return std::optional<std::string>();
    const uint64_t n = std::min<uint64_t>(left_, 256 << 10);
    left_ -= n;
    return std::optional<std::string>(std::string(n, 'x'));
  }

 private:
  uint64_t left_;
};

}  // namespace

void GoogleSandbox::RegisterControl() {
  sb::http::Router& router = origin_.router();
  auto add = [&](std::string_view method, std::string_view pattern, sb::http::Handler handler) {
    SB_CHECK(router.Add(method, pattern, std::move(handler), {.authenticated = false}).ok());
  };

  // GET /_sandbox/bytes?size=N: N bytes (up to 4 GiB) of application/octet-stream, chunked.
  add("GET", "/_sandbox/bytes", [](Request& request) {
    const std::string size_text(request.Query("size").value_or("0"));
    uint64_t size = 0;
    const auto [end, error] =
        std::from_chars(size_text.data(), size_text.data() + size_text.size(), size);
    if (error != std::errc() || end != size_text.data() + size_text.size() || size > (1ull << 32)) {
      return ControlError(400, "size must be a number of bytes up to 4 GiB");
    }
    return Response::Stream(200, "application/octet-stream", std::make_shared<BytesSource>(size));
  });
  add("POST", "/_sandbox/accounts", [this](Request& request) {
    auto body = ParseJsonBody(request);
    if (!body.ok() || !body->is_object()) return ControlError(400, "a JSON object is required");
    Account account;
    account.email = body->value("email", "");
    if (account.email.find('@') == std::string::npos) {
      return ControlError(400, "\"email\" is required");
    }
    if (identity_.FindAccountByEmail(account.email)) {
      return ControlError(409, "an account with this email exists");
    }
    account.id = body->value("id", "");
    account.name = body->value("name", "");
    account.given_name = body->value("given_name", "");
    account.family_name = body->value("family_name", "");
    account.time_zone = body->value("time_zone", "Europe/Zurich");
    if (!sb::caltime::IsKnownZone(account.time_zone)) return ControlError(400, "unknown time_zone");
    return Response::Json(201, AccountJson(CreateAccount(account)));
  });
  add("GET", "/_sandbox/accounts", [this](Request&) {
    sb::Json accounts = sb::Json::array();
    for (const Account& account : identity_.Accounts()) {
      sb::Json json = AccountJson(account);
      if (auto primary = calendar_.Calendar(account.id, account.email)) {
        json["events"] = calendar_.EventCount(*primary);
      }
      accounts.push_back(std::move(json));
    }
    return Response::Json(200, {{"accounts", accounts}});
  });
  add("POST", "/_sandbox/clients", [this](Request& request) {
    auto body = ParseJsonBody(request);
    if (!body.ok() || !body->is_object()) return ControlError(400, "a JSON object is required");
    OAuthClient client;
    client.client_id = body->value("client_id", "");
    client.client_secret = body->value("client_secret", "");
    if (client.client_id.empty() || client.client_secret.empty()) {
      return ControlError(400, "\"client_id\" and \"client_secret\" are required");
    }
    if (body->contains("redirect_uris")) {
      for (const auto& uri : (*body)["redirect_uris"]) {
        if (uri.is_string()) client.redirect_uris.push_back(uri.get<std::string>());
      }
    }
    identity_.PutClient(client);
    return Response::Json(
        201, {{"client_id", client.client_id}, {"redirect_uris", client.redirect_uris}});
  });
  add("POST", "/_sandbox/accounts/{id}/tokens", [this](Request& request) {
    const auto account = identity_.FindAccount(*request.PathParam("id"));
    if (!account) return ControlError(404, "no such account");
    auto body = ParseJsonBody(request);
    if (!body.ok()) return ControlError(400, body.status().message());
    std::vector<std::string> scopes = {"openid", "email",
                                       "https://www.googleapis.com/auth/calendar"};
    if (body->contains("scopes")) scopes = (*body)["scopes"].get<std::vector<std::string>>();
    const int64_t ttl =
        body->value("ttl_seconds", origin_.settings().Int("access_token_ttl_seconds"));
    const std::string client_id = body->value("client_id", "sandbox-user");
    const int64_t now = NowMillis(origin_.clock());
    const AccessToken token =
        identity_.IssueAccessToken("ya29.", account->id, client_id, scopes, now + ttl * 1000);
    sb::Json out = {{"access_token", token.token}, {"expires_in", ttl}};
    // "offline": also a refresh token for client_id, as a consent with access_type=offline
    // would give (tests and benchmarks that need many connections without the browser flow).
    if (body->value("offline", false)) {
      out["refresh_token"] =
          identity_.IssueRefreshToken("1//", account->id, client_id, scopes, now).token;
    }
    return Response::Json(201, out);
  });
  // The account named by {id} and its primary calendar, or the error to answer with.
  auto primary = [this](const Request& request) -> std::variant<CalendarInfo, Response> {
    const auto account = identity_.FindAccount(*request.PathParam("id"));
    if (!account) return ControlError(404, "no such account");
    auto calendar = calendar_.Calendar(account->id, account->email);
    if (!calendar) return ControlError(404, "the account has no primary calendar");
    return *calendar;
  };
  add("POST", "/_sandbox/accounts/{id}/seed", [this, primary](Request& request) {
    auto target = primary(request);
    if (auto* error = std::get_if<Response>(&target)) return *error;
    const CalendarInfo& calendar = std::get<CalendarInfo>(target);
    auto body = ParseJsonBody(request);
    if (!body.ok()) return ControlError(400, body.status().message());
    SeedOptions options;
    options.events = body->value("events", int64_t{50});
    options.seed = body->value("seed", uint64_t{1});
    options.base_ms = body->value("base_ms", NowMillis(origin_.clock()));
    if (options.events < 0 || options.events > 200'000) {
      return ControlError(400, "\"events\" must be 0..200000");
    }
    auto seeded = Seed(calendar_, calendar, options, NowMillis(origin_.clock()));
    if (!seeded.ok()) return ControlError(500, seeded.status().message());
    NotifyChannels(ChannelKey(calendar));
    return Response::Json(201, *seeded);
  });
  add("POST", "/_sandbox/accounts/{id}/mutate", [this, primary](Request& request) {
    auto target = primary(request);
    if (auto* error = std::get_if<Response>(&target)) return *error;
    const CalendarInfo& calendar = std::get<CalendarInfo>(target);
    auto body = ParseJsonBody(request);
    if (!body.ok()) return ControlError(400, body.status().message());
    MutateOptions options;
    options.creates = body->value("creates", int64_t{0});
    options.updates = body->value("updates", int64_t{0});
    options.deletes = body->value("deletes", int64_t{0});
    options.seed = body->value("seed", uint64_t{7});
    auto changed = Mutate(calendar_, calendar, options, NowMillis(origin_.clock()));
    if (!changed.ok()) return ControlError(500, changed.status().message());
    NotifyChannels(ChannelKey(calendar));
    return Response::Json(200, *changed);
  });
  add("POST", "/_sandbox/actions/{name}", [this](Request& request) {
    const std::string name(*request.PathParam("name"));
    auto body = ParseJsonBody(request);
    if (!body.ok()) return ControlError(400, body.status().message());
    const std::string account_id = body->value("account", "");
    std::optional<Account> account;
    if (!account_id.empty()) {
      account = identity_.FindAccount(account_id);
      if (!account) account = identity_.FindAccountByEmail(account_id);
      if (!account) return ControlError(404, "no such account");
    }
    if (name == "revoke-refresh-tokens") {
      if (!account) return ControlError(400, "\"account\" is required");
      return Response::Json(200, {{"revoked", identity_.RevokeAccount(account->id)}});
    }
    if (name == "expire-access-tokens") {
      return Response::Json(
          200, {{"expired", identity_.ExpireAccessTokens(account ? account->id : "",
                                                         NowMillis(origin_.clock()))}});
    }
    if (name == "expire-sync-tokens") {
      if (account) {
        for (const CalendarInfo& info : calendar_.Calendars(account->id)) {
          calendar_.InvalidateSyncTokens(&info);
        }
      } else {
        calendar_.InvalidateSyncTokens(nullptr);
      }
      return Response::Json(200, {{"expired", true}});
    }
    if (name == "purge-tombstones") {
      const int64_t before = body->value("before_ms", NowMillis(origin_.clock()) + 1);
      return Response::Json(200, {{"purged", calendar_.PurgeTombstones(before)}});
    }
    return ControlError(404, "unknown action: " + name);
  });
  add("GET", "/_sandbox/stats", [this](Request&) {
    return Response::Json(200, {{"identity", identity_.Stats()}, {"push", push_.Stats()}});
  });
  add("GET", "/_sandbox/channels", [this](Request&) {
    return Response::Json(200, {{"channels", push_.Channels()}});
  });
}

}  // namespace sandbox::google
