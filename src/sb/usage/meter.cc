#include "sb/usage/meter.h"

#include <utility>
#include <vector>

#include "sb/base/logging.h"

namespace sb::usage {

void Meter::Add(const TenantId& tenant, store::UsageMetric metric, int64_t n) {
  if (n <= 0) return;
  Key key{tenant.value(), store::UsageDay(clock_.Now()), metric};
  std::lock_guard lock(mu_);
  pending_[std::move(key)] += n;
}

Status Meter::Flush() {
  std::map<Key, int64_t> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(pending_);
  }
  Status first = OkStatus();
  auto it = batch.begin();
  while (it != batch.end()) {
    // One transaction per tenant: its keys are adjacent in the map.
    const std::string tenant = std::get<0>(it->first);
    auto end = it;
    while (end != batch.end() && std::get<0>(end->first) == tenant) ++end;
    Status s = db_.RunInTenant(TenantId(tenant), [&](store::Transaction& tx) -> Status {
      for (auto k = it; k != end; ++k) {
        SB_RETURN_IF_ERROR(repo_.Add(tx, TenantId(tenant), std::get<1>(k->first),
                                     std::get<2>(k->first), k->second));
      }
      return OkStatus();
    });
    if (!s.ok()) {
      // A tenant that no longer exists (or bad input) would fail forever: drop it, keep the
      // rest for the next flush.
      const bool retry = s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kAborted;
      if (retry) {
        std::lock_guard lock(mu_);
        for (auto k = it; k != end; ++k) pending_[k->first] += k->second;
      }
      log::Warn("usage.flush_failed",
                {{"tenant", tenant}, {"error", s.ToString()}, {"kept", retry}});
      if (first.ok()) first = s;
    }
    it = end;
  }
  return first;
}

void Meter::Start(std::chrono::milliseconds interval) {
  if (flusher_) return;
  flusher_ = std::make_unique<Periodic>(interval, [this] {
    (void)Flush();
    return false;
  });
  flusher_->Start();
}

void Meter::Stop() {
  if (!flusher_) return;
  flusher_->Stop();
  flusher_.reset();
  (void)Flush();
}

}  // namespace sb::usage
