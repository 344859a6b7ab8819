#include "sb/sync/calendar/calendar_sync.h"

#include <algorithm>
#include <functional>
#include <future>
#include <map>
#include <set>
#include <span>
#include <system_error>
#include <utility>

#include "sb/base/time_format.h"
#include "sb/store/calendar/event_mapping_repository.h"
#include "sb/sync/calendar/event_record.h"
#include "sb/sync/calendar/occurrences.h"
#include "sb/sync/calendar/push.h"

namespace sb::sync::calendar {
namespace {

constexpr int kMaxRestarts = 3;       // full rounds of one calendar restarted by a 410 in a run
constexpr int kReconcileBatch = 500;  // events deleted per query at the end of a full round
constexpr int kExceptionBatch = 500;  // exceptions removed per query with their series

store::CalendarRepository& Repo() {
  static store::CalendarRepository repo;
  return repo;
}

store::EventMappingRepository& Mappings() {
  static store::EventMappingRepository repo;
  return repo;
}

// One calendar of the run's work list, as kept in the checkpoint.
struct Pending {
  std::string provider_id;
  std::string uuid;
  std::string time_zone;
  std::string page;  // the position within the current round
  bool full = false;
  int restarts = 0;
};

Json PendingJson(const Pending& p) {
  return {{"id", p.provider_id}, {"uuid", p.uuid}, {"tz", p.time_zone},
          {"page", p.page},      {"full", p.full}, {"restarts", p.restarts}};
}

// The checkpoint is a database row: anything malformed reads as "start over".
std::optional<Pending> PendingFrom(const Json& j) {
  if (!j.is_object()) return std::nullopt;
  for (const char* name : {"id", "uuid", "tz", "page"}) {
    if (!j.contains(name) || !j[name].is_string()) return std::nullopt;
  }
  if (!j.contains("full") || !j["full"].is_boolean()) return std::nullopt;
  if (!j.contains("restarts") || !j["restarts"].is_number_integer()) return std::nullopt;
  Pending p{j["id"].get<std::string>(),   j["uuid"].get<std::string>(), j["tz"].get<std::string>(),
            j["page"].get<std::string>(), j["full"].get<bool>(),        j["restarts"].get<int>()};
  if (p.provider_id.empty() || !IsCanonicalUuid(p.uuid)) return std::nullopt;
  return p;
}

std::string CursorOf(const store::SyncStateRecord& state, const std::string& calendar) {
  const Json& c = state.cursor;
  if (!c.is_object() || !c.contains("calendars") || !c["calendars"].is_object()) return "";
  const Json& all = c["calendars"];
  if (!all.contains(calendar) || !all[calendar].is_string()) return "";
  return all[calendar].get<std::string>();
}

void SetCursor(store::SyncStateRecord& state, const std::string& calendar, std::string cursor) {
  if (!state.cursor.is_object()) state.cursor = Json::object();
  if (!state.cursor.contains("calendars") || !state.cursor["calendars"].is_object()) {
    state.cursor["calendars"] = Json::object();
  }
  state.cursor["calendars"][calendar] = std::move(cursor);
}

Json EventRef(const store::EventRecord& e) {
  return {{"id", e.id.value()},
          {"connection_id", e.connection_id.value()},
          {"calendar_id", e.calendar_id.value()},
          {"provider_id", e.provider_id}};
}

// Applies one page's items to a calendar in `tx`, publishing real changes. Upserts are
// gathered and written a batch at a time (before anything that reads or deletes events, and at
// Finish); the page's changes are published together at Finish, in the order they happened.
class PageApplier {
 public:
  PageApplier(RunContext& context, store::Transaction& tx, const CalendarId& calendar, bool full,
              IdGenerator& ids)
      : context_(context), tx_(tx), calendar_(calendar), full_(full), ids_(ids) {}

