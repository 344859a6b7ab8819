#include "sb/store/oauth/integration_repository.h"

#include <algorithm>

#include "sb/base/json.h"
#include "sb/store/calendar/conflict_repository.h"
#include "sb/store/internal/repository_helpers.h"
#include "sb/store/internal/row_reader.h"

namespace sb::store {
using internal::ServicesJson;

namespace {

using internal::CheckTenantScope;

constexpr std::string_view kTable = "integrations";

#define SB_INTEGRATION_COLUMNS                                                           \
  "SELECT tenant_id, provider, client_id, services, extra_scopes, enabled, created_at, " \
  "updated_at, version, allow_reassignment, conflict_policies FROM integrations "

bool IsValidProvider(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool IsPrintable(std::string_view s, size_t max) {
  return !s.empty() && s.size() <= max &&
         std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c != 0x7f; });
}

bool IsValidService(std::string_view s) {
  return s == "calendar" || s == "email" || s == "contacts";
}

Status Validate(const IntegrationRecord& r) {
  if (!IsValidProvider(r.provider)) return InvalidArgumentError("invalid provider id");
  // Empty for a credential provider, whose end users bring their own credentials.
  if (!r.client_id.empty() && !IsPrintable(r.client_id, 512)) {
    return InvalidArgumentError("invalid client_id");
  }
  for (const ServiceGrant& grant : r.services) {
    if (!IsValidService(grant.service)) {
      return InvalidArgumentError("unknown service: must be calendar, email or contacts");
    }
    if (std::count_if(r.services.begin(), r.services.end(), [&](const ServiceGrant& other) {
          return other.service == grant.service;
        }) > 1) {
      return InvalidArgumentError("service listed twice: " + grant.service);
    }
  }
  SB_RETURN_IF_ERROR(CheckConflictPolicies(r.conflict_policies));
  if (r.extra_scopes.size() > IntegrationRepository::kMaxScopes) {
    return InvalidArgumentError("too many extra scopes");
  }
  for (const std::string& scope : r.extra_scopes) {
    if (!IsPrintable(scope, 512)) return InvalidArgumentError("invalid scope");
  }
  return OkStatus();
}

Result<int64_t> ReadInt(const Row& row, size_t i) {
  if (i >= row.size()) return DataLossError("corrupt row in integrations");
  const auto* v = std::get_if<int64_t>(&row.at(i));
  if (v == nullptr) return DataLossError("corrupt row in integrations");
  return *v;
}

Result<IntegrationRecord> Parse(const Row& row, const TenantId& tenant) {
  IntegrationRecord r;
  SB_ASSIGN_OR_RETURN(std::string tenant_id, internal::ReadUuid(row, 0, kTable));
  if (tenant_id != tenant.value()) return InternalError("integrations: row of another tenant");
  r.tenant_id = tenant;
  SB_ASSIGN_OR_RETURN(r.provider, internal::ReadText(row, 1, kTable));
  SB_ASSIGN_OR_RETURN(r.client_id, internal::ReadText(row, 2, kTable));
  SB_ASSIGN_OR_RETURN(const Json services_json, internal::ReadJson(row, 3, kTable));
  SB_ASSIGN_OR_RETURN(const Json scopes_json, internal::ReadJson(row, 4, kTable));
  SB_ASSIGN_OR_RETURN(int64_t enabled, ReadInt(row, 5));
  SB_ASSIGN_OR_RETURN(r.created_at, internal::ReadTimestamp(row, 6, kTable));
  SB_ASSIGN_OR_RETURN(r.updated_at, internal::ReadTimestamp(row, 7, kTable));
  SB_ASSIGN_OR_RETURN(r.version, ReadInt(row, 8));
  SB_ASSIGN_OR_RETURN(int64_t allow_reassignment, ReadInt(row, 9));
  SB_ASSIGN_OR_RETURN(r.conflict_policies, internal::ReadJson(row, 10, kTable));
  if (!services_json.is_array() || !scopes_json.is_array() || (enabled != 0 && enabled != 1) ||
      r.version < 1 || (allow_reassignment != 0 && allow_reassignment != 1)) {
    return DataLossError("corrupt row in integrations");
  }
  for (const Json& grant : services_json) {
    if (!grant.is_object() || !grant.contains("service") || !grant["service"].is_string() ||
        !grant.contains("write") || !grant["write"].is_boolean()) {
      return DataLossError("corrupt row in integrations");
    }
    r.services.push_back({grant["service"].get<std::string>(), grant["write"].get<bool>()});
  }
  for (const Json& scope : scopes_json) {
    if (!scope.is_string()) return DataLossError("corrupt row in integrations");
    r.extra_scopes.push_back(scope.get<std::string>());
  }
  r.enabled = enabled == 1;
  r.allow_reassignment = allow_reassignment == 1;
  if (!Validate(r).ok()) return DataLossError("corrupt row in integrations");
  return r;
}

}  // namespace

