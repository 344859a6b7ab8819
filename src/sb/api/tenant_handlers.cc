#include "sb/api/tenant_handlers.h"

#include "sb/api/auth.h"
#include "sb/api/json_body.h"
#include "sb/base/quota.h"
#include "sb/base/time_format.h"
#include "sb/http/problem.h"

namespace sb::api {
namespace {

using tenancy::Principal;
using tenancy::Scope;

Json TenantJson(const store::TenantRecord& t) {
  return {{"id", t.id.value()},
          {"name", t.name},
          {"return_url_origins", t.return_url_origins},
          {"logo", t.logo},
          {"created_at", FormatRfc3339(t.created_at)}};
}

Json OptionalTime(const std::optional<Timestamp>& t) {
  return t ? Json(FormatRfc3339(*t)) : Json(nullptr);
}

Json ApiKeyJson(const store::ApiKeyRecord& k) {
  return {{"id", k.id.value()},
          {"tenant_id", k.tenant_id.value()},
          {"name", k.name},
          {"scopes", k.scopes},
          {"created_at", FormatRfc3339(k.created_at)},
          {"last_used_at", OptionalTime(k.last_used_at)},
          {"revoked_at", OptionalTime(k.revoked_at)}};
}

// Path ids that are not well-formed ids cannot name anything: answer 404 without echoing them.
template <typename Id>
Result<Id> PathId(const http::Request& request, std::string_view what) {
  auto raw = request.PathParam("id");
  Id id(raw ? std::string(*raw) : std::string());
  if (!id.valid()) return NotFoundError(std::string(what) + " not found");
  return id;
}

}  // namespace

http::Response Respond(const http::Request& request, const Result<http::Response>& result) {
  if (result.ok()) return *result;
  if (auto quota = QuotaOf(result.status())) return QuotaProblem(request, result.status(), *quota);
  return http::StatusToProblem(result.status(), request.request_id, request.path);
}

http::Response QuotaProblem(const http::Request& request, const Status& status,
                            const QuotaExceeded& quota) {
  const bool rate = quota.kind == QuotaKind::kRate;
  http::Response r = http::MakeProblem(
      http::Problem{rate ? 429 : 422, "quota-exceeded", status.message(), request.path},
      request.request_id);
  // A rate quota counts the last minute: by then at least one slot is free again.
  if (rate) r.SetHeader("Retry-After", "60");
  return r;
}

http::Response TenantHandlers::CreateTenant(http::Request& r) {
  return Respond(r, DoCreateTenant(r));
}
http::Response TenantHandlers::ListTenants(http::Request& r) {
  return Respond(r, DoListTenants(r));
}
http::Response TenantHandlers::GetTenant(http::Request& r) { return Respond(r, DoGetTenant(r)); }
http::Response TenantHandlers::PatchTenant(http::Request& r) {
  return Respond(r, DoPatchTenant(r));
}
http::Response TenantHandlers::CreateApiKey(http::Request& r) {
  return Respond(r, DoCreateApiKey(r));
}
http::Response TenantHandlers::ListApiKeys(http::Request& r) {
  return Respond(r, DoListApiKeys(r));
}
http::Response TenantHandlers::GetApiKey(http::Request& r) { return Respond(r, DoGetApiKey(r)); }
http::Response TenantHandlers::RevokeApiKey(http::Request& r) {
  return Respond(r, DoRevokeApiKey(r));
}

Result<http::Response> TenantHandlers::DoCreateTenant(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireOperator(p, "creating tenants"));
  SB_ASSIGN_OR_RETURN(Json body, ParseJsonObject(request, {"name"}));
  SB_ASSIGN_OR_RETURN(std::string name, RequiredString(body, "name", 200));
  SB_ASSIGN_OR_RETURN(store::TenantRecord tenant, tenants_.Create(AuditContextOf(request), name));
  return http::Response::Json(201, TenantJson(tenant));
}

Result<http::Response> TenantHandlers::DoListTenants(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kRead));
  SB_ASSIGN_OR_RETURN(int limit, PageLimit(request, 50, 100));
  std::optional<TenantId> after;
  if (auto cursor = request.Query("cursor")) {
    after = TenantId(std::string(*cursor));
    if (!after->valid()) return InvalidArgumentError("query parameter 'cursor' is not valid");
  }
  // Everyone but the operator sees the one tenant of their key or session.
  if (!p.IsOperator()) {
    Json data = Json::array();
    if (!after) {
      SB_ASSIGN_OR_RETURN(store::TenantRecord own, tenants_.Get(p.tenant_id));
      data.push_back(TenantJson(own));
    }
    return http::Response::Json(200, {{"data", data}, {"next_cursor", nullptr}});
  }
  // One extra row tells whether another page exists.
  SB_ASSIGN_OR_RETURN(auto tenants, tenants_.List(after, limit + 1));
  const bool more = static_cast<int>(tenants.size()) > limit;
  if (more) tenants.resize(limit);
  Json data = Json::array();
  for (const auto& t : tenants) data.push_back(TenantJson(t));
  Json next = more ? Json(tenants.back().id.value()) : Json(nullptr);
  return http::Response::Json(200, {{"data", data}, {"next_cursor", next}});
}

