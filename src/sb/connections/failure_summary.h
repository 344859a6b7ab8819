// FailureSummary: decides which failed OAuth callbacks get an audit entry, so that traffic from
// outside cannot grow a tenant's audit log (issue 13). Per (tenant, failure code) at most one
// entry is written per window (a minute by default); the failures in between are only
// counted, and the next entry of that key carries how many were not audited since the
// previous one. Callers meter every unaudited failure as well.
//
// Two steps, so that the caller can check that the tenant exists (a database read) between
// them without holding a lock: WouldAudit() is the cheap question, Claim() takes the window.
// Only Claim() inserts a key, so made-up tenants never take memory; the table is bounded by
// `max_keys` (entries of past windows are dropped first; when it is still full, nothing more
// is audited until a window ends). Each node decides on its own: N nodes write at most N
// entries per key and window. Thread-safe (one mutex).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "sb/base/clock.h"
#include "sb/base/ids.h"

namespace sb::connections {

class FailureSummary {
 public:
  FailureSummary(std::chrono::seconds window, size_t max_keys);

  // True when a failure of (tenant, code) at `now` opens a new window and should be audited.
  // Otherwise counts it against the key's current window and returns false.
  bool WouldAudit(const TenantId& tenant, const std::string& code, Timestamp now);

  // Takes the window of `now` for (tenant, code). Returns the number of failures of that key
  // that were counted without an entry since its previous one, or nullopt when another caller
  // took this window first or the table is full (then this failure is counted instead).
  std::optional<int64_t> Claim(const TenantId& tenant, const std::string& code, Timestamp now);

  // Number of keys held (for tests).
  size_t size() const;

 private:
  struct Window {
    int64_t index = 0;      // which window (now / window length)
    int64_t unaudited = 0;  // failures counted without an entry since the last entry
  };
  using Key = std::pair<std::string, std::string>;  // tenant id, failure code

  int64_t IndexOf(Timestamp now) const;
  void DropPastWindows(int64_t current);  // REQUIRES mu_ held

  const std::chrono::seconds window_;
  const size_t max_keys_;
  mutable std::mutex mu_;
  std::map<Key, Window> windows_;  // guarded by mu_
};

}  // namespace sb::connections