std::string IntegrationSecretOwner(std::string_view provider) {
  return "integration:" + std::string(provider);
}

Result<IntegrationRecord> IntegrationRepository::Upsert(Transaction& tx, const TenantId& tenant,
                                                        const IntegrationRecord& record,
                                                        Timestamp at,
                                                        std::optional<int64_t> expected_version) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (record.tenant_id != tenant) return InvalidArgumentError("integration tenant_id != tenant");
  SB_RETURN_IF_ERROR(Validate(record));
  SB_ASSIGN_OR_RETURN(std::optional<IntegrationRecord> existing, Get(tx, tenant, record.provider));
  if (expected_version && (!existing || existing->version != *expected_version)) {
    return AbortedError("the integration changed meanwhile");
  }
  IntegrationRecord stored = record;
  stored.updated_at = at;
  const std::string services = ServicesJson(record.services);
  const std::string scopes = Json(record.extra_scopes).dump();
  const std::string policies = record.conflict_policies.dump();
  if (!existing) {
    stored.created_at = at;
    stored.version = 1;
    SB_RETURN_IF_ERROR(
        tx.Execute("INSERT INTO integrations (tenant_id, provider, client_id, "
                   "services, extra_scopes, enabled, created_at, updated_at, "
                   "version, allow_reassignment, conflict_policies) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10)",
                   {tenant.value(), record.provider, record.client_id, services, scopes,
                    int64_t{record.enabled ? 1 : 0}, ToUnixMicros(at), ToUnixMicros(at),
                    int64_t{record.allow_reassignment ? 1 : 0}, policies})
            .status());
    return stored;
  }
  stored.created_at = existing->created_at;
  stored.version = existing->version + 1;
  // The version in the WHERE clause makes the replacement a compare-and-set even without an
  // expected version: a concurrent writer between Get and here turns into ABORTED.
  SB_ASSIGN_OR_RETURN(
      int64_t changed,
      tx.Execute("UPDATE integrations SET client_id = $3, services = $4, extra_scopes = $5, "
                 "enabled = $6, updated_at = $7, version = $8, allow_reassignment = $10, "
                 "conflict_policies = $11 WHERE tenant_id = $1 AND provider = $2 AND version = $9",
                 {tenant.value(), record.provider, record.client_id, services, scopes,
                  int64_t{record.enabled ? 1 : 0}, ToUnixMicros(at), stored.version,
                  existing->version, int64_t{record.allow_reassignment ? 1 : 0}, policies}));
  if (changed != 1) return AbortedError("the integration changed meanwhile");
  return stored;
}

Result<std::optional<IntegrationRecord>> IntegrationRepository::Get(Transaction& tx,
                                                                    const TenantId& tenant,
                                                                    const std::string& provider) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!IsValidProvider(provider)) return InvalidArgumentError("invalid provider id");
  SB_ASSIGN_OR_RETURN(auto rows,
                      tx.Query(SB_INTEGRATION_COLUMNS "WHERE tenant_id = $1 AND provider = $2",
                               {tenant.value(), provider}));
  if (rows.empty()) return std::optional<IntegrationRecord>();
  SB_ASSIGN_OR_RETURN(IntegrationRecord r, Parse(rows.front(), tenant));
  return std::optional<IntegrationRecord>(std::move(r));
}

Result<std::vector<IntegrationRecord>> IntegrationRepository::List(Transaction& tx,
                                                                   const TenantId& tenant) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(SB_INTEGRATION_COLUMNS "WHERE tenant_id = $1 ORDER BY provider", {tenant.value()}));
  std::vector<IntegrationRecord> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    SB_ASSIGN_OR_RETURN(IntegrationRecord r, Parse(row, tenant));
    out.push_back(std::move(r));
  }
  return out;
}

Result<bool> IntegrationRepository::Delete(Transaction& tx, const TenantId& tenant,
                                           const std::string& provider) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!IsValidProvider(provider)) return InvalidArgumentError("invalid provider id");
  SB_ASSIGN_OR_RETURN(int64_t n,
                      tx.Execute("DELETE FROM integrations WHERE tenant_id = $1 AND provider = $2",
                                 {tenant.value(), provider}));
  return n > 0;
}

}  // namespace sb::store
