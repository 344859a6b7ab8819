#include "sandbox/google/calendar_store.h"

#include <algorithm>
#include <set>

#include "sandbox/core/identity.h"

#include "sb/base/encoding.h"
#include "sb/caltime/recurrence.h"

namespace sandbox::google {
namespace {

constexpr int64_t kMaxInstancesPerSeries = 730;
constexpr int64_t kFarFuture = 4'102'444'800'000;  // 2100-01-01
constexpr std::string_view kBase32Hex = "0123456789abcdefghijklmnopqrstuv";

GoogleError Invalid(std::string message, std::string reason = "invalid") {
  return {400, "global", std::move(reason), std::move(message)};
}

bool IsBase32HexId(std::string_view id) {
  if (id.size() < 5 || id.size() > 1024) return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return kBase32Hex.find(c) != std::string_view::npos; });
}

std::string NewEventId() {
  const std::string random = RandomToken(20);
  std::string id;
  for (const char c : random) id.push_back(kBase32Hex[static_cast<unsigned char>(c) % 32]);
  return id.substr(0, 26);
}

std::string Etag(uint64_t seq) { return "\"" + std::to_string(3'400'000'000'000'000 + seq) + "\""; }

// A parsed EventDateTime ({date} or {dateTime[, timeZone]}).
std::variant<sb::caltime::EventTime, GoogleError> ParseEventTime(const sb::Json& json,
                                                                 std::string_view which) {
  if (!json.is_object()) return Invalid("Missing " + std::string(which) + " time.", "required");
  sb::caltime::EventTime out;
  if (json.contains("timeZone") && json["timeZone"].is_string()) {
    out.time_zone = json["timeZone"].get<std::string>();
    if (!sb::caltime::IsKnownZone(out.time_zone)) {
      return Invalid("Invalid time zone definition for " + std::string(which) + " time.",
                     "timeZoneInvalid");
    }
  }
  if (json.contains("date") && json["date"].is_string()) {
    auto date = sb::caltime::ParseDate(json["date"].get<std::string>());
    if (!date.ok()) return Invalid("Invalid " + std::string(which) + " date.");
    out.all_day = true;
    out.date = json["date"].get<std::string>();
    out.utc_ms = *date;
    return out;
  }
  if (!json.contains("dateTime") || !json["dateTime"].is_string()) {
    return Invalid("Missing " + std::string(which) + " time.", "required");
  }
  const std::string text = json["dateTime"].get<std::string>();
  auto instant = sb::caltime::ParseRfc3339(text);
  if (!instant.ok() && !out.time_zone.empty())
    instant = sb::caltime::LocalToUtc(text, out.time_zone);
  if (!instant.ok()) return Invalid("Invalid " + std::string(which) + " time.");
  out.utc_ms = *instant;
  return out;
}

sb::Json RenderTime(const sb::caltime::EventTime& time, const std::string& fallback_zone,
                    const std::string& override_zone) {
  if (time.all_day) return {{"date", time.date}};
  const std::string& zone = !override_zone.empty()    ? override_zone
                            : !time.time_zone.empty() ? time.time_zone
                                                      : fallback_zone;
  auto text = sb::caltime::FormatRfc3339InZone(time.utc_ms, zone);
  sb::Json out = {{"dateTime", text.ok() ? *text : sb::caltime::FormatUtcMillis(time.utc_ms)}};
  if (!time.time_zone.empty()) out["timeZone"] = time.time_zone;
  return out;
}

sb::caltime::EventTime AddMillis(sb::caltime::EventTime time, int64_t ms) {
  time.utc_ms += ms;
  if (time.all_day) time.date = sb::caltime::FormatDate(time.utc_ms);
  return time;
}

bool MatchesText(const sb::Json& resource, const std::string& q) {
  if (q.empty()) return true;
  for (const char* field : {"summary", "description", "location"}) {
    const auto it = resource.find(field);
    if (it != resource.end() && it->is_string() &&
        it->get_ref<const std::string&>().find(q) != std::string::npos) {
      return true;
    }
  }
  return false;
}

bool MatchesProperties(const sb::Json& resource, const char* scope,
                       const std::vector<std::pair<std::string, std::string>>& wanted) {
  for (const auto& [name, value] : wanted) {
    const sb::Json* props = nullptr;
    if (resource.contains("extendedProperties") && resource["extendedProperties"].contains(scope)) {
      props = &resource["extendedProperties"][scope];
    }
    if (!props || !props->contains(name) || (*props)[name] != value) return false;
  }
  return true;
}

// Tokens are base64url JSON: opaque to clients, URL-safe, cheap to check.
std::string EncodeToken(const sb::Json& json) { return sb::Base64UrlEncode(json.dump()); }

std::optional<sb::Json> DecodeToken(std::string_view token) {
  const auto raw = sb::Base64UrlDecode(token);
  if (!raw) return std::nullopt;
  sb::Json json = sb::Json::parse(*raw, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return std::nullopt;
  return json;
}

GoogleError EventNotFound() { return {404, "global", "notFound", "Not Found"}; }

GoogleError FullSyncRequired() {
  return {410,
          "calendar",
          "fullSyncRequired",
          "Sync token is no longer valid, a full sync is required.",
          "parameter",
          "syncToken"};
}

// The slot of `series` whose instance-id suffix is `suffix` ("20240513T080000Z" or
// "20240513"), found by expanding only the days around the time the suffix names.
std::optional<sb::caltime::EventTime> SlotForSuffix(const CalendarStore::Event& series,
                                                    std::string_view suffix) {
  sb::Result<int64_t> at = sb::InvalidArgumentError("bad suffix");
  if (suffix.size() == 8) {
    at = sb::caltime::ParseDate(std::string(suffix.substr(0, 4)) + "-" +
                                std::string(suffix.substr(4, 2)) + "-" +
                                std::string(suffix.substr(6, 2)));
  } else if (suffix.size() == 16 && suffix[8] == 'T' && suffix[15] == 'Z') {
    at = sb::caltime::ParseRfc3339(
        std::string(suffix.substr(0, 4)) + "-" + std::string(suffix.substr(4, 2)) + "-" +
        std::string(suffix.substr(6, 2)) + "T" + std::string(suffix.substr(9, 2)) + ":" +
        std::string(suffix.substr(11, 2)) + ":" + std::string(suffix.substr(13, 2)) + "Z");
  }
  if (!at.ok()) return std::nullopt;
  constexpr int64_t kTwoDays = 2 * 86'400'000;
  auto starts = sb::caltime::ExpandRecurrence(series.start, series.recurrence, *at - kTwoDays,
                                              *at + kTwoDays, 16);
  if (!starts.ok()) return std::nullopt;
  for (const sb::caltime::EventTime& slot : *starts) {
    if (sb::caltime::InstanceIdSuffix(slot) == suffix) return slot;
  }
  return std::nullopt;
}

}  // namespace

namespace {

// The sparse form of a cancelled event, as incremental results carry it.
std::string Tombstone(const sb::Json& resource) {
  sb::Json out = {{"kind", "calendar#event"},
                  {"etag", resource.value("etag", "")},
                  {"id", resource.value("id", "")},
                  {"status", "cancelled"}};
  if (resource.contains("recurringEventId")) {
    out["recurringEventId"] = resource["recurringEventId"];
    out["originalStartTime"] = resource["originalStartTime"];
  }
  return out.dump();
}

}  // namespace

std::string CalendarStore::Key(const std::string& account_id, const std::string& calendar_id) {
  return account_id + "\n" + calendar_id;
}

CalendarStore::Data* CalendarStore::Find(const CalendarInfo& calendar) {
  const auto it = calendars_.find(Key(calendar.account_id, calendar.id));
  return it == calendars_.end() ? nullptr : &it->second;
}

const CalendarStore::Data* CalendarStore::Find(const CalendarInfo& calendar) const {
  const auto it = calendars_.find(Key(calendar.account_id, calendar.id));
  return it == calendars_.end() ? nullptr : &it->second;
}

void CalendarStore::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  calendars_.clear();
  ++epoch_;
}

void CalendarStore::AddCalendar(CalendarInfo info) {
  std::lock_guard<std::mutex> lock(mu_);
  Data& data = calendars_[Key(info.account_id, info.id)];
  data.info = std::move(info);
}

std::optional<CalendarInfo> CalendarStore::Calendar(const std::string& account_id,
                                                    const std::string& calendar_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = calendars_.find(Key(account_id, calendar_id));
  if (it == calendars_.end()) return std::nullopt;
  return it->second.info;
}

std::vector<CalendarInfo> CalendarStore::Calendars(const std::string& account_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<CalendarInfo> out;
  for (auto it = calendars_.lower_bound(account_id + "\n");
       it != calendars_.end() && it->second.info.account_id == account_id; ++it) {
    out.push_back(it->second.info);
  }
  std::stable_partition(out.begin(), out.end(), [](const CalendarInfo& c) { return c.primary; });
  return out;
}

sb::Json CalendarStore::CalendarListEntry(const CalendarInfo& info) const {
  sb::Json entry = {{"kind", "calendar#calendarListEntry"},
                    {"etag", "\"" + std::to_string(1'714'000'000'000 + info.id.size()) + "\""},
                    {"id", info.id},
                    {"summary", info.summary},
                    {"timeZone", info.time_zone},
                    {"colorId", info.color_id},
                    {"backgroundColor", info.background_color},
                    {"foregroundColor", "#000000"},
                    {"selected", true},
                    {"accessRole", info.access_role},
                    {"defaultReminders", {{{"method", "popup"}, {"minutes", 10}}}}};
  if (!info.description.empty()) entry["description"] = info.description;
  if (info.primary) entry["primary"] = true;
  return entry;
}

namespace {

// One row of a list page: an event or an expanded instance.
struct Row {
  int64_t start_ms = 0;
  std::string id;
  std::string json;
};

// The fields a client may not set.
void StripReadOnly(sb::Json& body) {
  for (const char* field : {"kind", "etag", "htmlLink", "created", "updated", "creator",
                            "organizer", "recurringEventId", "originalStartTime"}) {
    body.erase(field);
  }
}

}  // namespace

// Builds a stored event from a full resource body; `previous` is the event it replaces.
static std::variant<bool, GoogleError> Normalize(sb::Json& resource, const CalendarInfo& calendar,
                                                 sb::caltime::EventTime& start,
                                                 sb::caltime::EventTime& end,
                                                 std::vector<std::string>& recurrence) {
  auto parsed_start = ParseEventTime(resource.value("start", sb::Json()), "start");
  if (auto* error = std::get_if<GoogleError>(&parsed_start)) return *error;
  auto parsed_end = ParseEventTime(resource.value("end", sb::Json()), "end");
  if (auto* error = std::get_if<GoogleError>(&parsed_end)) return *error;
  start = std::get<sb::caltime::EventTime>(parsed_start);
  end = std::get<sb::caltime::EventTime>(parsed_end);
  if (start.all_day != end.all_day)
    return Invalid("Start and end times must either both be date or both be dateTime.");
  if (end.utc_ms < start.utc_ms || (start.all_day && end.utc_ms == start.utc_ms)) {
    return GoogleError{
        400,         "calendar", "timeRangeEmpty", "The specified time range is empty.",
        "parameter", "end"};
  }
  recurrence.clear();
  if (resource.contains("recurrence")) {
    if (!resource["recurrence"].is_array()) return Invalid("Invalid recurrence rule.");
    for (const auto& line : resource["recurrence"]) {
      if (!line.is_string()) return Invalid("Invalid recurrence rule.");
      recurrence.push_back(line.get<std::string>());
    }
    if (recurrence.empty()) resource.erase("recurrence");
  }
  if (!recurrence.empty()) {
    if (!start.all_day && start.time_zone.empty()) {
      return Invalid("Missing time zone definition for start time.", "required");
    }
    auto check = sb::caltime::ExpandRecurrence(start, recurrence, start.utc_ms, kFarFuture, 1);
    if (!check.ok()) return Invalid("Invalid recurrence rule.");
  }
  resource["start"] = RenderTime(start, calendar.time_zone, "");
  resource["end"] = RenderTime(end, calendar.time_zone, "");
  return true;
}

StoreResult CalendarStore::Insert(const CalendarInfo& calendar, const sb::Json& body,
                                  int64_t now_ms) {
  if (!body.is_object()) return Invalid("Parse Error", "parseError");
  sb::Json resource = body;
  StripReadOnly(resource);
  std::string id = resource.value("id", "");
  if (!id.empty() && !IsBase32HexId(id)) return Invalid("Invalid resource id value.");
  Event event;
  auto normalized = Normalize(resource, calendar, event.start, event.end, event.recurrence);
  if (auto* error = std::get_if<GoogleError>(&normalized)) return *error;
  std::lock_guard<std::mutex> lock(mu_);
  Data* data = Find(calendar);
  if (!data) return EventNotFound();
  if (id.empty()) id = NewEventId();
  if (data->events.count(id)) {
    return GoogleError{409, "global", "duplicate", "The requested identifier already exists."};
  }
  event.id = id;
  event.seq = ++seq_;
  event.master = !event.recurrence.empty();
  event.updated_ms = now_ms;
  const std::string stamp = sb::caltime::FormatUtcMillis(now_ms);
  resource["kind"] = "calendar#event";
  resource["etag"] = Etag(event.seq);
  resource["id"] = id;
  if (!resource.contains("status")) resource["status"] = "confirmed";
  event.cancelled = resource["status"] == "cancelled";
  resource["htmlLink"] =
      "https://www.google.com/calendar/event?eid=" + sb::Base64UrlEncode(id + " " + calendar.id);
  resource["created"] = stamp;
  resource["updated"] = stamp;
  resource["creator"] = {{"email", calendar.account_id == calendar.id ? calendar.id : calendar.id},
                         {"self", true}};
  resource["organizer"] = {{"email", calendar.id}, {"self", true}};
  if (!resource.contains("iCalUID")) resource["iCalUID"] = id + "@google.com";
  if (!resource.contains("sequence")) resource["sequence"] = 0;
  if (!resource.contains("reminders")) resource["reminders"] = {{"useDefault", true}};
  if (!resource.contains("eventType")) resource["eventType"] = "default";
  event.resource = std::move(resource);
  event.serialized = event.resource.dump(-1, ' ', false, sb::Json::error_handler_t::replace);
  std::string out = event.serialized;
  data->changes[event.seq] = id;
  data->updated_ms = now_ms;
  data->events.emplace(id, std::move(event));
  return out;
}

namespace {

std::string Serialize(const sb::Json& json) {
  return json.dump(-1, ' ', false, sb::Json::error_handler_t::replace);
}

// The list envelope with `rows` spliced in as items (rows are already serialized).
std::string Envelope(const CalendarInfo& calendar, int64_t updated_ms, uint64_t etag_seq,
                     const std::string& time_zone, const std::vector<std::string>& rows,
                     const std::string& next_page, const std::string& next_sync) {
  sb::Json meta = {{"kind", "calendar#events"},
                   {"etag", Etag(etag_seq)},
                   {"summary", calendar.summary},
                   {"description", calendar.description},
                   {"updated", sb::caltime::FormatUtcMillis(updated_ms)},
                   {"timeZone", time_zone.empty() ? calendar.time_zone : time_zone},
                   {"accessRole", calendar.access_role},
                   {"defaultReminders", {{{"method", "popup"}, {"minutes", 10}}}}};
  if (!next_page.empty()) meta["nextPageToken"] = next_page;
  if (!next_sync.empty()) meta["nextSyncToken"] = next_sync;
  std::string out = Serialize(meta);
  out.pop_back();
  size_t total = out.size() + 16;
  for (const std::string& row : rows) total += row.size() + 1;
  out.reserve(total);
  out += ",\"items\":[";
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += rows[i];
  }
  out += "]}";
  return out;
}

}  // namespace

