// CalendarStore: Google Calendar data in memory, with the behaviour the sync code must meet:
// a store-wide change sequence (sync tokens are positions in it, page tokens carry the
// snapshot they started from so changes made while paging are not lost), sparse tombstones for
// deleted events and cancelled occurrences, recurring series expanded with libical
// (sb/caltime), exceptions stored as their own events, ETags that change on every write,
// and switches that invalidate sync tokens. Thread-safe (one mutex; events are kept serialized
// so that list pages are string concatenation).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "sandbox/google/google_errors.h"

#include "sb/base/json.h"
#include "sb/caltime/caltime.h"

namespace sandbox::google {

struct CalendarInfo {
  std::string account_id;
  std::string id;  // the primary calendar's id is the account's e-mail
  std::string summary;
  std::string description;
  std::string time_zone = "Europe/Zurich";
  bool primary = false;
  std::string color_id = "14";
  std::string background_color = "#9fe1e7";
  std::string access_role = "owner";
};

// The key push channels watch a calendar under ("<account id>/<calendar id>").
inline std::string ChannelKey(const CalendarInfo& calendar) {
  return calendar.account_id + "/" + calendar.id;
}

struct ListQuery {
  bool single_events = false;
  bool show_deleted = false;
  bool order_by_start = false;
  std::optional<int64_t> time_min_ms;
  std::optional<int64_t> time_max_ms;
  std::optional<int64_t> updated_min_ms;
  std::string q;
  std::string ical_uid;
  std::vector<std::pair<std::string, std::string>> private_properties;
  std::vector<std::pair<std::string, std::string>> shared_properties;
  std::vector<std::string> event_types;
  std::string sync_token;
  std::string page_token;
  size_t max_results = 250;
  std::string time_zone;          // render times in this zone instead of each event's own
  bool empty_first_page = false;  // fault: a page with no items but a nextPageToken first
  int64_t sync_token_ttl_ms = 0;  // 0: sync tokens do not age out
  int64_t now_ms = 0;
};

using StoreResult = std::variant<std::string, GoogleError>;  // serialized JSON or an error

// A busy span of freeBusy, [start_ms, end_ms).
struct BusyInterval {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  friend bool operator==(const BusyInterval&, const BusyInterval&) = default;
};

class CalendarStore {
 public:
  void Reset();

  void AddCalendar(CalendarInfo info);
  std::optional<CalendarInfo> Calendar(const std::string& account_id,
                                       const std::string& calendar_id) const;
  std::vector<CalendarInfo> Calendars(const std::string& account_id) const;
  // The calendarList entry / calendars resource JSON.
  sb::Json CalendarListEntry(const CalendarInfo& info) const;

  StoreResult List(const CalendarInfo& calendar, const ListQuery& query) const;
  StoreResult Instances(const CalendarInfo& calendar, const std::string& event_id,
                        const ListQuery& query) const;
  // Get answers 304 (as GoogleError code 304) when if_none_match equals the etag.
  StoreResult Get(const CalendarInfo& calendar, const std::string& event_id,
                  const std::string& time_zone, const std::string& if_none_match) const;
  StoreResult Insert(const CalendarInfo& calendar, const sb::Json& body, int64_t now_ms);
  // replace: PUT semantics (fields absent from body are cleared); else PATCH (merge).
  StoreResult Write(const CalendarInfo& calendar, const std::string& event_id, const sb::Json& body,
                    bool replace, const std::string& if_match, int64_t now_ms);
  // Empty string on success.
  StoreResult Delete(const CalendarInfo& calendar, const std::string& event_id,
                     const std::string& if_match, int64_t now_ms);

  // Invalidates every sync and page token of the calendar (all calendars when null).
  void InvalidateSyncTokens(const CalendarInfo* calendar);
  // Makes tombstones older than now visible-only-once: drops cancelled events whose last change
  // is older than `before_ms` (Google eventually forgets deletions).
  size_t PurgeTombstones(int64_t before_ms);

  // The calendar's busy time in [from_ms, to_ms), as freeBusy reports it (freebusy.cc): live,
  // opaque events and expanded series instances, all-day events as their days in the
  // calendar's zone, clipped to the window, sorted, overlapping and touching spans merged.
  std::vector<BusyInterval> Busy(const CalendarInfo& calendar, int64_t from_ms,
                                 int64_t to_ms) const;

  size_t EventCount(const CalendarInfo& calendar) const;
  // Event ids of a calendar that are live (not cancelled), for random user-side changes.
  std::vector<std::string> LiveEventIds(const CalendarInfo& calendar, size_t limit) const;

  // Internal representation; public only so that the .cc's helpers can name them.
  struct Event {
    std::string id;
    sb::Json resource;       // the full resource, rendered in the event's own zones
    std::string serialized;  // resource.dump(), what list pages are made of
    uint64_t seq = 0;
    bool cancelled = false;
    bool master = false;  // has recurrence lines
    std::string recurring_event_id;
    sb::caltime::EventTime start;
    sb::caltime::EventTime end;
    sb::caltime::EventTime original_start;  // exceptions only
    std::vector<std::string> recurrence;
    int64_t updated_ms = 0;
  };

  struct Data {
    CalendarInfo info;
    std::map<std::string, Event> events;      // by id
    std::map<uint64_t, std::string> changes;  // last change seq -> id
    uint64_t min_valid_seq = 0;               // sync/page tokens before it are refused
    int64_t updated_ms = 0;
  };

 private:
  static std::string Key(const std::string& account_id, const std::string& calendar_id);
  Data* Find(const CalendarInfo& calendar);
  const Data* Find(const CalendarInfo& calendar) const;

  mutable std::mutex mu_;
  std::map<std::string, Data> calendars_;  // by Key(); guarded by mu_
  uint64_t seq_ = 0;                       // guarded by mu_
  uint64_t epoch_ = 1;                     // guarded by mu_
};

}  // namespace sandbox::google
