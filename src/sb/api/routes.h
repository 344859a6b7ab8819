// Registers every v1 route, its middleware chain and the operational endpoints on a Router.
// The OpenAPI document (openapi.json) must describe exactly these routes; a test checks it.
#pragma once

#include "sb/api/admin_handlers.h"
#include "sb/api/audit_handlers.h"
#include "sb/api/auth.h"
#include "sb/api/availability_handlers.h"
#include "sb/api/connect_handlers.h"
#include "sb/api/dashboard_handlers.h"
#include "sb/api/event_handlers.h"
#include "sb/api/integration_handlers.h"
#include "sb/api/live_handlers.h"
#include "sb/api/proxy_handlers.h"
#include "sb/api/public_limit.h"
#include "sb/api/push_handlers.h"
#include "sb/api/session_handlers.h"
#include "sb/api/sync_handlers.h"
#include "sb/api/system_handlers.h"
#include "sb/api/tenant_concurrency.h"
#include "sb/api/tenant_handlers.h"
#include "sb/api/webhook_handlers.h"
#include "sb/http/router.h"

namespace sb::api {

struct Handlers {
  SystemHandlers& system;
  TenantHandlers& tenants;
  AuditHandlers& audit;
  IntegrationHandlers& integrations;
  ConnectHandlers& connect;
  ProxyHandlers& proxy;
  WebhookHandlers& webhooks;
  AdminHandlers& admin;
  HealthHandlers& health;
  SyncHandlers& sync;
  EventHandlers& events;
  AvailabilityHandlers& availability;
  PushHandlers& push;
  SessionHandlers& sessions;
  AuthMiddleware& auth;
  TenantConcurrencyLimiter& concurrency;  // runs right after auth
  // Wraps every public route that can reach the database (connect pages, OAuth callback, and
  // the provider push endpoints to come).
  const PublicRateLimit& public_limit;
  DashboardHandlers& dashboard;
  LiveHandlers& live;
};

// Errors: INTERNAL when a route is registered twice (a programming error caught by tests).
Status RegisterRoutes(http::Router& router, const Handlers& handlers);

}  // namespace sb::api