namespace {

using Event = CalendarStore::Event;
using Data = CalendarStore::Data;

std::string Render(const Event& event, const CalendarInfo& calendar, const std::string& zone) {
  if (zone.empty()) return event.serialized;
  sb::Json copy = event.resource;
  if (copy.contains("start")) copy["start"] = RenderTime(event.start, calendar.time_zone, zone);
  if (copy.contains("end")) copy["end"] = RenderTime(event.end, calendar.time_zone, zone);
  if (copy.contains("originalStartTime")) {
    copy["originalStartTime"] = RenderTime(event.original_start, calendar.time_zone, zone);
  }
  return Serialize(copy);
}

bool InWindow(int64_t start_ms, int64_t end_ms, const ListQuery& query) {
  if (query.time_min_ms && end_ms <= *query.time_min_ms) return false;
  if (query.time_max_ms && start_ms >= *query.time_max_ms) return false;
  return true;
}

// Filters other than status and time.
bool MatchesFilters(const Event& event, const ListQuery& query) {
  if (!MatchesText(event.resource, query.q)) return false;
  if (!query.ical_uid.empty() && event.resource.value("iCalUID", "") != query.ical_uid) {
    return false;
  }
  if (!MatchesProperties(event.resource, "private", query.private_properties)) return false;
  if (!MatchesProperties(event.resource, "shared", query.shared_properties)) return false;
  if (query.updated_min_ms && event.updated_ms < *query.updated_min_ms) return false;
  if (!query.event_types.empty() &&
      std::find(query.event_types.begin(), query.event_types.end(),
                event.resource.value("eventType", "default")) == query.event_types.end()) {
    return false;
  }
  return true;
}

// Whether a series has an instance overlapping the query window.
bool SeriesInWindow(const Event& series, const ListQuery& query) {
  if (!query.time_min_ms && !query.time_max_ms) return true;
  const int64_t duration = series.end.utc_ms - series.start.utc_ms;
  const int64_t from = query.time_min_ms ? *query.time_min_ms - duration : series.start.utc_ms;
  const int64_t to = query.time_max_ms ? *query.time_max_ms : kFarFuture;
  auto starts = sb::caltime::ExpandRecurrence(series.start, series.recurrence,
                                              std::max(from, series.start.utc_ms - 1), to, 1);
  return starts.ok() && !starts->empty();
}

// The instances of `series` (without the slots that have exceptions of their own), each
// rendered as its own event.
std::vector<std::pair<int64_t, std::string>> ExpandSeries(const Event& series, const Data& data,
                                                          const ListQuery& query, bool tombstones) {
  std::vector<std::pair<int64_t, std::string>> rows;
  const int64_t duration = series.end.utc_ms - series.start.utc_ms;
  const int64_t from = query.time_min_ms ? *query.time_min_ms - duration : series.start.utc_ms;
  const int64_t to = query.time_max_ms ? *query.time_max_ms : kFarFuture;
  auto starts = sb::caltime::ExpandRecurrence(series.start, series.recurrence,
                                              std::max(from, series.start.utc_ms), to,
                                              kMaxInstancesPerSeries);
  if (!starts.ok()) return rows;
  const CalendarInfo& calendar = data.info;
  sb::Json base = series.resource;
  base.erase("recurrence");
  for (const sb::caltime::EventTime& slot : *starts) {
    const std::string id = series.id + "_" + sb::caltime::InstanceIdSuffix(slot);
    if (data.events.count(id)) continue;  // the exception speaks for this slot
    if (!InWindow(slot.utc_ms, slot.utc_ms + duration, query)) continue;
    sb::Json instance;
    if (tombstones) {
      instance = {{"kind", "calendar#event"},
                  {"etag", series.resource.value("etag", "")},
                  {"id", id},
                  {"status", "cancelled"},
                  {"recurringEventId", series.id},
                  {"originalStartTime", RenderTime(slot, calendar.time_zone, query.time_zone)}};
    } else {
      instance = base;
      instance["id"] = id;
      instance["recurringEventId"] = series.id;
      instance["originalStartTime"] = RenderTime(slot, calendar.time_zone, query.time_zone);
      instance["start"] = RenderTime(slot, calendar.time_zone, query.time_zone);
      instance["end"] = RenderTime(AddMillis(slot, duration), calendar.time_zone, query.time_zone);
    }
    rows.emplace_back(slot.utc_ms, Serialize(instance));
  }
  return rows;
}

// Rows for the single-events view of a full listing: expanded series plus stand-alone events
// and exceptions.
std::vector<Row> SingleEventRows(const Data& data, const ListQuery& query) {
  std::vector<Row> rows;
  for (const auto& [id, event] : data.events) {
    if (!MatchesFilters(event, query)) continue;
    if (event.master) {
      if (event.cancelled) continue;
      for (auto& [start, json] : ExpandSeries(event, data, query, false)) {
        rows.push_back({start, json.substr(0, 0), std::move(json)});
      }
      continue;
    }
    if (event.cancelled && !query.show_deleted) continue;
    if (!event.cancelled && !InWindow(event.start.utc_ms, event.end.utc_ms, query)) continue;
    rows.push_back(
        {event.start.utc_ms, id,
         event.cancelled ? Tombstone(event.resource) : Render(event, data.info, query.time_zone)});
  }
  if (query.order_by_start) {
    std::stable_sort(rows.begin(), rows.end(),
                     [](const Row& a, const Row& b) { return a.start_ms < b.start_ms; });
  }
  return rows;
}

}  // namespace

