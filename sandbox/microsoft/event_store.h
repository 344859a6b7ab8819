// EventStore: every account's calendars and events, in memory, with the change sequence that
// calendarView delta rounds are cut from.
//
// Each write gives the event the next store-wide sequence number and a new changeKey; deletes
// leave tombstones, so a delta round is "every event whose sequence lies in (since, snapshot]"
// walked in sequence order, which makes a page cost O(page) however large the account is.
// Thread-safe: one mutex guards all state; rendering happens under it.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "sandbox/microsoft/event.h"

#include "sb/base/json.h"

namespace sandbox::microsoft {

struct Calendar {
  std::string id;
  std::string name = "Calendar";
  std::string change_key;
  std::string owner_name;
  std::string owner_address;
};

// A refused request: HTTP status and Graph error code and message.
struct Failure {
  int status = 400;
  std::string code;
  std::string message;
};

// One write, for change notifications.
struct Change {
  std::string account_id;
  std::string event_id;
  std::string change_type;  // created | updated | deleted
  std::string etag;         // W/"changeKey"; empty for deletions
};

template <typename T>
using Outcome = std::variant<T, Failure>;

struct Page {
  std::vector<std::string> items;  // serialized event resources
  bool more = false;               // there are items after this page
};

// An event or series occurrence as getSchedule lists it.
struct ScheduleItem {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  std::string show_as;
  std::string subject;
  std::string location;  // location.displayName
  bool is_private = false;
};

// Where a delta round stands: events with sequence in (since, snapshot], resuming at the
// entry with sequence >= pos_seq (and, when it is exactly pos_seq, at its item pos_sub).
struct DeltaCursor {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  int64_t since = 0;  // 0: an initial round
  int64_t snapshot = 0;
  int64_t pos_seq = 1;
  int64_t pos_sub = 0;
};

class EventStore {
 public:
  void Reset();

  // Creates the account's default calendar (idempotent) and returns it.
  Calendar EnsureAccount(const std::string& account_id, const std::string& owner_name,
                         const std::string& owner_address);
  std::vector<Calendar> Calendars(const std::string& account_id) const;
  bool HasCalendar(const std::string& account_id, const std::string& calendar_id) const;

  // `calendar_id` empty: the default calendar. A repeated transactionId returns the event
  // created first (Graph's idempotent create).
  Outcome<Event> Create(const std::string& account_id, const std::string& calendar_id,
                        const sb::Json& body, int64_t now_ms, std::vector<Change>& changes);
  // Inserts a fully built event (seeding). Its id, seq and changeKey are assigned.
  Event Insert(Event event, int64_t now_ms, std::vector<Change>& changes);
  // Any event id, including occurrence ids of a series.
  Outcome<Event> Get(const std::string& account_id, const std::string& id) const;
  // `if_match` is the raw If-Match header, if any. Patching an occurrence makes it an
  // exception.
  Outcome<Event> Update(const std::string& account_id, const std::string& id, const sb::Json& body,
                        std::optional<std::string_view> if_match, int64_t now_ms,
                        std::vector<Change>& changes);
  std::optional<Failure> Delete(const std::string& account_id, const std::string& id,
                                int64_t now_ms, std::vector<Change>& changes);

  // /me/events: single instances and series masters in creation order.
  Page List(const std::string& account_id, const std::string& calendar_id, size_t skip, size_t top,
            const RenderZone& zone) const;
  // /me/calendarView: instances overlapping [start, end) sorted by start; with
  // `series_master_id`, only that series' occurrences and exceptions (/events/{id}/instances).
  Page View(const std::string& account_id, const std::string& calendar_id, int64_t start_ms,
            int64_t end_ms, size_t skip, size_t top, const RenderZone& zone,
            const std::string& series_master_id = "") const;
  // One page of a delta round; advances `cursor`. `more` false means the round is complete.
  Page Delta(const std::string& account_id, DeltaCursor& cursor, size_t max_items,
             const RenderZone& zone) const;

  // getSchedule (schedule.cc): the default calendar's live events and series occurrences
  // overlapping [start, end) whose showAs is not free, sorted by start.
  std::vector<ScheduleItem> ScheduleItems(const std::string& account_id, int64_t start_ms,
                                          int64_t end_ms) const;

  int64_t CurrentSeq() const;
  // The snapshot a delta round may report when changes need `lag` to show up: the newest
  // sequence of the account's changes made at or before `cutoff_ms` (CurrentSeq() when none
  // is newer), so changes after the cutoff wait for a later round.
  int64_t SeqAsOf(const std::string& account_id, int64_t cutoff_ms) const;
  // Live event ids of the account (single, master, exception), for random user changes.
  std::vector<std::string> EventIds(const std::string& account_id) const;
  size_t EventCount(const std::string& account_id) const;

 private:
  struct AccountData {
    std::vector<Calendar> calendars;
    std::unordered_map<std::string, Event> events;  // including tombstones
    std::map<int64_t, std::string> by_seq;          // every entry by last change
    std::map<int64_t, std::string> by_created;      // live singles and masters
    std::unordered_map<std::string, std::set<int64_t>> exception_slots;  // master -> slots
  };

  AccountData* Find(const std::string& account_id);
  const AccountData* Find(const std::string& account_id) const;
  void Touch(AccountData& data, Event& event, int64_t now_ms);
  Event InsertLocked(AccountData& data, Event event, int64_t now_ms, std::vector<Change>& changes);
  std::optional<Event> Materialize(const AccountData& data, const std::string& id) const;
  std::vector<int64_t> Slots(const AccountData& data, const Event& master, int64_t start_ms,
                             int64_t end_ms, size_t max_count) const;
  bool InWindow(const AccountData& data, const Event& event, int64_t start_ms,
                int64_t end_ms) const;
  std::vector<std::string> DeltaItems(const AccountData& data, const Event& event,
                                      const DeltaCursor& cursor, const RenderZone& zone) const;
  Outcome<Event> UpdateLocked(AccountData& data, const std::string& account_id,
                              const std::string& id, const sb::Json& body,
                              std::optional<std::string_view> if_match, int64_t now_ms,
                              std::vector<Change>& changes);
  void Tombstone(AccountData& data, Event& event, int64_t now_ms, std::vector<Change>& changes);

  mutable std::mutex mu_;
  std::unordered_map<std::string, AccountData> accounts_;  // guarded by mu_
  int64_t seq_ = 0;                                        // guarded by mu_
};

// A new random Graph-looking id ("AAMkA" + base64url), URL-safe.
std::string NewEventId();
// A new changeKey (base64 of 16 random bytes, as Exchange's look).
std::string NewChangeKey();

}  // namespace sandbox::microsoft
