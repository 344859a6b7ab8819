// The JSON of resources that more than one route answers with: a webhook delivery
// (GET /v1/webhook-deliveries/{id} and the `delivery` event of GET /v1/live) and a
// connection's health (GET /v1/connections/{id}/health and the `health` event). One
// serializer each, so that the REST answer and the live event never drift apart. Pure
// functions.
#pragma once

#include "sb/base/ids.h"
#include "sb/base/json.h"
#include "sb/connections/health.h"
#include "sb/store/webhooks/webhook_repository.h"

namespace sb::api {

Json DeliveryJson(const store::WebhookDeliveryRecord& record);

// {"connection_id": ..., "status": ..., ...}; `live_check` only when the view holds one.
Json HealthJson(const ConnectionId& connection, const connections::HealthView& view);

}  // namespace sb::api
