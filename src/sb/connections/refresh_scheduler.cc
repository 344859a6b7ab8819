#include "sb/connections/refresh_scheduler.h"

#include <algorithm>
#include <span>
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
  // One transaction per tenant and chunk, not per connection: a pass of a thousand due
  // connections is a handful of writes.
  std::stable_sort(due.begin(), due.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  int enqueued = 0;
  for (size_t begin = 0; begin < due.size();) {
    size_t end = begin + 1;
    while (end < due.size() && end - begin < kEnqueueChunk && due[end].first == due[begin].first) {
      ++end;
    }
    auto created = Enqueue(due[begin].first, std::span(due).subspan(begin, end - begin));
    if (created.ok()) {
      enqueued += *created;
    } else {
      // Logged and listed again next pass.
      log::Warn("refresh.enqueue_failed", {{"tenant", due[begin].first.value()},
                                           {"connections", end - begin},
                                           {"error", created.status().ToString()}});
    }
    begin = end;
  }
  return enqueued;
}

Result<int> RefreshScheduler::Enqueue(
    const TenantId& tenant, std::span<const std::pair<TenantId, ConnectionId>> connections) {
  int created = 0;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    created = 0;
    for (const auto& entry : connections) {
      jobs::JobSpec spec;
      spec.kind = kRefreshJob;
      spec.payload = Json{{"connection_id", entry.second.value()}};
      spec.priority = 10;  // ahead of deliveries: a token that expires stops every other call
      spec.dedupe_key = entry.second.value();
      spec.max_attempts = 3;
      SB_ASSIGN_OR_RETURN(auto result, jobs::Enqueue(tx, tenant, spec, clock_, ids_));
      created += result.created ? 1 : 0;
    }
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