StoreResult CalendarStore::List(const CalendarInfo& calendar, const ListQuery& query) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Data* data = Find(calendar);
  if (!data) return EventNotFound();
  const std::string key = Key(calendar.account_id, calendar.id);
  const std::string key_hash = sb::Base64UrlEncode(Sha256(key).substr(0, 6));

  std::optional<sb::Json> page;
  if (!query.page_token.empty()) {
    page = DecodeToken(query.page_token);
    if (!page || page->value("k", "") != key_hash) {
      return GoogleError{400,         "global",   "invalid", "Invalid page token value.",
                         "parameter", "pageToken"};
    }
    if (page->value("e", uint64_t{0}) != epoch_ ||
        page->value("n", uint64_t{0}) < data->min_valid_seq) {
      return FullSyncRequired();
    }
  }
  const bool sync = !query.sync_token.empty();
  uint64_t from_seq = 0;
  if (sync) {
    const auto token = DecodeToken(query.sync_token);
    if (!token || token->value("k", "") != key_hash) {
      return GoogleError{400,         "global",   "invalid", "Invalid sync token value.",
                         "parameter", "syncToken"};
    }
    const bool aged = query.sync_token_ttl_ms > 0 &&
                      query.now_ms - token->value("t", int64_t{0}) > query.sync_token_ttl_ms;
    if (token->value("e", uint64_t{0}) != epoch_ ||
        token->value("s", uint64_t{0}) < data->min_valid_seq || aged) {
      return FullSyncRequired();
    }
    from_seq = token->value("s", uint64_t{0});
  }
  const uint64_t snapshot = page ? page->value("n", seq_) : seq_;
  const size_t limit = std::max<size_t>(1, query.max_results);
  auto page_token = [&](sb::Json position) {
    position["k"] = key_hash;
    position["n"] = snapshot;
    position["e"] = epoch_;
    position["x"] = 1;
    return EncodeToken(position);
  };
  const std::string sync_token =
      EncodeToken({{"k", key_hash}, {"s", snapshot}, {"e", epoch_}, {"t", query.now_ms}});

  if (query.empty_first_page && !page) {
    sb::Json position = sync ? sb::Json{{"a", from_seq}} : sb::Json{{"a", ""}, {"o", 0}};
    return Envelope(calendar, data->updated_ms, snapshot, query.time_zone, {}, page_token(position),
                    "");
  }

  std::vector<std::string> rows;
  if (sync) {
    uint64_t after = page ? page->value("a", from_seq) : from_seq;
    auto it = data->changes.upper_bound(after);
    for (; it != data->changes.end() && it->first <= snapshot && rows.size() < limit; ++it) {
      const Event& event = data->events.at(it->second);
      after = it->first;
      if (!MatchesFilters(event, ListQuery{.event_types = query.event_types})) continue;
      if (query.single_events && event.master) {
        for (auto& [start, json] : ExpandSeries(event, *data, ListQuery{}, event.cancelled)) {
          rows.push_back(std::move(json));
        }
        continue;
      }
      rows.push_back(event.cancelled ? Tombstone(event.resource)
                                     : Render(event, calendar, query.time_zone));
    }
    const bool more = it != data->changes.end() && it->first <= snapshot;
    return Envelope(calendar, data->updated_ms, snapshot, query.time_zone, rows,
                    more ? page_token({{"a", after}}) : "", more ? "" : sync_token);
  }

  if (query.single_events) {
    const std::vector<Row> all = SingleEventRows(*data, query);
    const size_t offset = page ? page->value("o", size_t{0}) : 0;
    for (size_t i = offset; i < all.size() && rows.size() < limit; ++i) rows.push_back(all[i].json);
    const size_t next = offset + rows.size();
    const bool more = next < all.size();
    return Envelope(calendar, data->updated_ms, snapshot, query.time_zone, rows,
                    more ? page_token({{"o", next}}) : "", more ? "" : sync_token);
  }

  const std::string after = page ? page->value("a", "") : "";
  auto it = after.empty() ? data->events.begin() : data->events.upper_bound(after);
  std::string last;
  for (; it != data->events.end() && rows.size() < limit; ++it) {
    const Event& event = it->second;
    last = it->first;
    if (!MatchesFilters(event, query)) continue;
    if (event.cancelled) {
      // Deleted events only with showDeleted (or updatedMin); cancelled occurrences of live
      // series always, as Google does when singleEvents is false.
      const bool occurrence = !event.recurring_event_id.empty();
      if (!query.show_deleted && !query.updated_min_ms && !occurrence) continue;
      if (occurrence &&
          !InWindow(event.original_start.utc_ms, event.original_start.utc_ms + 1, query)) {
        continue;
      }
      rows.push_back(Tombstone(event.resource));
      continue;
    }
    const bool visible = event.master ? SeriesInWindow(event, query)
                                      : InWindow(event.start.utc_ms, event.end.utc_ms, query);
    if (visible) rows.push_back(Render(event, calendar, query.time_zone));
  }
  const bool more = it != data->events.end();
  return Envelope(calendar, data->updated_ms, snapshot, query.time_zone, rows,
                  more ? page_token({{"a", last}}) : "", more ? "" : sync_token);
}

