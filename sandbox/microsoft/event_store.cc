#include "sandbox/microsoft/event_store.h"

#include <algorithm>
#include <random>

#include "sandbox/core/identity.h"

#include "sb/base/encoding.h"
#include "sb/caltime/recurrence.h"

namespace sandbox::microsoft {
namespace {

constexpr size_t kMaxSlots = 5000;

Failure NotFound() {
  return {404, "ErrorItemNotFound", "The specified object was not found in the store."};
}

// The changeKey an If-Match header names ("W/\"key\"", "\"key\"" or "*").
bool IfMatchHolds(std::optional<std::string_view> header, const std::string& change_key) {
  if (!header) return true;
  std::string_view value = *header;
  if (value == "*") return true;
  if (value.starts_with("W/")) value.remove_prefix(2);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  return value == change_key;
}

// Parses an occurrence id's slot suffix ("20240513T080000Z" or "20240513").
std::optional<int64_t> ParseSlotSuffix(std::string_view suffix) {
  if (suffix.size() != 8 && suffix.size() != 16) return std::nullopt;
  for (size_t i = 0; i < suffix.size(); ++i) {
    const bool digit = suffix[i] >= '0' && suffix[i] <= '9';
    if (i == 8 ? suffix[i] != 'T' : i == 15 ? suffix[i] != 'Z' : !digit) return std::nullopt;
  }
  auto num = [&](size_t at, size_t len) { return std::stoi(std::string(suffix.substr(at, len))); };
  sb::caltime::LocalDateTime civil;
  civil.year = num(0, 4);
  civil.month = num(4, 2);
  civil.day = num(6, 2);
  if (suffix.size() == 16) {
    civil.hour = num(9, 2);
    civil.minute = num(11, 2);
    civil.second = num(13, 2);
  }
  auto ms = sb::caltime::LocalToUtc(civil, "UTC");
  if (!ms.ok()) return std::nullopt;
  return *ms;
}

bool Overlaps(int64_t start, int64_t end, int64_t window_start, int64_t window_end) {
  if (start == end) return start >= window_start && start < window_end;
  return start < window_end && end > window_start;
}

std::string EtagOf(const Event& event) { return "W/\"" + event.change_key + "\""; }

}  // namespace

std::string NewEventId() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  std::string raw(30, '\0');
  for (char& c : raw) c = static_cast<char>(engine());
  return "AAMkA" + sb::Base64UrlEncode(raw);
}

std::string NewChangeKey() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  std::string raw(16, '\0');
  for (char& c : raw) c = static_cast<char>(engine());
  return sb::Base64Encode(raw);
}

void EventStore::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  accounts_.clear();
}

Calendar EventStore::EnsureAccount(const std::string& account_id, const std::string& owner_name,
                                   const std::string& owner_address) {
  std::lock_guard<std::mutex> lock(mu_);
  AccountData& data = accounts_[account_id];
  if (data.calendars.empty()) {
    data.calendars.push_back(
        Calendar{NewEventId(), "Calendar", NewChangeKey(), owner_name, owner_address});
  }
  return data.calendars.front();
}

std::vector<Calendar> EventStore::Calendars(const std::string& account_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  const AccountData* data = Find(account_id);
  return data ? data->calendars : std::vector<Calendar>{};
}

bool EventStore::HasCalendar(const std::string& account_id, const std::string& calendar_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  const AccountData* data = Find(account_id);
  if (!data) return false;
  return std::any_of(data->calendars.begin(), data->calendars.end(),
                     [&](const Calendar& c) { return c.id == calendar_id; });
}

EventStore::AccountData* EventStore::Find(const std::string& account_id) {
  const auto it = accounts_.find(account_id);
  return it == accounts_.end() ? nullptr : &it->second;
}

const EventStore::AccountData* EventStore::Find(const std::string& account_id) const {
  const auto it = accounts_.find(account_id);
  return it == accounts_.end() ? nullptr : &it->second;
}

