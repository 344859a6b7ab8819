// Storage of operator controls and usage accounting (issue 6):
//
//   provider_switches  the emergency kill switch: one row per (scope, provider) that an
//                      administrator set. The scope is a tenant, or the nil tenant id
//                      (audit::SystemTenant()) for "every tenant". No row means enabled.
//   usage_counters     per tenant, UTC day and metric, a count that nodes add to (upsert).
//
// Stateless SQL over a Transaction, thread-safe. Scoped calls take the tenant explicitly and
// refuse a transaction scoped to another tenant (PERMISSION_DENIED); the Maintenance* calls span
// tenants and need an unscoped (or system-tenant) transaction, on PostgreSQL the BYPASSRLS
// maintenance role (RLS-07). Malformed arguments give INVALID_ARGUMENT, malformed rows DATA_LOSS.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/status.h"
#include "sb/store/database.h"

namespace sb::store {

struct ProviderSwitchRecord {
  TenantId tenant_id;    // the nil id: the switch applies to every tenant
  std::string provider;  // a catalog id, [a-z0-9-]{1,64}
  bool enabled = true;
  std::string reason;  // why, for the people who read it later; at most 1024 bytes
  Timestamp updated_at;

  friend bool operator==(const ProviderSwitchRecord&, const ProviderSwitchRecord&) = default;
};

class ProviderSwitchRepository {
 public:
  // Inserts or replaces the switch of (tenant, provider).
  Status Put(Transaction& tx, const TenantId& tenant, const ProviderSwitchRecord& record);
  // False when there was none.
  Result<bool> Delete(Transaction& tx, const TenantId& tenant, std::string_view provider);
  // The switches of one scope, by provider.
  Result<std::vector<ProviderSwitchRecord>> List(Transaction& tx, const TenantId& tenant);
  // Maintenance: every switch of every scope, by tenant and provider.
  Result<std::vector<ProviderSwitchRecord>> MaintenanceListAll(Transaction& tx);
};

enum class UsageMetric { kApiCalls, kProxiedCalls, kRefreshes };
inline constexpr UsageMetric kUsageMetrics[] = {UsageMetric::kApiCalls, UsageMetric::kProxiedCalls,
                                                UsageMetric::kRefreshes};
std::string_view UsageMetricName(UsageMetric metric);  // "api_calls", "proxied_calls", "refreshes"
std::optional<UsageMetric> ParseUsageMetric(std::string_view name);

struct UsageCount {
  TenantId tenant_id;
  std::string day;  // "YYYY-MM-DD", UTC
  UsageMetric metric = UsageMetric::kApiCalls;
  int64_t count = 0;

  friend bool operator==(const UsageCount&, const UsageCount&) = default;
};

class UsageRepository {
 public:
  // Adds `delta` (>= 1) to the tenant's counter of `day` and `metric`.
  Status Add(Transaction& tx, const TenantId& tenant, std::string_view day, UsageMetric metric,
             int64_t delta);
  // The tenant's counters for days in [from_day, to_day], by day and metric.
  Result<std::vector<UsageCount>> List(Transaction& tx, const TenantId& tenant,
                                       std::string_view from_day, std::string_view to_day);
  // Maintenance: every tenant's counters for days in [from_day, to_day], by tenant, day, metric.
  Result<std::vector<UsageCount>> MaintenanceList(Transaction& tx, std::string_view from_day,
                                                  std::string_view to_day);
};

// True for "YYYY-MM-DD" with a plausible month and day.
bool IsUsageDay(std::string_view day);
// The UTC day of `t` as "YYYY-MM-DD".
std::string UsageDay(Timestamp t);

}  // namespace sb::store