StoreResult CalendarStore::Instances(const CalendarInfo& calendar, const std::string& event_id,
                                     const ListQuery& query) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Data* data = Find(calendar);
  if (!data) return EventNotFound();
  const auto it = data->events.find(event_id);
  if (it == data->events.end() || !it->second.master) return EventNotFound();
  if (it->second.cancelled) {
    return GoogleError{410, "global", "deleted", "Resource has been deleted"};
  }
  std::vector<Row> all;
  for (auto& [start, json] : ExpandSeries(it->second, *data, query, false)) {
    all.push_back({start, "", std::move(json)});
  }
  for (const auto& [id, event] : data->events) {
    if (event.recurring_event_id != event_id) continue;
    if (event.cancelled && !query.show_deleted) continue;
    const int64_t start = event.cancelled ? event.original_start.utc_ms : event.start.utc_ms;
    all.push_back(
        {start, id,
         event.cancelled ? Tombstone(event.resource) : Render(event, calendar, query.time_zone)});
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const Row& a, const Row& b) { return a.start_ms < b.start_ms; });
  size_t offset = 0;
  if (!query.page_token.empty()) {
    const auto page = DecodeToken(query.page_token);
    if (!page) {
      return GoogleError{400,         "global",   "invalid", "Invalid page token value.",
                         "parameter", "pageToken"};
    }
    offset = page->value("o", size_t{0});
  }
  std::vector<std::string> rows;
  const size_t limit = std::max<size_t>(1, query.max_results);
  for (size_t i = offset; i < all.size() && rows.size() < limit; ++i) rows.push_back(all[i].json);
  const bool more = offset + rows.size() < all.size();
  return Envelope(calendar, data->updated_ms, seq_, query.time_zone, rows,
                  more ? EncodeToken({{"o", offset + rows.size()}}) : "", "");
}

