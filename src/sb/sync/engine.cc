#include "sb/sync/engine.h"

#include <algorithm>
#include <utility>

#include "sb/base/logging.h"
#include "sb/base/time_format.h"

namespace sb::sync {
namespace {

using store::SyncRunOutcome;
using store::SyncStatus;
using store::SyncTrigger;

constexpr size_t kMaxErrorBytes = 1024;

std::string Cut(std::string text) {
  if (text.size() <= kMaxErrorBytes) return text;
  size_t end = kMaxErrorBytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  return text;
}

std::string RunTarget(const store::SyncRunRecord& run) { return "sync_runs/" + run.id.value(); }

bool Granted(const store::ConnectionRecord& record, std::string_view service) {
  return std::any_of(record.services.begin(), record.services.end(),
                     [&](const store::ServiceGrant& g) { return g.service == service; });
}

bool IsOpen(const store::SyncRunRecord& run) {
  return run.outcome == SyncRunOutcome::kQueued || run.outcome == SyncRunOutcome::kRunning;
}

}  // namespace

Status RetryOnOpenRunRace(store::Database& db, const TenantId& tenant,
                          const store::TransactionFn& fn) {
  // Two requesters (a push and the API, on two nodes) can both find no open run and both insert
  // one; the unique index on open runs refuses the second (ALREADY_EXISTS, PostgreSQL), whose
  // transaction is rolled back. Its next attempt finds the winner's run and coalesces.
  Status s;
  for (int attempt = 0; attempt < 3; ++attempt) {
    s = db.RunInTenant(tenant, fn);
    if (s.code() != StatusCode::kAlreadyExists) return s;
  }
  return s;
}

Json SyncRunJson(const store::SyncRunRecord& run) {
  Json j{{"id", run.id.value()},
         {"connection_id", run.connection_id.value()},
         {"service", run.service},
         {"trigger", store::SyncTriggerName(run.trigger)},
         {"status", store::SyncRunOutcomeName(run.outcome)},
         {"phase", run.phase},
         {"full", run.full},
         {"pages", run.pages},
         {"items",
          {{"created", run.items_created},
           {"updated", run.items_updated},
           {"deleted", run.items_deleted}}},
         {"error", run.error.empty() ? Json(nullptr) : Json(run.error)},
         {"created_at", FormatRfc3339(run.created_at)},
         {"started_at", run.started_at ? Json(FormatRfc3339(*run.started_at)) : Json(nullptr)},
         {"finished_at", run.finished_at ? Json(FormatRfc3339(*run.finished_at)) : Json(nullptr)}};
  return j;
}

Json SyncStateJson(const store::SyncStateRecord& state) {
  auto when = [](const std::optional<Timestamp>& t) {
    return t ? Json(FormatRfc3339(*t)) : Json(nullptr);
  };
  return {
      {"service", state.service},
      {"status", store::SyncStatusName(state.status)},
      {"paused_reason", state.paused_reason.empty() ? Json(nullptr) : Json(state.paused_reason)},
      {"last_success_at", when(state.last_success_at)},
      {"last_error_at", when(state.last_error_at)},
      {"last_error", state.last_error.empty() ? Json(nullptr) : Json(state.last_error)},
      {"last_run_id", state.last_run_id ? Json(state.last_run_id->value()) : Json(nullptr)},
      {"next_run_at", when(state.next_run_at)},
      {"items",
       {{"created", state.items_created},
        {"updated", state.items_updated},
        {"deleted", state.items_deleted}}}};
}

Json ChangeJson(const store::ChangeRecord& change) {
  return {
      {"cursor", std::to_string(change.seq)},
      {"type", change.type},
      {"resource_id", change.resource_id},
      {"connection_id", change.connection_id ? Json(change.connection_id->value()) : Json(nullptr)},
      {"data", change.data},
      {"created_at", FormatRfc3339(change.created_at)}};
}

Status ChangePublisher::Publish(store::Transaction& tx, const TenantId& tenant,
                                std::string_view type, const std::string& resource_id,
                                const std::optional<ConnectionId>& connection, Json data) {
  std::vector<store::ChangeRecord> one;
  one.push_back(Pending(type, resource_id, connection, std::move(data)));
  return PublishAll(tx, tenant, std::move(one));
}

store::ChangeRecord ChangePublisher::Pending(std::string_view type, const std::string& resource_id,
                                             const std::optional<ConnectionId>& connection,
                                             Json data) const {
  store::ChangeRecord change;
  change.type = std::string(type);
  change.resource_id = resource_id;
  change.connection_id = connection;
  change.data = std::move(data);
  change.created_at = clock_.Now();
  return change;
}

Status ChangePublisher::PublishAll(store::Transaction& tx, const TenantId& tenant,
                                   std::vector<store::ChangeRecord> changes) {
  SB_RETURN_IF_ERROR(repo_.AppendChanges(tx, tenant, changes));
  if (webhooks_ == nullptr) return OkStatus();
  std::vector<connections::Announcement> events;
  events.reserve(changes.size());
  for (store::ChangeRecord& change : changes) {
    change.data["change_seq"] = change.seq;
    events.push_back({std::move(change.type), std::move(change.data)});
  }
  return webhooks_->EmitAll(tx, tenant, events);
}

Status RunContext::Commit(const std::function<Status(store::Transaction&)>& work) {
  return db_.RunInTenant(tenant_, [&](store::Transaction& tx) -> Status {
    SB_RETURN_IF_ERROR(work(tx));
    const Timestamp now = clock_.Now();
    run_.updated_at = now;
    state_.updated_at = now;
    SB_RETURN_IF_ERROR(repo_.UpdateRun(tx, tenant_, run_));
    return repo_.PutState(tx, tenant_, state_);
  });
}

SyncEngine::SyncEngine(SyncEngineDeps deps, SyncOptions options)
    : db_(deps.db),
      maintenance_(deps.maintenance),
      provider_(deps.provider),
      audit_(deps.audit),
      clock_(deps.clock),
      ids_(deps.ids),
      changes_(deps.webhooks, deps.clock),
      wake_jobs_(std::move(deps.wake_jobs)),
      options_(options) {
  if (deps.metrics != nullptr) {
    runs_total_ = &deps.metrics->AddCounter("sb_sync_runs_total",
                                            "Sync runs finished, by provider, service and outcome.",
                                            {"provider", "service", "outcome"});
    items_total_ = &deps.metrics->AddCounter(
        "sb_sync_items_total", "Items synced from providers, by provider, service and change.",
        {"provider", "service", "change"});
    run_seconds_ = &deps.metrics->AddHistogram(
        "sb_sync_run_duration_seconds", "Duration of finished sync runs.", {"provider", "service"},
        {0.1, 0.5, 1, 5, 15, 60, 300, 1800});
    lag_seconds_ = &deps.metrics->AddHistogram(
        "sb_sync_lag_seconds",
        "Sync lag: from the oldest request a successful run serves (push, schedule, by hand) "
        "to its changes being stored and published.",
        {"provider", "service"}, {0.05, 0.1, 0.25, 0.5, 1, 5, 30, 120, 600, 3600});
  }
  if (options_.interval.count() > 0) {
    scheduler_ = std::make_unique<Periodic>(options_.scheduler_poll, [this] {
      auto n = RequestDue();
      if (!n.ok()) {
        log::Warn("sync.schedule_failed", {{"error", n.status().ToString()}});
        return false;
      }
      return *n >= options_.scheduler_batch;
    });
  }
}

SyncEngine::~SyncEngine() { Stop(); }

void SyncEngine::Register(std::unique_ptr<ServiceSync> service) {
  services_.push_back(std::move(service));
}

void SyncEngine::Start() {
  if (scheduler_) scheduler_->Start();
}

void SyncEngine::Stop() {
  if (scheduler_) scheduler_->Stop();
}

ServiceSync* SyncEngine::Find(std::string_view service, std::string_view provider) const {
  for (const auto& s : services_) {
    if (s->service() == service && s->Supports(provider)) return s.get();
  }
  return nullptr;
}

// ---- Requesting runs. ----

Result<std::optional<store::SyncRunRecord>> SyncEngine::RequestRunIn(
    store::Transaction& tx, const TenantId& tenant, const store::ConnectionRecord& record,
    std::string_view service, SyncTrigger trigger, const audit::Context& ctx) {
  using Out = std::optional<store::SyncRunRecord>;
  if (Find(service, record.provider) == nullptr || !Granted(record, service)) return Out();
  SB_ASSIGN_OR_RETURN(auto open, repo_.FindOpenRun(tx, tenant, record.id, service));
  if (open) {
    // A queued run will see this request's changes. A running one may have read past them
    // already: a follow-up asks for one more run once it has finished.
    if (open->outcome == SyncRunOutcome::kRunning) {
      SB_RETURN_IF_ERROR(RequestFollowUp(tx, tenant, record.id, service, trigger));
    }
    // Someone asked: on record, though the open run answers it. (Pushes and the schedule
    // coalesce all the time and say nothing new.)
    if (trigger == SyncTrigger::kManual || trigger == SyncTrigger::kResync) {
      SB_RETURN_IF_ERROR(Audit(tx, tenant, ctx, "sync.request", *open, audit::Outcome::kSuccess,
                               "joined the open run"));
    }
    return open;  // coalesced
  }
  const Timestamp now = clock_.Now();
  SB_ASSIGN_OR_RETURN(auto existing, repo_.GetState(tx, tenant, record.id, service));
  store::SyncStateRecord state;
  if (existing) {
    state = std::move(*existing);
  } else {
    state.tenant_id = tenant;
    state.connection_id = record.id;
    state.service = std::string(service);
    state.created_at = now;
  }
  if (state.status == SyncStatus::kPaused &&
      (trigger == SyncTrigger::kPush || trigger == SyncTrigger::kSchedule)) {
    return FailedPreconditionError("sync is paused: " + state.paused_reason);
  }
  store::SyncRunRecord run;
  run.tenant_id = tenant;
  run.id = SyncRunId(ids_.NewUuid());
  run.connection_id = record.id;
  run.service = std::string(service);
  run.trigger = trigger;
  run.outcome = SyncRunOutcome::kQueued;
  run.phase = "queued";
  run.full = trigger == SyncTrigger::kResync || state.cursor.empty();
  run.created_at = run.updated_at = now;
  SB_RETURN_IF_ERROR(repo_.InsertRun(tx, tenant, run));
  state.last_run_id = run.id;
  state.updated_at = now;
  SB_RETURN_IF_ERROR(repo_.PutState(tx, tenant, state));
  jobs::JobSpec spec;
  spec.kind = kSyncJob;
  spec.payload = Json{{"run_id", run.id.value()}};
  spec.dedupe_key = run.id.value();
  // One run at a time per connection and service, across nodes.
  spec.concurrency_key = "sync:" + record.id.value() + ":" + std::string(service);
  spec.concurrency_limit = 1;
  spec.max_attempts = options_.job_max_attempts;
  spec.run_at = now + std::chrono::duration_cast<std::chrono::microseconds>(StartDelay(trigger));
  SB_RETURN_IF_ERROR(jobs::Enqueue(tx, tenant, spec, clock_, ids_).status());
  SB_RETURN_IF_ERROR(Audit(tx, tenant, ctx, "sync.request", run, audit::Outcome::kSuccess,
                           std::string(store::SyncTriggerName(trigger))));
  return Out(std::move(run));
}

Status SyncEngine::RequestFollowUp(store::Transaction& tx, const TenantId& tenant,
                                   const ConnectionId& connection, std::string_view service,
                                   SyncTrigger trigger) {
  jobs::JobSpec spec;
  spec.kind = kSyncFollowUpJob;
  spec.payload = Json{{"connection_id", connection.value()},
                      {"service", service},
                      {"trigger", store::SyncTriggerName(trigger)}};
  // One pending follow-up per connection and service, and it waits for the running run: the
  // same concurrency key as the run's job.
  spec.dedupe_key = connection.value() + ":" + std::string(service);
  spec.concurrency_key = "sync:" + connection.value() + ":" + std::string(service);
  spec.concurrency_limit = 1;
  spec.max_attempts = options_.job_max_attempts;
  return jobs::Enqueue(tx, tenant, spec, clock_, ids_).status();
}

jobs::JobResult SyncEngine::HandleFollowUp(jobs::JobContext& job) {
  const Json& p = job.job().payload;
  const auto text = [&](const char* key) {
    return p.is_object() && p.contains(key) && p[key].is_string() ? p[key].get<std::string>()
                                                                  : std::string();
  };
  const std::string connection = text("connection_id");
  const std::optional<SyncTrigger> trigger = store::ParseSyncTrigger(text("trigger"));
  if (!IsCanonicalUuid(connection) || !trigger || text("service").empty()) {
    return jobs::JobResult::Fail("malformed job payload");
  }
  auto run = RequestRun(job.job().tenant_id, ConnectionId(connection), text("service"), *trigger,
                        SyncAuditContext());
  if (run.ok()) return jobs::JobResult::Done();
  // Gone, no longer granted, or paused meanwhile: nothing to follow up.
  const StatusCode code = run.status().code();
  if (code == StatusCode::kNotFound || code == StatusCode::kFailedPrecondition) {
    return jobs::JobResult::Done();
  }
  return jobs::JobResult::Retry(run.status().ToString());
}

Result<store::SyncRunRecord> SyncEngine::RequestRun(const TenantId& tenant,
                                                    const ConnectionId& connection,
                                                    std::string_view service, SyncTrigger trigger,
                                                    const audit::Context& ctx) {
  store::SyncRunRecord out;
  bool created = false;
  SB_RETURN_IF_ERROR(RetryOnOpenRunRace(db_, tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto record, connections_repo_.Get(tx, tenant, connection));
    if (!record) return NotFoundError("connection not found");
    if (!Granted(*record, service)) {
      return FailedPreconditionError("the connection was not granted the " + std::string(service) +
                                     " service");
    }
    SB_ASSIGN_OR_RETURN(auto before, repo_.FindOpenRun(tx, tenant, connection, service));
    SB_ASSIGN_OR_RETURN(auto run, RequestRunIn(tx, tenant, *record, service, trigger, ctx));
    if (!run) {
      return FailedPreconditionError("no " + std::string(service) + " sync for provider " +
                                     record->provider);
    }
    created = !before;
    out = std::move(*run);
    return OkStatus();
  }));
  if (created) WakeJobs(trigger);
  return out;
}

