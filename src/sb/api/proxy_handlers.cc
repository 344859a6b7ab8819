#include "sb/api/proxy_handlers.h"

#include "sb/api/auth.h"
#include "sb/api/tenant_handlers.h"

namespace sb::api {

http::Response ProxyHandlers::Forward(http::Request& r) { return Respond(r, DoForward(r)); }

Result<http::Response> ProxyHandlers::DoForward(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(
      RequireScope(p, request.method == "GET" ? tenancy::Scope::kRead : tenancy::Scope::kWrite));
  const auto id = request.PathParam("id");
  if (!id || !IsCanonicalUuid(*id)) return NotFoundError("connection not found");
  proxy::ProxyRequest forward;
  forward.method = request.method;
  forward.path = std::string(request.PathParam("path").value_or(""));
  const size_t question = request.target.find('?');
  if (question != std::string::npos) forward.query = request.target.substr(question + 1);
  forward.headers = request.headers;
  forward.body = std::move(request.body);
  if (usage_ != nullptr) usage_->Add(p.tenant_id, store::UsageMetric::kProxiedCalls);
  const ConnectionId connection{std::string(*id)};
  Result<proxy::ProxyResponse> answer =
      proxy_.Forward(p.tenant_id, connection, forward, AuditContextOf(request));
  if (health_ != nullptr) {
    // Best effort: a failure to record health never fails the call.
    if (answer.ok()) {
      (void)health_->Record(p.tenant_id, connection,
                            oauth::ConnectionHealth::OutcomeOf(answer->status, std::nullopt,
                                                               answer->rate_limited));
    } else if (answer.status().code() == StatusCode::kUnavailable) {
      (void)health_->Record(p.tenant_id, connection,
                            {false, oauth::kProviderUnavailable, answer.status().message(),
                             std::nullopt, false});
    }
  }
  SB_RETURN_IF_ERROR(answer);
  http::Response response;
  response.status = answer->status;
  response.headers = std::move(answer->headers);
  response.body = std::move(answer->body);
  return response;
}

}  // namespace sb::api
