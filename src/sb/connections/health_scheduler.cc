#include "sb/connections/health_scheduler.h"

#include <utility>
#include <vector>

#include "sb/base/logging.h"

namespace sb::connections {

HealthScheduler::HealthScheduler(HealthSchedulerDeps deps, HealthScheduleOptions options)
    : db_(deps.db),
      maintenance_(deps.maintenance),
      health_(deps.health),
      clock_(deps.clock),
      random_(deps.random),
      ids_(deps.ids),
      options_(options),
      loop_(options.scheduler_interval, [this] {
        auto n = EnqueueDue();
        if (!n.ok()) {
          log::Warn("health.pass_failed", {{"error", n.status().ToString()}});
          return false;
        }
        if (*n > 0) log::Info("health.pass", {{"enqueued", *n}});
        return *n >= options_.batch;
      }) {}

Timestamp HealthScheduler::NextCheck() {
  const auto jitter = std::chrono::duration_cast<std::chrono::microseconds>(
      options_.interval * (random_.Fraction() / 10));
  return clock_.Now() + options_.interval - jitter;
}

Result<int> HealthScheduler::EnqueueDue() {
  std::vector<std::pair<TenantId, ConnectionId>> due;
  SB_RETURN_IF_ERROR(
      maintenance_.RunUnscoped(store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(due, repo_.MaintenanceListDue(tx, clock_.Now(), options_.batch));
        return OkStatus();
      }));
  int enqueued = 0;
  // Not a structured binding: clang 14 (the debug preset) cannot capture one in a lambda.
  for (const auto& entry : due) {
    const auto& tenant = entry.first;
    const auto& id = entry.second;
    Status s = db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
      SB_ASSIGN_OR_RETURN(auto stored, repo_.Get(tx, tenant, id));
      store::ConnectionHealthRecord h = stored.value_or(store::ConnectionHealthRecord{});
      h.tenant_id = tenant;
      h.connection_id = id;
      // Another node may have taken it since the listing.
      if (h.next_check_at && *h.next_check_at > clock_.Now()) return OkStatus();
      h.next_check_at = NextCheck();
      h.updated_at = clock_.Now();
      SB_RETURN_IF_ERROR(repo_.Put(tx, tenant, h));
      // Only active connections are checked; the others say what is wrong by their status
      // (disabled, needs the user, error with its own retry schedule) and are looked at again
      // after the interval.
      SB_ASSIGN_OR_RETURN(auto connection, connections_.Get(tx, tenant, id));
      if (!connection || connection->status != store::ConnectionStatus::kActive) return OkStatus();
      jobs::JobSpec spec;
      spec.kind = kHealthCheckJob;
      spec.payload = Json{{"connection_id", id.value()}};
      spec.priority = -10;  // behind deliveries and user-facing work
      spec.dedupe_key = id.value();
      spec.max_attempts = 3;
      SB_RETURN_IF_ERROR(jobs::Enqueue(tx, tenant, spec, clock_, ids_).status());
      ++enqueued;
      return OkStatus();
    });
    // A connection deleted meanwhile is no error; anything else is logged and retried next pass.
    if (!s.ok() && s.code() != StatusCode::kNotFound) {
      log::Warn("health.enqueue_failed",
                {{"tenant", tenant.value()}, {"connection", id.value()}, {"error", s.ToString()}});
    }
  }
  return enqueued;
}

jobs::JobResult HealthScheduler::Handle(jobs::JobContext& job) {
  const Json& payload = job.job().payload;
  if (!payload.contains("connection_id") || !payload["connection_id"].is_string() ||
      !IsCanonicalUuid(payload["connection_id"].get<std::string>())) {
    return jobs::JobResult::Fail("malformed job payload");
  }
  const ConnectionId id(payload["connection_id"].get<std::string>());
  const audit::Context ctx{audit::Actor{audit::ActorKind::kSystem, "health-check"}, ""};
  auto view = health_.Check(job.job().tenant_id, id, ctx);
  if (!view.ok()) {
    if (view.status().code() == StatusCode::kNotFound) return jobs::JobResult::Done();
    return jobs::JobResult::Retry(view.status().ToString());
  }
  // The outcome (healthy or not) is recorded on the connection; the job is done either way.
  return jobs::JobResult::Done();
}

}  // namespace sb::connections
