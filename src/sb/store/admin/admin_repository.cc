#include "sb/store/admin/admin_repository.h"

#include <array>
#include <ctime>
#include <utility>

#include "sb/store/internal/repository_helpers.h"
#include "sb/store/internal/row_reader.h"

namespace sb::store {
namespace {

using internal::CheckTenantScope;
using internal::Corrupt;
using internal::ReadInt;
using internal::RequireUnscoped;

constexpr std::string_view kSwitches = "provider_switches";
constexpr std::string_view kUsage = "usage_counters";
constexpr size_t kMaxReasonBytes = 1024;

constexpr std::array<std::pair<UsageMetric, std::string_view>, 3> kMetricNames = {{
    {UsageMetric::kApiCalls, "api_calls"},
    {UsageMetric::kProxiedCalls, "proxied_calls"},
    {UsageMetric::kRefreshes, "refreshes"},
}};

bool IsProviderId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

Status ValidateSwitch(const ProviderSwitchRecord& r) {
  if (!r.tenant_id.valid()) return InvalidArgumentError("invalid tenant id");
  if (!IsProviderId(r.provider)) return InvalidArgumentError("invalid provider id");
  if (r.reason.size() > kMaxReasonBytes || !internal::IsStorableError(r.reason)) {
    return InvalidArgumentError("the reason must be UTF-8 text of at most 1024 bytes");
  }
  return OkStatus();
}

Result<ProviderSwitchRecord> ParseSwitch(const Row& row) {
  ProviderSwitchRecord r;
  SB_ASSIGN_OR_RETURN(std::string tenant, internal::ReadUuid(row, 0, kSwitches));
  r.tenant_id = TenantId(std::move(tenant));
  SB_ASSIGN_OR_RETURN(r.provider, internal::ReadText(row, 1, kSwitches));
  SB_ASSIGN_OR_RETURN(int64_t enabled, ReadInt(row, 2, kSwitches));
  if (enabled != 0 && enabled != 1) return Corrupt(kSwitches);
  r.enabled = enabled == 1;
  SB_ASSIGN_OR_RETURN(r.reason, internal::ReadText(row, 3, kSwitches));
  SB_ASSIGN_OR_RETURN(r.updated_at, internal::ReadTimestamp(row, 4, kSwitches));
  if (!ValidateSwitch(r).ok()) return Corrupt(kSwitches);
  return r;
}

Result<std::vector<ProviderSwitchRecord>> ParseSwitches(const std::vector<Row>& rows) {
  std::vector<ProviderSwitchRecord> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    SB_ASSIGN_OR_RETURN(ProviderSwitchRecord r, ParseSwitch(row));
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<UsageCount>> ParseCounts(const std::vector<Row>& rows) {
  std::vector<UsageCount> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    UsageCount c;
    SB_ASSIGN_OR_RETURN(std::string tenant, internal::ReadUuid(row, 0, kUsage));
    c.tenant_id = TenantId(std::move(tenant));
    SB_ASSIGN_OR_RETURN(c.day, internal::ReadText(row, 1, kUsage));
    SB_ASSIGN_OR_RETURN(std::string metric, internal::ReadText(row, 2, kUsage));
    auto parsed = ParseUsageMetric(metric);
    SB_ASSIGN_OR_RETURN(c.count, ReadInt(row, 3, kUsage));
    if (!parsed || !IsUsageDay(c.day) || c.count < 0) return Corrupt(kUsage);
    c.metric = *parsed;
    out.push_back(std::move(c));
  }
  return out;
}

Status ValidateDays(std::string_view from_day, std::string_view to_day) {
  if (!IsUsageDay(from_day) || !IsUsageDay(to_day)) {
    return InvalidArgumentError("days are YYYY-MM-DD");
  }
  return OkStatus();
}

#define SB_SWITCH_COLUMNS \
  "SELECT tenant_id, provider, enabled, reason, updated_at FROM provider_switches "
#define SB_USAGE_COLUMNS "SELECT tenant_id, day, metric, count FROM usage_counters "

}  // namespace

std::string_view UsageMetricName(UsageMetric metric) {
  for (const auto& [m, name] : kMetricNames) {
    if (m == metric) return name;
  }
  return "";
}

std::optional<UsageMetric> ParseUsageMetric(std::string_view name) {
  for (const auto& [m, n] : kMetricNames) {
    if (n == name) return m;
  }
  return std::nullopt;
}

bool IsUsageDay(std::string_view day) {
  if (day.size() != 10 || day[4] != '-' || day[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (day[i] < '0' || day[i] > '9') return false;
  }
  const int month = (day[5] - '0') * 10 + (day[6] - '0');
  const int dom = (day[8] - '0') * 10 + (day[9] - '0');
  return month >= 1 && month <= 12 && dom >= 1 && dom <= 31;
}

std::string UsageDay(Timestamp t) {
  const std::time_t seconds =
      std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char out[16];
  std::strftime(out, sizeof out, "%Y-%m-%d", &tm);
  return out;
}

// ---- ProviderSwitchRepository ----

Status ProviderSwitchRepository::Put(Transaction& tx, const TenantId& tenant,
                                     const ProviderSwitchRecord& r) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (r.tenant_id != tenant) return InvalidArgumentError("provider switch tenant_id != tenant");
  SB_RETURN_IF_ERROR(ValidateSwitch(r));
  return tx
      .Execute(
          "INSERT INTO provider_switches (tenant_id, provider, enabled, reason, updated_at) "
          "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, provider) DO UPDATE SET "
          "enabled = excluded.enabled, reason = excluded.reason, updated_at = excluded.updated_at",
          {tenant.value(), r.provider, int64_t{r.enabled ? 1 : 0}, r.reason,
           ToUnixMicros(r.updated_at)})
      .status();
}

Result<bool> ProviderSwitchRepository::Delete(Transaction& tx, const TenantId& tenant,
                                              std::string_view provider) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!IsProviderId(provider)) return InvalidArgumentError("invalid provider id");
  SB_ASSIGN_OR_RETURN(
      int64_t n, tx.Execute("DELETE FROM provider_switches WHERE tenant_id = $1 AND provider = $2",
                            {tenant.value(), std::string(provider)}));
  return n > 0;
}

