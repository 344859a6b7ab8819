// `/v1/proxy/{id}/{path...}` for GET, POST, PUT, PATCH and DELETE: the caller's request goes to
// the connection's provider with the connection's token (proxy::ProxyService). Reading calls
// (GET) need the read scope, the others write. The provider's answer comes back as it is
// (status, body, end-to-end headers); large answers stream (chunked transfer encoding).
// Failures before the provider answered are problem+json; an answer over the proxy's size
// limit is 502 proxy-response-too-large (or, once streaming began, a truncated transfer).
// Thread-safe.
#pragma once

#include "sb/http/request.h"
#include "sb/http/response.h"
#include "sb/proxy/proxy.h"

namespace sb::api {

class ProxyHandlers {
 public:
  explicit ProxyHandlers(proxy::ProxyService& proxy) : proxy_(proxy) {}

  http::Response Forward(http::Request& request);

  // The largest request body the proxy route accepts (its per-route server limit).
  size_t max_request_bytes() const { return proxy_.options().max_request_bytes; }

 private:
  Result<http::Response> DoForward(http::Request& request);

  proxy::ProxyService& proxy_;
};

}  // namespace sb::api
