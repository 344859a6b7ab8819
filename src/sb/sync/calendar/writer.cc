#include "sb/sync/calendar/writer.h"

#include <utility>
#include <variant>

#include "sb/base/encoding.h"
#include "sb/base/time_format.h"
#include "sb/caltime/caltime.h"
#include "sb/sync/calendar/calendar_sync.h"
#include "sb/sync/calendar/conflicts.h"
#include "sb/sync/calendar/event_record.h"
#include "sb/sync/calendar/occurrences.h"
#include "sb/sync/calendar/outbound.h"

namespace sb::sync::calendar {
namespace {

using store::EventMappingRecord;
using store::MappingState;

constexpr char kUpsert[] = "upsert";
constexpr char kDelete[] = "delete";
constexpr int kMaxExternalIdBytes = 256;

// The pending member of a mapping: {"op": "upsert", "event": <unified JSON>} or {"op":
// "delete"}. A stored row is untrusted: anything else reads as nothing pending.
struct PendingWrite {
  bool remove = false;
  Event event;
};

// The pending member of a write of `event`.
Json UpsertOf(const Event& event) { return Json{{"op", kUpsert}, {"event", EventToJson(event)}}; }

std::optional<PendingWrite> PendingOf(const EventMappingRecord& m) {
  if (!m.pending.is_object() || !m.pending.contains("op")) return std::nullopt;
  const Json& op = m.pending["op"];
  if (op == kDelete) return PendingWrite{true, {}};
  if (op != kUpsert || !m.pending.contains("event") || !m.pending["event"].is_object()) {
    return std::nullopt;
  }
  // A new event has no provider id yet; the model's reader wants one.
  Json json = m.pending["event"];
  const bool fresh = json.value("provider_id", "").empty();
  if (fresh) json["provider_id"] = "new";
  auto event = EventFromJson(json);
  if (!event.ok()) return std::nullopt;
  if (fresh) event->provider_id.clear();
  return PendingWrite{false, std::move(*event)};
}

// An If-Match value or a version without W/"..." or quotes, so that `"abc"`, W/"abc" and abc
// match.
std::string BareVersion(std::string_view v) {
  // Only a quoted value is a weak one: a Graph changeKey is base64 and may begin with "W/".
  if (v.size() >= 4 && v.starts_with("W/\"") && v.back() == '"')
    return std::string(v.substr(3, v.size() - 4));
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"')
    return std::string(v.substr(1, v.size() - 2));
  return std::string(v);
}

Status CheckIfMatch(const std::optional<std::string>& if_match, const std::string& version) {
  if (!if_match || *if_match == "*") return OkStatus();
  if (BareVersion(*if_match) == BareVersion(version)) return OkStatus();
  return AbortedError("the event changed since the version in If-Match");
}

Status CheckExternalId(std::string_view id) {
  if (id.empty() || id.size() > kMaxExternalIdBytes) {
    return InvalidArgumentError("external_id: 1..256 bytes");
  }
  for (char c : id) {
    if (c <= 0x20 || c >= 0x7f) return InvalidArgumentError("external_id: visible ASCII only");
  }
  return OkStatus();
}

// Google event ids are 5..1024 characters of base32hex (0-9, a-v): "sb" and the mapping id's
// hex digits, so a retried insert names the same event.
std::string GoogleEventIdFor(const std::string& mapping_id) {
  std::string id = "sb";
  for (char c : mapping_id) {
    if (c != '-') id.push_back(c);
  }
  return id;
}

// A new entry of the host in `calendar`. Google takes the id of a new event from the client:
// known before the write, so a sync that meets the event while the write is in flight finds
// its mapping.
EventMappingRecord NewMapping(const TenantId& tenant, IdGenerator& ids,
                              const ConnectionId& connection, const CalendarId& calendar,
                              std::string external_id, bool google) {
  EventMappingRecord m;
  m.tenant_id = tenant;
  m.id = ids.NewUuid();
  m.connection_id = connection;
  m.calendar_id = calendar;
  m.external_id = std::move(external_id);
  if (google) m.provider_id = GoogleEventIdFor(m.id);
  return m;
}

bool Transient(ProviderFailure kind) {
  return kind == ProviderFailure::kRateLimited || kind == ProviderFailure::kUnavailable;
}

std::string ReasonOf(const ProviderError& e) {
  return e.reason.empty() ? e.message : e.message + ": " + e.reason;
}

}  // namespace

// Where a mapping's event lives at the provider.
struct EventWriter::Target {
  std::string provider;  // "google", "microsoft"
  store::CalendarRecord calendar;
  std::string zone;  // the calendar's zone, for Google's all-day and floating times
  std::string base;  // the provider's API base URL

  bool google() const { return provider == "google"; }
  std::string Collection() const {
    if (google()) {
      return base + "/calendar/v3/calendars/" + PercentEncode(calendar.provider_id) + "/events";
    }
    return base + "/v1.0/me/calendars/" + PercentEncode(calendar.provider_id) + "/events";
  }
  std::string Item(const std::string& provider_id) const {
    if (google()) return Collection() + "/" + PercentEncode(provider_id);
    return base + "/v1.0/me/events/" + PercentEncode(provider_id);
  }
  std::string IfMatch(const std::string& version) const {
    if (google()) return version;
    std::string etag = "W/\"";
    etag += BareVersion(version);
    etag += '"';
    return etag;
  }
  Result<Event> Parse(const Json& answer) const {
    SB_ASSIGN_OR_RETURN(EventChange change,
                        google() ? EventFromGoogle(answer, zone) : EventFromGraph(answer));
    if (!change.event) return InvalidArgumentError("the provider answered with a removal");
    return std::move(*change.event);
  }
};

// A write recorded in its mapping, ready to send.
struct EventWriter::Prepared {
  EventMappingRecord mapping;
  bool queued_behind = false;    // an earlier write of the mapping is still pending: the job sends
  std::optional<Target> target;  // read with the write, for the inline send (not when queued)
};

EventWriter::EventWriter(EventWriterDeps deps, EventWriterOptions options)
    : db_(deps.db),
      provider_(deps.provider),
      clock_(deps.clock),
      ids_(deps.ids),
      changes_(deps.changes),
      options_(options),
      audit_(deps.audit) {
  if (deps.metrics != nullptr) {
    conflicts_total_ = &deps.metrics->AddCounter(
        "sb_calendar_conflicts_total",
        "Conflicts between host writes and provider changes, by policy and resolution.",
        {"policy", "resolution"});
  }
}

Result<EventWriter::Target> EventWriter::TargetIn(store::Transaction& tx, const TenantId& tenant,
                                                  const store::ConnectionRecord& connection,
                                                  const CalendarId& calendar_id) {
  Target target;
  target.provider = connection.provider;
  SB_ASSIGN_OR_RETURN(auto calendar, calendars_.GetCalendar(tx, tenant, calendar_id));
  if (!calendar) return NotFoundError("calendar not found");
  target.calendar = std::move(*calendar);
  if (target.calendar.data.is_object() && target.calendar.data.contains("time_zone") &&
      target.calendar.data["time_zone"].is_string()) {
    target.zone = target.calendar.data["time_zone"].get<std::string>();
  }
  SB_ASSIGN_OR_RETURN(target.base, provider_.BaseUrl(target.provider));
  return target;
}

Result<EventWriter::Target> EventWriter::TargetOf(const TenantId& tenant,
                                                  const EventMappingRecord& mapping) {
  std::optional<Target> target;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) {
    SB_ASSIGN_OR_RETURN(auto connection, connections_.Get(tx, tenant, mapping.connection_id));
    if (!connection) return NotFoundError("connection not found");
    SB_ASSIGN_OR_RETURN(target, TargetIn(tx, tenant, *connection, mapping.calendar_id));
    return OkStatus();
  }));
  return std::move(*target);
}

