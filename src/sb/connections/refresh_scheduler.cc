#include "sb/connections/refresh_scheduler.h"

#include <utility>
#include <vector>

#include "sb/base/logging.h"

namespace sb::connections {

RefreshScheduler::RefreshScheduler(RefreshSchedulerDeps deps, RefreshScheduleOptions options)
    : db_(deps.db),
      maintenance_(deps.maintenance),
      connections_(deps.connections),
      clock_(deps.clock),
      ids_(deps.ids),
      options_(options),
      loop_(options.interval.count() > 0 ? options.interval : std::chrono::milliseconds(1'000),
            [this] {
              auto n = EnqueueDue();
              if (!n.ok()) {
                log::Warn("refresh.pass_failed", {{"error", n.status().ToString()}});
                return false;
              }
              if (*n > 0) log::Info("refresh.pass", {{"enqueued", *n}});
              // A full batch means more are due: go again at once.
              return *n >= options_.batch;
            }) {}

void RefreshScheduler::Start() {
  if (options_.interval.count() > 0) loop_.Start();
}

Result<int> RefreshScheduler::EnqueueDue() {
  std::vector<std::pair<TenantId, ConnectionId>> due;
  SB_RETURN_IF_ERROR(
      maintenance_.RunUnscoped(store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(
            due, repo_.MaintenanceListDue(tx, clock_.Now(), kRefreshJob, options_.batch));
        return OkStatus();
      }));
  int enqueued = 0;
  for (const auto& entry : due) {
    auto created = Enqueue(entry.first, entry.second);
    if (created.ok()) {
      enqueued += *created ? 1 : 0;
    } else {
      // Logged and listed again next pass.
      log::Warn("refresh.enqueue_failed", {{"tenant", entry.first.value()},
                                           {"connection", entry.second.value()},
                                           {"error", created.status().ToString()}});
    }
  }
  return enqueued;
}

Result<bool> RefreshScheduler::Enqueue(const TenantId& tenant, const ConnectionId& id) {
  bool created = false;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    jobs::JobSpec spec;
    spec.kind = kRefreshJob;
    spec.payload = Json{{"connection_id", id.value()}};
    spec.priority = 10;  // ahead of deliveries: a token that expires stops every other call
    spec.dedupe_key = id.value();
    spec.max_attempts = 3;
    SB_ASSIGN_OR_RETURN(auto result, jobs::Enqueue(tx, tenant, spec, clock_, ids_));
    created = result.created;
    return OkStatus();
  }));
  return created;
}

jobs::JobResult RefreshScheduler::Handle(jobs::JobContext& job) {
  struct CountOnExit {
    std::atomic<int64_t>& n;
    ~CountOnExit() { ++n; }
  } count{handled_};
  const Json& payload = job.job().payload;
  if (!payload.contains("connection_id") || !payload["connection_id"].is_string() ||
      !IsCanonicalUuid(payload["connection_id"].get<std::string>())) {
    return jobs::JobResult::Fail("malformed job payload");
  }
  const ConnectionId id(payload["connection_id"].get<std::string>());
  const audit::Context ctx{audit::Actor{audit::ActorKind::kSystem, "token-refresh"}, ""};
  auto token = connections_.Token(job.job().tenant_id, id, RefreshMode::kIfDue, ctx);
  if (token.ok()) {
    if (token->refreshed) ++refreshed_;
    return jobs::JobResult::Done();
  }
  switch (token.status().code()) {
    case StatusCode::kNotFound:            // deleted meanwhile
    case StatusCode::kFailedPrecondition:  // disabled, needs the user, provider switched off
    case StatusCode::kUnavailable:         // recorded on the connection with its backoff
      return jobs::JobResult::Done();
    default:
      return jobs::JobResult::Retry(token.status().ToString());
  }
}

}  // namespace sb::connections
