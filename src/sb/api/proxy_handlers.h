// `/v1/proxy/{id}/{path...}` for GET, POST, PUT, PATCH and DELETE: the caller's request goes to
// the connection's provider with the connection's token (proxy::ProxyService). Reading calls
// (GET) need the read scope, the others write. The provider's answer comes back as it is
// (status, body, end-to-end headers); failures before the provider answered are problem+json.
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

 private:
  Result<http::Response> DoForward(http::Request& request);

  proxy::ProxyService& proxy_;
};

}  // namespace sb::api
