// EventWriter: the host's writes to a connection's calendar (issue 16), through to Google
// Calendar and Microsoft Graph.
//
// Every write goes through the host's mapping (store/calendar/event_mapping_repository.h): the
// host's external id (or, for a write without one, the mapping's own id) tied to the provider's
// event. A write first records what the host asked for in the mapping (state `pending`, the
// event in `pending`, host_version + 1) together with a `calendar.event_write` job, in one
// transaction; then it sends it to the provider and settles the answer (the stored event as
// the provider has it now, the mapping `synced` with the provider's version). The job is the
// safety net: when the provider is rate limited or down, or this node dies mid-write, the job
// sends the latest pending event later, with retries, one at a time per mapping (its
// concurrency key), so writes keep their order. A write while one of the same mapping is still
// pending only replaces the pending event (202): the job sends the latest.
//
// Retries never make a second event: a Google event is created under an id derived from the
// mapping's id (a repeated insert answers 409 and the event is read instead), a Graph event
// with the mapping's id as transactionId.
//
// Versions, not timing: a host write names the version it was based on (If-Match, the event's
// `version`); a stale one is refused (ABORTED, the API's 412). Every provider write carries
// the provider version the mapping last saw; when the provider's event changed since, the
// write is not applied (the mapping becomes `conflict`, the host's event kept in `pending`).
// What the writer stores is exactly what the sync stores for the same provider version, so a
// sync that brings Switchboard's own write back finds it unchanged and publishes nothing.
//
// A write the provider refuses for good (400/403/404/422, or the retries run out) marks the
// mapping `error` with the provider's reason and publishes `event.write_failed`.
//
// Thread-safe.
#pragma once

#include <optional>
#include <string>

#include "sb/audit/audit_log.h"
#include "sb/audit/context.h"
#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/json.h"
#include "sb/base/metrics.h"
#include "sb/jobs/runner.h"
#include "sb/store/calendar/calendar_repository.h"
#include "sb/store/calendar/conflict_repository.h"
#include "sb/store/calendar/event_mapping_repository.h"
#include "sb/store/connections/connect_repository.h"
#include "sb/store/database.h"
#include "sb/store/oauth/integration_repository.h"
#include "sb/sync/calendar/model.h"
#include "sb/sync/engine.h"
#include "sb/sync/provider_client.h"

namespace sb::sync::calendar {

inline constexpr char kEventWriteJob[] = "calendar.event_write";

struct EventWriterDeps {
  store::Database& db;
  ProviderClient& provider;
  const Clock& clock;
  IdGenerator& ids;
  ChangePublisher& changes;
  audit::AuditLog* audit = nullptr;  // conflicts and their resolutions; null: not audited
  metrics::MetricsRegistry* metrics = nullptr;
};

struct EventWriterOptions {
  // The job that backs every write runs no sooner than this (the write is sent inline first).
  std::chrono::milliseconds job_delay{5'000};
  int job_max_attempts = 10;
  // The policy where neither the connection nor the integration names one (conflicts.h).
  store::ConflictPolicy default_policy = store::ConflictPolicy::kLastModifiedWins;
};

// The outcome of a write.
struct WriteResult {
  enum class Kind {
    kWritten,   // the provider has it; `event` is the stored event
    kQueued,    // recorded; the job sends it (provider busy, or an earlier write pending)
    kDeleted,   // gone at the provider and here
    kConflict,  // the provider's event changed since the mapping's version: not applied
  };
  Kind kind = Kind::kWritten;
  store::EventMappingRecord mapping;
  std::optional<store::EventRecord> event;
  std::optional<store::EventConflictRecord> conflict;  // the conflict the write met, if any
};

class EventWriter {
 public:
  EventWriter(EventWriterDeps deps, EventWriterOptions options);

