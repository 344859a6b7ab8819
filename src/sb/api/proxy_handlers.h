// `/v1/proxy/{id}/{path...}` for GET, POST, PUT, PATCH and DELETE: the caller's request goes to
// the connection's provider with the connection's token (proxy::ProxyService). Reading calls
// (GET) need the read scope, the others write. The provider's answer comes back as it is
// (status, body, end-to-end headers); large answers stream (chunked transfer encoding), and so
// do request bodies, into the provider call (the route has stream_request_body).
// Failures before the provider answered are problem+json; an answer over the proxy's size
// limit is 502 proxy-response-too-large (or, once streaming began, a truncated transfer).
// Thread-safe.
#pragma once

#include "sb/connections/health.h"
#include "sb/http/request.h"
#include "sb/http/response.h"
#include "sb/proxy/proxy.h"
#include "sb/usage/meter.h"

namespace sb::api {

class ProxyHandlers {
 public:
  // `usage` (optional) counts proxied calls per tenant; `health` (optional) records each
  // call's outcome as the connection's health.
  explicit ProxyHandlers(proxy::ProxyService& proxy, usage::Meter* usage = nullptr,
                         connections::ConnectionHealth* health = nullptr)
      : proxy_(proxy), usage_(usage), health_(health) {}

  http::Response Forward(http::Request& request);

  // The largest request body the proxy route accepts (its per-route server limit).
  size_t max_request_bytes() const { return proxy_.options().max_request_bytes; }

 private:
  Result<http::Response> DoForward(http::Request& request);

  proxy::ProxyService& proxy_;
  usage::Meter* usage_;
  connections::ConnectionHealth* health_;
};

}  // namespace sb::api
