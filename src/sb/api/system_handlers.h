// Public operational endpoints: /healthz, /readyz, /metrics and /v1/openapi.json.
// Thread-safe.
#pragma once

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
  SystemHandlers(store::Database& db, metrics::MetricsRegistry& metrics);

  http::Response Health(http::Request& request);   // inline: never blocks
  http::Response Ready(http::Request& request);    // pings the database
  http::Response Metrics(http::Request& request);  // Prometheus text
  http::Response OpenApi(http::Request& request);

 private:
  store::Database& db_;
  metrics::MetricsRegistry& metrics_;
  std::string openapi_text_;  // serialized once
};

}  // namespace sb::api
