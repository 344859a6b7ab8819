#include "sb/api/integration_handlers.h"

#include <charconv>

#include "sb/api/auth.h"
#include "sb/api/json_body.h"
#include "sb/api/tenant_handlers.h"
#include "sb/base/time_format.h"
#include "sb/http/problem.h"
#include "sb/store/calendar/conflict_repository.h"

namespace sb::api {
namespace {

using tenancy::Principal;
using tenancy::Scope;

Json IntegrationJson(const oauth::IntegrationView& view) {
  const store::IntegrationRecord& r = view.record;
  return {{"provider", r.provider},
          {"client_id", r.client_id},
          {"client_secret_set", view.has_client_secret},
          {"services", ServiceGrantsJson(r.services)},
          {"extra_scopes", r.extra_scopes},
          {"enabled", r.enabled},
          {"allow_reassignment", r.allow_reassignment},
          {"conflict_policies", r.conflict_policies},
          {"version", r.version},
          {"created_at", FormatRfc3339(r.created_at)},
          {"updated_at", FormatRfc3339(r.updated_at)}};
}

// What an end user types in to connect a credential provider (never a value).
Json CredentialFieldsJson(const oauth::CredentialAuth& auth) {
  Json fields = Json::array();
  for (const oauth::CredentialField& f : auth.fields) {
    fields.push_back(
        {{"name", f.name}, {"label", f.label}, {"help", f.help}, {"secret", f.secret}});
  }
  return fields;
}

Json ProviderJson(const oauth::ProviderEntry& e) {
  Json services = Json::object();
  for (const auto& [name, scopes] : e.services) {
    services[name] = {{"read", scopes.read}, {"read_write", scopes.read_write}};
  }
  Json out = {{"id", e.id},
              {"display_name", e.display_name},
              {"docs_url", e.docs_url},
              {"auth", e.credentials ? oauth::CredentialModeName(e.credentials->mode) : "oauth2"},
              {"pkce", e.pkce == oauth::PkceMethod::kS256 && e.uses_oauth() ? "S256" : "none"},
              {"openid", !e.issuer.empty()},
              {"revocation", !e.revocation_url.empty()},
              {"refresh_tokens_rotate", e.refresh.rotates},
              {"services", services}};
  if (e.credentials) out["credential_fields"] = CredentialFieldsJson(*e.credentials);
  return out;
}

Result<std::string> ProviderParam(const http::Request& request) {
  const auto provider = request.PathParam("provider");
  if (!provider || provider->empty() || provider->size() > 64) {
    return NotFoundError("integration not found");
  }
  return std::string(*provider);
}

}  // namespace

http::Response IntegrationHandlers::ListProviders(http::Request& r) {
  return Respond(r, DoListProviders(r));
}
http::Response IntegrationHandlers::ListIntegrations(http::Request& r) {
  return Respond(r, DoListIntegrations(r));
}
http::Response IntegrationHandlers::GetIntegration(http::Request& r) {
  return Respond(r, DoGetIntegration(r));
}
http::Response IntegrationHandlers::PutIntegration(http::Request& r) {
  return Respond(r, DoPutIntegration(r));
}
http::Response IntegrationHandlers::DeleteIntegration(http::Request& r) {
  return Respond(r, DoDeleteIntegration(r));
}

Result<http::Response> IntegrationHandlers::DoListProviders(http::Request& request) {
  SB_RETURN_IF_ERROR(RequireScope(PrincipalOf(request), Scope::kRead));
  Json data = Json::array();
  for (const oauth::ProviderEntry* entry : catalog_.All()) data.push_back(ProviderJson(*entry));
  return http::Response::Json(200, {{"data", data}});
}

Result<http::Response> IntegrationHandlers::DoListIntegrations(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kRead));
  SB_ASSIGN_OR_RETURN(auto views, service_.List(p.tenant_id));
  Json data = Json::array();
  for (const auto& view : views) data.push_back(IntegrationJson(view));
  return http::Response::Json(200, {{"data", data}});
}

Result<http::Response> IntegrationHandlers::DoGetIntegration(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kRead));
  SB_ASSIGN_OR_RETURN(std::string provider, ProviderParam(request));
  Result<std::optional<oauth::IntegrationView>> view = service_.Get(p.tenant_id, provider);
  if (!view.ok() && view.status().code() == StatusCode::kInvalidArgument) {
    return NotFoundError("integration not found");
  }
  SB_RETURN_IF_ERROR(view.status());
  if (!view->has_value()) return NotFoundError("integration not found");
  http::Response response = http::Response::Json(200, IntegrationJson(**view));
  response.SetHeader("ETag", Etag((*view)->record.version));
  return response;
}

Result<http::Response> IntegrationHandlers::DoPutIntegration(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kWrite));
  SB_ASSIGN_OR_RETURN(std::string provider, ProviderParam(request));
  SB_ASSIGN_OR_RETURN(
      Json body, ParseJsonObject(request, {"client_id", "client_secret", "services", "extra_scopes",
                                           "enabled", "allow_reassignment", "conflict_policies"}));
  oauth::IntegrationInput input;
  input.provider = provider;
  SB_ASSIGN_OR_RETURN(std::optional<std::string> client_id, OptionalString(body, "client_id", 512));
  input.client_id = client_id.value_or("");
  SB_ASSIGN_OR_RETURN(input.client_secret, OptionalString(body, "client_secret", 4096));
  SB_ASSIGN_OR_RETURN(input.services, ParseServiceGrants(body));
  if (body.contains("extra_scopes")) {
    SB_ASSIGN_OR_RETURN(input.extra_scopes, RequiredStringArray(body, "extra_scopes"));
  }
  if (body.contains("enabled")) {
    if (!body["enabled"].is_boolean())
      return InvalidArgumentError("field 'enabled' must be a boolean");
    input.enabled = body["enabled"].get<bool>();
  }
  if (body.contains("allow_reassignment")) {
    if (!body["allow_reassignment"].is_boolean()) {
      return InvalidArgumentError("field 'allow_reassignment' must be a boolean");
    }
    input.allow_reassignment = body["allow_reassignment"].get<bool>();
  }
  if (body.contains("conflict_policies")) {
    SB_RETURN_IF_ERROR(store::CheckConflictPolicies(body["conflict_policies"]));
    input.conflict_policies = body["conflict_policies"];
  }
  SB_ASSIGN_OR_RETURN(input.expected_version, IfMatchVersion(request));
  Result<oauth::IntegrationView> view = service_.Put(p.tenant_id, input, AuditContextOf(request));
  if (!view.ok() && view.status().code() == StatusCode::kAborted) {
    return http::MakeProblem(412, "precondition-failed",
                             "the integration changed since the ETag in If-Match",
                             request.request_id);
  }
  SB_RETURN_IF_ERROR(view.status());
  http::Response response =
      http::Response::Json(view->record.version == 1 ? 201 : 200, IntegrationJson(*view));
  response.SetHeader("ETag", Etag(view->record.version));
  return response;
}

Result<http::Response> IntegrationHandlers::DoDeleteIntegration(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kWrite));
  SB_ASSIGN_OR_RETURN(std::string provider, ProviderParam(request));
  Result<bool> deleted = service_.Delete(p.tenant_id, provider, AuditContextOf(request));
  if (!deleted.ok() && deleted.status().code() == StatusCode::kInvalidArgument) {
    return NotFoundError("integration not found");
  }
  SB_RETURN_IF_ERROR(deleted.status());
  if (!*deleted) return NotFoundError("integration not found");
  return http::Response::Empty(204);
}

}  // namespace sb::api