Result<std::optional<store::SyncRunRecord>> SyncEngine::GetRun(const TenantId& tenant,
                                                               const SyncRunId& id) {
  std::optional<store::SyncRunRecord> out;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(out, repo_.GetRun(tx, tenant, id));
        return OkStatus();
      }));
  return out;
}

Result<std::vector<store::SyncRunRecord>> SyncEngine::Runs(const TenantId& tenant,
                                                           const ConnectionId& connection,
                                                           const std::optional<SyncRunId>& before,
                                                           int limit) {
  std::vector<store::SyncRunRecord> out;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(out, repo_.ListRuns(tx, tenant, connection, before, limit));
        return OkStatus();
      }));
  return out;
}

Result<std::vector<store::SyncStateRecord>> SyncEngine::States(const TenantId& tenant,
                                                               const ConnectionId& connection) {
  std::vector<store::SyncStateRecord> out;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(out, repo_.ListStates(tx, tenant, connection));
        return OkStatus();
      }));
  return out;
}

Result<std::vector<store::ChangeRecord>> SyncEngine::Changes(const TenantId& tenant,
                                                             const store::ChangeFilter& filter) {
  std::vector<store::ChangeRecord> out;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(out, repo_.ListChanges(tx, tenant, filter));
        return OkStatus();
      }));
  return out;
}