  // A provider item the store refuses (an id too long, control characters in a version) is
  // skipped, not fatal: the repository validates before any statement runs, so the transaction
  // stays usable, and one hostile item cannot hold up the calendar's sync.
  Status Apply(const EventChange& change) {
    Status s = ApplyOne(change);
    return s.code() == StatusCode::kInvalidArgument ? OkStatus() : s;
  }

  // Notes which series the page removes and which it keeps, before any item is applied (an
  // exception may come before or after its master's removal), and reads what is stored for the
  // page's items and their series in a few statements rather than one per item.
  Status Begin(const std::vector<EventChange>& items) {
    std::vector<std::string> ids;
    for (const EventChange& change : items) {
      if (!change.event) {
        removed_masters_.insert(change.provider_id);
      } else if (change.event->kind == EventKind::kSeriesMaster) {
        live_masters_.insert(change.provider_id);
      } else if (change.event->kind == EventKind::kException) {
        AddLookup(change.event->series_master_provider_id, ids);
      }
      AddLookup(change.provider_id, ids);
    }
    SB_ASSIGN_OR_RETURN(auto stored, Repo().FindEvents(tx_, context_.tenant(), calendar_, ids));
    for (store::EventRecord& e : stored) known_.insert_or_assign(e.provider_id, std::move(e));
    SB_RETURN_IF_ERROR(ReadMappings(ids));
    return ReadCreations(items);
  }

  // The end of a full round: what it did not see is gone at the provider (but for the
  // cancelled occurrences KeepsCancelledSlot keeps).
  Status RemoveUnseen() {
    SB_RETURN_IF_ERROR(FlushPuts());
    const SyncRunId& run = context_.run().id;
    while (true) {
      SB_ASSIGN_OR_RETURN(auto stale, Repo().ListNotSeenIn(tx_, context_.tenant(), calendar_, run,
                                                           kReconcileBatch));
      for (const auto& e : stale) {
        SB_ASSIGN_OR_RETURN(const bool keep, KeepsCancelledSlot(e));
        SB_RETURN_IF_ERROR(keep ? Repo().MarkSeen(tx_, context_.tenant(), e.id, run) : Remove(e));
      }
      if (stale.size() < static_cast<size_t>(kReconcileBatch)) return OkStatus();
    }
  }

  // Graph deletes an occurrence the host cancelled and lists it no more, while Google lists
  // its cancelled occurrences: on Graph the cancelled exception stored for it stays as long as
  // its series was seen in this round, or the slot would come back to life in the host's view.
  Result<bool> KeepsCancelledSlot(const store::EventRecord& e) {
    if (context_.connection().provider == "google" || e.series_master_provider_id.empty() ||
        e.status != "cancelled") {
      return false;
    }
    SB_ASSIGN_OR_RETURN(auto master, Repo().FindEvent(tx_, context_.tenant(), calendar_,
                                                      e.series_master_provider_id));
    return master && master->seen_in_run == context_.run().id;
  }

  // Writes what is gathered and publishes the page's changes.
  Status Finish() {
    SB_RETURN_IF_ERROR(FlushPuts());
    return context_.changes().PublishAll(tx_, context_.tenant(), std::move(changes_));
  }

 private:
  // The host's mappings of the page's events (writer.h): a write in flight holds its event
  // back, Switchboard's own write comes back silently, and the host's entries are named in
  // what is published.
  Status ReadMappings(const std::vector<std::string>& ids) {
    constexpr size_t kChunk = store::EventMappingRepository::kMaxLookup;
    for (size_t i = 0; i < ids.size(); i += kChunk) {
      const size_t n = std::min(kChunk, ids.size() - i);
      SB_ASSIGN_OR_RETURN(auto found,
                          Mappings().FindByProviderIds(tx_, context_.tenant(), calendar_,
                                                       std::span(ids).subspan(i, n)));
      for (auto& m : found) mappings_.insert_or_assign(m.provider_id, std::move(m));
    }
    return OkStatus();
  }

