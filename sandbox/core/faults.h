// FaultTable: per-route fault injection for one emulated provider.
//
// A rule matches requests by method ("*" for any) and path prefix (raw path, e.g.
// "/calendar/v3/calendars/primary/events") and fires for its next `count` matches (-1: until
// removed). What a firing rule does is the provider's business (Google answers with its error
// envelope, Graph with its own); the table only selects and counts. Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sb/base/json.h"
#include "sb/base/status.h"

namespace sandbox {

enum class FaultKind {
  kStatus,        // answer with `status` (429, 500, 503, 403 ...) and the provider's error body
  kRateLimit,     // the provider's rate-limit answer: `status` 429 or 403, Retry-After if given
  kLatency,       // wait `latency_ms`, then serve normally
  kUnauthorized,  // 401 as for an expired or invalid access token
};

struct FaultRule {
  std::string id;
  std::string method = "*";
  std::string path_prefix;
  FaultKind kind = FaultKind::kStatus;
  int status = 503;
  std::optional<double> retry_after_seconds;  // Retry-After header when set (may be fractional)
  int latency_ms = 0;
  std::string reason;     // provider error reason/code override, e.g. "userRateLimitExceeded"
  int64_t remaining = 1;  // -1: unlimited
  int64_t fired = 0;
};

// Parses a rule from the control API's JSON: {"method","path","kind","status",
// "retry_after","latency_ms","reason","count"}. Unknown keys are an error (a typo would
// otherwise silently inject nothing).
sb::Result<FaultRule> ParseFaultRule(const sb::Json& json);
sb::Json FaultRuleToJson(const FaultRule& rule);

class FaultTable {
 public:
  // Adds a rule and returns its id ("f1", "f2", ...).
  std::string Add(FaultRule rule);
  bool Remove(std::string_view id);
  void Clear();
  std::vector<FaultRule> List() const;

  // The first rule matching (method, path) with matches left; counts the firing.
  std::optional<FaultRule> Fire(std::string_view method, std::string_view path);

 private:
  mutable std::mutex mu_;
  std::vector<FaultRule> rules_;  // guarded by mu_
  int64_t next_id_ = 1;           // guarded by mu_
};

}  // namespace sandbox