// Whether the connection may write calendars: it was connected for read-write calendar
// access (a read-only one would only meet the provider's 403).
Status CheckWriteGrant(const store::ConnectionRecord& connection) {
  for (const store::ServiceGrant& grant : connection.services) {
    if (grant.service == "calendar" && grant.write) return OkStatus();
  }
  return FailedPreconditionError(
      "the connection has read-only calendar access: connect it again with read-write access");
}

// Records the write in the mapping (inserted when new) with its job, in the caller's
// transaction, and reads where it goes for the inline send.
Result<EventWriter::Prepared> EventWriter::PrepareIn(store::Transaction& tx, const TenantId& tenant,
                                                     EventMappingRecord mapping,
                                                     const Json& pending,
                                                     const store::ConnectionRecord* connection) {
  const bool fresh = mapping.host_version == 0 && mapping.created_at == Timestamp{};
  std::optional<store::ConnectionRecord> read;
  if (connection == nullptr) {
    SB_ASSIGN_OR_RETURN(read, connections_.Get(tx, tenant, mapping.connection_id));
    if (!read) return NotFoundError("connection not found");
    connection = &*read;
  }
  SB_RETURN_IF_ERROR(CheckWriteGrant(*connection));
  Prepared prepared;
  prepared.queued_behind = !fresh && mapping.state == MappingState::kPending;
  const int64_t expected = mapping.host_version;
  const Timestamp now = clock_.Now();
  if (!fresh && mapping.state == MappingState::kConflict) {
    SB_RETURN_IF_ERROR(SupersedeConflict(tx, tenant, mapping.id));
  }
  mapping.pending = pending;
  mapping.state = MappingState::kPending;
  mapping.last_error.clear();
  ++mapping.host_version;
  mapping.updated_at = now;
  if (fresh) {
    mapping.created_at = now;
    SB_RETURN_IF_ERROR(mappings_.Insert(tx, tenant, mapping));
  } else {
    SB_ASSIGN_OR_RETURN(const bool updated, mappings_.Update(tx, tenant, mapping, expected));
    if (!updated) return AbortedError("the entry is being written by another request");
  }
  jobs::JobSpec spec;
  spec.kind = kEventWriteJob;
  spec.payload = Json{{"mapping_id", mapping.id}};
  spec.run_at = now + std::chrono::duration_cast<std::chrono::microseconds>(options_.job_delay);
  spec.dedupe_key = mapping.id;
  spec.concurrency_key = "event_write:" + mapping.id;
  spec.concurrency_limit = 1;
  spec.max_attempts = options_.job_max_attempts;
  SB_RETURN_IF_ERROR(jobs::Enqueue(tx, tenant, spec, clock_, ids_).status());
  if (!prepared.queued_behind) {
    SB_ASSIGN_OR_RETURN(prepared.target, TargetIn(tx, tenant, *connection, mapping.calendar_id));
  }
  prepared.mapping = std::move(mapping);
  return prepared;
}

// A host write to an entry in conflict is the host choosing again: the open conflict is
// resolved for the host (published and audited), and the newer write meets the provider's
// version itself (a conflict of its own if they still differ).
Status EventWriter::SupersedeConflict(store::Transaction& tx, const TenantId& tenant,
                                      const std::string& mapping_id) {
  SB_ASSIGN_OR_RETURN(auto open, conflicts_.FindOpen(tx, tenant, mapping_id));
  if (!open) return OkStatus();
  SB_ASSIGN_OR_RETURN(const bool done,
                      conflicts_.Resolve(tx, tenant, open->id, store::ConflictResolution::kHost,
                                         Json(nullptr), "superseded-by-host-write", clock_.Now()));
  if (!done) return OkStatus();
  SB_ASSIGN_OR_RETURN(auto resolved, conflicts_.Get(tx, tenant, open->id));
  if (!resolved) return OkStatus();
  return PublishConflict(tx, tenant, *resolved, SyncAuditContext());
}

Result<WriteResult> EventWriter::Write(const TenantId& tenant, Prepared prepared) {
  if (prepared.queued_behind) {
    return WriteResult{WriteResult::Kind::kQueued, std::move(prepared.mapping), std::nullopt};
  }
  return Send(tenant, prepared.mapping, nullptr, prepared.target ? &*prepared.target : nullptr);
}

Result<WriteResult> EventWriter::Create(const TenantId& tenant, const ConnectionId& connection,
                                        const std::optional<CalendarId>& calendar,
                                        const Json& body) {
  const std::string id = ids_.NewUuid();
  return Put(tenant, connection, id, calendar, body, std::nullopt);
}

namespace {

// The calendar a new entry goes to: the one named (the connection's) or the primary.
Result<store::CalendarRecord> CalendarFor(store::Transaction& tx, const TenantId& tenant,
                                          const ConnectionId& connection,
                                          const std::optional<CalendarId>& calendar,
                                          store::CalendarRepository& repo) {
  SB_ASSIGN_OR_RETURN(auto calendars, repo.ListCalendars(tx, tenant, connection));
  for (auto& c : calendars) {
    const bool primary = c.data.is_object() && c.data.value("primary", false);
    if (calendar ? c.id == *calendar : primary) {
      const std::string role = c.data.is_object() ? c.data.value("access_role", "") : "";
      if (role != "owner" && role != "writer") {
        return FailedPreconditionError("the calendar is not writable for this connection");
      }
      return std::move(c);
    }
  }
  return NotFoundError(calendar ? "calendar not found"
                                : "the connection has no synced primary calendar yet");
}

}  // namespace