  // Events Switchboard created, new to the store and to the page's mappings: their mapping's
  // id is in the event (Graph's transactionId, writer.h; the Google id "sb" + the mapping id's
  // hex digits). A mapping still being written holds the event back like any pending write;
  // no mapping at all means the host has deleted the entry since this page was fetched, and
  // the event is not brought back.
  Status ReadCreations(const std::vector<EventChange>& items) {
    for (const EventChange& change : items) {
      if (!change.event || known_.contains(change.provider_id) ||
          mappings_.contains(change.provider_id)) {
        continue;
      }
      const std::string mapping_id = CreatingMappingId(change);
      if (mapping_id.empty()) continue;
      SB_ASSIGN_OR_RETURN(auto m, Mappings().Get(tx_, context_.tenant(), mapping_id));
      if (!m) {
        deleted_by_host_.insert(change.provider_id);
      } else if (m->calendar_id == calendar_) {
        mappings_.insert_or_assign(change.provider_id, *m);
      }
    }
    return OkStatus();
  }

  static std::string CreatingMappingId(const EventChange& change) {
    if (IsCanonicalUuid(change.transaction_id)) return change.transaction_id;
    const std::string& id = change.provider_id;
    if (id.size() != 34 || !id.starts_with("sb")) return "";
    std::string uuid = id.substr(2, 8) + "-" + id.substr(10, 4) + "-" + id.substr(14, 4) + "-" +
                       id.substr(18, 4) + "-" + id.substr(22);
    return IsCanonicalUuid(uuid) ? uuid : "";
  }

  store::EventMappingRecord* MappingOf(const std::string& provider_id) {
    auto it = mappings_.find(provider_id);
    return it == mappings_.end() ? nullptr : &it->second;
  }

  // A provider change to a mapped event: the mapping follows the provider's version (only
  // while synced: a conflict or an error keeps the version it is about). A host write that
  // raced in meanwhile wins the compare-and-set; its own write then meets the new version.
  Status FollowMapping(store::EventMappingRecord& m, const store::EventRecord& record) {
    if (m.state != store::MappingState::kSynced) return OkStatus();
    m.provider_version = record.version;
    m.event_id = record.id;
    m.updated_at = context_.clock().Now();
    return Mappings().Update(tx_, context_.tenant(), m, m.host_version).status();
  }

  void AddLookup(const std::string& provider_id, std::vector<std::string>& ids) {
    if (looked_up_.insert(provider_id).second) ids.push_back(provider_id);
  }

  // What is stored for an item: from Begin's read the first time, from the store (after
  // writing what is gathered) when the page names the item again.
  Result<std::optional<store::EventRecord>> Stored(const std::string& provider_id) {
    if (looked_up_.erase(provider_id) == 0) {
      SB_RETURN_IF_ERROR(FlushPuts());
      return Repo().FindEvent(tx_, context_.tenant(), calendar_, provider_id);
    }
    auto node = known_.extract(provider_id);
    if (node.empty()) return std::optional<store::EventRecord>();
    return std::optional<store::EventRecord>(std::move(node.mapped()));
  }

  Status ApplyOne(const EventChange& change) {
    SB_ASSIGN_OR_RETURN(auto existing, Stored(change.provider_id));
    if (!change.event) {
      // Graph reports an occurrence the host cancelled through Switchboard as removed: the
      // cancelled exception stored for it stays (the series' slot stays cancelled).
      if (existing && !existing->series_master_provider_id.empty() &&
          existing->status == "cancelled") {
        return OkStatus();
      }
      return existing ? RemoveSeries(*existing) : CancelOccurrence(change.provider_id);
    }
    // Graph's occurrences follow from their master; they are not stored, only their ids are.
    if (change.event->kind == EventKind::kOccurrence) {
      if (change.event->original_start && !change.event->series_master_provider_id.empty()) {
        occurrences_.push_back({change.provider_id, change.event->series_master_provider_id,
                                FormatOriginalStart(*change.event->original_start)});
      }
      return OkStatus();
    }
    if (change.event->kind == EventKind::kException) {
      SB_ASSIGN_OR_RETURN(const bool live, SeriesLive(*change.event));
      if (!live) return existing ? Remove(*existing) : OkStatus();
    }
    return Upsert(*change.event, std::move(existing));
  }

