// Control routes under /_sandbox/ (accounts, clients, direct tokens, seeding, actions) and the
// generators behind seeding and random user-side changes.
#include <random>

#include "sandbox/microsoft/graph_common.h"
#include "sandbox/microsoft/microsoft.h"

#include "sb/base/check.h"
#include "sb/caltime/recurrence.h"
#include "sb/caltime/windows_zones.h"

namespace sandbox::microsoft {
namespace {

using sb::http::Request;
using sb::http::Response;

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kHourMs = 3'600'000;

sb::Json AccountJson(const Account& account) {
  return {{"id", account.id},
          {"oid", account.id},
          {"tid", account.tenant_id},
          {"email", account.email},
          {"name", account.name}};
}

const char* const kSubjects[] = {"Weekly sync",          "Café Zürich – 会议 📅",
                                 "1:1 with Dana",        "Quarterly planning",
                                 "Déjeuner d'équipe",    "Планёрка",
                                 "Design review ✓",      "Customer call: Ünïcödé AG",
                                 "Board meeting",        "Dentist",
                                 "Sprint retro",         "Flight LX 318 ✈",
                                 "Interview – Zoë",      "Yoga 🧘",
                                 "Budget review (FY25)", "東京オフィス訪問"};
const char* const kZones[] = {
    "Europe/Zurich",       "America/New_York", "Asia/Tokyo",       "UTC",
    "America/Los_Angeles", "Asia/Kolkata",     "Australia/Sydney", "Europe/London"};
const char* const kPeople[][2] = {
    {"Bob Meyer", "bob@contoso.com"},        {"Zoë Müller", "zoe@fabrikam.ch"},
    {"王芳", "wang.fang@example.cn"},        {"Renée Dupont", "renee@example.fr"},
    {"Sam O'Neil", "sam.oneil@example.org"}, {"Conference Room B", "room-b@contoso.com"}};
const char* const kDays[] = {"sunday",   "monday", "tuesday", "wednesday",
                             "thursday", "friday", "saturday"};

template <typename T, size_t N>
const T& Pick(std::mt19937_64& rng, const T (&items)[N]) {
  return items[rng() % N];
}

std::string LongDescription(std::mt19937_64& rng) {
  std::string text = "<html><body><p>Agenda:</p><ol>";
  const int items = 3 + static_cast<int>(rng() % 20);
  for (int i = 0; i < items; ++i) {
    text += "<li>Item " + std::to_string(i + 1) +
            ": review the numbers, discuss next steps and décider ensemble — 次のステップ. "
            "Please read the attached notes beforehand.</li>";
  }
  return text + "</ol></body></html>";
}

sb::Json Attendees(std::mt19937_64& rng) {
  sb::Json attendees = sb::Json::array();
  const int count = static_cast<int>(rng() % 5);
  for (int i = 0; i < count; ++i) {
    const auto& person = Pick(rng, kPeople);
    const bool room = std::string_view(person[1]).starts_with("room");
    static const char* const kResponses[] = {"none", "accepted", "tentativelyAccepted", "declined",
                                             "notResponded"};
    attendees.push_back(
        {{"type", room ? "resource" : (rng() % 4 == 0 ? "optional" : "required")},
         {"status", {{"response", Pick(rng, kResponses)}, {"time", "0001-01-01T00:00:00Z"}}},
         {"emailAddress", {{"name", person[0]}, {"address", person[1]}}}});
  }
  return attendees;
}

// A patternedRecurrence starting on the (UTC) date of `start_ms`.
sb::Json RandomRecurrence(std::mt19937_64& rng, int64_t start_ms, const std::string& zone) {
  const int64_t day = start_ms / kDayMs;
  const std::string start_date = sb::caltime::FormatDate(day * kDayMs);
  const sb::caltime::LocalDateTime civil = sb::caltime::UtcMillisToCivil(start_ms);
  sb::Json pattern = {{"interval", 1},    {"month", 0},
                      {"dayOfMonth", 0},  {"firstDayOfWeek", "sunday"},
                      {"index", "first"}, {"daysOfWeek", sb::Json::array()}};
  switch (rng() % 3) {
    case 0:
      pattern["type"] = "daily";
      break;
    case 1:
      pattern["type"] = "weekly";
      pattern["daysOfWeek"] = {kDays[(day + 4) % 7]};  // 1970-01-01 was a Thursday
      break;
    default:
      pattern["type"] = "absoluteMonthly";
      pattern["dayOfMonth"] = civil.day;
      break;
  }
  sb::Json range = {
      {"startDate", start_date}, {"recurrenceTimeZone", zone}, {"numberOfOccurrences", 0}};
  switch (rng() % 3) {
    case 0:
      range["type"] = "numbered";
      range["numberOfOccurrences"] = 5 + static_cast<int>(rng() % 20);
      range["endDate"] = "0001-01-01";
      break;
    case 1:
      range["type"] = "endDate";
      range["endDate"] =
          sb::caltime::FormatDate((day + 30 + static_cast<int64_t>(rng() % 120)) * kDayMs);
      break;
    default:
      range["type"] = "noEnd";
      range["endDate"] = "0001-01-01";
      break;
  }
  return {{"pattern", pattern}, {"range", range}};
}

Event RandomEvent(std::mt19937_64& rng, const Calendar& calendar, const std::string& account_id,
                  int64_t now_ms) {
  Event event;
  event.account_id = account_id;
  event.calendar_id = calendar.id;
  event.subject = Pick(rng, kSubjects);
  event.organizer = {
      {"emailAddress", {{"name", calendar.owner_name}, {"address", calendar.owner_address}}}};
  event.time_zone = Pick(rng, kZones);
  event.original_time_zone = sb::caltime::IanaToWindows(event.time_zone).value_or(event.time_zone);
  const int64_t day = now_ms / kDayMs - 60 + static_cast<int64_t>(rng() % 180);
  const int kind = static_cast<int>(rng() % 100);
  if (kind < 6) {
    event.all_day = true;
    event.start_ms = day * kDayMs;
    event.end_ms = event.start_ms + (1 + static_cast<int64_t>(rng() % 3)) * kDayMs;
  } else {
    event.start_ms = day * kDayMs + (6 + static_cast<int64_t>(rng() % 12)) * kHourMs +
                     static_cast<int64_t>(rng() % 4) * 15 * 60'000;
    event.end_ms = event.start_ms + (1 + static_cast<int64_t>(rng() % 4)) * 30 * 60'000;
  }
  event.body_type = rng() % 3 == 0 ? "text" : "html";
  event.body = rng() % 10 == 0 ? LongDescription(rng)
               : event.body_type == "html"
                   ? "<html><body><p>See you there – à bientôt!</p></body></html>"
                   : "Notes: bring the Q3 numbers.";
  event.attendees = Attendees(rng);
  if (rng() % 2 == 0) {
    event.location = {{"displayName", rng() % 2 ? "Café Zürich, Bahnhofstrasse 1" : "Room 4.12"},
                      {"locationType", "default"},
                      {"uniqueIdType", "private"}};
  }
  event.is_cancelled = rng() % 50 == 0;
  event.show_as = rng() % 5 == 0 ? "tentative" : "busy";
  if (kind >= 6 && kind < 14) {
    event.recurrence = RandomRecurrence(rng, event.start_ms, event.original_time_zone);
    auto rule = RecurrenceToRrule(event.recurrence);
    if (rule.ok()) {
      event.rrule = {*rule};
      event.type = "seriesMaster";
    } else {
      event.recurrence = nullptr;
    }
  }
  return event;
}

}  // namespace

size_t MicrosoftSandbox::Seed(const std::string& account_id, size_t count, uint64_t seed) {
  const auto calendars = events_.Calendars(account_id);
  if (calendars.empty()) return 0;
  std::mt19937_64 rng(seed);
  const int64_t now = Now();
  std::vector<Change> changes;
  size_t created = 0;
  while (created < count) {
    Event event = RandomEvent(rng, calendars.front(), account_id, now);
    if (event.type != "seriesMaster") {
      events_.Insert(std::move(event), now, changes);
      ++created;
      continue;
    }
    // Series get a moved occurrence (an exception) and a cancelled one.
    event.id = NewEventId();
    auto slots = sb::caltime::ExpandRecurrence(SeriesStart(event), event.rrule, event.start_ms,
                                               event.start_ms + 400 * kDayMs, 4);
    std::optional<Event> exception;
    if (slots.ok() && slots->size() >= 3) {
      event.cancelled_starts.insert((*slots)[2].utc_ms);
      exception = event;
      exception->type = "exception";
      exception->id = OccurrenceId(event, (*slots)[1].utc_ms);
      exception->series_master_id = event.id;
      exception->original_start_ms = (*slots)[1].utc_ms;
      exception->start_ms = (*slots)[1].utc_ms + kHourMs;
      exception->end_ms = exception->start_ms + (event.end_ms - event.start_ms);
      exception->subject = event.subject + " (moved)";
      exception->recurrence = nullptr;
      exception->rrule.clear();
      exception->cancelled_starts.clear();
    }
    const Event master = events_.Insert(std::move(event), now, changes);
    ++created;
    if (exception && created < count) {
      exception->ical_uid = master.ical_uid;
      events_.Insert(std::move(*exception), now, changes);
      ++created;
    }
  }
  return created;
}

sb::Json MicrosoftSandbox::Mutate(const std::string& account_id, int creates, int updates,
                                  int deletes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Change> changes;
  sb::Json result = {{"created", sb::Json::array()},
                     {"updated", sb::Json::array()},
                     {"deleted", sb::Json::array()}};
  const int64_t now = Now();
  const auto calendars = events_.Calendars(account_id);
  if (calendars.empty()) return result;
  // Updates and deletes touch only events that existed before this call (see the Google
  // sandbox's Mutate): a fresh event deleted again would never reach a delta feed.
  std::vector<std::string> ids = events_.EventIds(account_id);
  std::shuffle(ids.begin(), ids.end(), rng);
  for (int i = 0; i < creates; ++i) {
    result["created"].push_back(
        events_.Insert(RandomEvent(rng, calendars.front(), account_id, now), now, changes).id);
  }
  size_t next = 0;
  for (int i = 0; i < updates && next < ids.size(); ++i, ++next) {
    const sb::Json patch = {{"subject", std::string(Pick(rng, kSubjects)) + " (edited)"}};
    auto updated = events_.Update(account_id, ids[next], patch, std::nullopt, now, changes);
    if (std::holds_alternative<Event>(updated)) result["updated"].push_back(ids[next]);
  }
  for (int i = 0; i < deletes && next < ids.size(); ++i, ++next) {
    if (!events_.Delete(account_id, ids[next], now, changes)) {
      result["deleted"].push_back(ids[next]);
    }
  }
  Notify(changes);
  return result;
}

void MicrosoftSandbox::RegisterControl() {
  const sb::http::RouteOptions open{.authenticated = false};
  auto add = [&](std::string_view method, std::string_view pattern, sb::http::Handler handler) {
    SB_CHECK(origin_.router().Add(method, pattern, std::move(handler), open).ok());
  };
  add("POST", "/v1.0/$batch", [this](Request& request) { return Batch(request); });
  add("POST", "/_sandbox/accounts", [this](Request& request) {
    auto body = ParseJsonBody(request);
    if (!body.ok()) return ControlError(400, body.status().message());
    const std::string email = body->value("email", std::string());
    if (email.find('@') == std::string::npos) return ControlError(400, "email is required");
    if (identity_.FindAccountByEmail(email)) return ControlError(409, "account exists: " + email);
    const Account account = CreateAccount(email, body->value("name", std::string()),
                                          body->value("tenant_id", std::string()));
    return Response::Json(201, AccountJson(account));
  });
  add("GET", "/_sandbox/accounts", [this](Request&) {
    sb::Json accounts = sb::Json::array();
    for (const Account& account : identity_.Accounts()) {
      sb::Json json = AccountJson(account);
      json["events"] = events_.EventCount(account.id);
      accounts.push_back(std::move(json));
    }
    return Response::Json(200, {{"accounts", accounts}});
  });
  // Live subscriptions (ids for send-lifecycle), secrets left out.
  add("GET", "/_sandbox/subscriptions", [this](Request&) {
    sb::Json out = sb::Json::array();
    std::lock_guard<std::mutex> lock(subscriptions_mu_);
    for (const auto& [id, sub] : subscriptions_) {
      if (sub.expiration_ms <= Now()) continue;
      out.push_back({{"id", id},
                     {"account_id", sub.account_id},
                     {"resource", sub.resource},
                     {"expiration_ms", sub.expiration_ms},
                     {"lifecycle", !sub.lifecycle_url.empty()}});
    }
    return Response::Json(200, {{"subscriptions", out}});
  });
  add("POST", "/_sandbox/clients", [this](Request& request) {
    auto body = ParseJsonBody(request);
    if (!body.ok()) return ControlError(400, body.status().message());
    OAuthClient client;
    client.client_id = body->value("client_id", std::string());
    client.client_secret = body->value("client_secret", std::string());
    if (client.client_id.empty()) return ControlError(400, "client_id is required");
    for (const auto& uri : body->value("redirect_uris", sb::Json::array())) {
      if (uri.is_string()) client.redirect_uris.push_back(uri.get<std::string>());
    }
    identity_.PutClient(client);
    return Response::Json(
        201, {{"client_id", client.client_id}, {"redirect_uris", client.redirect_uris}});
  });
  add("POST", "/_sandbox/accounts/{id}/tokens", [this](Request& request) {
    auto body = ParseJsonBody(request);
    if (!body.ok()) return ControlError(400, body.status().message());
    auto account = identity_.FindAccount(*request.PathParam("id"));
    if (!account) account = identity_.FindAccountByEmail(*request.PathParam("id"));
    if (!account) return ControlError(404, "no such account");
    std::vector<std::string> scopes;
    for (const auto& s :
         body->value("scopes", sb::Json::array({"User.Read", "Calendars.ReadWrite"}))) {
      if (s.is_string()) scopes.push_back(s.get<std::string>());
    }
    const int64_t ttl = origin_.settings().Int("access_token_ttl_seconds");
    const std::string client_id = body->value("client_id", std::string("sandbox-direct"));
    const AccessToken token =
        identity_.IssueAccessToken("EwA", account->id, client_id, scopes, Now() + ttl * 1000);
    sb::Json out = {{"access_token", token.token},
                    {"token_type", "Bearer"},
                    {"expires_in", ttl},
                    {"scope", scopes}};
    // "offline": also a refresh token for client_id (as with the offline_access scope).
    if (body->value("offline", false)) {
      out["refresh_token"] =
          identity_.IssueRefreshToken("1.AX", account->id, client_id, scopes, Now()).token;
    }
    return Response::Json(201, out);
  });
  add("POST", "/_sandbox/accounts/{id}/seed", [this](Request& request) {
    auto body = ParseJsonBody(request);
    if (!body.ok()) return ControlError(400, body.status().message());
    const std::string id(*request.PathParam("id"));
    if (!identity_.FindAccount(id)) return ControlError(404, "no such account");
    const size_t count = body->value("events", 100);
    const size_t created = Seed(id, count, body->value("seed", 1));
    return Response::Json(200, {{"created", created}, {"total", events_.EventCount(id)}});
  });
  add("POST", "/_sandbox/actions/{name}", [this](Request& request) { return Action(request); });
}

Response MicrosoftSandbox::Action(Request& request) {
  auto parsed = ParseJsonBody(request);
  if (!parsed.ok()) return ControlError(400, parsed.status().message());
  const sb::Json& body = *parsed;
  const std::string name(*request.PathParam("name"));
  auto account_of = [&](const std::string& key) -> std::optional<Account> {
    const std::string text = body.value(key, std::string());
    if (text.empty()) return std::nullopt;
    auto account = identity_.FindAccount(text);
    return account ? account : identity_.FindAccountByEmail(text);
  };
  if (name == "revoke-refresh-tokens") {
    const auto account = account_of("account");
    if (!account) return ControlError(404, "no such account");
    return Response::Json(200, {{"revoked", identity_.RevokeAccount(account->id)}});
  }
  if (name == "expire-access-tokens") {
    const auto account = account_of("account");
    if (!account && body.contains("account")) return ControlError(404, "no such account");
    return Response::Json(
        200, {{"expired", identity_.ExpireAccessTokens(account ? account->id : "", Now())}});
  }
  if (name == "fail-next-refresh") {
    const int code = body.value("code", 70008);
    const int count = std::max(1, body.value("count", 1));
    std::lock_guard<std::mutex> lock(refresh_failures_mu_);
    for (int i = 0; i < count; ++i) refresh_failures_.push_back(code);
    return Response::Json(200, {{"pending", refresh_failures_.size()}});
  }
  if (name == "delta-expire") {
    expired_before_.store(delta_epoch_.fetch_add(1) + 1);
    return Response::Json(200, {{"epoch", delta_epoch_.load()}});
  }
  if (name == "delta-reset") {
    reset_before_.store(delta_epoch_.fetch_add(1) + 1);
    return Response::Json(200, {{"epoch", delta_epoch_.load()}});
  }
  if (name == "send-lifecycle") {
    const std::string event = body.value("event", std::string("reauthorizationRequired"));
    if (event != "reauthorizationRequired" && event != "subscriptionRemoved" && event != "missed") {
      return ControlError(400,
                          "event must be reauthorizationRequired, subscriptionRemoved or missed");
    }
    if (!SendLifecycle(body.value("subscription_id", std::string()), event)) {
      return ControlError(404, "no such subscription with a lifecycleNotificationUrl");
    }
    return Response::Json(202, {{"sent", event}});
  }
  if (name == "mutate") {
    const auto account = account_of("account");
    if (!account) return ControlError(404, "no such account");
    return Response::Json(200,
                          Mutate(account->id, body.value("creates", 1), body.value("updates", 1),
                                 body.value("deletes", 1), body.value("seed", uint64_t{1})));
  }
  return ControlError(404, "unknown action: " + name);
}

}  // namespace sandbox::microsoft