Result<WriteResult> EventWriter::Put(const TenantId& tenant, const ConnectionId& connection,
                                     const std::string& external_id,
                                     const std::optional<CalendarId>& calendar, const Json& body,
                                     const std::optional<std::string>& if_match) {
  SB_RETURN_IF_ERROR(CheckExternalId(external_id));
  SB_ASSIGN_OR_RETURN(Event desired, HostEventFromJson(body));
  Prepared prepared;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto conn, connections_.Get(tx, tenant, connection));
    if (!conn) return NotFoundError("connection not found");
    SB_ASSIGN_OR_RETURN(auto existing,
                        mappings_.FindByExternalId(tx, tenant, connection, external_id));
    EventMappingRecord mapping;
    if (existing) {
      SB_RETURN_IF_ERROR(CheckIfMatch(if_match, existing->provider_version));
      mapping = std::move(*existing);
    } else {
      SB_ASSIGN_OR_RETURN(auto target, CalendarFor(tx, tenant, connection, calendar, calendars_));
      mapping =
          NewMapping(tenant, ids_, connection, target.id, external_id, conn->provider == "google");
    }
    desired.provider_id = mapping.provider_id;
    SB_ASSIGN_OR_RETURN(prepared, PrepareIn(tx, tenant, mapping, UpsertOf(desired), &*conn));
    return OkStatus();
  }));
  return Write(tenant, std::move(prepared));
}

namespace {

// The mapping of a stored event: its own, or a new one under the event's id (events the host
// did not create are mapped on their first write).
Result<EventMappingRecord> MappingForEvent(store::Transaction& tx, const TenantId& tenant,
                                           const store::EventRecord& event,
                                           store::EventMappingRepository& repo, IdGenerator& ids) {
  SB_ASSIGN_OR_RETURN(auto found, repo.FindByEvent(tx, tenant, event.id));
  if (found) return std::move(*found);
  EventMappingRecord m;
  m.tenant_id = tenant;
  m.id = ids.NewUuid();
  m.connection_id = event.connection_id;
  m.calendar_id = event.calendar_id;
  m.external_id = event.id.value();
  m.event_id = event.id;
  m.provider_id = event.provider_id;
  m.provider_version = event.version;
  m.state = MappingState::kSynced;
  return m;
}

// A stored event the host writes to, checked against its If-Match, with its mapping.
struct MappedEvent {
  store::EventRecord stored;
  EventMappingRecord mapping;
};

Result<MappedEvent> MappedEventFor(store::Transaction& tx, const TenantId& tenant,
                                   const EventId& event, const std::optional<std::string>& if_match,
                                   store::CalendarRepository& calendars,
                                   store::EventMappingRepository& mappings, IdGenerator& ids) {
  SB_ASSIGN_OR_RETURN(auto stored, calendars.GetEvent(tx, tenant, event));
  if (!stored) return NotFoundError("event not found");
  SB_RETURN_IF_ERROR(CheckIfMatch(if_match, stored->version));
  SB_ASSIGN_OR_RETURN(auto mapping, MappingForEvent(tx, tenant, *stored, mappings, ids));
  return MappedEvent{std::move(*stored), std::move(mapping)};
}

// The event as the host last asked for it (pending) or as it is stored.
Result<Event> CurrentEvent(const EventMappingRecord& mapping, const store::EventRecord& stored) {
  if (auto pending = PendingOf(mapping); pending && !pending->remove) return pending->event;
  return EventFromJson(stored.data);
}

}  // namespace

Result<WriteResult> EventWriter::Update(const TenantId& tenant, const EventId& event,
                                        const Json& patch,
                                        const std::optional<std::string>& if_match) {
  Prepared prepared;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto mapped,
                        MappedEventFor(tx, tenant, event, if_match, calendars_, mappings_, ids_));
    SB_ASSIGN_OR_RETURN(const Event base, CurrentEvent(mapped.mapping, mapped.stored));
    SB_ASSIGN_OR_RETURN(const Event desired, ApplyHostPatch(base, patch));
    SB_ASSIGN_OR_RETURN(prepared, PrepareIn(tx, tenant, mapped.mapping, UpsertOf(desired)));
    return OkStatus();
  }));
  return Write(tenant, std::move(prepared));
}

Result<WriteResult> EventWriter::Delete(const TenantId& tenant, const EventId& event,
                                        const std::optional<std::string>& if_match) {
  Prepared prepared;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto mapped,
                        MappedEventFor(tx, tenant, event, if_match, calendars_, mappings_, ids_));
    SB_ASSIGN_OR_RETURN(prepared, PrepareIn(tx, tenant, mapped.mapping, Json{{"op", kDelete}}));
    return OkStatus();
  }));
  return Write(tenant, std::move(prepared));
}

Result<WriteResult> EventWriter::DeleteByExternalId(const TenantId& tenant,
                                                    const ConnectionId& connection,
                                                    const std::string& external_id,
                                                    const std::optional<std::string>& if_match) {
  SB_RETURN_IF_ERROR(CheckExternalId(external_id));
  Prepared prepared;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto mapping,
                        mappings_.FindByExternalId(tx, tenant, connection, external_id));
    if (!mapping) return NotFoundError("no entry with this external id");
    SB_RETURN_IF_ERROR(CheckIfMatch(if_match, mapping->provider_version));
    SB_ASSIGN_OR_RETURN(prepared, PrepareIn(tx, tenant, *mapping, Json{{"op", kDelete}}));
    return OkStatus();
  }));
  return Write(tenant, std::move(prepared));
}

namespace {

// The stored exception of `master` at `slot`, if any (among its first kMaxListLimit: a series
// with more has its later exceptions changed through the provider's own instance).
Result<std::optional<store::EventRecord>> StoredException(store::Transaction& tx,
                                                          const TenantId& tenant,
                                                          const store::EventRecord& master,
                                                          const EventTime& slot,
                                                          store::CalendarRepository& repo) {
  SB_ASSIGN_OR_RETURN(auto exceptions,
                      repo.ListExceptions(tx, tenant, master.calendar_id, master.provider_id,
                                          store::CalendarRepository::kMaxListLimit));
  for (auto& e : exceptions) {
    auto parsed = EventFromJson(e.data);
    if (parsed.ok() && parsed->original_start && SameSlot(*parsed->original_start, slot)) {
      return std::optional<store::EventRecord>(std::move(e));
    }
  }
  return std::optional<store::EventRecord>();
}

// An occurrence cancelled: the exception that says so.
}  // namespace

