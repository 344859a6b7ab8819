#include "sandbox/core/origin.h"

#include <charconv>
#include <thread>

#include "sb/base/check.h"
#include "sb/base/logging.h"

namespace sandbox {
namespace {

using sb::http::Request;
using sb::http::Response;

int64_t QueryInt(const Request& request, std::string_view name, int64_t fallback) {
  const auto text = request.Query(name);
  if (!text) return fallback;
  int64_t value = fallback;
  std::from_chars(text->data(), text->data() + text->size(), value);
  return value;
}

}  // namespace

Response ControlError(int status, std::string_view message) {
  return Response::Json(status, {{"error", {{"message", message}}}});
}

int64_t NowMillis(const sb::Clock& clock) { return sb::ToUnixMicros(clock.Now()) / 1000; }

sb::Result<sb::Json> ParseJsonBody(const Request& request) {
  if (request.body.empty()) return sb::Json::object();
  sb::Json body = sb::Json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return sb::InvalidArgumentError("the request body is not valid JSON");
  return body;
}

Origin::Origin(OriginOptions options, const sb::Clock& clock, sb::Json setting_defaults,
               FaultResponder responder)
    : options_(std::move(options)),
      clock_(clock),
      responder_(std::move(responder)),
      settings_(std::move(setting_defaults)) {
  router_.Use([this](Request& request, const sb::http::Handler& next) {
    Response response;
    const bool control = request.path.starts_with("/_sandbox/");
    std::optional<FaultRule> fault;
    if (!control) fault = faults_.Fire(request.method, request.path);
    if (fault && fault->kind == FaultKind::kLatency) {
      std::this_thread::sleep_for(std::chrono::milliseconds(fault->latency_ms));
      fault.reset();
    }
    if (fault) {
      response = responder_(*fault, request);
      if (fault->retry_after_seconds) {
        char text[32];
        const double value = *fault->retry_after_seconds;
        const int n = value == static_cast<int64_t>(value)
                          ? std::snprintf(text, sizeof(text), "%lld", static_cast<long long>(value))
                          : std::snprintf(text, sizeof(text), "%.3f", value);
        response.SetHeader("Retry-After", std::string_view(text, static_cast<size_t>(n)));
      }
    } else {
      response = next(request);
    }
    if (!control) requests_.Record(request, response.status, NowMillis(clock_));
    return response;
  });
  AddControlRoutes();
}

Origin::~Origin() { Stop(); }

void Origin::AddControlRoutes() {
  const sb::http::RouteOptions open{.authenticated = false};
  auto add = [&](std::string_view method, std::string_view pattern, sb::http::Handler handler) {
    const sb::Status added = router_.Add(method, pattern, std::move(handler), open);
    SB_CHECK(added.ok());
  };
  add("GET", "/_sandbox/health", [this](Request&) {
    return Response::Json(200, {{"provider", options_.name}, {"status", "ok"}});
  });
  add("GET", "/_sandbox/faults", [this](Request&) {
    sb::Json rules = sb::Json::array();
    for (const FaultRule& rule : faults_.List()) rules.push_back(FaultRuleToJson(rule));
    return Response::Json(200, {{"faults", rules}});
  });
  add("POST", "/_sandbox/faults", [this](Request& request) {
    auto body = ParseJsonBody(request);
    if (!body.ok()) return ControlError(400, body.status().message());
    auto rule = ParseFaultRule(*body);
    if (!rule.ok()) return ControlError(400, rule.status().message());
    const std::string id = faults_.Add(*rule);
    rule->id = id;
    return Response::Json(201, FaultRuleToJson(*rule));
  });
  add("DELETE", "/_sandbox/faults", [this](Request&) {
    faults_.Clear();
    return Response::Empty(204);
  });
  add("DELETE", "/_sandbox/faults/{id}", [this](Request& request) {
    if (!faults_.Remove(*request.PathParam("id"))) return ControlError(404, "no such fault rule");
    return Response::Empty(204);
  });
  add("GET", "/_sandbox/settings",
      [this](Request&) { return Response::Json(200, settings_.Snapshot()); });
  add("PUT", "/_sandbox/settings", [this](Request& request) {
    auto body = ParseJsonBody(request);
    if (!body.ok()) return ControlError(400, body.status().message());
    if (sb::Status merged = settings_.Merge(*body); !merged.ok()) {
      return ControlError(400, merged.message());
    }
    return Response::Json(200, settings_.Snapshot());
  });
  add("GET", "/_sandbox/requests", [this](Request& request) {
    const int64_t since = QueryInt(request, "since", 0);
    const int64_t limit = std::clamp<int64_t>(QueryInt(request, "limit", 1000), 1, 10'000);
    const std::string prefix(request.Query("path").value_or(""));
    return Response::Json(
        200, {{"requests", requests_.List(since, static_cast<size_t>(limit), prefix)}});
  });
  add("DELETE", "/_sandbox/requests", [this](Request&) {
    requests_.Clear();
    return Response::Empty(204);
  });
  add("POST", "/_sandbox/reset", [this](Request&) {
    faults_.Clear();
    requests_.Clear();
    settings_.Reset();
    for (const auto& hook : reset_hooks_) hook();
    return Response::Empty(204);
  });
}

sb::Status Origin::Start() {
  sb::http::ServerOptions options;
  options.address = options_.address;
  options.port = options_.port;
  options.tls = options_.tls;
  options.io_threads = options_.io_threads;
  options.pool.threads = options_.pool_threads;
  options.access_log = false;  // the request log is the sandbox's access log
  options.max_body_bytes = 8 * 1024 * 1024;
  server_ = std::make_unique<sb::http::Server>(options, router_, metrics_, clock_);
  if (sb::Status started = server_->Start(); !started.ok()) {
    server_.reset();
    return started;
  }
  sb::log::Info("sandbox_origin_started", {{"provider", options_.name}, {"url", base_url()}});
  return sb::OkStatus();
}

void Origin::Stop() {
  if (server_) server_->Stop(std::chrono::milliseconds(500));
}

uint16_t Origin::port() const { return server_ ? server_->port() : 0; }

std::string Origin::base_url() const {
  return std::string(options_.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port());
}

std::string Origin::UrlFor(const Request& request) const {
  const auto host = request.Header("Host");
  if (!host || host->empty() || host->find_first_of("/ \r\n") != std::string_view::npos) {
    return base_url();
  }
  return std::string(options_.tls ? "https" : "http") + "://" + std::string(*host);
}

}  // namespace sandbox