Status SyncEngine::OnConnectionEvent(store::Transaction& tx, const TenantId& tenant,
                                     std::string_view type, const Json& data) {
  if (type != "connection.created" && type != "connection.updated") return OkStatus();
  const Json* id = nullptr;
  if (data.is_object() && data.contains("connection") && data["connection"].is_object() &&
      data["connection"].contains("id") && data["connection"]["id"].is_string()) {
    id = &data["connection"]["id"];
  }
  if (id == nullptr) return OkStatus();
  SB_ASSIGN_OR_RETURN(auto record,
                      connections_repo_.Get(tx, tenant, ConnectionId(id->get<std::string>())));
  if (!record || record->status != store::ConnectionStatus::kActive) return OkStatus();
  if (type == "connection.created" && !options_.on_connect) return OkStatus();
  for (const auto& service : services_) {
    const std::string name(service->service());
    if (!service->Supports(record->provider) || !Granted(*record, name)) continue;
    SB_ASSIGN_OR_RETURN(auto state, repo_.GetState(tx, tenant, record->id, name));
    if (type == "connection.updated") {
      // Only a paused state resumes; others run on their own triggers.
      if (!state || state->status != SyncStatus::kPaused) continue;
      state->status = SyncStatus::kIdle;
      state->paused_reason.clear();
      state->updated_at = clock_.Now();
      SB_RETURN_IF_ERROR(repo_.PutState(tx, tenant, *state));
    } else if (state) {
      continue;
    }
    const SyncTrigger trigger =
        type == "connection.created" ? SyncTrigger::kInitial : SyncTrigger::kSchedule;
    SB_RETURN_IF_ERROR(
        RequestRunIn(tx, tenant, *record, name, trigger, SyncAuditContext()).status());
  }
  return OkStatus();
}