  // Graph reports an occurrence the user deleted as the removal of the occurrence's own id,
  // which is not stored: a known one becomes the cancelled exception of its series' slot (as
  // Google reports it), so that the host's series loses that occurrence too.
  Status CancelOccurrence(const std::string& provider_id) {
    SB_RETURN_IF_ERROR(FlushPuts());
    SB_ASSIGN_OR_RETURN(auto ref,
                        Repo().FindOccurrence(tx_, context_.tenant(), calendar_, provider_id));
    if (!ref) return OkStatus();
    SB_ASSIGN_OR_RETURN(
        auto master, Repo().FindEvent(tx_, context_.tenant(), calendar_, ref->master_provider_id));
    if (!master) return OkStatus();
    auto series = EventFromJson(master->data);
    auto slot = ParseOriginalStart(ref->original_start);
    if (!series.ok() || !slot.ok()) return OkStatus();  // an unreadable row: nothing to cancel
    auto occurrence = OccurrenceAt(*series, *slot);
    if (!occurrence.ok()) return OkStatus();  // the rule has no such slot (any more)
    Event cancelled = CancelledOccurrence(*series, std::move(*occurrence), *slot);
    cancelled.provider_id = provider_id;
    return Upsert(cancelled, std::nullopt);
  }

  // Removes an event; a series master takes its stored exceptions with it (Google re-sends them
  // as cancelled, or not at all: either way they are gone).
  Status RemoveSeries(const store::EventRecord& existing) {
    SB_RETURN_IF_ERROR(FlushPuts());
    if (existing.series_master_provider_id.empty()) {
      SB_RETURN_IF_ERROR(
          Repo().DeleteOccurrencesOf(tx_, context_.tenant(), calendar_, existing.provider_id));
      while (true) {
        SB_ASSIGN_OR_RETURN(auto exceptions,
                            Repo().ListExceptions(tx_, context_.tenant(), calendar_,
                                                  existing.provider_id, kExceptionBatch));
        for (const auto& e : exceptions) SB_RETURN_IF_ERROR(Remove(e));
        if (exceptions.size() < static_cast<size_t>(kExceptionBatch)) break;
      }
    }
    return Remove(existing);
  }

  Status Remove(const store::EventRecord& existing) {
    SB_RETURN_IF_ERROR(FlushPuts());
    known_.erase(existing.provider_id);  // so that a later item does not find it stored
    SB_RETURN_IF_ERROR(Repo().DeleteEvent(tx_, context_.tenant(), existing.id).status());
    ++context_.run().items_deleted;
    Json data{{"event", EventRef(existing)}};
    // The host's entry goes with it, unless a host write is on its way (it meets the deletion).
    if (store::EventMappingRecord* m = MappingOf(existing.provider_id)) {
      data["external_id"] = m->external_id;
      if (m->state != store::MappingState::kPending) {
        SB_RETURN_IF_ERROR(Mappings().Delete(tx_, context_.tenant(), m->id).status());
      }
      mappings_.erase(existing.provider_id);
    }
    changes_.push_back(context_.changes().Pending("event.deleted", existing.id.value(),
                                                  existing.connection_id, std::move(data)));
    return OkStatus();
  }