void EventStore::Touch(AccountData& data, Event& event, int64_t now_ms) {
  if (event.seq > 0) data.by_seq.erase(event.seq);
  event.seq = ++seq_;
  event.change_key = NewChangeKey();
  event.modified_ms = now_ms;
  data.by_seq[event.seq] = event.id;
}

Outcome<Event> EventStore::Create(const std::string& account_id, const std::string& calendar_id,
                                  const sb::Json& body, int64_t now_ms,
                                  std::vector<Change>& changes) {
  std::lock_guard<std::mutex> lock(mu_);
  AccountData* data = Find(account_id);
  if (!data) return NotFound();
  const Calendar* calendar = &data->calendars.front();
  if (!calendar_id.empty()) {
    const auto it = std::find_if(data->calendars.begin(), data->calendars.end(),
                                 [&](const Calendar& c) { return c.id == calendar_id; });
    if (it == data->calendars.end()) return NotFound();
    calendar = &*it;
  }
  if (body.is_object() && body.contains("transactionId") && body["transactionId"].is_string()) {
    const std::string transaction = body["transactionId"].get<std::string>();
    for (const auto& [id, existing] : data->events) {
      if (!existing.deleted && existing.transaction_id == transaction) return existing;
    }
  }
  Event event;
  event.account_id = account_id;
  event.calendar_id = calendar->id;
  event.organizer = {
      {"emailAddress", {{"name", calendar->owner_name}, {"address", calendar->owner_address}}}};
  if (auto error = ApplyEventJson(body, /*create=*/true, event)) {
    return Failure{400, error->code, error->message};
  }
  return InsertLocked(*data, std::move(event), now_ms, changes);
}

Event EventStore::Insert(Event event, int64_t now_ms, std::vector<Change>& changes) {
  std::lock_guard<std::mutex> lock(mu_);
  AccountData& data = accounts_[event.account_id];
  if (event.calendar_id.empty() && !data.calendars.empty()) {
    event.calendar_id = data.calendars.front().id;
  }
  return InsertLocked(data, std::move(event), now_ms, changes);
}

Event EventStore::InsertLocked(AccountData& data, Event event, int64_t now_ms,
                               std::vector<Change>& changes) {
  if (event.id.empty()) event.id = NewEventId();
  if (event.ical_uid.empty()) {
    event.ical_uid =
        "040000008200E00074C5B7101A82E00800000000" + sb::HexEncode(event.id.substr(5, 16));
  }
  event.created_ms = now_ms;
  event.seq = 0;
  Touch(data, event, now_ms);
  event.create_seq = event.seq;
  if (event.type == "exception") {
    data.exception_slots[event.series_master_id].insert(event.original_start_ms);
  } else {
    data.by_created[event.create_seq] = event.id;
  }
  changes.push_back({event.account_id, event.id, "created", EtagOf(event)});
  data.events[event.id] = event;
  return event;
}

std::vector<int64_t> EventStore::Slots(const AccountData& data, const Event& master,
                                       int64_t start_ms, int64_t end_ms, size_t max_count) const {
  const int64_t duration = master.end_ms - master.start_ms;
  auto expanded = sb::caltime::ExpandRecurrence(SeriesStart(master), master.rrule,
                                                start_ms - duration, end_ms, kMaxSlots);
  std::vector<int64_t> slots;
  if (!expanded.ok()) return slots;
  const auto exceptions = data.exception_slots.find(master.id);
  for (const sb::caltime::EventTime& slot : *expanded) {
    if (!Overlaps(slot.utc_ms, slot.utc_ms + duration, start_ms, end_ms)) continue;
    if (master.cancelled_starts.contains(slot.utc_ms)) continue;
    if (exceptions != data.exception_slots.end() && exceptions->second.contains(slot.utc_ms)) {
      continue;
    }
    slots.push_back(slot.utc_ms);
    if (slots.size() >= max_count) break;
  }
  return slots;
}

