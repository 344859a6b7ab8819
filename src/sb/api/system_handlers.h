// Operational endpoints: /healthz, /readyz, /v1/openapi.json (public) and /metrics, which is not
// public: on the API listener it answers only a request carrying `Authorization: Bearer
// <metrics token>` (compared in constant time; 401 otherwise, 404 when no token is configured),
// and on the metrics listener of its own (`metrics.listen`) it answers anyone who can reach that
// address unless a token is configured, which is then required there too. Thread-safe.
#pragma once

#include <string>

#include "sb/base/json.h"
#include "sb/base/metrics.h"
#include "sb/http/request.h"
#include "sb/http/response.h"
#include "sb/store/database.h"

namespace sb::api {

// The OpenAPI 3.1 document of every endpoint (embedded at build time from openapi.json).
const Json& OpenApiDocument();

class SystemHandlers {
 public:
  // `metrics_token` empty: no token (the API listener then does not serve /metrics).
  SystemHandlers(store::Database& db, metrics::MetricsRegistry& metrics,
                 std::string metrics_token = "");

  http::Response Health(http::Request& request);          // inline: never blocks
  http::Response Ready(http::Request& request);           // pings the database
  http::Response Metrics(http::Request& request);         // Prometheus text, API listener
  http::Response PrivateMetrics(http::Request& request);  // the same on the metrics listener
  http::Response OpenApi(http::Request& request);

 private:
  store::Database& db_;
  metrics::MetricsRegistry& metrics_;
  http::Response Scrape(const http::Request& request, bool private_listener) const;

  std::string openapi_text_;  // serialized once
  const std::string metrics_token_;
};

}  // namespace sb::api