  Status Upsert(const Event& event, std::optional<store::EventRecord> existing) {
    const SyncRunId& run = context_.run().id;
    if (!existing && deleted_by_host_.contains(event.provider_id)) return OkStatus();
    store::EventMappingRecord* mapping = MappingOf(event.provider_id);
    // A host write of this event is on its way: it settles the event (or meets this change
    // as a conflict at the provider), so the sync leaves it alone.
    if (mapping != nullptr && mapping->state == store::MappingState::kPending) {
      if (existing && full_ && existing->seen_in_run != run) {
        SB_RETURN_IF_ERROR(Repo().MarkSeen(tx_, context_.tenant(), existing->id, run));
      }
      return OkStatus();
    }
    // An older version than the one stored for a host's entry (a page fetched before the
    // writer settled a newer write) does not go back over it.
    if (mapping != nullptr && existing && existing->provider_updated_at && event.updated_ms &&
        Timestamp(std::chrono::milliseconds(*event.updated_ms)) < *existing->provider_updated_at) {
      if (full_ && existing->seen_in_run != run) {
        SB_RETURN_IF_ERROR(Repo().MarkSeen(tx_, context_.tenant(), existing->id, run));
      }
      return OkStatus();
    }
    Json data = EventToJson(event);
    std::string hash = ContentHash(data);
    if (existing && existing->content_hash == hash) {
      if (full_ && existing->seen_in_run != run) {
        SB_RETURN_IF_ERROR(Repo().MarkSeen(tx_, context_.tenant(), existing->id, run));
      }
      return OkStatus();
    }
    const Timestamp now = context_.clock().Now();
    store::EventRecord record;
    const bool created = !existing;
    if (existing) {
      record = std::move(*existing);
    } else {
      record.tenant_id = context_.tenant();
      record.id = EventId(ids_.NewUuid());
      record.connection_id = context_.connection().id;
      record.calendar_id = calendar_;
      record.provider_id = event.provider_id;
      record.created_at = now;
    }
    FillEventRecord(record, event, std::move(data), std::move(hash));
    if (full_) record.seen_in_run = run;
    record.updated_at = now;
    Put put{created, false, ""};
    if (mapping != nullptr) {
      // Switchboard's own write, back before the writer stored its answer: no echo.
      put.silent = mapping->provider_version == event.version;
      put.external_id = mapping->external_id;
      SB_RETURN_IF_ERROR(FollowMapping(*mapping, record));
    }
    puts_.push_back(std::move(record));
    created_.push_back(std::move(put));
    if (puts_.size() >= kPutBatch) return FlushPuts();
    return OkStatus();
  }

  // Writes the gathered upserts; when the store refuses the batch (validated before any
  // statement), each is tried alone and the refused ones are skipped.
  // Writes the gathered occurrence ids; one a provider sent malformed is left out.
  Status FlushOccurrences() {
    if (occurrences_.empty()) return OkStatus();
    const TenantId& tenant = context_.tenant();
    const Status stored = Repo().PutOccurrences(tx_, tenant, calendar_, occurrences_);
    if (stored.code() == StatusCode::kInvalidArgument) {  // nothing written: each alone
      for (const store::OccurrenceRef& ref : occurrences_) {
        const Status alone = Repo().PutOccurrences(tx_, tenant, calendar_, {&ref, 1});
        if (alone.code() != StatusCode::kInvalidArgument) SB_RETURN_IF_ERROR(alone);
      }
    } else {
      SB_RETURN_IF_ERROR(stored);
    }
    occurrences_.clear();
    return OkStatus();
  }

  Status FlushPuts() {
    SB_RETURN_IF_ERROR(FlushOccurrences());
    if (puts_.empty()) return OkStatus();
    const Status stored = Repo().PutEvents(tx_, context_.tenant(), puts_);
    for (size_t i = 0; i < puts_.size(); ++i) {
      if (stored.code() == StatusCode::kInvalidArgument) {
        const Status alone = Repo().PutEvent(tx_, context_.tenant(), puts_[i]);
        if (alone.code() == StatusCode::kInvalidArgument) continue;
        SB_RETURN_IF_ERROR(alone);
      } else {
        SB_RETURN_IF_ERROR(stored);
      }
      const Put& put = created_[i];
      if (put.silent) continue;
      ++(put.created ? context_.run().items_created : context_.run().items_updated);
      store::EventRecord& record = puts_[i];
      const std::string id = record.id.value();
      const ConnectionId connection = record.connection_id;
      Json data{{"event", EventApiJson(std::move(record))}};
      if (!put.external_id.empty()) data["external_id"] = put.external_id;
      changes_.push_back(context_.changes().Pending(put.created ? "event.created" : "event.updated",
                                                    id, connection, std::move(data)));
    }
    puts_.clear();
    created_.clear();
    return OkStatus();
  }