Result<std::vector<ProviderSwitchRecord>> ProviderSwitchRepository::List(Transaction& tx,
                                                                         const TenantId& tenant) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(SB_SWITCH_COLUMNS "WHERE tenant_id = $1 ORDER BY provider", {tenant.value()}));
  SB_ASSIGN_OR_RETURN(auto out, ParseSwitches(rows));
  for (const auto& r : out) {
    if (r.tenant_id != tenant) return Corrupt(kSwitches);
  }
  return out;
}

Result<std::vector<ProviderSwitchRecord>> ProviderSwitchRepository::MaintenanceListAll(
    Transaction& tx) {
  SB_RETURN_IF_ERROR(RequireUnscoped(tx, "provider switch"));
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query(SB_SWITCH_COLUMNS "ORDER BY tenant_id, provider"));
  return ParseSwitches(rows);
}

// ---- UsageRepository ----

Status UsageRepository::Add(Transaction& tx, const TenantId& tenant, std::string_view day,
                            UsageMetric metric, int64_t delta) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!IsUsageDay(day)) return InvalidArgumentError("days are YYYY-MM-DD");
  if (UsageMetricName(metric).empty()) return InvalidArgumentError("unknown usage metric");
  if (delta < 1) return InvalidArgumentError("a usage delta is positive");
  return tx
      .Execute(
          "INSERT INTO usage_counters (tenant_id, day, metric, count) VALUES ($1, $2, $3, $4) "
          "ON CONFLICT (tenant_id, day, metric) DO UPDATE SET "
          "count = usage_counters.count + excluded.count",
          {tenant.value(), std::string(day), std::string(UsageMetricName(metric)), delta})
      .status();
}

Result<std::vector<UsageCount>> UsageRepository::List(Transaction& tx, const TenantId& tenant,
                                                      std::string_view from_day,
                                                      std::string_view to_day) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(ValidateDays(from_day, to_day));
  SB_ASSIGN_OR_RETURN(auto rows,
                      tx.Query(SB_USAGE_COLUMNS "WHERE tenant_id = $1 AND day >= $2 AND day <= $3 "
                                                "ORDER BY day, metric",
                               {tenant.value(), std::string(from_day), std::string(to_day)}));
  SB_ASSIGN_OR_RETURN(auto out, ParseCounts(rows));
  for (const auto& c : out) {
    if (c.tenant_id != tenant) return Corrupt(kUsage);
  }
  return out;
}

Result<std::vector<UsageCount>> UsageRepository::MaintenanceList(Transaction& tx,
                                                                 std::string_view from_day,
                                                                 std::string_view to_day) {
  SB_RETURN_IF_ERROR(RequireUnscoped(tx, "usage"));
  SB_RETURN_IF_ERROR(ValidateDays(from_day, to_day));
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query(SB_USAGE_COLUMNS "WHERE day >= $1 AND day <= $2 "
                                                           "ORDER BY tenant_id, day, metric",
                                          {std::string(from_day), std::string(to_day)}));
  return ParseCounts(rows);
}

#undef SB_SWITCH_COLUMNS
#undef SB_USAGE_COLUMNS

}  // namespace sb::store
