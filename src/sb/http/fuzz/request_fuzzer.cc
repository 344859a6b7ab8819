// libFuzzer target: arbitrary bytes through the server's request parsing (ParseRequest: Beast's
// parser plus target, query and header conversion) and routing (Router::Dispatch with
// middlewares), and the parse-failure problem mapping. Built with -DSB_BUILD_FUZZERS=ON (clang).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sb/base/check.h"
#include "sb/http/parse.h"
#include "sb/http/router.h"

namespace {

const sb::http::Router& FuzzRouter() {
  static const sb::http::Router* router = [] {
    auto* r = new sb::http::Router();
    auto echo = [](sb::http::Request& req) {
      return sb::http::Response::Json(200, {{"params", req.path_params}, {"body", req.body}});
    };
    SB_CHECK(r->Add("GET", "/healthz", echo, {.authenticated = false}).ok());
    SB_CHECK(r->Add("GET", "/v1/tenants/{id}", echo).ok());
    SB_CHECK(r->Add("DELETE", "/v1/tenants/{id}", echo).ok());
    SB_CHECK(r->Add("POST", "/v1/tenants/{id}/keys/{key_id}", echo).ok());
    SB_CHECK(r->Add("GET", "/v1/tenants/me/keys/{key_id}", echo).ok());
    r->Use([](sb::http::Request& req, const sb::http::Handler& next) {
      if (req.route_options.authenticated && !req.Header("authorization")) {
        return sb::http::Response::Text(401, "no");
      }
      return next(req);
    });
    return r;
  }();
  return *router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  const sb::http::ParseLimits limits{.max_header_bytes = 4096, .max_body_bytes = 4096};
  sb::Result<sb::http::Request> request = sb::http::ParseRequest(raw, limits);
  if (!request.ok()) {
    const sb::http::Response problem =
        sb::http::ParseFailureProblem(request.status(), limits, "fuzz");
    SB_CHECK(problem.status == 400 || problem.status == 413 || problem.status == 431);
    return 0;
  }
  request->request_id = "fuzz";
  const sb::http::Response response = FuzzRouter().Dispatch(*request);
  SB_CHECK(response.status >= 200 && response.status < 600);
  return 0;
}
