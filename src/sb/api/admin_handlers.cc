#include "sb/api/admin_handlers.h"

#include <map>

#include "sb/api/auth.h"
#include "sb/api/json_body.h"
#include "sb/api/resource_json.h"
#include "sb/api/tenant_handlers.h"
#include "sb/audit/audit_log.h"
#include "sb/base/time_format.h"
#include "sb/store/admin/admin_repository.h"
#include "sb/store/connections/connect_repository.h"

namespace sb::api {
namespace {

using tenancy::Scope;

constexpr size_t kMaxReasonBytes = 1024;
constexpr int kDefaultUsageDays = 30;
constexpr int kMaxUsageDays = 366;

Json SwitchJson(const store::ProviderSwitchRecord& s) {
  const bool global = s.tenant_id == audit::SystemTenant();
  return {{"provider", s.provider},
          {"scope", global ? "global" : "tenant"},
          {"tenant_id", global ? Json() : Json(s.tenant_id.value())},
          {"enabled", s.enabled},
          {"reason", s.reason},
          {"updated_at", FormatRfc3339(s.updated_at)}};
}

// Tenant admins act on their own tenant; the operator on every tenant and the deployment.
Status RequireAdmin(const tenancy::Principal& p) {
  return p.Has(Scope::kAdmin) || p.IsOperator()
             ? OkStatus()
             : PermissionDeniedError("this operation needs the 'admin' scope");
}

// Whether `p` may see or change switch `s`: the operator all, a tenant admin the global ones
// (to see) and its own tenant's.
bool Visible(const tenancy::Principal& p, const store::ProviderSwitchRecord& s) {
  return p.IsOperator() || s.tenant_id == audit::SystemTenant() || s.tenant_id == p.tenant_id;
}

// Days since the epoch of "YYYY-MM-DD" (validated by store::IsUsageDay), for range checks.
int64_t DayNumber(std::string_view day) {
  std::tm tm{};
  tm.tm_year = std::stoi(std::string(day.substr(0, 4))) - 1900;
  tm.tm_mon = std::stoi(std::string(day.substr(5, 2))) - 1;
  tm.tm_mday = std::stoi(std::string(day.substr(8, 2)));
  return static_cast<int64_t>(timegm(&tm)) / 86'400;
}

}  // namespace

http::Response AdminHandlers::ListProviders(http::Request& r) {
  return Respond(r, DoListProviders(r));
}
http::Response AdminHandlers::PutProvider(http::Request& r) { return Respond(r, DoPutProvider(r)); }
http::Response AdminHandlers::Usage(http::Request& r) { return Respond(r, DoUsage(r)); }
http::Response HealthHandlers::Get(http::Request& r) { return Respond(r, DoGet(r)); }

Result<http::Response> AdminHandlers::DoListProviders(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireAdmin(p));
  const auto switches = switches_.List();
  Json data = Json::array();
  for (const oauth::ProviderEntry* provider : catalog_.All()) {
    const std::string& id = provider->id;
    Json entry = {{"provider", id}, {"enabled", true}, {"switches", Json::array()}};
    for (const auto& s : switches) {
      if (s.provider != id || !Visible(p, s)) continue;
      entry["switches"].push_back(SwitchJson(s));
      if (s.tenant_id == audit::SystemTenant() && !s.enabled) entry["enabled"] = false;
    }
    data.push_back(std::move(entry));
  }
  return http::Response::Json(200, Json{{"data", data}});
}