Result<WriteResult> EventWriter::WriteOccurrence(const TenantId& tenant, const EventId& series,
                                                 const EventTime& original_start,
                                                 const std::optional<Json>& patch,
                                                 const std::optional<std::string>& if_match) {
  Prepared prepared;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto stored, calendars_.GetEvent(tx, tenant, series));
    if (!stored) return NotFoundError("event not found");
    SB_ASSIGN_OR_RETURN(const Event master, EventFromJson(stored->data));
    SB_ASSIGN_OR_RETURN(auto exception,
                        StoredException(tx, tenant, *stored, original_start, calendars_));
    EventMappingRecord mapping;
    Event base;
    if (exception) {
      SB_RETURN_IF_ERROR(CheckIfMatch(if_match, exception->version));
      SB_ASSIGN_OR_RETURN(mapping, MappingForEvent(tx, tenant, *exception, mappings_, ids_));
      SB_ASSIGN_OR_RETURN(base, CurrentEvent(mapping, *exception));
    } else {
      SB_RETURN_IF_ERROR(CheckIfMatch(if_match, stored->version));
      SB_ASSIGN_OR_RETURN(base, OccurrenceAt(master, original_start));
      std::string external = series.value();
      external += '@';
      external += FormatOriginalStart(original_start);
      SB_ASSIGN_OR_RETURN(auto found,
                          mappings_.FindByExternalId(tx, tenant, stored->connection_id, external));
      SB_ASSIGN_OR_RETURN(auto conn, connections_.Get(tx, tenant, stored->connection_id));
      if (!conn) return NotFoundError("connection not found");
      if (found) {
        mapping = std::move(*found);
        if (auto pending = PendingOf(mapping); pending && !pending->remove) base = pending->event;
      } else {
        // Google names an occurrence "<series id>_<slot>"; Graph's id is looked up on sending.
        mapping =
            NewMapping(tenant, ids_, stored->connection_id, stored->calendar_id, external, false);
        if (conn->provider == "google") mapping.provider_id = base.provider_id;
      }
    }
    Event desired;
    if (patch) {
      SB_ASSIGN_OR_RETURN(desired, PatchedOccurrence(master, base, original_start, *patch));
    } else {
      desired = CancelledOccurrence(master, std::move(base), original_start);
    }
    desired.provider_id = mapping.provider_id;
    SB_ASSIGN_OR_RETURN(prepared, PrepareIn(tx, tenant, mapping, UpsertOf(desired)));
    return OkStatus();
  }));
  return Write(tenant, std::move(prepared));
}

Result<EventWriter::SplitResult> EventWriter::Split(const TenantId& tenant, const EventId& series,
                                                    const EventTime& from, const Json& patch,
                                                    const std::optional<std::string>& external_id,
                                                    const std::optional<std::string>& if_match) {
  if (external_id) SB_RETURN_IF_ERROR(CheckExternalId(*external_id));
  Prepared ended;
  Prepared following;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto mapped,
                        MappedEventFor(tx, tenant, series, if_match, calendars_, mappings_, ids_));
    SB_ASSIGN_OR_RETURN(const Event base, CurrentEvent(mapped.mapping, mapped.stored));
    SB_ASSIGN_OR_RETURN(const Event at, OccurrenceAt(base, from));
    SB_ASSIGN_OR_RETURN(SplitSeries split, SplitAt(base, at));
    SB_ASSIGN_OR_RETURN(Event next, ApplyHostPatch(split.following, patch));
    SB_ASSIGN_OR_RETURN(auto conn, connections_.Get(tx, tenant, mapped.stored.connection_id));
    if (!conn) return NotFoundError("connection not found");
    if (external_id) {
      SB_ASSIGN_OR_RETURN(auto taken, mappings_.FindByExternalId(
                                          tx, tenant, mapped.stored.connection_id, *external_id));
      if (taken) return AlreadyExistsError("an entry with this external id exists");
    }
    EventMappingRecord m =
        NewMapping(tenant, ids_, mapped.stored.connection_id, mapped.stored.calendar_id,
                   external_id.value_or(ids_.NewUuid()), conn->provider == "google");
    next.provider_id = m.provider_id;
    SB_ASSIGN_OR_RETURN(ended, PrepareIn(tx, tenant, mapped.mapping, UpsertOf(split.ended)));
    SB_ASSIGN_OR_RETURN(following, PrepareIn(tx, tenant, m, UpsertOf(next)));
    return OkStatus();
  }));
  SplitResult result;
  SB_ASSIGN_OR_RETURN(result.ended, Write(tenant, std::move(ended)));
  SB_ASSIGN_OR_RETURN(result.following, Write(tenant, std::move(following)));
  return result;
}

Result<WriteResult> EventWriter::Get(const TenantId& tenant, const ConnectionId& connection,
                                     const std::string& external_id) {
  SB_RETURN_IF_ERROR(CheckExternalId(external_id));
  WriteResult result;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) {
    SB_ASSIGN_OR_RETURN(auto mapping,
                        mappings_.FindByExternalId(tx, tenant, connection, external_id));
    if (!mapping) return NotFoundError("no entry with this external id");
    result.mapping = std::move(*mapping);
    if (result.mapping.event_id) {
      SB_ASSIGN_OR_RETURN(result.event, calendars_.GetEvent(tx, tenant, *result.mapping.event_id));
    }
    return OkStatus();
  }));
  result.kind = result.mapping.state == MappingState::kPending ? WriteResult::Kind::kQueued
                                                               : WriteResult::Kind::kWritten;
  return result;
}

Result<WriteResult> EventWriter::Send(const TenantId& tenant, const EventMappingRecord& mapping,
                                      ProviderError* transient, const Target* target) {
  const std::optional<PendingWrite> pending = PendingOf(mapping);
  if (!pending) {
    return MarkFailed(tenant, mapping, MappingState::kError, "the pending write is unreadable");
  }
  std::optional<Target> read;
  if (target == nullptr) {
    SB_ASSIGN_OR_RETURN(read, TargetOf(tenant, mapping));
    target = &*read;
  }
  if (pending->remove) return SendDelete(tenant, mapping, *target, transient);
  return SendUpsert(tenant, mapping, *target, pending->event, transient);
}

