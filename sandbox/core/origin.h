// Origin: one emulated provider's HTTP(S) listener with the parts every provider shares.
//
// It owns the router the provider registers its wire routes on, the fault table, the request
// log and the settings, and adds the control routes under /_sandbox/:
//   GET|POST|DELETE /_sandbox/faults, DELETE /_sandbox/faults/{id}   fault rules
//   GET|PUT /_sandbox/settings                                        behaviour switches
//   GET|DELETE /_sandbox/requests?since=&limit=&path=                 the request log
//   POST /_sandbox/reset                                              forget all state
//   GET /_sandbox/health
// A middleware records every request (redacted) and fires fault rules on the provider routes
// (never on /_sandbox/); the provider turns a fired rule into its own error body.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/core/faults.h"
#include "sandbox/core/request_log.h"
#include "sandbox/core/settings.h"

#include "sb/base/clock.h"
#include "sb/base/metrics.h"
#include "sb/http/router.h"
#include "sb/http/server.h"

namespace sandbox {

struct OriginOptions {
  std::string name;  // "google" or "microsoft", for logs
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  std::optional<sb::http::TlsOptions> tls;
  size_t io_threads = 2;
  size_t pool_threads = 8;
};

// Builds the provider's answer for a fired status/rate-limit/unauthorized rule.
using FaultResponder =
    std::function<sb::http::Response(const FaultRule& rule, const sb::http::Request& request)>;

class Origin {
 public:
  Origin(OriginOptions options, const sb::Clock& clock, sb::Json setting_defaults,
         FaultResponder responder);
  ~Origin();
  Origin(const Origin&) = delete;
  Origin& operator=(const Origin&) = delete;

  sb::http::Router& router() { return router_; }
  FaultTable& faults() { return faults_; }
  RequestLog& requests() { return requests_; }
  Settings& settings() { return settings_; }
  const sb::Clock& clock() const { return clock_; }

  // Called by POST /_sandbox/reset after faults, log and settings were cleared.
  void OnReset(std::function<void()> hook) { reset_hooks_.push_back(std::move(hook)); }

  sb::Status Start();
  void Stop();
  uint16_t port() const;
  // "http://127.0.0.1:PORT" or "https://127.0.0.1:PORT".
  std::string base_url() const;
  // The origin as the client addressed it (scheme + Host header), for absolute links such as
  // Graph's @odata.nextLink; falls back to base_url().
  std::string UrlFor(const sb::http::Request& request) const;

 private:
  void AddControlRoutes();

  OriginOptions options_;
  const sb::Clock& clock_;
  FaultResponder responder_;
  sb::http::Router router_;
  FaultTable faults_;
  RequestLog requests_;
  Settings settings_;
  sb::metrics::MetricsRegistry metrics_;
  std::vector<std::function<void()>> reset_hooks_;
  std::unique_ptr<sb::http::Server> server_;
};

// A control-route error: {"error":{"message":...}} with `status`.
sb::http::Response ControlError(int status, std::string_view message);

// The request body as JSON; InvalidArgument with the parser's message otherwise.
sb::Result<sb::Json> ParseJsonBody(const sb::http::Request& request);

// Milliseconds since the epoch of the clock's wall time.
int64_t NowMillis(const sb::Clock& clock);

}  // namespace sandbox