std::optional<Event> EventStore::Materialize(const AccountData& data, const std::string& id) const {
  if (const auto it = data.events.find(id); it != data.events.end()) {
    if (it->second.deleted) return std::nullopt;
    return it->second;
  }
  const size_t cut = id.rfind('_');
  if (cut == std::string::npos) return std::nullopt;
  const auto master = data.events.find(id.substr(0, cut));
  if (master == data.events.end() || master->second.deleted ||
      master->second.type != "seriesMaster") {
    return std::nullopt;
  }
  const auto slot = ParseSlotSuffix(std::string_view(id).substr(cut + 1));
  if (!slot) return std::nullopt;
  const std::vector<int64_t> slots = Slots(data, master->second, *slot, *slot + 1, 1);
  if (slots.empty() || slots.front() != *slot) return std::nullopt;
  Event occurrence = master->second;
  occurrence.id = id;
  occurrence.type = "occurrence";
  occurrence.series_master_id = master->second.id;
  occurrence.original_start_ms = *slot;
  occurrence.start_ms = *slot;
  occurrence.end_ms = *slot + (master->second.end_ms - master->second.start_ms);
  occurrence.recurrence = nullptr;
  occurrence.rrule.clear();
  occurrence.cancelled_starts.clear();
  occurrence.ical_uid = master->second.ical_uid + id.substr(cut + 1);
  return occurrence;
}

Outcome<Event> EventStore::Get(const std::string& account_id, const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  const AccountData* data = Find(account_id);
  if (!data) return NotFound();
  auto event = Materialize(*data, id);
  if (!event) return NotFound();
  return *event;
}

Outcome<Event> EventStore::Update(const std::string& account_id, const std::string& id,
                                  const sb::Json& body, std::optional<std::string_view> if_match,
                                  int64_t now_ms, std::vector<Change>& changes) {
  std::lock_guard<std::mutex> lock(mu_);
  AccountData* data = Find(account_id);
  if (!data) return NotFound();
  return UpdateLocked(*data, account_id, id, body, if_match, now_ms, changes);
}

Outcome<Event> EventStore::UpdateLocked(AccountData& data, const std::string& account_id,
                                        const std::string& id, const sb::Json& body,
                                        std::optional<std::string_view> if_match, int64_t now_ms,
                                        std::vector<Change>& changes) {
  auto current = Materialize(data, id);
  if (!current) return NotFound();
  if (!IfMatchHolds(if_match, current->change_key)) {
    return Failure{412, "ErrorIrresolvableConflict",
                   "The send or update operation could not be performed because the change key "
                   "passed in the request does not match the current change key for the item."};
  }
  Event updated = *current;
  const bool was_occurrence = updated.type == "occurrence";
  if (was_occurrence) updated.type = "exception";
  if (auto error = ApplyEventJson(body, /*create=*/false, updated)) {
    return Failure{400, error->code, error->message};
  }
  if (was_occurrence) {
    updated.account_id = account_id;
    Event inserted = InsertLocked(data, std::move(updated), now_ms, changes);
    changes.back().change_type = "updated";
    return inserted;
  }
  Event& stored = data.events[id];
  stored = std::move(updated);
  Touch(data, stored, now_ms);
  changes.push_back({account_id, id, "updated", EtagOf(stored)});
  return stored;
}

void EventStore::Tombstone(AccountData& data, Event& event, int64_t now_ms,
                           std::vector<Change>& changes) {
  event.deleted = true;
  data.by_created.erase(event.create_seq);
  Touch(data, event, now_ms);
  changes.push_back({event.account_id, event.id, "deleted", ""});
}