Result<http::Response> AdminHandlers::DoPutProvider(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireAdmin(p));
  const std::string provider(request.PathParam("provider").value_or(""));
  if (catalog_.Find(provider) == nullptr) return NotFoundError("no such provider in the catalog");
  SB_ASSIGN_OR_RETURN(Json body, ParseJsonObject(request, {"enabled", "tenant_id", "reason"}));
  if (!body.contains("enabled") || !body["enabled"].is_boolean()) {
    return InvalidArgumentError("enabled: expected true or false");
  }
  SB_ASSIGN_OR_RETURN(auto tenant_text, OptionalString(body, "tenant_id", 64));
  SB_ASSIGN_OR_RETURN(auto reason, OptionalString(body, "reason", kMaxReasonBytes));
  std::optional<TenantId> tenant;
  if (!tenant_text) SB_RETURN_IF_ERROR(RequireOperator(p, "the global kill switch"));
  if (tenant_text) {
    if (!IsCanonicalUuid(*tenant_text)) return InvalidArgumentError("tenant_id: not a tenant id");
    tenant = TenantId(*tenant_text);
    if (*tenant != p.tenant_id) {
      SB_RETURN_IF_ERROR(RequireOperator(p, "another tenant's kill switch"));
    }
    Result<store::TenantRecord> exists = tenants_.Get(*tenant);
    if (!exists.ok() && exists.status().code() == StatusCode::kNotFound) {
      return NotFoundError("tenant not found");
    }
    SB_RETURN_IF_ERROR(exists);
  }
  SB_ASSIGN_OR_RETURN(store::ProviderSwitchRecord record,
                      switches_.Set(AuditContextOf(request), tenant, provider,
                                    body["enabled"].get<bool>(), reason.value_or("")));
  return http::Response::Json(200, SwitchJson(record));
}

Result<http::Response> AdminHandlers::DoUsage(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireAdmin(p));
  const Timestamp now = clock_.Now();
  std::string to(request.Query("to").value_or(store::UsageDay(now)));
  std::string from(request.Query("from").value_or(
      store::UsageDay(now - std::chrono::hours(24 * (kDefaultUsageDays - 1)))));
  if (!store::IsUsageDay(from) || !store::IsUsageDay(to)) {
    return InvalidArgumentError("from, to: expected UTC days as YYYY-MM-DD");
  }
  if (from > to) return InvalidArgumentError("from is after to");
  if (DayNumber(to) - DayNumber(from) >= kMaxUsageDays) {
    return InvalidArgumentError("at most 366 days at once");
  }
  // A tenant admin sees its own tenant only; the operator every tenant or the one named.
  std::optional<std::string> only;
  if (auto t = request.Query("tenant_id")) {
    if (!IsCanonicalUuid(*t)) return InvalidArgumentError("tenant_id: not a tenant id");
    only = std::string(*t);
  }
  if (!p.IsOperator()) {
    if (only && *only != p.tenant_id.value()) {
      SB_RETURN_IF_ERROR(RequireOperator(p, "another tenant's usage"));
    }
    only = p.tenant_id.value();
  }

  std::vector<store::UsageCount> counts;
  std::vector<store::ConnectionRepository::StatusCount> statuses;
  SB_RETURN_IF_ERROR(
      maintenance_.RunUnscoped(store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(counts, store::UsageRepository().MaintenanceList(tx, from, to));
        SB_ASSIGN_OR_RETURN(statuses, store::ConnectionRepository().MaintenanceCountByStatus(tx));
        return OkStatus();
      }));

  std::map<std::string, Json> tenants;  // ordered by tenant id
  auto slot = [&](const std::string& tenant) -> Json& {
    auto [it, added] = tenants.try_emplace(tenant);
    if (added) {
      Json connections = {{"total", 0}};
      for (auto s : store::kConnectionStatuses) {
        connections[std::string(store::ConnectionStatusName(s))] = 0;
      }
      it->second = {{"tenant_id", tenant}, {"connections", connections}, {"days", Json::array()}};
      for (auto m : store::kUsageMetrics) it->second[std::string(store::UsageMetricName(m))] = 0;
    }
    return it->second;
  };
  for (const auto& s : statuses) {
    if (only && s.tenant_id.value() != *only) continue;
    Json& t = slot(s.tenant_id.value());
    t["connections"][std::string(store::ConnectionStatusName(s.status))] = s.count;
    t["connections"]["total"] = t["connections"]["total"].get<int64_t>() + s.count;
  }
  for (const auto& c : counts) {
    if (only && c.tenant_id.value() != *only) continue;
    Json& t = slot(c.tenant_id.value());
    const std::string metric(store::UsageMetricName(c.metric));
    t[metric] = t[metric].get<int64_t>() + c.count;
    Json& days = t["days"];
    if (days.empty() || days.back()["day"] != c.day) {
      Json day = {{"day", c.day}};
      for (auto m : store::kUsageMetrics) day[std::string(store::UsageMetricName(m))] = 0;
      days.push_back(std::move(day));
    }
    days.back()[metric] = c.count;
  }
  if (only && tenants.empty()) slot(*only);
  Json data = Json::array();
  for (auto& [id, t] : tenants) data.push_back(std::move(t));
  return http::Response::Json(200, Json{{"from", from}, {"to", to}, {"data", data}});
}