namespace {

// Stores `event` under a new change sequence and re-serializes it.
void Commit(Data& data, Event& event, uint64_t seq, int64_t now_ms) {
  if (event.seq != 0) data.changes.erase(event.seq);
  event.seq = seq;
  event.updated_ms = now_ms;
  event.resource["etag"] = Etag(seq);
  event.resource["updated"] = sb::caltime::FormatUtcMillis(now_ms);
  event.cancelled = event.resource.value("status", "confirmed") == "cancelled";
  event.serialized = Serialize(event.resource);
  data.changes[seq] = event.id;
  data.updated_ms = now_ms;
}

// An instance of a series, as a standalone resource (the base of a new exception).
std::optional<Event> InstanceOf(const Data& data, const std::string& instance_id) {
  const size_t underscore = instance_id.rfind('_');
  if (underscore == std::string::npos) return std::nullopt;
  const auto master = data.events.find(instance_id.substr(0, underscore));
  if (master == data.events.end() || !master->second.master || master->second.cancelled) {
    return std::nullopt;
  }
  const Event& series = master->second;
  const auto found = SlotForSuffix(series, instance_id.substr(underscore + 1));
  if (found) {
    const sb::caltime::EventTime& slot = *found;
    Event event;
    event.id = instance_id;
    event.recurring_event_id = series.id;
    event.original_start = slot;
    event.start = slot;
    event.end = AddMillis(slot, series.end.utc_ms - series.start.utc_ms);
    event.resource = series.resource;
    event.resource.erase("recurrence");
    event.resource["id"] = instance_id;
    event.resource["recurringEventId"] = series.id;
    event.resource["originalStartTime"] = RenderTime(slot, data.info.time_zone, "");
    event.resource["start"] = RenderTime(event.start, data.info.time_zone, "");
    event.resource["end"] = RenderTime(event.end, data.info.time_zone, "");
    return event;
  }
  return std::nullopt;
}

GoogleError PreconditionFailed() {
  return {412, "global", "conditionNotMet", "Precondition Failed", "header", "If-Match"};
}

}  // namespace