  // A new event from the host's JSON (outbound.h) in `calendar` (nullopt: the primary).
  // NOT_FOUND for an unknown connection or calendar; INVALID_ARGUMENT for a malformed event or
  // one the provider refuses (with its reason); FAILED_PRECONDITION when the calendar is not
  // writable or the connection has read-only calendar access (every write checks it before
  // anything is recorded).
  Result<WriteResult> Create(const TenantId& tenant, const ConnectionId& connection,
                             const std::optional<CalendarId>& calendar, const Json& body);
  // A JSON merge patch of the event's writable members. `if_match`: the version the host based
  // it on (ABORTED when the event has another).
  Result<WriteResult> Update(const TenantId& tenant, const EventId& event, const Json& patch,
                             const std::optional<std::string>& if_match);
  Result<WriteResult> Delete(const TenantId& tenant, const EventId& event,
                             const std::optional<std::string>& if_match);

  // The host's entry `external_id`: created the first time, replaced afterwards (the body is
  // the whole event; `calendar` is used on creation only).
  Result<WriteResult> Put(const TenantId& tenant, const ConnectionId& connection,
                          const std::string& external_id, const std::optional<CalendarId>& calendar,
                          const Json& body, const std::optional<std::string>& if_match);
  // The mapping and its event (NOT_FOUND when there is no such entry).
  Result<WriteResult> Get(const TenantId& tenant, const ConnectionId& connection,
                          const std::string& external_id);
  Result<WriteResult> DeleteByExternalId(const TenantId& tenant, const ConnectionId& connection,
                                         const std::string& external_id,
                                         const std::optional<std::string>& if_match);

  // One occurrence of the series `series` (a stored series master), named by its original
  // start (occurrences.h): changed by `patch` (it becomes an exception at the provider) or,
  // with `patch` nullopt, cancelled. `if_match`: the version of the occurrence's exception
  // when it has one, else the series'. Until the provider's exception is stored, the
  // occurrence's mapping has the external id "<series id>@<original start>". NOT_FOUND for no
  // such series or occurrence; INVALID_ARGUMENT for a malformed patch or a single event.
  Result<WriteResult> WriteOccurrence(const TenantId& tenant, const EventId& series,
                                      const EventTime& original_start,
                                      const std::optional<Json>& patch,
                                      const std::optional<std::string>& if_match);

  // The series changed by `patch` from its occurrence at `from` on: the series ends before it
  // and a new series (the host's entry `external_id`, or a new one) starts there. Both writes
  // are recorded in one transaction and sent like any other (each with its job).
  struct SplitResult {
    WriteResult ended;
    WriteResult following;
  };
  Result<SplitResult> Split(const TenantId& tenant, const EventId& series, const EventTime& from,
                            const Json& patch, const std::optional<std::string>& external_id,
                            const std::optional<std::string>& if_match);

  // The tenant's conflicts (oldest first) and one of them.
  Result<std::vector<store::EventConflictRecord>> Conflicts(const TenantId& tenant,
                                                            const store::ConflictFilter& filter);
  Result<store::EventConflictRecord> Conflict(const TenantId& tenant, const std::string& id);
  // Resolves an open conflict by a person: kProvider keeps the provider's version (the host's
  // pending write is dropped), kHost writes the host's version over it, kMerged writes `merged`
  // (a merge patch of the host's version, outbound.h). NOT_FOUND; FAILED_PRECONDITION when it
  // is resolved already or its entry has moved on (a newer host write).
  Result<store::EventConflictRecord> Resolve(const TenantId& tenant, const std::string& id,
                                             store::ConflictResolution choice, const Json& merged,
                                             const audit::Context& ctx);

  // The job handler of kEventWriteJob.
  jobs::JobResult HandleWrite(jobs::JobContext& job);

