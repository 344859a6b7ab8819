#include "sb/api/webhook_handlers.h"

#include "sb/api/auth.h"
#include "sb/api/json_body.h"
#include "sb/api/resource_json.h"
#include "sb/api/tenant_handlers.h"
#include "sb/base/time_format.h"
#include "sb/http/problem.h"

namespace sb::api {
namespace {

using tenancy::Principal;
using tenancy::Scope;

Json EndpointJson(const store::WebhookEndpointRecord& r) {
  return {{"id", r.id.value()},
          {"url", r.url},
          {"description", r.description},
          {"event_types", r.event_types},
          {"enabled", r.enabled},
          {"disabled_reason", r.disabled_reason.empty() ? Json() : Json(r.disabled_reason)},
          {"max_concurrency", r.max_concurrency},
          {"failing_since", r.failing_since ? Json(FormatRfc3339(*r.failing_since)) : Json()},
          {"last_success_at", r.last_success_at ? Json(FormatRfc3339(*r.last_success_at)) : Json()},
          {"secret_version", r.secret_version},
          {"previous_secret_signs_until",
           r.previous_secret_until ? Json(FormatRfc3339(*r.previous_secret_until)) : Json()},
          {"version", r.version},
          {"created_at", FormatRfc3339(r.created_at)},
          {"updated_at", FormatRfc3339(r.updated_at)}};
}

Result<WebhookEndpointId> EndpointParam(const http::Request& request) {
  const auto id = request.PathParam("id");
  if (!id || !IsCanonicalUuid(*id)) return NotFoundError("webhook endpoint not found");
  return WebhookEndpointId(std::string(*id));
}

Result<webhooks::EndpointInput> ParseInput(const http::Request& request) {
  SB_ASSIGN_OR_RETURN(Json body, ParseJsonObject(request, {"url", "description", "event_types",
                                                           "enabled", "max_concurrency"}));
  webhooks::EndpointInput input;
  SB_ASSIGN_OR_RETURN(input.url, OptionalString(body, "url", 2048));
  SB_ASSIGN_OR_RETURN(input.description, OptionalString(body, "description", 1024));
  if (body.contains("event_types")) {
    const Json& types = body["event_types"];
    if (!types.is_array()) return InvalidArgumentError("field 'event_types' must be an array");
    std::vector<std::string> list;
    for (const Json& t : types) {
      if (!t.is_string()) return InvalidArgumentError("each of 'event_types' must be a string");
      list.push_back(t.get<std::string>());
    }
    input.event_types = std::move(list);
  }
  if (body.contains("enabled")) {
    if (!body["enabled"].is_boolean()) {
      return InvalidArgumentError("field 'enabled' must be a boolean");
    }
    input.enabled = body["enabled"].get<bool>();
  }
  if (body.contains("max_concurrency")) {
    const Json& n = body["max_concurrency"];
    if (!n.is_number_integer() || n.get<int64_t>() < 1 || n.get<int64_t>() > 64) {
      return InvalidArgumentError("field 'max_concurrency' must be an integer 1..64");
    }
    input.max_concurrency = static_cast<int>(n.get<int64_t>());
  }
  return input;
}

http::Response WithSecret(int status, const webhooks::EndpointWithSecret& created) {
  Json body = EndpointJson(created.record);
  body["secret"] = created.secret;
  http::Response response = http::Response::Json(status, body);
  response.SetHeader("Cache-Control", "no-store");
  response.SetHeader("ETag", Etag(created.record.version));
  return response;
}

Result<WebhookDeliveryId> DeliveryParam(const http::Request& request) {
  const auto id = request.PathParam("id");
  if (!id || !IsCanonicalUuid(*id)) return NotFoundError("webhook delivery not found");
  return WebhookDeliveryId(std::string(*id));
}

}  // namespace

http::Response WebhookHandlers::ListDeliveries(http::Request& r) {
  return Respond(r, DoListDeliveries(r));
}
http::Response WebhookHandlers::GetDelivery(http::Request& r) {
  return Respond(r, DoGetDelivery(r));
}
http::Response WebhookHandlers::RetryDelivery(http::Request& r) {
  return Respond(r, DoRetryDelivery(r));
}

Result<http::Response> WebhookHandlers::DoListDeliveries(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kRead));
  SB_ASSIGN_OR_RETURN(int limit, PageLimit(request, 50, 1000));
  store::WebhookDeliveryFilter filter;
  if (auto endpoint = request.Query("endpoint_id")) {
    if (!IsCanonicalUuid(*endpoint)) return InvalidArgumentError("malformed endpoint_id");
    filter.endpoint_id = WebhookEndpointId(std::string(*endpoint));
  }
  if (auto state = request.Query("state")) {
    filter.state = store::ParseWebhookDeliveryState(*state);
    if (!filter.state) return InvalidArgumentError("unknown state filter");
  }
  if (auto type = request.Query("event_type")) filter.event_type = std::string(*type);
  std::optional<WebhookDeliveryId> after;
  if (auto cursor = request.Query("cursor")) {
    if (!IsCanonicalUuid(*cursor)) return InvalidArgumentError("malformed cursor");
    after = WebhookDeliveryId(std::string(*cursor));
  }
  SB_ASSIGN_OR_RETURN(auto records, deliveries_.List(p.tenant_id, filter, after, limit));
  Json data = Json::array();
  for (const auto& r : records) data.push_back(DeliveryJson(r));
  Json body = {{"data", data}, {"next_cursor", nullptr}};
  if (static_cast<int>(records.size()) == limit) body["next_cursor"] = records.back().id.value();
  return http::Response::Json(200, body);
}