Result<int> SyncEngine::RequestDue() {
  std::vector<std::pair<TenantId, std::pair<ConnectionId, std::string>>> due;
  SB_RETURN_IF_ERROR(
      maintenance_.RunUnscoped(store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(due,
                            repo_.MaintenanceListDue(tx, clock_.Now(), options_.scheduler_batch));
        return OkStatus();
      }));
  int requested = 0;
  for (const auto& entry : due) {
    // Named references, not a structured binding: the lambdas below capture them (clang < 16).
    const TenantId& tenant = entry.first;
    const auto& key = entry.second;
    auto run =
        RequestRun(tenant, key.first, key.second, SyncTrigger::kSchedule, SyncAuditContext());
    if (run.ok()) {
      ++requested;
      continue;
    }
    // Not requestable any more (service revoked, paused meanwhile): unschedule, so that the
    // state does not come back every pass.
    log::Info("sync.schedule_skipped", {{"tenant", tenant.value()},
                                        {"connection", key.first.value()},
                                        {"reason", run.status().ToString()}});
    (void)db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
      SB_ASSIGN_OR_RETURN(auto state, repo_.GetState(tx, tenant, key.first, key.second));
      if (!state) return OkStatus();
      state->next_run_at.reset();
      state->updated_at = clock_.Now();
      return repo_.PutState(tx, tenant, *state);
    });
  }
  return requested;
}

