#include "sandbox/core/faults.h"

#include <algorithm>

namespace sandbox {
namespace {

std::optional<FaultKind> KindFromName(std::string_view name) {
  if (name == "status" || name == "error") return FaultKind::kStatus;
  if (name == "rate_limit") return FaultKind::kRateLimit;
  if (name == "latency") return FaultKind::kLatency;
  if (name == "unauthorized") return FaultKind::kUnauthorized;
  return std::nullopt;
}

std::string_view KindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kStatus:
      return "status";
    case FaultKind::kRateLimit:
      return "rate_limit";
    case FaultKind::kLatency:
      return "latency";
    case FaultKind::kUnauthorized:
      return "unauthorized";
  }
  return "status";
}

}  // namespace

sb::Result<FaultRule> ParseFaultRule(const sb::Json& json) {
  if (!json.is_object()) return sb::InvalidArgumentError("a fault rule is a JSON object");
  static constexpr std::string_view kKeys[] = {"method",      "path",       "kind",   "status",
                                               "retry_after", "latency_ms", "reason", "count"};
  for (const auto& [key, value] : json.items()) {
    if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys)) {
      return sb::InvalidArgumentError("unknown fault rule field: " + key);
    }
  }
  FaultRule rule;
  try {
    rule.method = json.value("method", std::string("*"));
    rule.path_prefix = json.value("path", std::string());
    const std::string kind = json.value("kind", std::string("status"));
    const auto parsed = KindFromName(kind);
    if (!parsed) return sb::InvalidArgumentError("unknown fault kind: " + kind);
    rule.kind = *parsed;
    rule.status = json.value("status", rule.kind == FaultKind::kRateLimit ? 429 : 503);
    if (json.contains("retry_after"))
      rule.retry_after_seconds = json.at("retry_after").get<double>();
    rule.latency_ms = json.value("latency_ms", 0);
    rule.reason = json.value("reason", std::string());
    rule.remaining = json.value("count", int64_t{1});
  } catch (const sb::Json::exception& e) {
    return sb::InvalidArgumentError(std::string("bad fault rule: ") + e.what());
  }
  if (rule.path_prefix.empty() || rule.path_prefix[0] != '/') {
    return sb::InvalidArgumentError("fault rule needs a \"path\" prefix starting with /");
  }
  if (rule.status < 100 || rule.status > 599) {
    return sb::InvalidArgumentError("fault status must be 100..599");
  }
  if (rule.latency_ms < 0 || rule.latency_ms > 60'000) {
    return sb::InvalidArgumentError("latency_ms must be 0..60000");
  }
  if (rule.remaining == 0 || rule.remaining < -1) {
    return sb::InvalidArgumentError("count must be positive or -1 (unlimited)");
  }
  return rule;
}

sb::Json FaultRuleToJson(const FaultRule& rule) {
  sb::Json out = {{"id", rule.id},
                  {"method", rule.method},
                  {"path", rule.path_prefix},
                  {"kind", KindName(rule.kind)},
                  {"status", rule.status},
                  {"latency_ms", rule.latency_ms},
                  {"reason", rule.reason},
                  {"count", rule.remaining},
                  {"fired", rule.fired}};
  if (rule.retry_after_seconds) out["retry_after"] = *rule.retry_after_seconds;
  return out;
}

std::string FaultTable::Add(FaultRule rule) {
  std::lock_guard<std::mutex> lock(mu_);
  // Appended rather than "f" + ...: g++ 12 -O3 reports a false -Wrestrict on the latter.
  rule.id = std::to_string(next_id_++);
  rule.id.insert(rule.id.begin(), 'f');
  rule.fired = 0;
  rules_.push_back(rule);
  return rule.id;
}

bool FaultTable::Remove(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = std::find_if(rules_.begin(), rules_.end(),
                               [&](const FaultRule& rule) { return rule.id == id; });
  if (it == rules_.end()) return false;
  rules_.erase(it);
  return true;
}

void FaultTable::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.clear();
}

std::vector<FaultRule> FaultTable::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rules_;
}

std::optional<FaultRule> FaultTable::Fire(std::string_view method, std::string_view path) {
  std::lock_guard<std::mutex> lock(mu_);
  for (FaultRule& rule : rules_) {
    if (rule.remaining == 0) continue;
    if (rule.method != "*" && rule.method != method) continue;
    if (!path.starts_with(rule.path_prefix)) continue;
    if (rule.remaining > 0) --rule.remaining;
    ++rule.fired;
    return rule;
  }
  return std::nullopt;
}

}  // namespace sandbox
