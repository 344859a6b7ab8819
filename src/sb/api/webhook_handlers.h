// REST handlers for the tenant's webhook endpoints:
//   POST   /v1/webhook-endpoints                      (write) 201 with the signing secret, once
//   GET    /v1/webhook-endpoints                      (read)  cursor pages
//   GET    /v1/webhook-endpoints/{id}                 (read)  with ETag
//   PATCH  /v1/webhook-endpoints/{id}                 (write) url, description, event_types,
//                                                             enabled; If-Match -> 412
//   DELETE /v1/webhook-endpoints/{id}                 (write)
//   POST   /v1/webhook-endpoints/{id}/rotate-secret   (write) the new secret, once; the old one
//                                                             keeps signing for the grace period
//   GET    /v1/webhook-deliveries                     (read)  endpoint_id, state, event_type
//   GET    /v1/webhook-deliveries/{id}                (read)  attempts, last status code
//   POST   /v1/webhook-deliveries/{id}/retry          (write) deliver again (same webhook-id)
// Secrets appear only in the two answers that create them. Thread-safe.
#pragma once

#include "sb/http/request.h"
#include "sb/http/response.h"
#include "sb/webhooks/delivery.h"
#include "sb/webhooks/endpoints.h"

namespace sb::api {

class WebhookHandlers {
 public:
  WebhookHandlers(webhooks::EndpointService& endpoints, webhooks::DeliveryLog& deliveries)
      : endpoints_(endpoints), deliveries_(deliveries) {}

  http::Response Create(http::Request& request);
  http::Response List(http::Request& request);
  http::Response Get(http::Request& request);
  http::Response Patch(http::Request& request);
  http::Response Delete(http::Request& request);
  http::Response RotateSecret(http::Request& request);
  http::Response ListDeliveries(http::Request& request);  // GET /v1/webhook-deliveries
  http::Response GetDelivery(http::Request& request);     // GET /v1/webhook-deliveries/{id}
  http::Response RetryDelivery(http::Request& request);   // POST .../{id}/retry

 private:
  Result<http::Response> DoCreate(http::Request& request);
  Result<http::Response> DoList(http::Request& request);
  Result<http::Response> DoGet(http::Request& request);
  Result<http::Response> DoPatch(http::Request& request);
  Result<http::Response> DoDelete(http::Request& request);
  Result<http::Response> DoRotateSecret(http::Request& request);
  Result<http::Response> DoListDeliveries(http::Request& request);
  Result<http::Response> DoGetDelivery(http::Request& request);
  Result<http::Response> DoRetryDelivery(http::Request& request);

  webhooks::EndpointService& endpoints_;
  webhooks::DeliveryLog& deliveries_;
};

}  // namespace sb::api
