#include "sb/sync/calendar/sources.h"

#include <utility>

#include "sb/base/encoding.h"
#include "sb/caltime/caltime.h"

namespace sb::sync::calendar {
namespace {

constexpr int kMaxCalendarPages = 20;
constexpr int kGooglePageSize = 500;
constexpr char kGraphPageSize[] = "odata.maxpagesize=200";
// Graph's calendarView delta needs a window; the full round fixes it in its links.
constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kGraphPastDays = 365;
constexpr int64_t kGraphFutureDays = 2 * 365;

ProviderError BadAnswer(std::string message) {
  return ProviderError{ProviderFailure::kBadAnswer, std::move(message), std::nullopt};
}

// A string member, or "" when absent; false when present with another type.
bool OptionalString(const Json& object, const char* name, std::string& out) {
  out.clear();
  if (!object.contains(name) || object[name].is_null()) return true;
  if (!object[name].is_string()) return false;
  out = object[name].get<std::string>();
  return true;
}

Fetched<std::vector<Json>> Items(const Json& page, const char* member) {
  if (!page.contains(member)) return std::vector<Json>{};
  if (!page[member].is_array()) return BadAnswer(std::string("'") + member + "' is not an array");
  return page[member].get<std::vector<Json>>();
}

void Translate(const std::vector<Json>& items, EventPage& page,
               const std::function<Result<EventChange>(const Json&)>& translate) {
  for (const Json& item : items) {
    auto change = translate(item);
    if (change.ok()) {
      page.items.push_back(std::move(*change));
    } else {
      page.skipped.push_back(change.status().message());
    }
  }
}

class GoogleSource final : public CalendarSource {
 public:
  explicit GoogleSource(ProviderClient& client) : client_(client) {}

  Fetched<std::vector<Calendar>> ListCalendars(const TenantId& tenant,
                                               const ConnectionId& connection) override {
    auto base = client_.BaseUrl("google");
    if (!base.ok()) return BadAnswer(base.status().message());
    std::vector<Calendar> out;
    std::string token;
    for (int i = 0; i < kMaxCalendarPages; ++i) {
      std::string url = *base + "/calendar/v3/users/me/calendarList?maxResults=250";
      if (!token.empty()) url += "&pageToken=" + PercentEncode(token);
      Fetched<Json> page = client_.Get(tenant, connection, url);
      if (const ProviderError* e = FailureOf(page)) return *e;
      const Json& body = std::get<Json>(page);
      Fetched<std::vector<Json>> items = Items(body, "items");
      if (const ProviderError* e = FailureOf(items)) return *e;
      for (const Json& item : std::get<std::vector<Json>>(items)) {
        auto calendar = CalendarFromGoogle(item);
        if (calendar.ok()) out.push_back(std::move(*calendar));
      }
      if (!OptionalString(body, "nextPageToken", token)) return BadAnswer("bad nextPageToken");
      if (token.empty()) return out;
    }
    return BadAnswer("the calendar list has too many pages");
  }

  Fetched<EventPage> FetchEvents(const TenantId& tenant, const ConnectionId& connection,
                                 const Calendar& calendar, const PagePosition& position) override {
    auto base = client_.BaseUrl("google");
    if (!base.ok()) return BadAnswer(base.status().message());
    // The same query on every page of a round (3.4), deleted items included.
    std::string url = *base + "/calendar/v3/calendars/" + PercentEncode(calendar.provider_id) +
                      "/events?maxResults=" + std::to_string(kGooglePageSize) + "&showDeleted=true";
    if (!position.cursor.empty()) url += "&syncToken=" + PercentEncode(position.cursor);
    if (!position.page.empty()) url += "&pageToken=" + PercentEncode(position.page);
    Fetched<Json> fetched = client_.Get(tenant, connection, url);
    if (const ProviderError* e = FailureOf(fetched)) return *e;
    const Json& body = std::get<Json>(fetched);
    Fetched<std::vector<Json>> items = Items(body, "items");
    if (const ProviderError* e = FailureOf(items)) return *e;
    EventPage page;
    std::string zone;
    if (!OptionalString(body, "timeZone", zone)) return BadAnswer("bad timeZone");
    if (zone.empty()) zone = calendar.time_zone;
    Translate(std::get<std::vector<Json>>(items), page,
              [&](const Json& item) { return EventFromGoogle(item, zone); });
    if (!OptionalString(body, "nextPageToken", page.next_page) ||
        !OptionalString(body, "nextSyncToken", page.cursor)) {
      return BadAnswer("bad page or sync token");
    }
    if (page.next_page.empty() && page.cursor.empty()) {
      return BadAnswer("the last page carries no nextSyncToken");
    }
    return page;
  }

