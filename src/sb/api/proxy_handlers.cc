#include "sb/api/proxy_handlers.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "sb/api/auth.h"
#include "sb/api/tenant_handlers.h"
#include "sb/http/problem.h"

namespace sb::api {
namespace {

// The caller's body as the server streams it in, for the provider call.
class CallerBody final : public net::RequestBodySource {
 public:
  explicit CallerBody(std::shared_ptr<http::BodySource> body) : body_(std::move(body)) {}
  Result<std::optional<std::string>> Next() override { return body_->Next(); }

 private:
  std::shared_ptr<http::BodySource> body_;
};

// A large provider answer on its way to the caller: the part the proxy already read, then the
// rest as it arrives. Next runs on the server's blocking pool.
class ProxyBodySource final : public http::BodySource {
 public:
  ProxyBodySource(std::string first, std::unique_ptr<proxy::ProxyBody> more)
      : first_(std::move(first)), more_(std::move(more)) {}
  Result<std::optional<std::string>> Next() override {
    if (!first_.empty()) return std::optional<std::string>(std::exchange(first_, std::string()));
    return more_->Next();
  }

 private:
  std::string first_;
  std::unique_ptr<proxy::ProxyBody> more_;
};

}  // namespace

http::Response ProxyHandlers::Forward(http::Request& r) {
  Result<http::Response> result = DoForward(r);
  // Not 429 (the canonical mapping of RESOURCE_EXHAUSTED): the caller did nothing wrong and
  // waiting will not help; the provider's answer is more than this proxy passes on.
  if (!result.ok() && result.status().code() == StatusCode::kResourceExhausted) {
    return http::MakeProblem(502, "proxy-response-too-large", result.status().message(),
                             r.request_id);
  }
  // The caller's own body was over proxy.max_request_bytes (it streams, so this shows only
  // once the limit is passed).
  if (!result.ok() && result.status().code() == StatusCode::kOutOfRange) {
    return http::PayloadTooLargeProblem(proxy_.options().max_request_bytes, r.request_id);
  }
  return Respond(r, result);
}

Result<http::Response> ProxyHandlers::DoForward(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  // The proxy decides per call (the catalog's read/write classification of the normalized path)
  // which of the two the call needs; a key with neither is refused here.
  const bool may_read = RequireScope(p, tenancy::Scope::kRead).ok();
  const bool may_write = RequireScope(p, tenancy::Scope::kWrite).ok();
  if (!may_read && !may_write) SB_RETURN_IF_ERROR(RequireScope(p, tenancy::Scope::kRead));
  const auto id = request.PathParam("id");
  if (!id || !IsCanonicalUuid(*id)) return NotFoundError("connection not found");
  proxy::ProxyRequest forward;
  forward.method = request.method;
  forward.may_read = may_read;
  forward.may_write = may_write;
  forward.path = std::string(request.PathParam("path").value_or(""));
  const size_t question = request.target.find('?');
  if (question != std::string::npos) forward.query = request.target.substr(question + 1);
  forward.headers = request.headers;
  forward.body = std::move(request.body);
  if (request.body_stream) {
    forward.body_stream = std::make_shared<CallerBody>(request.body_stream);
    forward.body_length = request.body_length;
  }
  if (usage_ != nullptr) usage_->Add(p.tenant_id, store::UsageMetric::kProxiedCalls);
  const ConnectionId connection{std::string(*id)};
  Result<proxy::ProxyResponse> answer =
      proxy_.Forward(p.tenant_id, connection, forward, AuditContextOf(request));
  if (health_ != nullptr) {
    // Best effort: a failure to record health never fails the call.
    if (answer.ok()) {
      (void)health_->Record(p.tenant_id, connection,
                            connections::ConnectionHealth::OutcomeOf(answer->status, std::nullopt,
                                                                     answer->rate_limited));
    } else if (answer.status().code() == StatusCode::kUnavailable) {
      (void)health_->Record(p.tenant_id, connection,
                            {false, connections::HealthErrorKind::kProviderUnavailable,
                             answer.status().message(), std::nullopt, false});
    }
  }
  SB_RETURN_IF_ERROR(answer);
  http::Response response;
  response.status = answer->status;
  response.headers = std::move(answer->headers);
  if (answer->more) {
    // Streamed with chunked encoding; an error mid-way (e.g. past the size limit) closes the
    // connection without the final chunk, so the caller sees a truncated answer->
    response.stream =
        std::make_shared<ProxyBodySource>(std::move(answer->body), std::move(answer->more));
  } else {
    response.body = std::move(answer->body);
  }
  return response;
}

}  // namespace sb::api