 private:
  struct Target;
  struct Prepared;
  Result<WriteResult> Write(const TenantId& tenant, Prepared prepared);
  // `connection`: the mapping's, when the caller has read it in `tx` (null: read here).
  Result<Prepared> PrepareIn(store::Transaction& tx, const TenantId& tenant,
                             store::EventMappingRecord mapping, const Json& pending,
                             const store::ConnectionRecord* connection = nullptr);
  // Sends the mapping's pending write to `target` (null: read it). A transient provider failure
  // leaves it pending (kQueued) and, when `transient` is not null, is stored there for the
  // job's retry.
  Result<WriteResult> Send(const TenantId& tenant, const store::EventMappingRecord& mapping,
                           ProviderError* transient, const Target* target = nullptr);
  // `retried`: sent again after a conflict the host won (a second 412 is left as a conflict).
  Result<WriteResult> SendUpsert(const TenantId& tenant, const store::EventMappingRecord& mapping,
                                 const Target& target, const Event& event, ProviderError* transient,
                                 bool retried = false);
  // Graph names an occurrence by an id of its own: found among the series' instances.
  Fetched<std::string> GraphOccurrenceId(const TenantId& tenant,
                                         const store::EventMappingRecord& mapping,
                                         const Target& target, const Event& exception);
  // Graph cancels an occurrence by deleting it: stored as the cancelled exception it is.
  Result<WriteResult> SendGraphCancel(const TenantId& tenant,
                                      const store::EventMappingRecord& mapping,
                                      const Target& target, const Event& cancelled,
                                      ProviderError* transient);
  Result<WriteResult> SendDelete(const TenantId& tenant, const store::EventMappingRecord& mapping,
                                 const Target& target, ProviderError* transient,
                                 bool retried = false);
  // A provider failure of a write: queued (transient), conflict (412), or error.
  Result<WriteResult> Failed(const TenantId& tenant, const store::EventMappingRecord& mapping,
                             const ProviderError& error, ProviderError* transient);
  Result<WriteResult> Settle(const TenantId& tenant, const store::EventMappingRecord& sent,
                             const std::optional<Event>& written);
  Status SettleIn(store::Transaction& tx, const TenantId& tenant,
                  const store::EventMappingRecord& sent, const std::optional<Event>& written,
                  WriteResult& result);
  Result<WriteResult> MarkFailed(const TenantId& tenant, const store::EventMappingRecord& sent,
                                 store::MappingState state, const std::string& reason);
  // A provider write refused for a stale version (412): the conflict is recorded and the
  // policy applied. `host`: the host's event (nullopt: a deletion).
  Result<WriteResult> OnPrecondition(const TenantId& tenant,
                                     const store::EventMappingRecord& mapping, const Target& target,
                                     const std::optional<Event>& host, ProviderError* transient);
  // Records `conflict` with its changes, audit and metric; for a provider win also stores the
  // provider's version and ends the mapping's pending write, for manual marks it `conflict`.
  Result<WriteResult> RecordConflict(const TenantId& tenant,
                                     const store::EventMappingRecord& mapping,
                                     const store::EventConflictRecord& conflict,
                                     const std::optional<Event>& provider);
  Status SupersedeConflict(store::Transaction& tx, const TenantId& tenant,
                           const std::string& mapping_id);
  Status PublishConflict(store::Transaction& tx, const TenantId& tenant,
                         const store::EventConflictRecord& conflict, const audit::Context& ctx);
  Result<Target> TargetOf(const TenantId& tenant, const store::EventMappingRecord& mapping);
  Result<Target> TargetIn(store::Transaction& tx, const TenantId& tenant,
                          const store::ConnectionRecord& connection, const CalendarId& calendar_id);
  Result<store::ConflictPolicy> PolicyOf(const TenantId& tenant,
                                         const store::EventMappingRecord& mapping);

  store::Database& db_;
  ProviderClient& provider_;
  const Clock& clock_;
  IdGenerator& ids_;
  ChangePublisher& changes_;
  const EventWriterOptions options_;
  store::CalendarRepository calendars_;
  store::EventMappingRepository mappings_;
  store::ConnectionRepository connections_;
  store::ConflictRepository conflicts_;
  store::IntegrationRepository integrations_;
  audit::AuditLog* audit_;
  metrics::CounterFamily* conflicts_total_ = nullptr;
};

// The API's view of a mapping, and of a write's outcome: the stored event (EventApiJson) with
// its mapping as `mapping`, or {"mapping", "event": null} when the provider does not have it
// yet.
Json MappingJson(const store::EventMappingRecord& mapping);
Json WriteResultJson(const WriteResult& result);

}  // namespace sb::sync::calendar