std::optional<Failure> EventStore::Delete(const std::string& account_id, const std::string& id,
                                          int64_t now_ms, std::vector<Change>& changes) {
  std::lock_guard<std::mutex> lock(mu_);
  AccountData* data = Find(account_id);
  if (!data) return NotFound();
  auto current = Materialize(*data, id);
  if (!current) return NotFound();
  if (current->type == "occurrence") {
    data->events[current->series_master_id].cancelled_starts.insert(current->original_start_ms);
    Event tombstone = std::move(*current);
    tombstone.create_seq = -1;
    tombstone.seq = 0;
    Event& stored = data->events[id] = std::move(tombstone);
    Tombstone(*data, stored, now_ms, changes);
    return std::nullopt;
  }
  Event& stored = data->events[id];
  if (stored.type == "seriesMaster") {
    const auto slots = data->exception_slots.find(id);
    if (slots != data->exception_slots.end()) {
      for (int64_t slot : slots->second) {
        const auto exception = data->events.find(OccurrenceId(stored, slot));
        if (exception != data->events.end() && !exception->second.deleted) {
          Tombstone(*data, exception->second, now_ms, changes);
        }
      }
    }
  } else if (stored.type == "exception") {
    data->exception_slots[stored.series_master_id].erase(stored.original_start_ms);
    const auto master = data->events.find(stored.series_master_id);
    if (master != data->events.end()) {
      master->second.cancelled_starts.insert(stored.original_start_ms);
    }
  }
  Tombstone(*data, stored, now_ms, changes);
  return std::nullopt;
}

Page EventStore::List(const std::string& account_id, const std::string& calendar_id, size_t skip,
                      size_t top, const RenderZone& zone) const {
  std::lock_guard<std::mutex> lock(mu_);
  Page page;
  const AccountData* data = Find(account_id);
  if (!data) return page;
  size_t index = 0;
  auto begin = data->by_created.begin();
  if (calendar_id.empty()) {
    // Without a calendar filter every entry counts: skip by walking the index alone, without
    // looking each skipped event up.
    for (; begin != data->by_created.end() && index < skip; ++begin) ++index;
  }
  for (auto it = begin; it != data->by_created.end(); ++it) {
    const Event& event = data->events.at(it->second);
    if (!calendar_id.empty() && event.calendar_id != calendar_id) continue;
    if (index++ < skip) continue;
    if (page.items.size() == top) {
      page.more = true;
      break;
    }
    page.items.push_back(RenderEventText(event, zone, false));
  }
  return page;
}

Page EventStore::View(const std::string& account_id, const std::string& calendar_id,
                      int64_t start_ms, int64_t end_ms, size_t skip, size_t top,
                      const RenderZone& zone, const std::string& series_master_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  Page page;
  const AccountData* data = Find(account_id);
  if (!data) return page;
  struct Instance {
    int64_t start_ms;
    const Event* event;
    bool occurrence;
  };
  std::vector<Instance> instances;
  for (const auto& [id, event] : data->events) {
    if (event.deleted || (!calendar_id.empty() && event.calendar_id != calendar_id)) continue;
    if (!series_master_id.empty() && id != series_master_id &&
        event.series_master_id != series_master_id) {
      continue;
    }
    if (event.type == "seriesMaster") {
      for (int64_t slot : Slots(*data, event, start_ms, end_ms, kMaxSlots)) {
        instances.push_back({slot, &event, true});
      }
    } else if (Overlaps(event.start_ms, event.end_ms, start_ms, end_ms)) {
      instances.push_back({event.start_ms, &event, false});
    }
  }
  std::sort(instances.begin(), instances.end(), [](const Instance& a, const Instance& b) {
    return a.start_ms != b.start_ms ? a.start_ms < b.start_ms : a.event->id < b.event->id;
  });
  for (size_t i = skip; i < instances.size(); ++i) {
    if (page.items.size() == top) {
      page.more = true;
      break;
    }
    const Instance& instance = instances[i];
    page.items.push_back(instance.occurrence ? Serialize(RenderOccurrence(
                                                   *instance.event, instance.start_ms, zone, false))
                                             : RenderEventText(*instance.event, zone, false));
  }
  return page;
}