Result<http::Response> WebhookHandlers::DoGetDelivery(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kRead));
  SB_ASSIGN_OR_RETURN(WebhookDeliveryId id, DeliveryParam(request));
  SB_ASSIGN_OR_RETURN(auto record, deliveries_.Get(p.tenant_id, id));
  return http::Response::Json(200, DeliveryJson(record));
}

Result<http::Response> WebhookHandlers::DoRetryDelivery(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kWrite));
  SB_ASSIGN_OR_RETURN(WebhookDeliveryId id, DeliveryParam(request));
  SB_ASSIGN_OR_RETURN(auto record, deliveries_.Retry(p.tenant_id, id, AuditContextOf(request)));
  return http::Response::Json(202, DeliveryJson(record));
}

http::Response WebhookHandlers::Create(http::Request& r) { return Respond(r, DoCreate(r)); }
http::Response WebhookHandlers::List(http::Request& r) { return Respond(r, DoList(r)); }
http::Response WebhookHandlers::Get(http::Request& r) { return Respond(r, DoGet(r)); }
http::Response WebhookHandlers::Patch(http::Request& r) { return Respond(r, DoPatch(r)); }
http::Response WebhookHandlers::Delete(http::Request& r) { return Respond(r, DoDelete(r)); }
http::Response WebhookHandlers::RotateSecret(http::Request& r) {
  return Respond(r, DoRotateSecret(r));
}

Result<http::Response> WebhookHandlers::DoCreate(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kWrite));
  SB_ASSIGN_OR_RETURN(auto input, ParseInput(request));
  SB_ASSIGN_OR_RETURN(auto created, endpoints_.Create(p.tenant_id, input, AuditContextOf(request)));
  return WithSecret(201, created);
}

Result<http::Response> WebhookHandlers::DoList(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kRead));
  SB_ASSIGN_OR_RETURN(int limit, PageLimit(request, 50, 1000));
  std::optional<WebhookEndpointId> after;
  if (auto cursor = request.Query("cursor")) {
    if (!IsCanonicalUuid(*cursor)) return InvalidArgumentError("malformed cursor");
    after = WebhookEndpointId(std::string(*cursor));
  }
  SB_ASSIGN_OR_RETURN(auto records, endpoints_.List(p.tenant_id, after, limit));
  Json data = Json::array();
  for (const auto& r : records) data.push_back(EndpointJson(r));
  Json body = {{"data", data}, {"next_cursor", nullptr}};
  if (static_cast<int>(records.size()) == limit) body["next_cursor"] = records.back().id.value();
  return http::Response::Json(200, body);
}

Result<http::Response> WebhookHandlers::DoGet(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kRead));
  SB_ASSIGN_OR_RETURN(WebhookEndpointId id, EndpointParam(request));
  SB_ASSIGN_OR_RETURN(auto record, endpoints_.Get(p.tenant_id, id));
  http::Response response = http::Response::Json(200, EndpointJson(record));
  response.SetHeader("ETag", Etag(record.version));
  return response;
}

Result<http::Response> WebhookHandlers::DoPatch(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kWrite));
  SB_ASSIGN_OR_RETURN(WebhookEndpointId id, EndpointParam(request));
  SB_ASSIGN_OR_RETURN(auto input, ParseInput(request));
  SB_ASSIGN_OR_RETURN(input.expected_version, IfMatchVersion(request));
  auto record = endpoints_.Update(p.tenant_id, id, input, AuditContextOf(request));
  if (!record.ok() && record.status().code() == StatusCode::kAborted && input.expected_version) {
    return http::MakeProblem(412, "precondition-failed",
                             "the webhook endpoint changed since the ETag in If-Match",
                             request.request_id);
  }
  SB_RETURN_IF_ERROR(record.status());
  http::Response response = http::Response::Json(200, EndpointJson(*record));
  response.SetHeader("ETag", Etag(record->version));
  return response;
}

Result<http::Response> WebhookHandlers::DoDelete(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kWrite));
  SB_ASSIGN_OR_RETURN(WebhookEndpointId id, EndpointParam(request));
  SB_ASSIGN_OR_RETURN(bool deleted, endpoints_.Delete(p.tenant_id, id, AuditContextOf(request)));
  if (!deleted) return NotFoundError("webhook endpoint not found");
  return http::Response::Empty(204);
}

Result<http::Response> WebhookHandlers::DoRotateSecret(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kWrite));
  SB_ASSIGN_OR_RETURN(WebhookEndpointId id, EndpointParam(request));
  SB_ASSIGN_OR_RETURN(auto rotated,
                      endpoints_.RotateSecret(p.tenant_id, id, AuditContextOf(request)));
  return WithSecret(200, rotated);
}

}  // namespace sb::api