Result<http::Response> HealthHandlers::DoGet(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kRead));
  const auto id = request.PathParam("id");
  if (!id || !IsCanonicalUuid(*id)) return NotFoundError("connection not found");
  const ConnectionId connection{std::string(*id)};
  const auto live = request.Query("live");
  if (live && *live != "true" && *live != "false") {
    return InvalidArgumentError("live: expected true or false");
  }
  connections::HealthView view;
  if (live && *live == "true") {
    SB_ASSIGN_OR_RETURN(view, health_.Check(p.tenant_id, connection, AuditContextOf(request)));
  } else {
    SB_ASSIGN_OR_RETURN(view, health_.Get(p.tenant_id, connection));
  }
  return http::Response::Json(200, HealthJson(connection, view));
}

http::Response HealthHandlers::ListIncidents(http::Request& r) {
  return Respond(r, DoListIncidents(r));
}

Result<http::Response> HealthHandlers::DoListIncidents(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kRead));
  SB_ASSIGN_OR_RETURN(ConnectionId connection, ConnectionParam(request));
  SB_ASSIGN_OR_RETURN(std::optional<int64_t> before, SeqCursorParam(request));
  SB_ASSIGN_OR_RETURN(int limit, PageLimit(request, 50, 200));
  SB_ASSIGN_OR_RETURN(auto incidents,
                      health_.Incidents(p.tenant_id, connection, before, limit + 1));
  const bool more = static_cast<int>(incidents.size()) > limit;
  if (more) incidents.resize(limit);
  Json data = Json::array();
  for (const store::HealthIncidentRecord& i : incidents) {
    data.push_back(Json{{"seq", i.seq},
                        {"opened_at", FormatRfc3339(i.opened_at)},
                        {"closed_at", i.closed_at ? Json(FormatRfc3339(*i.closed_at)) : Json()},
                        {"error_kind", i.error_kind},
                        {"error", i.error}});
  }
  Json next = more ? Json(std::to_string(incidents.back().seq)) : Json(nullptr);
  return http::Response::Json(200, Json{{"data", data}, {"next_cursor", next}});
}

http::Response HealthHandlers::Summary(http::Request& r) { return Respond(r, DoSummary(r)); }

Result<http::Response> HealthHandlers::DoSummary(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kRead));
  SB_ASSIGN_OR_RETURN(int limit, PageLimit(request, 20, 100));
  SB_ASSIGN_OR_RETURN(connections::HealthSummary summary, health_.Summary(p.tenant_id, limit));
  Json counts = {{"total", summary.total}};
  for (const auto& entry : summary.by_status) {
    counts[std::string(store::ConnectionStatusName(entry.first))] = entry.second;
  }
  Json incidents = Json::array();
  for (const store::OpenIncidentRecord& i : summary.incidents) {
    incidents.push_back(
        Json{{"connection_id", i.connection_id.value()},
             {"provider", i.provider},
             {"end_user_id", i.end_user_id},
             {"incident_since", FormatRfc3339(i.incident_since)},
             {"last_error", Json{{"kind", i.last_error_kind}, {"message", i.last_error}}}});
  }
  return http::Response::Json(200, Json{{"connections", counts},
                                        {"open_incidents", summary.open_incidents},
                                        {"incidents", incidents}});
}

}  // namespace sb::api