 private:
  ProviderClient& client_;
};

class GraphSource final : public CalendarSource {
 public:
  GraphSource(ProviderClient& client, const Clock& clock) : client_(client), clock_(clock) {}

  Fetched<std::vector<Calendar>> ListCalendars(const TenantId& tenant,
                                               const ConnectionId& connection) override {
    auto base = client_.BaseUrl("microsoft");
    if (!base.ok()) return BadAnswer(base.status().message());
    std::vector<Calendar> out;
    std::string url = *base + "/v1.0/me/calendars";
    for (int i = 0; i < kMaxCalendarPages; ++i) {
      Fetched<Json> page = client_.Get(tenant, connection, url);
      if (const ProviderError* e = FailureOf(page)) return *e;
      const Json& body = std::get<Json>(page);
      Fetched<std::vector<Json>> items = Items(body, "value");
      if (const ProviderError* e = FailureOf(items)) return *e;
      for (const Json& item : std::get<std::vector<Json>>(items)) {
        auto calendar = CalendarFromGraph(item);
        if (calendar.ok()) out.push_back(std::move(*calendar));
      }
      if (!OptionalString(body, "@odata.nextLink", url)) return BadAnswer("bad nextLink");
      if (url.empty()) return out;
    }
    return BadAnswer("the calendar list has too many pages");
  }

  Fetched<EventPage> FetchEvents(const TenantId& tenant, const ConnectionId& connection,
                                 const Calendar& calendar, const PagePosition& position) override {
    auto base = client_.BaseUrl("microsoft");
    if (!base.ok()) return BadAnswer(base.status().message());
    // Links are replayed verbatim (8.4); ProviderClient refuses one that leaves the API.
    std::string url = position.page.empty() ? position.cursor : position.page;
    if (url.empty()) url = FirstUrl(*base, calendar);
    Fetched<Json> fetched = client_.Get(tenant, connection, url, {{"Prefer", kGraphPageSize}});
    if (const ProviderError* e = FailureOf(fetched)) return *e;
    const Json& body = std::get<Json>(fetched);
    Fetched<std::vector<Json>> items = Items(body, "value");
    if (const ProviderError* e = FailureOf(items)) return *e;
    EventPage page;
    Translate(std::get<std::vector<Json>>(items), page,
              [](const Json& item) { return EventFromGraph(item); });
    if (!OptionalString(body, "@odata.nextLink", page.next_page) ||
        !OptionalString(body, "@odata.deltaLink", page.cursor)) {
      return BadAnswer("bad nextLink or deltaLink");
    }
    if (page.next_page.empty() && page.cursor.empty()) {
      return BadAnswer("the last page carries no deltaLink");
    }
    return page;
  }

 private:
  std::string FirstUrl(const std::string& base, const Calendar& calendar) const {
    const int64_t now =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
            .count();
    const int64_t day = now - now % kDayMs;
    return base + "/v1.0/me/calendars/" + PercentEncode(calendar.provider_id) +
           "/calendarView/delta?startDateTime=" +
           PercentEncode(caltime::FormatUtcMillis(day - kGraphPastDays * kDayMs)) +
           "&endDateTime=" +
           PercentEncode(caltime::FormatUtcMillis(day + kGraphFutureDays * kDayMs));
  }

  ProviderClient& client_;
  const Clock& clock_;
};

}  // namespace

std::unique_ptr<CalendarSource> MakeCalendarSource(std::string_view provider,
                                                   ProviderClient& client, const Clock& clock) {
  if (provider == "google") return std::make_unique<GoogleSource>(client);
  if (provider == "microsoft") return std::make_unique<GraphSource>(client, clock);
  return nullptr;
}

}  // namespace sb::sync::calendar