StoreResult CalendarStore::Write(const CalendarInfo& calendar, const std::string& event_id,
                                 const sb::Json& body, bool replace, const std::string& if_match,
                                 int64_t now_ms) {
  if (!body.is_object()) return Invalid("Parse Error", "parseError");
  sb::Json patch = body;
  StripReadOnly(patch);
  patch.erase("id");
  std::lock_guard<std::mutex> lock(mu_);
  Data* data = Find(calendar);
  if (!data) return EventNotFound();
  auto it = data->events.find(event_id);
  Event updated;
  if (it == data->events.end()) {
    auto instance = InstanceOf(*data, event_id);
    if (!instance) return EventNotFound();
    updated = std::move(*instance);
  } else {
    updated = it->second;
  }
  if (!if_match.empty() && if_match != "*" && if_match != updated.resource.value("etag", "")) {
    return PreconditionFailed();
  }
  const sb::Json before = updated.resource;
  if (replace) {
    sb::Json kept = sb::Json::object();
    for (const char* field : {"kind", "id", "htmlLink", "created", "creator", "organizer",
                              "iCalUID", "recurringEventId", "originalStartTime", "eventType"}) {
      if (before.contains(field)) kept[field] = before[field];
    }
    updated.resource = patch;
    updated.resource.update(kept);
    if (!updated.resource.contains("status")) updated.resource["status"] = "confirmed";
    if (!updated.resource.contains("reminders")) {
      updated.resource["reminders"] = {{"useDefault", true}};
    }
  } else {
    updated.resource.merge_patch(patch);
  }
  if (updated.resource.value("eventType", "default") != before.value("eventType", "default")) {
    return Invalid("The event type cannot be changed.", "eventTypeRestriction");
  }
  auto normalized =
      Normalize(updated.resource, calendar, updated.start, updated.end, updated.recurrence);
  if (auto* error = std::get_if<GoogleError>(&normalized)) return *error;
  if (!updated.recurring_event_id.empty() && !updated.recurrence.empty()) {
    return Invalid("Cannot add recurrence to an instance of a recurring event.");
  }
  const bool timing_changed =
      before.value("start", sb::Json()) != updated.resource["start"] ||
      before.value("end", sb::Json()) != updated.resource["end"] ||
      before.value("recurrence", sb::Json()) != updated.resource.value("recurrence", sb::Json());
  if (timing_changed) updated.resource["sequence"] = before.value("sequence", 0) + 1;
  const bool was_master = updated.master;
  updated.master = !updated.recurrence.empty();
  Commit(*data, updated, ++seq_, now_ms);
  std::string out = updated.serialized;
  const std::string id = updated.id;
  data->events[id] = std::move(updated);
  // Changing a series' timing discards its exceptions (they come back as cancelled).
  if (was_master && timing_changed) {
    for (auto& [other_id, other] : data->events) {
      if (other.recurring_event_id == id && !other.cancelled) {
        other.resource["status"] = "cancelled";
        Commit(*data, other, ++seq_, now_ms);
      }
    }
  }
  return out;
}

