#include "sb/sync/calendar/page_applier.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "sb/store/calendar/calendar_repository.h"
#include "sb/store/calendar/event_mapping_repository.h"
#include "sb/sync/calendar/calendar_sync.h"
#include "sb/sync/calendar/event_record.h"
#include "sb/sync/calendar/occurrences.h"

namespace sb::sync::calendar {
namespace {

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

Json EventRef(const store::EventRecord& e) {
  return {{"id", e.id.value()},
          {"connection_id", e.connection_id.value()},
          {"calendar_id", e.calendar_id.value()},
          {"provider_id", e.provider_id}};
}

}  // namespace

// Applies one page's items to a calendar in `tx`, publishing real changes. Upserts are
// gathered and written a batch at a time (before anything that reads or deletes events, and at
// Finish); the page's changes are published together at Finish, in the order they happened.
class PageApplier::Impl {
 public:
  Impl(RunContext& context, store::Transaction& tx, const CalendarId& calendar, bool full,
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
  // The host's mappings are read before the events: the writer settles a write (the event and
  // its mapping) in one transaction, so events read after a settled mapping are at least as
  // new as it. Read the other way round on PostgreSQL (each statement sees what was committed
  // when it began), a settle between the two reads paired the new mapping with the old event,
  // and a page fetched before the write went back over it: the mapping followed the page's
  // older version, and the write itself came back later as a provider change (an echo).
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
    SB_RETURN_IF_ERROR(ReadMappings(ids));
    SB_RETURN_IF_ERROR(ReadCreations(items));
    SB_ASSIGN_OR_RETURN(auto stored, Repo().FindEvents(tx_, context_.tenant(), calendar_, ids));
    for (store::EventRecord& e : stored) known_.insert_or_assign(e.provider_id, std::move(e));
    return OkStatus();
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

  // Events Switchboard created that the page's mappings do not name: their mapping's
  // id is in the event (Graph's transactionId, writer.h; the Google id "sb" + the mapping id's
  // hex digits). A mapping still being written holds the event back like any pending write;
  // no mapping at all means the host has deleted the entry since this page was fetched, and
  // the event is not brought back.
  Status ReadCreations(const std::vector<EventChange>& items) {
    for (const EventChange& change : items) {
      if (!change.event || mappings_.contains(change.provider_id)) {
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
  // false when the host deleted the entry since Begin read it: the deletion is on its way to
  // the provider, and the change is not applied.
  Result<bool> FollowMapping(store::EventMappingRecord& m, const store::EventRecord& record) {
    if (m.state != store::MappingState::kSynced) return true;
    m.provider_version = record.version;
    m.event_id = record.id;
    m.updated_at = context_.clock().Now();
    const Result<bool> updated = Mappings().Update(tx_, context_.tenant(), m, m.host_version);
    if (updated.status().code() == StatusCode::kNotFound) return false;
    SB_RETURN_IF_ERROR(updated.status());
    return true;
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
  // Most removals of unknown ids are not occurrences (Graph also reports events outside the
  // window): those cost one lookup, and the gathered upserts stay gathered.
  Status CancelOccurrence(const std::string& provider_id) {
    if (context_.connection().provider == "google") return OkStatus();  // it sends cancellations
    SB_RETURN_IF_ERROR(FlushOccurrences());
    SB_ASSIGN_OR_RETURN(auto ref,
                        Repo().FindOccurrence(tx_, context_.tenant(), calendar_, provider_id));
    if (!ref) return OkStatus();
    SB_RETURN_IF_ERROR(FlushPuts());  // the series may be among them
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
      SB_ASSIGN_OR_RETURN(const bool mapped, FollowMapping(*mapping, record));
      if (!mapped) {
        mappings_.erase(event.provider_id);
        return OkStatus();
      }
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

PageApplier::PageApplier(RunContext& context, store::Transaction& tx, const CalendarId& calendar,
                         bool full, IdGenerator& ids)
    : impl_(std::make_unique<Impl>(context, tx, calendar, full, ids)) {}

PageApplier::~PageApplier() = default;

Status PageApplier::Begin(const std::vector<EventChange>& items) { return impl_->Begin(items); }
Status PageApplier::Apply(const EventChange& change) { return impl_->Apply(change); }
Status PageApplier::RemoveUnseen() { return impl_->RemoveUnseen(); }
Status PageApplier::Finish() { return impl_->Finish(); }

}  // namespace sb::sync::calendar
