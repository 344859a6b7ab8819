// The keyed origin's control routes under /_sandbox/keyed/: register a provider's valid
// credential set, list the registered accounts (never their secrets).
#include "sandbox/keyed/catalog.h"
#include "sandbox/keyed/keyed.h"
#include "sandbox/keyed/wire.h"

#include "sb/base/check.h"

namespace sandbox::keyed {
namespace {

using sb::http::Request;
using sb::http::Response;

constexpr size_t kMaxBodyBytes = 64 * 1024;

// Bounds for a registration body: small, flat, credential values up to 4 KiB (checked with a
// clearer message by the catalog; the parser's limit only stops what is far beyond).
sb::JsonLimits RegistrationLimits() {
  sb::JsonLimits limits;
  limits.max_bytes = kMaxBodyBytes;
  limits.max_depth = 3;
  limits.max_string_bytes = 2 * kMaxCredentialBytes;
  limits.max_members = 32;
  limits.max_values = 256;
  return limits;
}

int HttpStatusFor(const sb::Status& status) {
  return status.code() == sb::StatusCode::kAlreadyExists ? 409 : 400;
}

}  // namespace

void KeyedSandbox::RegisterControl() {
  sb::http::Router& router = origin_.router();
  SB_CHECK(router
               .Add("POST", "/_sandbox/keyed/accounts",
                    [this](Request& request) {
                      const auto body = sb::ParseJson(request.body, RegistrationLimits());
                      if (!body.ok()) return ControlError(400, body.status().message());
                      const auto account = AddAccount(*body);
                      if (!account.ok()) {
                        return ControlError(HttpStatusFor(account.status()),
                                            account.status().message());
                      }
                      return Response::Json(201, PublicJson(*account));
                    },
                    {.authenticated = false, .max_body_bytes = kMaxBodyBytes})
               .ok());
  AddRoute(router, "GET", "/_sandbox/keyed/accounts", [this](Request&) {
    sb::Json accounts = sb::Json::array();
    for (const auto& account : store_.List()) accounts.push_back(PublicJson(*account));
    return Response::Json(200, {{"accounts", std::move(accounts)}});
  });
}

}  // namespace sandbox::keyed
