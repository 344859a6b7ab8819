// REST handlers for the tenant's webhook endpoints:
//   POST   /v1/webhook-endpoints                      (write) 201 with the signing secret, once
//   GET    /v1/webhook-endpoints                      (read)  cursor pages
//   GET    /v1/webhook-endpoints/{id}                 (read)  with ETag
//   PATCH  /v1/webhook-endpoints/{id}                 (write) url, description, event_types,
//                                                             enabled; If-Match -> 412
//   DELETE /v1/webhook-endpoints/{id}                 (write)
//   POST   /v1/webhook-endpoints/{id}/rotate-secret   (write) the new secret, once; the old one
//                                                             keeps signing for the grace period
// Secrets appear only in the two answers that create them. Thread-safe.
#pragma once

#include "sb/http/request.h"
#include "sb/http/response.h"
#include "sb/webhooks/endpoints.h"

namespace sb::api {

class WebhookHandlers {
 public:
  explicit WebhookHandlers(webhooks::EndpointService& endpoints) : endpoints_(endpoints) {}

  http::Response Create(http::Request& request);
  http::Response List(http::Request& request);
  http::Response Get(http::Request& request);
  http::Response Patch(http::Request& request);
  http::Response Delete(http::Request& request);
  http::Response RotateSecret(http::Request& request);

 private:
  Result<http::Response> DoCreate(http::Request& request);
  Result<http::Response> DoList(http::Request& request);
  Result<http::Response> DoGet(http::Request& request);
  Result<http::Response> DoPatch(http::Request& request);
  Result<http::Response> DoDelete(http::Request& request);
  Result<http::Response> DoRotateSecret(http::Request& request);

  webhooks::EndpointService& endpoints_;
};

}  // namespace sb::api
