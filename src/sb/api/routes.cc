#include "sb/api/routes.h"

namespace sb::api {

Status RegisterRoutes(http::Router& router, const Handlers& h) {
  using http::Execution;
  using http::Request;
  const http::RouteOptions kPublicInline{/*authenticated=*/false, Execution::kInline};
  const http::RouteOptions kPublicPool{/*authenticated=*/false, Execution::kBlockingPool};
  const http::RouteOptions kAuthed{/*authenticated=*/true, Execution::kBlockingPool};
  // Writes sent through to a provider wait on it: they run apart from the database workers.
  const http::RouteOptions kAuthedOutbound{/*authenticated=*/true, Execution::kOutboundPool};
  // Hosted connect pages: the session token is in the path, so it stays out of the access log.
  const http::RouteOptions kPublicSecretPath{/*authenticated=*/false, Execution::kBlockingPool,
                                             /*log_path=*/false};

  router.Use([&auth = h.auth](Request& r, const http::Handler& next) { return auth(r, next); });
  // After auth: it counts per tenant, which only an authenticated request has.
  router.Use([&limiter = h.concurrency](Request& r, const http::Handler& next) {
    return limiter(r, next);
  });

  auto& sys = h.system;
  auto& t = h.tenants;
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/healthz", [&sys](Request& r) { return sys.Health(r); }, kPublicInline));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/readyz", [&sys](Request& r) { return sys.Ready(r); }, kPublicPool));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/metrics", [&sys](Request& r) { return sys.Metrics(r); }, kPublicPool));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/openapi.json", [&sys](Request& r) { return sys.OpenApi(r); }, kPublicInline));
  SB_RETURN_IF_ERROR(router.Add(
      "POST", "/v1/tenants", [&t](Request& r) { return t.CreateTenant(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/tenants/{id}", [&t](Request& r) { return t.GetTenant(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/tenants", [&t](Request& r) { return t.ListTenants(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "PATCH", "/v1/tenants/{id}", [&t](Request& r) { return t.PatchTenant(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "POST", "/v1/api-keys", [&t](Request& r) { return t.CreateApiKey(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/api-keys", [&t](Request& r) { return t.ListApiKeys(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/api-keys/{id}", [&t](Request& r) { return t.GetApiKey(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "DELETE", "/v1/api-keys/{id}", [&t](Request& r) { return t.RevokeApiKey(r); }, kAuthed));
  auto& se = h.sessions;
  // Sign-in is public; it charges failures to the client's budget itself.
  SB_RETURN_IF_ERROR(router.Add(
      "POST", "/v1/session", [&se](Request& r) { return se.SignIn(r); }, kPublicPool));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/session", [&se](Request& r) { return se.GetSession(r); }, kAuthed));
  // Sign-in with OpenID Connect: public, rate limited per client host before any database work.
  {
    const PublicRateLimit& limited = h.public_limit;
    constexpr PublicAnswer kProblem = PublicAnswer::kProblem;
    SB_RETURN_IF_ERROR(router.Add(
        "GET", "/v1/session/oidc", [&se](Request& r) { return se.OidcProviders(r); },
        kPublicInline));
    SB_RETURN_IF_ERROR(router.Add(
        "GET", "/v1/session/oidc/{provider}",
        limited.Wrap(kProblem, [&se](Request& r) { return se.OidcStart(r); }), kPublicPool));
    SB_RETURN_IF_ERROR(router.Add(
        "GET", "/v1/session/oidc/callback",
        limited.Wrap(kProblem, [&se](Request& r) { return se.OidcCallback(r); }), kPublicPool));
  }
  SB_RETURN_IF_ERROR(router.Add(
      "DELETE", "/v1/session", [&se](Request& r) { return se.SignOut(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/dashboard-users", [&se](Request& r) { return se.ListUsers(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "POST", "/v1/dashboard-users", [&se](Request& r) { return se.CreateUser(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "DELETE", "/v1/dashboard-users/{id}", [&se](Request& r) { return se.DeleteUser(r); },
      kAuthed));
  auto& audit = h.audit;
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/audit", [&audit](Request& r) { return audit.List(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/audit/verification", [&audit](Request& r) { return audit.Verify(r); },
      kAuthedOutbound));  // seconds long: off the database workers other requests need
  auto& in = h.integrations;
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/providers", [&in](Request& r) { return in.ListProviders(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/integrations", [&in](Request& r) { return in.ListIntegrations(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/integrations/{provider}", [&in](Request& r) { return in.GetIntegration(r); },
      kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "PUT", "/v1/integrations/{provider}", [&in](Request& r) { return in.PutIntegration(r); },
      kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "DELETE", "/v1/integrations/{provider}",
      [&in](Request& r) { return in.DeleteIntegration(r); }, kAuthed));

  auto& c = h.connect;
  SB_RETURN_IF_ERROR(router.Add(
      "POST", "/v1/connect/sessions", [&c](Request& r) { return c.CreateSession(r); }, kAuthed));
  // Public routes are rate limited per client host before any database work.
  const PublicRateLimit& limited = h.public_limit;
  constexpr PublicAnswer kPage = PublicAnswer::kHtmlPage;
  SB_RETURN_IF_ERROR(router.Add("GET", "/connect/{token}",
                                limited.Wrap(kPage, [&c](Request& r) { return c.Page(r); }),
                                kPublicSecretPath));
  SB_RETURN_IF_ERROR(router.Add("POST", "/connect/{token}/start",
                                limited.Wrap(kPage, [&c](Request& r) { return c.Start(r); }),
                                kPublicSecretPath));
  // A credential provider's form waits on the provider's verification call.
  const http::RouteOptions kPublicSecretPathOutbound{/*authenticated=*/false,
                                                     Execution::kOutboundPool,
                                                     /*log_path=*/false};
  SB_RETURN_IF_ERROR(
      router.Add("POST", "/connect/{token}/credentials",
                 limited.Wrap(kPage, [&c](Request& r) { return c.SubmitCredentials(r); }),
                 kPublicSecretPathOutbound));
  SB_RETURN_IF_ERROR(router.Add("GET", "/connect/callback",
                                limited.Wrap(kPage, [&c](Request& r) { return c.Callback(r); }),
                                kPublicPool));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/connections", [&c](Request& r) { return c.ListConnections(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/connections/{id}", [&c](Request& r) { return c.GetConnection(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "PATCH", "/v1/connections/{id}", [&c](Request& r) { return c.PatchConnection(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "DELETE", "/v1/connections/{id}", [&c](Request& r) { return c.DeleteConnection(r); },
      kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "POST", "/v1/connections/{id}/refresh", [&c](Request& r) { return c.RefreshConnection(r); },
      kAuthed));

  auto& px = h.proxy;
  http::RouteOptions proxied = kAuthed;
  proxied.max_body_bytes = px.max_request_bytes();  // larger than the server's default
  proxied.stream_request_body = true;               // uploads stream on to the provider
  for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    SB_RETURN_IF_ERROR(router.Add(
        method, "/v1/proxy/{id}/{path...}", [&px](Request& r) { return px.Forward(r); }, proxied));
  }

  auto& w = h.webhooks;
  SB_RETURN_IF_ERROR(router.Add(
      "POST", "/v1/webhook-endpoints", [&w](Request& r) { return w.Create(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/webhook-endpoints", [&w](Request& r) { return w.List(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/webhook-endpoints/{id}", [&w](Request& r) { return w.Get(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "PATCH", "/v1/webhook-endpoints/{id}", [&w](Request& r) { return w.Patch(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "DELETE", "/v1/webhook-endpoints/{id}", [&w](Request& r) { return w.Delete(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "POST", "/v1/webhook-endpoints/{id}/rotate-secret",
      [&w](Request& r) { return w.RotateSecret(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/webhook-deliveries", [&w](Request& r) { return w.ListDeliveries(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/webhook-deliveries/{id}", [&w](Request& r) { return w.GetDelivery(r); },
      kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "POST", "/v1/webhook-deliveries/{id}/retry", [&w](Request& r) { return w.RetryDelivery(r); },
      kAuthed));

  auto& hl = h.health;
  // A literal segment wins over {id}: "summary" is never a connection id (a UUID).
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/connections/summary", [&hl](Request& r) { return hl.Summary(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/connections/{id}/health", [&hl](Request& r) { return hl.Get(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/connections/{id}/health/incidents",
      [&hl](Request& r) { return hl.ListIncidents(r); }, kAuthed));
  auto& sy = h.sync;
  SB_RETURN_IF_ERROR(router.Add(
      "POST", "/v1/connections/{id}/sync", [&sy](Request& r) { return sy.StartSync(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/connections/{id}/sync", [&sy](Request& r) { return sy.ListStates(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/connections/{id}/sync-runs", [&sy](Request& r) { return sy.ListRuns(r); },
      kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/sync-runs/{id}", [&sy](Request& r) { return sy.GetRun(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/connections/{id}/calendars", [&sy](Request& r) { return sy.ListCalendars(r); },
      kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/connections/{id}/events", [&sy](Request& r) { return sy.ListEvents(r); },
      kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/events/{id}", [&sy](Request& r) { return sy.GetEvent(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/changes", [&sy](Request& r) { return sy.ListChanges(r); }, kAuthed));
  auto& ev = h.events;
  SB_RETURN_IF_ERROR(router.Add(
      "POST", "/v1/connections/{id}/events", [&ev](Request& r) { return ev.Create(r); },
      kAuthedOutbound));
  SB_RETURN_IF_ERROR(router.Add(
      "PATCH", "/v1/events/{id}", [&ev](Request& r) { return ev.Patch(r); }, kAuthedOutbound));
  SB_RETURN_IF_ERROR(router.Add(
      "DELETE", "/v1/events/{id}", [&ev](Request& r) { return ev.Delete(r); }, kAuthedOutbound));
  constexpr char kOccurrence[] = "/v1/events/{id}/occurrences/{original_start}";
  SB_RETURN_IF_ERROR(router.Add(
      "PATCH", kOccurrence, [&ev](Request& r) { return ev.PatchOccurrence(r); }, kAuthedOutbound));
  SB_RETURN_IF_ERROR(router.Add(
      "DELETE", kOccurrence, [&ev](Request& r) { return ev.CancelOccurrence(r); },
      kAuthedOutbound));
  SB_RETURN_IF_ERROR(router.Add(
      "POST", "/v1/events/{id}/split", [&ev](Request& r) { return ev.Split(r); }, kAuthedOutbound));
  auto& av = h.availability;
  SB_RETURN_IF_ERROR(router.Add(
      "POST", "/v1/availability", [&av](Request& r) { return av.Post(r); }, kAuthedOutbound));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/conflicts", [&ev](Request& r) { return ev.ListConflicts(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/conflicts/{id}", [&ev](Request& r) { return ev.GetConflict(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "POST", "/v1/conflicts/{id}/resolve", [&ev](Request& r) { return ev.ResolveConflict(r); },
      kAuthedOutbound));
  constexpr char kByExternalId[] = "/v1/connections/{id}/events/by-external-id/{external_id}";
  SB_RETURN_IF_ERROR(router.Add(
      "PUT", kByExternalId, [&ev](Request& r) { return ev.Put(r); }, kAuthedOutbound));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", kByExternalId, [&ev](Request& r) { return ev.Get(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "DELETE", kByExternalId, [&ev](Request& r) { return ev.DeleteByExternalId(r); },
      kAuthedOutbound));
  // Provider push deliveries: public, rate limited per client host before any database work.
  auto& pu = h.push;
  constexpr PublicAnswer kProblem = PublicAnswer::kProblem;
  SB_RETURN_IF_ERROR(router.Add("POST", "/push/google/{tenant}",
                                limited.Wrap(kProblem, [&pu](Request& r) { return pu.Google(r); }),
                                kPublicPool));
  SB_RETURN_IF_ERROR(router.Add(
      "POST", "/push/microsoft/{tenant}",
      limited.Wrap(kProblem, [&pu](Request& r) { return pu.Microsoft(r); }), kPublicPool));
  auto& ad = h.admin;
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/admin/providers", [&ad](Request& r) { return ad.ListProviders(r); }, kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "PUT", "/v1/admin/providers/{provider}", [&ad](Request& r) { return ad.PutProvider(r); },
      kAuthed));
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/admin/usage", [&ad](Request& r) { return ad.Usage(r); }, kAuthed));
  // Server-sent events: the stream waits between polls on the upload pool, never on the
  // database workers (live_handlers.h).
  auto& live = h.live;
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/v1/live", [&live](Request& r) { return live.Open(r); }, kAuthedOutbound));
  auto& dash = h.dashboard;
  for (const char* method : {"GET", "HEAD"}) {
    SB_RETURN_IF_ERROR(router.Add(
        method, "/dashboard", [&dash](Request& r) { return dash.Redirect(r); }, kPublicInline));
    // Files are read from disk: on the pool, never on an I/O thread.
    SB_RETURN_IF_ERROR(router.Add(
        method, "/dashboard/", [&dash](Request& r) { return dash.Serve(r); }, kPublicPool));
    SB_RETURN_IF_ERROR(router.Add(
        method, "/dashboard/{path...}", [&dash](Request& r) { return dash.Serve(r); },
        kPublicPool));
  }
  return OkStatus();
}

}  // namespace sb::api