bool EventStore::InWindow(const AccountData& data, const Event& event, int64_t start_ms,
                          int64_t end_ms) const {
  if (event.type == "seriesMaster") {
    // The bare rule: exceptions and cancellations do not take the series out of a window.
    const auto duration = event.end_ms - event.start_ms;
    auto expanded = sb::caltime::ExpandRecurrence(SeriesStart(event), event.rrule,
                                                  start_ms - duration, end_ms, 1);
    return expanded.ok() && !expanded->empty() &&
           Overlaps(expanded->front().utc_ms, expanded->front().utc_ms + duration, start_ms,
                    end_ms);
  }
  (void)data;
  return Overlaps(event.start_ms, event.end_ms, start_ms, end_ms);
}

std::vector<std::string> EventStore::DeltaItems(const AccountData& data, const Event& event,
                                                const DeltaCursor& cursor,
                                                const RenderZone& zone) const {
  std::vector<std::string> items;
  const bool incremental = cursor.since > 0;
  if (event.deleted || !InWindow(data, event, cursor.start_ms, cursor.end_ms)) {
    if (!incremental) return items;
    items.push_back(Serialize(RenderRemoved(event.id)));
    if (event.deleted && event.type == "seriesMaster") {
      for (int64_t slot : Slots(data, event, cursor.start_ms, cursor.end_ms, kMaxSlots)) {
        items.push_back(Serialize(RenderRemoved(OccurrenceId(event, slot))));
      }
    }
    return items;
  }
  items.push_back(RenderEventText(event, zone, true));
  if (event.type == "seriesMaster") {
    for (int64_t slot : Slots(data, event, cursor.start_ms, cursor.end_ms, kMaxSlots)) {
      items.push_back(Serialize(RenderOccurrence(event, slot, zone, /*stripped=*/true)));
    }
  }
  return items;
}

Page EventStore::Delta(const std::string& account_id, DeltaCursor& cursor, size_t max_items,
                       const RenderZone& zone) const {
  std::lock_guard<std::mutex> lock(mu_);
  Page page;
  const AccountData* data = Find(account_id);
  if (!data) return page;
  for (auto it = data->by_seq.lower_bound(cursor.pos_seq);
       it != data->by_seq.end() && it->first <= cursor.snapshot; ++it) {
    std::vector<std::string> items = DeltaItems(*data, data->events.at(it->second), cursor, zone);
    const size_t from = it->first == cursor.pos_seq ? static_cast<size_t>(cursor.pos_sub) : 0;
    for (size_t i = from; i < items.size(); ++i) {
      if (page.items.size() >= max_items) {
        cursor.pos_seq = it->first;
        cursor.pos_sub = static_cast<int64_t>(i);
        page.more = true;
        return page;
      }
      page.items.push_back(std::move(items[i]));
    }
  }
  cursor.pos_seq = cursor.snapshot + 1;
  cursor.pos_sub = 0;
  return page;
}

int64_t EventStore::CurrentSeq() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seq_;
}

int64_t EventStore::SeqAsOf(const std::string& account_id, int64_t cutoff_ms) const {
  std::lock_guard<std::mutex> lock(mu_);
  const AccountData* data = Find(account_id);
  if (!data) return seq_;
  int64_t snapshot = seq_;
  for (auto it = data->by_seq.rbegin(); it != data->by_seq.rend(); ++it) {
    if (data->events.at(it->second).modified_ms <= cutoff_ms) break;
    snapshot = it->first - 1;  // this change is too recent: report what came before it
  }
  return snapshot;
}

std::vector<std::string> EventStore::EventIds(const std::string& account_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> ids;
  const AccountData* data = Find(account_id);
  if (!data) return ids;
  for (const auto& [id, event] : data->events) {
    if (!event.deleted && event.type != "occurrence") ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

size_t EventStore::EventCount(const std::string& account_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  const AccountData* data = Find(account_id);
  return data ? data->by_created.size() : 0;
}

}  // namespace sandbox::microsoft