Result<http::Response> TenantHandlers::DoGetTenant(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kRead));
  SB_ASSIGN_OR_RETURN(TenantId id, PathId<TenantId>(request, "tenant"));
  // Another tenant's existence is not revealed: the same 404 as for an unknown id.
  if (id != p.tenant_id && !p.IsOperator()) return NotFoundError("tenant not found");
  Result<store::TenantRecord> tenant = tenants_.Get(id);
  if (!tenant.ok() && tenant.status().code() == StatusCode::kNotFound) {
    return NotFoundError("tenant not found");
  }
  SB_RETURN_IF_ERROR(tenant);
  return http::Response::Json(200, TenantJson(*tenant));
}

Result<http::Response> TenantHandlers::DoPatchTenant(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_ASSIGN_OR_RETURN(TenantId id, PathId<TenantId>(request, "tenant"));
  // The operator may change any tenant; write keys only their own; others see the same 404.
  if (id != p.tenant_id && !p.IsOperator()) return NotFoundError("tenant not found");
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kWrite));
  SB_ASSIGN_OR_RETURN(Json body, ParseJsonObject(request, {"return_url_origins", "logo"}));
  tenancy::TenantPatch patch;
  // null removes the logo.
  if (body.contains("logo") && body["logo"].is_null()) {
    patch.logo = "";
  } else {
    SB_ASSIGN_OR_RETURN(patch.logo, OptionalString(body, "logo", 64 * 1024));
  }
  if (body.contains("return_url_origins")) {
    SB_ASSIGN_OR_RETURN(patch.return_url_origins, RequiredStringArray(body, "return_url_origins"));
  }
  Result<store::TenantRecord> tenant = tenants_.Update(AuditContextOf(request), id, patch);
  if (!tenant.ok() && tenant.status().code() == StatusCode::kNotFound) {
    return NotFoundError("tenant not found");
  }
  SB_RETURN_IF_ERROR(tenant);
  return http::Response::Json(200, TenantJson(*tenant));
}

Result<http::Response> TenantHandlers::DoCreateApiKey(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kWrite));
  SB_ASSIGN_OR_RETURN(Json body, ParseJsonObject(request, {"name", "scopes", "tenant_id"}));
  SB_ASSIGN_OR_RETURN(std::string name, RequiredString(body, "name", 200));
  SB_ASSIGN_OR_RETURN(std::vector<std::string> scope_names, RequiredStringArray(body, "scopes"));
  SB_ASSIGN_OR_RETURN(std::optional<std::string> tenant_text,
                      OptionalString(body, "tenant_id", 64));
  std::set<Scope> scopes;
  for (const std::string& n : scope_names) {
    std::optional<Scope> s = tenancy::ParseScope(n);
    if (!s) {
      return InvalidArgumentError(
          "field 'scopes' may contain only admin, read, write and operator");
    }
    // No escalation: a key can only grant scopes it holds itself; operator only an operator.
    if (*s == Scope::kOperator) {
      SB_RETURN_IF_ERROR(RequireOperator(p, "granting the operator scope"));
    } else if (!p.Has(*s) && !p.Has(Scope::kAdmin)) {
      return PermissionDeniedError("cannot grant the '" + n + "' scope without holding it");
    }
    scopes.insert(*s);
  }
  TenantId tenant = p.tenant_id;
  if (tenant_text && *tenant_text != p.tenant_id.value()) {
    SB_RETURN_IF_ERROR(RequireOperator(p, "creating keys in another tenant"));
    tenant = TenantId(*tenant_text);
    if (!tenant.valid()) return InvalidArgumentError("field 'tenant_id' is not a valid id");
  }
  SB_ASSIGN_OR_RETURN(tenancy::IssuedKey issued,
                      keys_.Create(AuditContextOf(request), tenant, name, scopes));
  Json out = ApiKeyJson(issued.record);
  out["key"] = issued.plaintext;
  http::Response response = http::Response::Json(201, out);
  response.SetHeader("Cache-Control", "no-store");
  return response;
}

Result<http::Response> TenantHandlers::DoListApiKeys(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kRead));
  SB_ASSIGN_OR_RETURN(int limit, PageLimit(request, 50, 200));
  std::optional<ApiKeyId> after;
  if (auto cursor = request.Query("cursor")) {
    after = ApiKeyId(std::string(*cursor));
    if (!after->valid()) return InvalidArgumentError("query parameter 'cursor' is not valid");
  }
  // One extra row tells whether another page exists.
  SB_ASSIGN_OR_RETURN(auto keys, keys_.List(p.tenant_id, after, limit + 1));
  Json data = Json::array();
  const bool more = static_cast<int>(keys.size()) > limit;
  if (more) keys.resize(limit);
  for (const auto& k : keys) data.push_back(ApiKeyJson(k));
  Json next = more ? Json(keys.back().id.value()) : Json(nullptr);
  return http::Response::Json(200, {{"data", data}, {"next_cursor", next}});
}

Result<http::Response> TenantHandlers::DoGetApiKey(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kRead));
  SB_ASSIGN_OR_RETURN(ApiKeyId id, PathId<ApiKeyId>(request, "API key"));
  SB_ASSIGN_OR_RETURN(store::ApiKeyRecord key, keys_.Get(p.tenant_id, id));
  return http::Response::Json(200, ApiKeyJson(key));
}

Result<http::Response> TenantHandlers::DoRevokeApiKey(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kWrite));
  SB_ASSIGN_OR_RETURN(ApiKeyId id, PathId<ApiKeyId>(request, "API key"));
  SB_RETURN_IF_ERROR(keys_.Revoke(AuditContextOf(request), p.tenant_id, id));
  return http::Response::Empty(204);
}

}  // namespace sb::api