Result<WriteResult> EventWriter::SendUpsert(const TenantId& tenant,
                                            const EventMappingRecord& mapping, const Target& target,
                                            const Event& event, ProviderError* transient,
                                            bool retried) {
  const bool occurrence = event.kind == EventKind::kException;
  if (occurrence && !target.google()) {
    if (mapping.provider_id.empty()) {
      Fetched<std::string> id = GraphOccurrenceId(tenant, mapping, target, event);
      if (const ProviderError* e = FailureOf(id)) return Failed(tenant, mapping, *e, transient);
      EventMappingRecord found = mapping;
      found.provider_id = std::get<std::string>(std::move(id));
      return SendUpsert(tenant, found, target, event, transient, retried);
    }
    if (event.status == EventStatus::kCancelled) {
      return SendGraphCancel(tenant, mapping, target, event, transient);
    }
  }
  // An occurrence is changed where it is (the provider makes it an exception), never created.
  const bool create = !occurrence && mapping.provider_version.empty() &&
                      (mapping.provider_id.empty() || target.google());
  Json body;
  if (target.google()) {
    body = EventToGoogle(event, create ? GoogleEventIdFor(mapping.id) : "");
  } else {
    auto graph = EventToGraph(event);
    if (!graph.ok()) {
      SB_RETURN_IF_ERROR(
          MarkFailed(tenant, mapping, MappingState::kError, graph.status().message()).status());
      return graph.status();
    }
    body = std::move(*graph);
    if (create) body["transactionId"] = mapping.id;
  }
  net::HeaderList headers;
  if (!create && !mapping.provider_version.empty()) {
    headers.emplace_back("If-Match", target.IfMatch(mapping.provider_version));
  }
  Fetched<Json> answer =
      create ? provider_.Send(tenant, mapping.connection_id, "POST", target.Collection(), body)
             : provider_.Send(tenant, mapping.connection_id, "PATCH",
                              target.Item(mapping.provider_id), body, headers);
  // A retried Google insert: the event exists under the id this mapping chose.
  if (const ProviderError* e = FailureOf(answer);
      e && create && target.google() && e->kind == ProviderFailure::kConflict) {
    answer =
        provider_.Get(tenant, mapping.connection_id, target.Item(GoogleEventIdFor(mapping.id)));
  }
  if (const ProviderError* e = FailureOf(answer)) {
    if (e->kind == ProviderFailure::kPrecondition && !retried) {
      return OnPrecondition(tenant, mapping, target, event, transient);
    }
    return Failed(tenant, mapping, *e, transient);
  }
  auto written = target.Parse(std::get<Json>(answer));
  if (!written.ok()) {
    return MarkFailed(tenant, mapping, MappingState::kError,
                      "the provider's answer is not an event: " + written.status().message());
  }
  return Settle(tenant, mapping, std::move(*written));
}

Fetched<std::string> EventWriter::GraphOccurrenceId(const TenantId& tenant,
                                                    const EventMappingRecord& mapping,
                                                    const Target& target, const Event& exception) {
  const EventTime slot = exception.original_start.value_or(exception.start);
  constexpr int64_t kDayMs = 86'400'000;
  int64_t at = slot.instant_ms.value_or(0);
  if (!slot.instant_ms) {
    auto day = caltime::ParseDate(slot.date);
    if (!day.ok()) return ProviderError{ProviderFailure::kNotFound, "no such occurrence", {}, ""};
    at = *day;
  }
  std::string url = target.base;
  url += "/v1.0/me/events/";
  url += PercentEncode(exception.series_master_provider_id);
  url += "/instances?startDateTime=";
  url += PercentEncode(FormatOriginalStart(EventTime{at - kDayMs, "", ""}));
  url += "&endDateTime=";
  url += PercentEncode(FormatOriginalStart(EventTime{at + 2 * kDayMs, "", ""}));
  url += "&$top=100";
  Fetched<Json> answer = provider_.Get(tenant, mapping.connection_id, url);
  if (const ProviderError* e = FailureOf(answer)) return *e;
  const Json& page = std::get<Json>(answer);
  if (page.is_object() && page.contains("value") && page["value"].is_array()) {
    for (const Json& item : page["value"]) {
      auto change = EventFromGraph(item);
      if (change.ok() && change->event && change->event->original_start &&
          SameSlot(*change->event->original_start, slot)) {
        return change->provider_id;
      }
    }
  }
  std::string message = "the series has no occurrence at ";
  message += FormatOriginalStart(slot);
  return ProviderError{ProviderFailure::kNotFound, message, std::nullopt, ""};
}

Result<WriteResult> EventWriter::SendGraphCancel(const TenantId& tenant,
                                                 const EventMappingRecord& mapping,
                                                 const Target& target, const Event& cancelled,
                                                 ProviderError* transient) {
  net::HeaderList headers;
  if (!mapping.provider_version.empty()) {
    headers.emplace_back("If-Match", target.IfMatch(mapping.provider_version));
  }
  Fetched<Json> answer = provider_.Send(tenant, mapping.connection_id, "DELETE",
                                        target.Item(mapping.provider_id), Json(), headers);
  if (const ProviderError* e = FailureOf(answer);
      e && e->kind != ProviderFailure::kNotFound && e->kind != ProviderFailure::kGone) {
    return Failed(tenant, mapping, *e, transient);
  }
  // Graph keeps no item for a cancelled occurrence (its delta reports it removed): what is
  // stored is the cancelled exception, so that the series shows it and the sync keeps it.
  Event stored = cancelled;
  stored.provider_id = mapping.provider_id;
  stored.version.clear();
  return Settle(tenant, mapping, stored);
}

Result<WriteResult> EventWriter::SendDelete(const TenantId& tenant,
                                            const EventMappingRecord& mapping, const Target& target,
                                            ProviderError* transient, bool retried) {
  if (mapping.provider_id.empty()) return Settle(tenant, mapping, std::nullopt);
  net::HeaderList headers;
  if (!mapping.provider_version.empty()) {
    headers.emplace_back("If-Match", target.IfMatch(mapping.provider_version));
  }
  Fetched<Json> answer = provider_.Send(tenant, mapping.connection_id, "DELETE",
                                        target.Item(mapping.provider_id), Json(), headers);
  if (const ProviderError* e = FailureOf(answer)) {
    if (e->kind == ProviderFailure::kPrecondition && !retried) {
      return OnPrecondition(tenant, mapping, target, std::nullopt, transient);
    }
    // Gone already (Google answers 410 for a deleted event): what the host asked for.
    if (e->kind != ProviderFailure::kNotFound && e->kind != ProviderFailure::kGone) {
      return Failed(tenant, mapping, *e, transient);
    }
  }
  return Settle(tenant, mapping, std::nullopt);
}

Result<WriteResult> EventWriter::Failed(const TenantId& tenant, const EventMappingRecord& mapping,
                                        const ProviderError& error, ProviderError* transient) {
  if (Transient(error.kind)) {
    if (transient != nullptr) *transient = error;
    return WriteResult{WriteResult::Kind::kQueued, mapping, std::nullopt};
  }
  if (error.kind == ProviderFailure::kPrecondition) {
    return MarkFailed(tenant, mapping, MappingState::kConflict,
                      "the provider's event changed since version " + mapping.provider_version);
  }
  return MarkFailed(tenant, mapping, MappingState::kError, ReasonOf(error));
}