StoreResult CalendarStore::Delete(const CalendarInfo& calendar, const std::string& event_id,
                                  const std::string& if_match, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  Data* data = Find(calendar);
  if (!data) return EventNotFound();
  auto it = data->events.find(event_id);
  if (it == data->events.end()) {
    auto instance = InstanceOf(*data, event_id);
    if (!instance) return EventNotFound();
    it = data->events.emplace(event_id, std::move(*instance)).first;
  } else if (it->second.cancelled) {
    return GoogleError{410, "global", "deleted", "Resource has been deleted"};
  }
  Event& event = it->second;
  if (!if_match.empty() && if_match != "*" && if_match != event.resource.value("etag", "")) {
    return PreconditionFailed();
  }
  event.resource["status"] = "cancelled";
  Commit(*data, event, ++seq_, now_ms);
  if (event.master) {
    for (auto& [other_id, other] : data->events) {
      if (other.recurring_event_id == event_id && !other.cancelled) {
        other.resource["status"] = "cancelled";
        Commit(*data, other, ++seq_, now_ms);
      }
    }
  }
  return std::string();
}

void CalendarStore::InvalidateSyncTokens(const CalendarInfo* calendar) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!calendar) {
    ++epoch_;
    return;
  }
  if (Data* data = Find(*calendar)) data->min_valid_seq = seq_ + 1;
}

