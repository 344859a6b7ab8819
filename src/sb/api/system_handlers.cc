#include "sb/api/system_handlers.h"

#include <utility>

#include "sb/base/logging.h"
#include "sb/http/problem.h"
#include "sb/vault/digest.h"

namespace sb::api {

// Defined in the generated openapi_document.cc.
extern const char* const kOpenApiJson;

const Json& OpenApiDocument() {
  static const Json* const kDoc = new Json(Json::parse(kOpenApiJson));
  return *kDoc;
}

SystemHandlers::SystemHandlers(store::Database& db, metrics::MetricsRegistry& metrics,
                               std::string metrics_token)
    : db_(db),
      metrics_(metrics),
      openapi_text_(OpenApiDocument().dump()),
      metrics_token_(std::move(metrics_token)) {
  metrics_.AddGaugeCallback("sb_db_pool_open_connections", "Open database connections",
                            [this] { return double(db_.Stats().open_connections); });
  metrics_.AddGaugeCallback("sb_db_pool_in_use_connections", "Database connections in use",
                            [this] { return double(db_.Stats().in_use_connections); });
  metrics_.AddGaugeCallback("sb_db_pool_max_connections", "Database pool size",
                            [this] { return double(db_.Stats().max_connections); });
  metrics_.AddGaugeCallback("sb_db_pool_waits_total", "Connection acquisitions that waited",
                            [this] { return double(db_.Stats().waits_total); });
  metrics_.AddGaugeCallback("sb_db_reconnects_total", "Broken database connections replaced",
                            [this] { return double(db_.Stats().reconnects_total); });
}

http::Response SystemHandlers::Health(http::Request&) {
  return http::Response::Json(200, {{"status", "ok"}});
}

http::Response SystemHandlers::Ready(http::Request& request) {
  Status s = db_.Ping();
  if (!s.ok()) {
    log::Warn("readyz.database_unreachable", {{"error", s.ToString()}});
    return http::MakeProblem(503, "not-ready", "the database is not reachable", request.request_id);
  }
  return http::Response::Json(200, {{"status", "ready"}});
}

http::Response SystemHandlers::Metrics(http::Request& request) {
  return Scrape(request, /*private_listener=*/false);
}

http::Response SystemHandlers::PrivateMetrics(http::Request& request) {
  return Scrape(request, /*private_listener=*/true);
}

http::Response SystemHandlers::Scrape(const http::Request& request, bool private_listener) const {
  if (metrics_token_.empty() && !private_listener) {
    return http::MakeProblem(404, "not-found",
                             "metrics are served on the metrics listener (metrics.listen) or "
                             "with a bearer token (metrics.token)",
                             request.request_id);
  }
  if (!metrics_token_.empty()) {
    constexpr std::string_view kScheme = "Bearer ";
    const std::optional<std::string_view> header = request.Header("Authorization");
    const bool bearer = header && header->size() > kScheme.size() &&
                        http::EqualsIgnoreCase(header->substr(0, kScheme.size()), kScheme);
    if (!bearer || !vault::ConstantTimeEquals(vault::Sha256(header->substr(kScheme.size())),
                                              vault::Sha256(metrics_token_))) {
      http::Response r = http::MakeProblem(401, "unauthenticated",
                                           "metrics need 'Authorization: Bearer <metrics token>'",
                                           request.request_id);
      r.SetHeader("WWW-Authenticate", "Bearer");
      return r;
    }
  }
  return http::Response::Text(200, metrics_.RenderPrometheusText(),
                              "text/plain; version=0.0.4; charset=utf-8");
}

http::Response SystemHandlers::OpenApi(http::Request&) {
  return http::Response::Text(200, openapi_text_, "application/json");
}

}  // namespace sb::api