namespace {

// Removes a stored event, and a series master's exceptions with it.
Status RemoveStored(store::Transaction& tx, const TenantId& tenant, const store::EventRecord& event,
                    store::CalendarRepository& repo) {
  if (event.series_master_provider_id.empty()) {
    constexpr int kBatch = 500;
    while (true) {
      SB_ASSIGN_OR_RETURN(auto exceptions, repo.ListExceptions(tx, tenant, event.calendar_id,
                                                               event.provider_id, kBatch));
      for (const auto& e : exceptions)
        SB_RETURN_IF_ERROR(repo.DeleteEvent(tx, tenant, e.id).status());
      if (exceptions.size() < static_cast<size_t>(kBatch)) break;
    }
  }
  return repo.DeleteEvent(tx, tenant, event.id).status();
}

}  // namespace

// Stores what the provider answered (or the deletion) in `tx` and, when no newer host write
// came in meanwhile, ends the mapping's pending state.
Status EventWriter::SettleIn(store::Transaction& tx, const TenantId& tenant,
                             const EventMappingRecord& sent, const std::optional<Event>& written,
                             WriteResult& result) {
  SB_ASSIGN_OR_RETURN(auto found, mappings_.Get(tx, tenant, sent.id));
  if (!found) return NotFoundError("the entry was removed while it was written");
  EventMappingRecord m = std::move(*found);
  const int64_t seen = m.host_version;
  const bool current = seen == sent.host_version;
  std::optional<store::EventRecord> stored;
  if (m.event_id) {
    SB_ASSIGN_OR_RETURN(stored, calendars_.GetEvent(tx, tenant, *m.event_id));
  }
  if (!written) {
    if (stored) SB_RETURN_IF_ERROR(RemoveStored(tx, tenant, *stored, calendars_));
    result.kind = WriteResult::Kind::kDeleted;
    if (current) {
      SB_RETURN_IF_ERROR(jobs::RetireQueued(tx, tenant, kEventWriteJob, m.id, clock_).status());
      return mappings_.Delete(tx, tenant, m.id).status();
    }
    m.event_id.reset();
    m.provider_id.clear();
    m.provider_version.clear();
  } else {
    if (!stored) {
      SB_ASSIGN_OR_RETURN(stored,
                          calendars_.FindEvent(tx, tenant, m.calendar_id, written->provider_id));
    }
    const Timestamp now = clock_.Now();
    if (!stored) {
      stored = store::EventRecord{.tenant_id = tenant,
                                  .id = EventId(ids_.NewUuid()),
                                  .connection_id = m.connection_id,
                                  .calendar_id = m.calendar_id,
                                  .provider_id = written->provider_id,
                                  .created_at = now};
    }
    FillEventRecord(*stored, *written);
    stored->updated_at = now;
    SB_RETURN_IF_ERROR(calendars_.PutEvent(tx, tenant, *stored));
    m.event_id = stored->id;
    m.provider_id = written->provider_id;
    m.provider_version = written->version;
    result.kind = WriteResult::Kind::kWritten;
    result.event = std::move(stored);
  }
  if (current) {
    m.state = MappingState::kSynced;
    m.pending = nullptr;
    m.last_error.clear();
    // Nothing left for the write's safety-net job (PrepareIn) to send: it is retired here
    // rather than leased and run for nothing later. A running one finds the mapping synced.
    SB_RETURN_IF_ERROR(jobs::RetireQueued(tx, tenant, kEventWriteJob, m.id, clock_).status());
  } else {
    result.kind = WriteResult::Kind::kQueued;
  }
  m.updated_at = clock_.Now();
  SB_ASSIGN_OR_RETURN(const bool updated, mappings_.Update(tx, tenant, m, seen));
  if (!updated) return AbortedError("the entry changed while it was settled");
  result.mapping = std::move(m);
  return OkStatus();
}

// Settles a write the provider has taken (SettleIn). A sync run bringing the write's echo may
// store the same provider event at the same moment (or change the mapping): the loser of that
// race reads the winner's rows and settles again.
Result<WriteResult> EventWriter::Settle(const TenantId& tenant, const EventMappingRecord& sent,
                                        const std::optional<Event>& written) {
  WriteResult result;
  Status settled;
  for (int attempt = 0; attempt < 3; ++attempt) {
    result = WriteResult{};
    settled = db_.RunInTenant(tenant, [&](store::Transaction& tx) {
      return SettleIn(tx, tenant, sent, written, result);
    });
    const StatusCode code = settled.code();
    if (code != StatusCode::kAlreadyExists && code != StatusCode::kAborted) break;
  }
  SB_RETURN_IF_ERROR(settled);
  return result;
}

Result<WriteResult> EventWriter::MarkFailed(const TenantId& tenant, const EventMappingRecord& sent,
                                            MappingState state, const std::string& reason) {
  WriteResult result;
  result.kind =
      state == MappingState::kConflict ? WriteResult::Kind::kConflict : WriteResult::Kind::kQueued;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto found, mappings_.Get(tx, tenant, sent.id));
    if (!found) return NotFoundError("the entry was removed while it was written");
    EventMappingRecord m = std::move(*found);
    result.mapping = m;
    // A newer host write is pending: it is sent next, this outcome no longer matters.
    if (m.host_version != sent.host_version) return OkStatus();
    m.state = state;
    m.last_error = reason.substr(0, 1024);
    m.updated_at = clock_.Now();
    SB_ASSIGN_OR_RETURN(const bool updated, mappings_.Update(tx, tenant, m, m.host_version));
    if (!updated) return AbortedError("the entry changed while it was settled");
    if (m.event_id) {
      SB_ASSIGN_OR_RETURN(result.event, calendars_.GetEvent(tx, tenant, *m.event_id));
    }
    result.mapping = m;
    const char* type =
        state == MappingState::kConflict ? "event.conflict_detected" : "event.write_failed";
    return changes_.Publish(tx, tenant, type, m.id, m.connection_id,
                            Json{{"mapping", MappingJson(m)}, {"reason", m.last_error}});
  }));
  if (state == MappingState::kError && result.mapping.state == MappingState::kError) {
    return InvalidArgumentError("the provider refused the write: " + result.mapping.last_error);
  }
  return result;
}

// The connection's own policy for calendars, else its integration's, else the default.
Result<store::ConflictPolicy> EventWriter::PolicyOf(const TenantId& tenant,
                                                    const EventMappingRecord& mapping) {
  store::ConflictPolicy policy = options_.default_policy;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) {
    SB_ASSIGN_OR_RETURN(auto connection, connections_.Get(tx, tenant, mapping.connection_id));
    if (!connection) return OkStatus();
    SB_ASSIGN_OR_RETURN(auto integration, integrations_.Get(tx, tenant, connection->provider));
    if (integration) {
      policy = PolicyFromSettings(Json{{"conflict_policies", integration->conflict_policies}},
                                  "calendar", policy);
    }
    policy = PolicyFromSettings(connection->settings, "calendar", policy);
    return OkStatus();
  }));
  return policy;
}