  // Whether an exception belongs to a series that still exists. Cancelled means deleted for an
  // occurrence of a series that is gone: removed on this page, or unknown to an incremental
  // run (its removal came earlier). A full run lists masters in any order, so there an unknown
  // master may still come; an exception with content is kept too, as the provider sent it.
  Result<bool> SeriesLive(const Event& exception) {
    const std::string& master = exception.series_master_provider_id;
    if (live_masters_.contains(master)) return true;
    if (removed_masters_.contains(master)) return false;
    bool stored = known_.contains(master);
    if (!looked_up_.contains(master)) {
      SB_ASSIGN_OR_RETURN(auto found, Repo().FindEvent(tx_, context_.tenant(), calendar_, master));
      stored = found.has_value();
    }
    if (stored) return true;
    return full_ || exception.status != EventStatus::kCancelled;
  }

  // Upserts written per statement batch; a page holds at most a few hundred.
  static constexpr size_t kPutBatch = 128;

  RunContext& context_;
  store::Transaction& tx_;
  const CalendarId calendar_;
  const bool full_;
  IdGenerator& ids_;
  std::set<std::string> removed_masters_;
  std::set<std::string> live_masters_;
  std::map<std::string, store::EventRecord> known_;  // Begin's read, less what was used
  std::set<std::string> looked_up_;       // ids Begin read (in known_ or not stored), not yet used
  std::vector<store::EventRecord> puts_;  // gathered upserts
  std::vector<store::OccurrenceRef> occurrences_;  // gathered occurrence ids (Graph)
  struct Put {
    bool created = false;     // a new event
    bool silent = false;      // Switchboard's own write: nothing to publish
    std::string external_id;  // the host's entry, when mapped
  };
  std::vector<Put> created_;                                   // per upsert
  std::map<std::string, store::EventMappingRecord> mappings_;  // by provider id
  std::set<std::string> deleted_by_host_;  // provider ids of entries the host has deleted
  std::vector<store::ChangeRecord> changes_;
};

bool Selected(const Calendar& c) {
  return !c.deleted && c.access_role != AccessRole::kFreeBusyReader;
}

}  // namespace

Json CalendarApiJson(const store::CalendarRecord& record) {
  Json j = record.data;
  if (!j.is_object()) j = Json::object();
  j["id"] = record.id.value();
  j["connection_id"] = record.connection_id.value();
  j["synced"] = record.selected;
  j["updated_at"] = FormatRfc3339(record.updated_at);
  return j;
}

Json EventApiJson(const store::EventRecord& record) {
  store::EventRecord copy;
  copy.data = record.data;
  copy.id = record.id;
  copy.connection_id = record.connection_id;
  copy.calendar_id = record.calendar_id;
  copy.updated_at = record.updated_at;
  return EventApiJson(std::move(copy));
}

Json EventApiJson(store::EventRecord&& record) {
  Json j = std::move(record.data);
  record.data = Json::object();
  if (!j.is_object()) j = Json::object();
  j["id"] = record.id.value();
  j["connection_id"] = record.connection_id.value();
  j["calendar_id"] = record.calendar_id.value();
  j["synced_at"] = FormatRfc3339(record.updated_at);
  return j;
}

bool CalendarSync::Supports(std::string_view provider) const {
  return provider == "google" || provider == "microsoft";
}

Status CalendarSync::OnSucceeded(store::Transaction& tx, RunContext& context) {
  if (push_ == nullptr) return OkStatus();
  return push_->RequestEnsureIn(tx, context.tenant(), context.connection().id);
}

Result<Fetched<bool>> CalendarSync::Step(RunContext& context) {
  std::unique_ptr<CalendarSource> source =
      MakeCalendarSource(context.connection().provider, client_, clock_);
  if (!source) {
    return Fetched<bool>(
        ProviderError{ProviderFailure::kBadAnswer, "no calendar sync", std::nullopt});
  }
  const Json& checkpoint = context.run().checkpoint;
  const bool listed =
      checkpoint.is_object() && checkpoint.contains("phase") && checkpoint["phase"] == "events";
  if (!listed) return SyncCalendars(context, *source);
  return SyncEvents(context, *source);
}

Result<Fetched<bool>> CalendarSync::SyncCalendars(RunContext& context, CalendarSource& source) {
  context.run().phase = "calendars";
  Fetched<std::vector<Calendar>> listed =
      source.ListCalendars(context.tenant(), context.connection().id);
  if (const ProviderError* e = FailureOf(listed)) return Fetched<bool>(*e);
  const auto& calendars = std::get<std::vector<Calendar>>(listed);
  const TenantId& tenant = context.tenant();
  Json queue = Json::array();
  SB_RETURN_IF_ERROR(context.Commit([&](store::Transaction& tx) -> Status {
    queue = Json::array();
    SB_ASSIGN_OR_RETURN(auto stored, Repo().ListCalendars(tx, tenant, context.connection().id));
    std::set<std::string> present;
    for (const Calendar& c : calendars) {
      if (c.deleted) continue;
      present.insert(c.provider_id);
      const Json data = CalendarToJson(c);
      const store::CalendarRecord* before = nullptr;
      for (const auto& s : stored) {
        if (s.provider_id == c.provider_id) before = &s;
      }
      store::CalendarRecord record;
      record.tenant_id = tenant;
      record.id = before ? before->id : CalendarId(ids_.NewUuid());
      record.connection_id = context.connection().id;
      record.provider_id = c.provider_id;
      record.name = c.name;
      record.data = data;
      record.version = c.version;
      record.selected = Selected(c);
      record.created_at = before ? before->created_at : clock_.Now();
      record.updated_at = clock_.Now();
      const bool changed = !before || before->data != data || before->selected != record.selected;
      if (changed) {
        auto stored_record = Repo().UpsertCalendar(tx, tenant, record);
        // A calendar the store refuses (validated before any statement) is left out.
        if (!stored_record.ok() && stored_record.status().code() == StatusCode::kInvalidArgument) {
          continue;
        }
        SB_RETURN_IF_ERROR(stored_record.status());
        record = std::move(*stored_record);
        SB_RETURN_IF_ERROR(context.changes().Publish(
            tx, tenant, before ? "calendar.updated" : "calendar.created", record.id.value(),
            record.connection_id, Json{{"calendar", CalendarApiJson(record)}}));
      }
      if (record.selected) {
        queue.push_back(PendingJson(Pending{c.provider_id, record.id.value(), c.time_zone}));
      }
    }
    for (const auto& s : stored) {
      if (present.count(s.provider_id) != 0) continue;
      // Gone at the provider: the calendar and its events go (cascade), and so does its cursor.
      SB_RETURN_IF_ERROR(Repo().DeleteCalendar(tx, tenant, s.id).status());
      if (context.state().cursor.contains("calendars") &&
          context.state().cursor["calendars"].is_object()) {
        context.state().cursor["calendars"].erase(s.provider_id);
      }
      SB_RETURN_IF_ERROR(
          context.changes().Publish(tx, tenant, "calendar.deleted", s.id.value(), s.connection_id,
                                    Json{{"calendar",
                                          {{"id", s.id.value()},
                                           {"connection_id", s.connection_id.value()},
                                           {"provider_id", s.provider_id}}}}));
    }
    context.run().checkpoint = Json{{"phase", "events"}, {"queue", queue}};
    return OkStatus();
  }));
  return Fetched<bool>(false);
}

namespace {

// Runs `fetch` on a thread of its own, so the next page travels while this one is stored; on
// the caller's thread when no thread can be started.
std::future<Fetched<EventPage>> FetchAhead(std::function<Fetched<EventPage>()> fetch) {
  try {
    return std::async(std::launch::async, fetch);
  } catch (const std::system_error&) {
    return std::async(std::launch::deferred, std::move(fetch));
  }
}

// A rejected cursor (or page of the round) means the calendar again, in full, a few times at
// most; any other failure ends the step.
Result<Fetched<bool>> Restart(RunContext& context, Pending& p, const ProviderError& error) {
  if (error.kind != ProviderFailure::kGone || p.restarts >= kMaxRestarts) {
    return Fetched<bool>(error);
  }
  p.full = true;
  p.page.clear();
  ++p.restarts;
  context.run().checkpoint["current"] = PendingJson(p);
  SB_RETURN_IF_ERROR(context.Commit([](store::Transaction&) { return OkStatus(); }));
  return Fetched<bool>(false);
}

// Stores one page of the calendar `p` with the run's checkpoint: the next page, or, after the
// round's last, the new cursor (and for a full round, the removal of what it did not see).
Status ApplyPage(RunContext& context, const Pending& p, const EventPage& page, IdGenerator& ids) {
  store::SyncRunRecord& run = context.run();
  Json& checkpoint = run.checkpoint;
  const CalendarId calendar_id(p.uuid);
  return context.Commit([&](store::Transaction& tx) -> Status {
    PageApplier applier(context, tx, calendar_id, p.full, ids);
    SB_RETURN_IF_ERROR(applier.Begin(page.items));
    for (const EventChange& change : page.items) SB_RETURN_IF_ERROR(applier.Apply(change));
    ++run.pages;
    if (!page.next_page.empty()) {
      Pending next = p;
      next.page = page.next_page;
      checkpoint["current"] = PendingJson(next);
      return applier.Finish();
    }
    // The round's last page: what a full round did not see is gone at the provider.
    if (p.full) SB_RETURN_IF_ERROR(applier.RemoveUnseen());
    SetCursor(context.state(), p.provider_id, page.cursor);
    checkpoint.erase("current");
    return applier.Finish();
  });
}

}  // namespace

Result<Fetched<bool>> CalendarSync::SyncEvents(RunContext& context, CalendarSource& source) {
  store::SyncRunRecord& run = context.run();
  run.phase = "events";
  Json& checkpoint = run.checkpoint;
  std::optional<Pending> current;
  if (checkpoint.contains("current")) current = PendingFrom(checkpoint["current"]);
  if (!current) {
    Json& queue = checkpoint["queue"];
    if (!queue.is_array() || queue.empty()) return Fetched<bool>(true);
    current = PendingFrom(queue.front());
    queue.erase(queue.begin());
    if (!current) return Fetched<bool>(false);  // a malformed entry is skipped
    current->full = run.full || CursorOf(context.state(), current->provider_id).empty();
  }
  Pending& p = *current;
  Calendar calendar;
  calendar.provider_id = p.provider_id;
  calendar.time_zone = p.time_zone;
  const std::string cursor = p.full ? "" : CursorOf(context.state(), p.provider_id);
  const TenantId tenant = context.tenant();
  const ConnectionId connection = context.connection().id;
  Fetched<EventPage> fetched =
      source.FetchEvents(tenant, connection, calendar, PagePosition{cursor, p.page});
  // The calendar's pages one after the other, each committed with its checkpoint; the next page
  // is fetched while the current one is stored.
  while (true) {
    if (const ProviderError* e = FailureOf(fetched)) return Restart(context, p, *e);
    EventPage page = std::move(std::get<EventPage>(fetched));
    std::future<Fetched<EventPage>> next;
    if (!page.next_page.empty()) {
      next = FetchAhead(
          [&source, tenant, connection, calendar, position = PagePosition{cursor, page.next_page}] {
            return source.FetchEvents(tenant, connection, calendar, position);
          });
    }
    SB_RETURN_IF_ERROR(ApplyPage(context, p, page, ids_));
    if (page.next_page.empty()) return Fetched<bool>(false);
    p.page = page.next_page;
    fetched = next.get();
  }
}

}  // namespace sb::sync::calendar