// ---- Running. ----

jobs::JobResult SyncEngine::Handle(jobs::JobContext& job) {
  const Json& payload = job.job().payload;
  if (!payload.is_object() || !payload.contains("run_id") || !payload["run_id"].is_string() ||
      !IsCanonicalUuid(payload["run_id"].get<std::string>())) {
    return jobs::JobResult::Fail("malformed job payload");
  }
  const TenantId& tenant = job.job().tenant_id;
  const SyncRunId run_id(payload["run_id"].get<std::string>());
  std::optional<store::SyncRunRecord> run;
  std::optional<store::ConnectionRecord> connection;
  std::optional<store::SyncStateRecord> state;
  Status loaded =
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(run, repo_.GetRun(tx, tenant, run_id));
        if (!run) return OkStatus();
        SB_ASSIGN_OR_RETURN(connection, connections_repo_.Get(tx, tenant, run->connection_id));
        SB_ASSIGN_OR_RETURN(state, repo_.GetState(tx, tenant, run->connection_id, run->service));
        return OkStatus();
      });
  if (!loaded.ok()) return jobs::JobResult::Retry(loaded.ToString());
  // Gone with its connection, or finished by an earlier attempt: nothing to do.
  if (!run || !connection || !state || !IsOpen(*run)) return jobs::JobResult::Done();
  RunContext context(db_, tenant, std::move(*connection), std::move(*run), std::move(*state),
                     provider_, changes_, clock_);
  ServiceSync* service = Find(context.run().service, context.connection().provider);
  if (service == nullptr) {
    Status s = Finish(context, SyncRunOutcome::kFailed, "no sync for this provider", std::nullopt);
    return s.ok() ? jobs::JobResult::Done() : jobs::JobResult::Retry(s.ToString());
  }
  if (context.run().outcome == SyncRunOutcome::kQueued) {
    Status begun = Begin(context);
    if (!begun.ok()) return LocalFailure(context, begun, job.job().attempts);
  }
  return RunSteps(context, *service, job.job());
}