Result<WriteResult> EventWriter::OnPrecondition(const TenantId& tenant,
                                                const EventMappingRecord& mapping,
                                                const Target& target,
                                                const std::optional<Event>& host,
                                                ProviderError* transient) {
  // The provider's version now: an event, or gone.
  std::optional<Event> theirs;
  Fetched<Json> current =
      provider_.Get(tenant, mapping.connection_id, target.Item(mapping.provider_id));
  if (const ProviderError* e = FailureOf(current)) {
    if (e->kind != ProviderFailure::kNotFound && e->kind != ProviderFailure::kGone) {
      return Failed(tenant, mapping, *e, transient);
    }
  } else {
    auto parsed = target.Parse(std::get<Json>(current));
    if (!parsed.ok()) {
      return MarkFailed(tenant, mapping, MappingState::kError,
                        "the provider's answer is not an event: " + parsed.status().message());
    }
    theirs = std::move(*parsed);
  }
  SB_ASSIGN_OR_RETURN(const store::ConflictPolicy policy, PolicyOf(tenant, mapping));
  const Timestamp now = clock_.Now();
  store::EventConflictRecord conflict{
      .tenant_id = tenant,
      .id = ids_.NewUuid(),
      .connection_id = mapping.connection_id,
      .mapping_id = mapping.id,
      .external_id = mapping.external_id,
      .event_id = mapping.event_id,
      .policy = policy,
      .host_event = host ? EventToJson(*host) : Json{{"deleted", true}},
      .provider_event = theirs ? EventToJson(*theirs) : Json(nullptr),
      .detected_at = now};
  const auto winner = AutomaticWinner(policy, theirs, mapping.updated_at, now);
  if (winner != store::ConflictResolution::kNone) {
    conflict.status = store::ConflictStatus::kResolved;
    conflict.resolution = winner;
    conflict.resolved_by = "policy";
    conflict.resolved_at = now;
  }
  SB_ASSIGN_OR_RETURN(WriteResult recorded, RecordConflict(tenant, mapping, conflict, theirs));
  if (winner != store::ConflictResolution::kHost) return recorded;
  // The host won: its write again, against the provider's version now (or anew if deleted).
  EventMappingRecord again = mapping;
  again.provider_version = theirs ? theirs->version : "";
  if (!theirs) again.provider_id.clear();
  auto sent = host ? SendUpsert(tenant, again, target, *host, transient, /*retried=*/true)
                   : Settle(tenant, again, std::nullopt);
  if (sent.ok()) sent->conflict = conflict;
  return sent;
}

Status EventWriter::PublishConflict(store::Transaction& tx, const TenantId& tenant,
                                    const store::EventConflictRecord& c,
                                    const audit::Context& ctx) {
  const bool resolved = c.status == store::ConflictStatus::kResolved;
  const char* type = resolved ? "event.conflict_resolved" : "event.conflict_detected";
  SB_RETURN_IF_ERROR(changes_.Publish(tx, tenant, type, c.id, c.connection_id,
                                      Json{{"conflict", ConflictJson(c, false)}}));
  // Counted once when automatic (resolved at once), twice when manual (open, then resolved).
  if (conflicts_total_ != nullptr && (resolved || c.policy == store::ConflictPolicy::kManual)) {
    conflicts_total_
        ->WithLabels({std::string(store::ConflictPolicyName(c.policy)),
                      resolved ? std::string(store::ConflictResolutionName(c.resolution))
                               : std::string("open")})
        .Increment();
  }
  if (audit_ == nullptr) return OkStatus();
  return audit_->Append(
      tx, tenant,
      audit::Event{ctx.actor, resolved ? "calendar.conflict.resolve" : "calendar.conflict.detect",
                   "conflict:" + c.id, audit::Outcome::kSuccess, ctx.request_id,
                   ConflictJson(c, false)});
}

Result<WriteResult> EventWriter::RecordConflict(const TenantId& tenant,
                                                const EventMappingRecord& sent,
                                                const store::EventConflictRecord& conflict,
                                                const std::optional<Event>& provider) {
  WriteResult result;
  result.kind = WriteResult::Kind::kConflict;
  result.conflict = conflict;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto found, mappings_.Get(tx, tenant, sent.id));
    if (!found) return NotFoundError("the entry was removed while it was written");
    EventMappingRecord m = std::move(*found);
    result.mapping = m;
    // A newer host write is pending: it meets the provider's version itself.
    if (m.host_version != sent.host_version) return OkStatus();
    SB_RETURN_IF_ERROR(conflicts_.Insert(tx, tenant, conflict));
    store::EventConflictRecord detected = conflict;
    detected.status = store::ConflictStatus::kOpen;
    detected.resolution = store::ConflictResolution::kNone;
    detected.resolved_by.clear();
    detected.resolved_at.reset();
    SB_RETURN_IF_ERROR(PublishConflict(tx, tenant, detected, SyncAuditContext()));
    if (conflict.resolution != store::ConflictResolution::kNone) {
      return PublishConflict(tx, tenant, conflict, SyncAuditContext());
    }
    m.state = MappingState::kConflict;
    m.last_error = "the provider's event changed since version " + sent.provider_version;
    m.updated_at = clock_.Now();
    SB_ASSIGN_OR_RETURN(const bool updated, mappings_.Update(tx, tenant, m, m.host_version));
    if (!updated) return AbortedError("the entry changed while its conflict was recorded");
    result.mapping = m;
    return OkStatus();
  }));
  if (conflict.resolution == store::ConflictResolution::kHost) {
    result.kind = WriteResult::Kind::kWritten;
    return result;
  }
  if (conflict.resolution != store::ConflictResolution::kProvider) return result;
  // The provider won: its version is stored and the host's pending write ends.
  auto settled = Settle(tenant, sent, provider);
  if (!settled.ok()) return settled.status();
  settled->kind = WriteResult::Kind::kConflict;
  settled->conflict = conflict;
  return settled;
}

Result<std::vector<store::EventConflictRecord>> EventWriter::Conflicts(
    const TenantId& tenant, const store::ConflictFilter& filter) {
  std::vector<store::EventConflictRecord> out;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) {
    SB_ASSIGN_OR_RETURN(out, conflicts_.List(tx, tenant, filter));
    return OkStatus();
  }));
  return out;
}

Result<store::EventConflictRecord> EventWriter::Conflict(const TenantId& tenant,
                                                         const std::string& id) {
  std::optional<store::EventConflictRecord> found;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) {
    SB_ASSIGN_OR_RETURN(found, conflicts_.Get(tx, tenant, id));
    return OkStatus();
  }));
  if (!found) return NotFoundError("conflict not found");
  return std::move(*found);
}

