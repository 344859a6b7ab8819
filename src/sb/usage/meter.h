// Meter: per-tenant usage accounting for GET /v1/admin/usage: API calls, proxied calls and
// token refreshes, counted per UTC day.
//
// Counting is on every request's path, so Add only bumps an in-memory counter; Flush (every
// few seconds from Start's thread, and at Stop) adds the pending counts to usage_counters, one
// transaction per tenant, so that every node's counts add up in the database. A count that
// cannot be written is kept for the next flush; a process that dies loses at most one flush
// interval of counts (usage is accounting, not billing-grade metering).
// Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/periodic.h"
#include "sb/base/status.h"
#include "sb/store/admin/admin_repository.h"
#include "sb/store/database.h"

namespace sb::usage {

class Meter {
 public:
  Meter(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  ~Meter() { Stop(); }
  Meter(const Meter&) = delete;
  Meter& operator=(const Meter&) = delete;

  void Add(const TenantId& tenant, store::UsageMetric metric, int64_t n = 1);
  // Writes the pending counts. The first error is returned; unwritten counts stay pending.
  Status Flush();
  // Flushes every `interval` until Stop, which flushes once more.
  void Start(std::chrono::milliseconds interval);
  void Stop();

 private:
  using Key = std::tuple<std::string, std::string, store::UsageMetric>;  // tenant, day, metric

  store::Database& db_;
  const Clock& clock_;
  store::UsageRepository repo_;
  std::mutex mu_;
  std::map<Key, int64_t> pending_;  // guarded by mu_
  std::unique_ptr<Periodic> flusher_;
};

}  // namespace sb::usage