Status SyncEngine::Begin(RunContext& context) {
  store::SyncRunRecord& run = context.run();
  run.outcome = SyncRunOutcome::kRunning;
  run.started_at = clock_.Now();
  run.phase = "started";
  context.state().status = SyncStatus::kRunning;
  return context.Commit([&](store::Transaction& tx) -> Status {
    return changes_.Publish(tx, context.tenant(), "sync.started", run.id.value(), run.connection_id,
                            Json{{"sync_run", SyncRunJson(run)}});
  });
}

jobs::JobResult SyncEngine::RunSteps(RunContext& context, ServiceSync& service,
                                     const store::JobRecord& job) {
  while (true) {
    Result<Fetched<bool>> stepped = service.Step(context);
    // A local failure (the database): the run resumes from its last commit on a retry.
    if (!stepped.ok()) return LocalFailure(context, stepped.status(), job.attempts);
    const Fetched<bool>& step = *stepped;
    if (const ProviderError* error = FailureOf(step)) {
      return OnFailure(context, *error, job.attempts);
    }
    if (!std::get<bool>(step)) continue;
    Status finished = Finish(context, SyncRunOutcome::kSucceeded, "", std::nullopt, &service);
    return finished.ok() ? jobs::JobResult::Done() : jobs::JobResult::Retry(finished.ToString());
  }
}

jobs::JobResult SyncEngine::LocalFailure(RunContext& context, const Status& status, int attempts) {
  // A commit that lost a race with a concurrent writer (a host write settling the same provider
  // event, a serialization failure on PostgreSQL): the next attempt resumes from the last
  // checkpoint and finds the winner's rows, so it runs at once rather than after a backoff.
  constexpr int kRaceAttempts = 3;
  const bool raced =
      status.code() == StatusCode::kAlreadyExists || status.code() == StatusCode::kAborted;
  if (raced && attempts < std::min(kRaceAttempts, options_.job_max_attempts)) {
    return jobs::JobResult::RetryAtOnce(status.ToString());
  }
  if (attempts < options_.job_max_attempts) return jobs::JobResult::Retry(status.ToString());
  // The job's last attempt: the run must not stay open, or it would coalesce every later
  // request into a run that never runs. Its state is reloaded, since the failed commit may
  // have changed the copy in memory.
  std::optional<store::SyncStateRecord> state;
  (void)db_.RunInTenant(
      context.tenant(), store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(state, repo_.GetState(tx, context.tenant(), context.run().connection_id,
                                                  context.run().service));
        return OkStatus();
      });
  if (state) context.state() = std::move(*state);
  (void)Finish(context, SyncRunOutcome::kFailed, "local failure: " + status.ToString(),
               std::nullopt);
  return jobs::JobResult::Fail(status.ToString());
}

jobs::JobResult SyncEngine::OnFailure(RunContext& context, const ProviderError& error,
                                      int attempts) {
  const std::string message = std::string(ProviderFailureName(error.kind)) + ": " + error.message;
  std::optional<std::string> pause;
  switch (error.kind) {
    case ProviderFailure::kRateLimited:
    case ProviderFailure::kUnavailable:
      // The checkpoint stays: the next attempt resumes where this one stopped.
      if (attempts < options_.job_max_attempts) {
        return jobs::JobResult::Retry(message, error.retry_after);
      }
      break;
    case ProviderFailure::kReauthorize:
      pause = "reauthorization_required";
      break;
    case ProviderFailure::kDisabled:
      pause = "connection_unusable";
      break;
    case ProviderFailure::kGone:
    case ProviderFailure::kNotFound:
    case ProviderFailure::kConflict:
    case ProviderFailure::kPrecondition:
    case ProviderFailure::kRejected:
    case ProviderFailure::kBadAnswer:
      break;
  }
  Status s = Finish(context, SyncRunOutcome::kFailed, message, pause);
  return s.ok() ? jobs::JobResult::Done() : jobs::JobResult::Retry(s.ToString());
}