Result<store::EventConflictRecord> EventWriter::Resolve(const TenantId& tenant,
                                                        const std::string& id,
                                                        store::ConflictResolution choice,
                                                        const Json& merged,
                                                        const audit::Context& ctx) {
  SB_ASSIGN_OR_RETURN(store::EventConflictRecord c, Conflict(tenant, id));
  if (c.status != store::ConflictStatus::kOpen) {
    return FailedPreconditionError("the conflict is resolved already");
  }
  std::optional<EventMappingRecord> mapping;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) {
    SB_ASSIGN_OR_RETURN(mapping, mappings_.Get(tx, tenant, c.mapping_id));
    return OkStatus();
  }));
  if (!mapping || mapping->state != MappingState::kConflict) {
    return FailedPreconditionError("the entry has moved on since the conflict");
  }
  // The event to write: none (the provider's stays), the host's, or the host's merged.
  std::optional<Event> write;
  Json merged_event = nullptr;
  const bool host_deleted = c.host_event.value("deleted", false);
  if (choice == store::ConflictResolution::kHost && !host_deleted) {
    SB_ASSIGN_OR_RETURN(write, HostEventFromJson(c.host_event));
  } else if (choice == store::ConflictResolution::kMerged) {
    if (host_deleted) return InvalidArgumentError("the host deleted the event: nothing to merge");
    SB_ASSIGN_OR_RETURN(const Event base, HostEventFromJson(c.host_event));
    SB_ASSIGN_OR_RETURN(write, ApplyHostPatch(base, merged));
    merged_event = EventToJson(*write);
  }
  SB_ASSIGN_OR_RETURN(const Target target, TargetOf(tenant, *mapping));
  // The provider's version now, for If-Match (the conflict's may be older still).
  std::optional<Event> theirs;
  if (!mapping->provider_id.empty()) {
    Fetched<Json> current =
        provider_.Get(tenant, mapping->connection_id, target.Item(mapping->provider_id));
    if (const ProviderError* e = FailureOf(current)) {
      if (e->kind != ProviderFailure::kNotFound && e->kind != ProviderFailure::kGone) {
        return UnavailableError("the provider could not be read: " + e->message);
      }
    } else {
      SB_ASSIGN_OR_RETURN(theirs, target.Parse(std::get<Json>(current)));
    }
  }
  EventMappingRecord sent = *mapping;
  sent.provider_version = theirs ? theirs->version : "";
  if (!theirs) sent.provider_id.clear();
  Result<WriteResult> outcome =
      choice == store::ConflictResolution::kProvider
          ? Settle(tenant, sent, theirs)
          : (write ? SendUpsert(tenant, sent, target, *write, nullptr, /*retried=*/true)
                   : (theirs ? SendDelete(tenant, sent, target, nullptr, /*retried=*/true)
                             : Settle(tenant, sent, std::nullopt)));
  SB_RETURN_IF_ERROR(outcome.status());
  if (outcome->kind == WriteResult::Kind::kConflict ||
      outcome->kind == WriteResult::Kind::kQueued) {
    return AbortedError("the provider's event changed again; try again");
  }
  const std::string actor = ctx.actor.id.empty() ? std::string("api") : ctx.actor.id;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(const bool done, conflicts_.Resolve(tx, tenant, id, choice, merged_event,
                                                            actor.substr(0, 200), clock_.Now()));
    if (!done) return FailedPreconditionError("the conflict is resolved already");
    SB_ASSIGN_OR_RETURN(auto stored, conflicts_.Get(tx, tenant, id));
    if (stored) c = std::move(*stored);
    return PublishConflict(tx, tenant, c, ctx);
  }));
  return c;
}

jobs::JobResult EventWriter::HandleWrite(jobs::JobContext& job) {
  const Json& payload = job.job().payload;
  if (!payload.is_object() || !payload.contains("mapping_id") ||
      !payload["mapping_id"].is_string() ||
      !IsCanonicalUuid(payload["mapping_id"].get<std::string>())) {
    return jobs::JobResult::Fail("malformed payload");
  }
  const TenantId& tenant = job.job().tenant_id;
  const std::string id = payload["mapping_id"].get<std::string>();
  std::optional<EventMappingRecord> mapping;
  const Status read =
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) {
        SB_ASSIGN_OR_RETURN(mapping, mappings_.Get(tx, tenant, id));
        return OkStatus();
      });
  if (!read.ok()) return jobs::JobResult::Retry(read.ToString());
  // Settled inline, removed, or waiting for a person (conflict, error): nothing to send.
  if (!mapping || mapping->state != MappingState::kPending) return jobs::JobResult::Done();
  ProviderError transient{ProviderFailure::kBadAnswer, "", std::nullopt};
  auto sent = Send(tenant, *mapping, &transient);
  if (sent.ok() && sent->kind == WriteResult::Kind::kQueued && !transient.message.empty()) {
    if (job.job().attempts < job.job().max_attempts) {
      return jobs::JobResult::Retry(ReasonOf(transient), transient.retry_after);
    }
    std::string reason = "gave up after ";
    reason += std::to_string(job.job().attempts);
    reason += " attempts: ";
    reason += ReasonOf(transient);
    (void)MarkFailed(tenant, *mapping, MappingState::kError, reason);
    return jobs::JobResult::Done();
  }
  // A newer host write came in while this one was sent: send that one next.
  if (sent.ok() && sent->mapping.state == MappingState::kPending) {
    return jobs::JobResult::Retry("a newer write is pending", std::chrono::milliseconds(100));
  }
  if (!sent.ok() && sent.status().code() != StatusCode::kInvalidArgument) {
    return jobs::JobResult::Retry(sent.status().ToString());
  }
  return jobs::JobResult::Done();
}

Json MappingJson(const EventMappingRecord& m) {
  return {{"id", m.id},
          {"external_id", m.external_id},
          {"connection_id", m.connection_id.value()},
          {"calendar_id", m.calendar_id.value()},
          {"event_id", m.event_id ? Json(m.event_id->value()) : Json(nullptr)},
          {"provider_id", m.provider_id},
          {"version", m.provider_version},
          {"host_version", m.host_version},
          {"state", store::MappingStateName(m.state)},
          {"error", m.last_error.empty() ? Json(nullptr) : Json(m.last_error)},
          {"updated_at", FormatRfc3339(m.updated_at)}};
}

Json WriteResultJson(const WriteResult& result) {
  Json j =
      result.event ? EventApiJson(*result.event) : Json{{"mapping", nullptr}, {"event", nullptr}};
  j["mapping"] = MappingJson(result.mapping);
  if (result.conflict) j["conflict"] = ConflictJson(*result.conflict, false);
  return j;
}

}  // namespace sb::sync::calendar