size_t CalendarStore::PurgeTombstones(int64_t before_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t purged = 0;
  for (auto& [key, data] : calendars_) {
    for (auto it = data.events.begin(); it != data.events.end();) {
      if (it->second.cancelled && it->second.updated_ms < before_ms) {
        data.changes.erase(it->second.seq);
        it = data.events.erase(it);
        ++purged;
      } else {
        ++it;
      }
    }
    // Tokens from before the purge could miss the forgotten deletions.
    data.min_valid_seq = seq_ + 1;
  }
  return purged;
}

size_t CalendarStore::EventCount(const CalendarInfo& calendar) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Data* data = Find(calendar);
  return data ? data->events.size() : 0;
}

std::vector<std::string> CalendarStore::LiveEventIds(const CalendarInfo& calendar,
                                                     size_t limit) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  const Data* data = Find(calendar);
  if (!data) return out;
  for (const auto& [id, event] : data->events) {
    if (out.size() >= limit) break;
    if (!event.cancelled) out.push_back(id);
  }
  return out;
}

StoreResult CalendarStore::Get(const CalendarInfo& calendar, const std::string& event_id,
                               const std::string& time_zone,
                               const std::string& if_none_match) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Data* data = Find(calendar);
  if (!data) return EventNotFound();
  const auto it = data->events.find(event_id);
  if (it != data->events.end()) {
    if (!if_none_match.empty() && if_none_match == it->second.resource.value("etag", "")) {
      return GoogleError{304, "", "", ""};
    }
    return Render(it->second, calendar, time_zone);
  }
  // An instance of a series that has no exception of its own.
  const std::optional<Event> instance = InstanceOf(*data, event_id);
  if (!instance) return EventNotFound();
  return time_zone.empty() ? Serialize(instance->resource) : Render(*instance, calendar, time_zone);
}

}  // namespace sandbox::google