Status SyncEngine::Finish(RunContext& context, SyncRunOutcome outcome, const std::string& error,
                          std::optional<std::string> pause_reason, ServiceSync* service) {
  const Timestamp now = clock_.Now();
  store::SyncRunRecord& run = context.run();
  store::SyncStateRecord& state = context.state();
  run.outcome = outcome;
  run.finished_at = now;
  run.phase = "done";
  run.error = Cut(error);
  state.items_created += run.items_created;
  state.items_updated += run.items_updated;
  state.items_deleted += run.items_deleted;
  if (outcome == SyncRunOutcome::kSucceeded) {
    state.status = SyncStatus::kIdle;
    state.last_success_at = now;
  } else {
    state.status = pause_reason ? SyncStatus::kPaused : SyncStatus::kFailed;
    state.last_error_at = now;
    state.last_error = run.error;
  }
  state.paused_reason = pause_reason.value_or("");
  state.next_run_at.reset();
  if (!pause_reason && options_.interval.count() > 0) {
    state.next_run_at =
        now + std::chrono::duration_cast<std::chrono::microseconds>(options_.interval);
  }
  const bool ok = outcome == SyncRunOutcome::kSucceeded;
  Status s = context.Commit([&](store::Transaction& tx) -> Status {
    SB_RETURN_IF_ERROR(changes_.Publish(tx, context.tenant(), ok ? "sync.completed" : "sync.failed",
                                        run.id.value(), run.connection_id,
                                        Json{{"sync_run", SyncRunJson(run)}}));
    SB_RETURN_IF_ERROR(Audit(tx, context.tenant(), SyncAuditContext(), "sync.run", run,
                             ok ? audit::Outcome::kSuccess : audit::Outcome::kFailure, run.error));
    if (pause_reason) {
      SB_RETURN_IF_ERROR(Audit(tx, context.tenant(), SyncAuditContext(), "sync.pause", run,
                               audit::Outcome::kSuccess, *pause_reason));
    }
    if (ok && service != nullptr) SB_RETURN_IF_ERROR(service->OnSucceeded(tx, context));
    return OkStatus();
  });
  if (s.ok()) CountRun(context.connection(), run);
  return s;
}

Status SyncEngine::Audit(store::Transaction& tx, const TenantId& tenant, const audit::Context& ctx,
                         std::string_view action, const store::SyncRunRecord& run,
                         audit::Outcome outcome, const std::string& detail) {
  Json details{{"connection_id", run.connection_id.value()},
               {"service", run.service},
               {"trigger", store::SyncTriggerName(run.trigger)},
               {"full", run.full},
               {"pages", run.pages},
               {"created", run.items_created},
               {"updated", run.items_updated},
               {"deleted", run.items_deleted}};
  if (!detail.empty()) details["detail"] = detail;
  return audit_.Append(tx, tenant,
                       audit::Event{ctx.actor, std::string(action), RunTarget(run), outcome,
                                    ctx.request_id, std::move(details)});
}

void SyncEngine::CountRun(const store::ConnectionRecord& connection,
                          const store::SyncRunRecord& run) {
  if (runs_total_ == nullptr) return;
  const std::string_view outcome = store::SyncRunOutcomeName(run.outcome);
  runs_total_->WithLabels({connection.provider, run.service, outcome}).Increment();
  items_total_->WithLabels({connection.provider, run.service, "created"})
      .Increment(static_cast<uint64_t>(run.items_created));
  items_total_->WithLabels({connection.provider, run.service, "updated"})
      .Increment(static_cast<uint64_t>(run.items_updated));
  items_total_->WithLabels({connection.provider, run.service, "deleted"})
      .Increment(static_cast<uint64_t>(run.items_deleted));
  if (run.started_at && run.finished_at) {
    const double seconds = static_cast<double>((*run.finished_at - *run.started_at).count()) / 1e6;
    run_seconds_->WithLabels({connection.provider, run.service}).Observe(seconds);
  }
  if (run.outcome == SyncRunOutcome::kSucceeded && run.finished_at) {
    const double lag = static_cast<double>((*run.finished_at - run.created_at).count()) / 1e6;
    lag_seconds_->WithLabels({connection.provider, run.service}).Observe(lag);
  }
}

}  // namespace sb::sync
