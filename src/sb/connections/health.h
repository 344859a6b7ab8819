// ConnectionHealth: whether a connection works, and what a person should do when it does not.
//
// Every provider call made with a connection's token reports its outcome here (the proxy after
// each call, the live check below); the outcome is stored in store::ConnectionHealthRecord.
// A success clears the failure streak; on the hot path it is written at most once per
// `success_resolution` per connection while nothing is wrong, so proxied calls stay read-only.
//
// Incidents, not attempts, raise alerts: the first failure that makes a connection unhealthy
// (a definitive one such as a revoked grant or a token the provider rejects even after a
// refresh, or `alert_after_failures` transient ones in a row) opens an incident, emits one
// `connection.health_alert` event (a webhook through the outbox, in the same transaction) and
// increments sb_connection_health_alerts_total once; further failures only update the record.
// The next success closes it with one `connection.health_recovered` event. Each incident is kept
// in the connection's health history (HealthIncidentRecord: opened, closed, what failed).
//
// Check runs a live check: a fresh token (refreshed if needed) and a cheap identity call
// (the catalog's identity_check_url, else its userinfo_url), with one forced refresh and retry
// after a 401. A provider switched off by the kill switch is reported, not recorded: it says
// nothing about the connection.
// Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sb/audit/context.h"
#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/metrics.h"
#include "sb/connections/connections.h"
#include "sb/connections/events.h"
#include "sb/connections/provider_switches.h"
#include "sb/net/http_client.h"
#include "sb/oauth/catalog.h"
#include "sb/store/connections/connection_health_repository.h"
#include "sb/store/database.h"

namespace sb::connections {

// What went wrong with a call; stored in connection_health.last_error_kind by its name.
enum class HealthErrorKind {
  kTokenRejected,            // 401 after a refresh
  kReauthorizationRequired,  // the grant is gone: the user must connect again
  kRateLimited,              // 429 / rate-limit 403
  kProviderUnavailable,      // 5xx, network
  kRefreshFailing,           // the token endpoint is failing
  kProviderError,            // other unexpected answers
};
// "token_rejected", "reauthorization_required", "rate_limited", "provider_unavailable",
// "refresh_failing", "provider_error".
std::string_view HealthErrorKindName(HealthErrorKind kind);
// The kind a stored name stands for; nullopt for "" (no error) and for names this version does
// not know (a row written by another version: read as kProviderError by HealthView).
std::optional<HealthErrorKind> ParseHealthErrorKind(std::string_view name);

struct CallOutcome {
  bool ok = true;
  HealthErrorKind kind = HealthErrorKind::kProviderError;  // when !ok
  std::string message;                                     // for people; never a token
  std::optional<Timestamp> retry_at;
  bool definitive = false;  // opens an incident at once (the user must act)
};

// A connection's health as the API and the events show it.
enum class HealthStatus { kHealthy, kDegraded, kUnhealthy, kUnknown };
std::string_view HealthStatusName(HealthStatus status);  // "healthy", "degraded", ...

struct HealthOptions {
  int alert_after_failures = 3;
  std::chrono::seconds success_resolution{60};
  std::chrono::milliseconds timeout{10'000};  // of the identity call
};

struct HealthView {
  HealthStatus status = HealthStatus::kUnknown;
  // The stored last error's kind (record.last_error_kind) at the domain boundary; nullopt when
  // the connection has no error recorded.
  std::optional<HealthErrorKind> error_kind;
  store::ConnectionRecord connection;
  store::ConnectionHealthRecord record;  // zero values when never recorded
  std::string provider_disabled;         // the kill switch's message, when it applies
  std::string suggestion;                // what a person can do; empty when healthy
  std::optional<bool> live_ok;           // set by Check
};

// A tenant's connections at a glance (the dashboard's overview): counts by status and the open
// incidents.
struct HealthSummary {
  // One entry per store::kConnectionStatuses element, in that order, zeros included.
  std::vector<std::pair<store::ConnectionStatus, int64_t>> by_status;
  int64_t total = 0;
  int64_t open_incidents = 0;                        // connections with an open incident
  std::vector<store::OpenIncidentRecord> incidents;  // the newest first, up to the limit asked
};

// What ConnectionHealth works with; the pointers are optional (null: not used).
struct HealthDeps {
  store::Database& db;
  const oauth::ProviderCatalog& catalog;
  ConnectionService& connections;
  net::HttpClient& http;  // the identity-check calls
  const Clock& clock;
  metrics::MetricsRegistry* metrics = nullptr;  // incident alerts and recoveries
  ConnectionEvents* events = nullptr;           // announces incidents
  ProviderSwitches* switches = nullptr;         // a switched-off provider is not checked
};

class ConnectionHealth {
 public:
  ConnectionHealth(HealthDeps deps, HealthOptions options);

  // Records the outcome of a call made with the connection's token. NOT_FOUND when the
  // connection is gone (the caller usually ignores errors here: health is best effort).
  Status Record(const TenantId& tenant, const ConnectionId& id, const CallOutcome& outcome);
  // The stored health with a recovery suggestion. NOT_FOUND for an unknown connection.
  Result<HealthView> Get(const TenantId& tenant, const ConnectionId& id);
  // The connection's incidents newest first (the health history): up to `limit` (1..1000) with
  // seq below `before`. NOT_FOUND for an unknown connection.
  Result<std::vector<store::HealthIncidentRecord>> Incidents(const TenantId& tenant,
                                                             const ConnectionId& id,
                                                             std::optional<int64_t> before,
                                                             int limit);
  // The tenant's summary, read in one transaction: every count, and up to `limit` (1..1000) open
  // incidents.
  Result<HealthSummary> Summary(const TenantId& tenant, int limit);
  // A live check (see the header comment), recorded, then Get. `next_check_at`, when given, is
  // stored as the next scheduled check.
  Result<HealthView> Check(const TenantId& tenant, const ConnectionId& id,
                           const audit::Context& ctx,
                           std::optional<Timestamp> next_check_at = std::nullopt);

  // The outcome of a provider answer to a call made with a valid token (after the proxy's own
  // refresh and retries): 2xx-4xx other than 401 and 429 mean the token works.
  static CallOutcome OutcomeOf(int status, std::optional<Timestamp> retry_at, bool rate_limit_403);
  // OutcomeOf a provider's answer, with its Retry-After read against the clock.
  CallOutcome OutcomeOfResponse(const net::HttpResponse& response, bool rate_limit_403);

 private:
  // Records `outcome` (nullptr: only the check times) in one transaction with its event.
  Status Store(const TenantId& tenant, const ConnectionId& id, const CallOutcome* outcome,
               std::optional<Timestamp> checked_at, std::optional<Timestamp> next_check_at);
  // The identity call. `skipped` when no call said anything about the connection (disabled,
  // switched off, no identity endpoint), with the reason.
  // The catalog's verification call of a credential provider, as a health probe.
  CallOutcome VerificationCall(const oauth::ProviderEntry& entry,
                               const oauth::CredentialValues& credentials, bool* skipped,
                               std::string* skip_reason);
  CallOutcome LiveCall(const TenantId& tenant, const ConnectionId& id, const audit::Context& ctx,
                       bool* skipped, std::string* skip_reason);
  // The definitive failure when a token could not be had because the user must reconnect.
  std::optional<CallOutcome> ReauthorizationOutcome(const TenantId& tenant, const ConnectionId& id);

  store::Database& db_;
  const oauth::ProviderCatalog& catalog_;
  ConnectionService& connections_;
  net::HttpClient& http_;
  const Clock& clock_;
  const HealthOptions options_;
  ConnectionEvents* events_;
  ProviderSwitches* switches_;
  metrics::CounterFamily* alerts_ = nullptr;
  metrics::CounterFamily* recoveries_ = nullptr;
  store::ConnectionHealthRepository repo_;
  store::ConnectionRepository connections_repo_;

  std::mutex mu_;
  // Per connection ("tenant/id"): when a clean success was last written. Absent or stale:
  // write the next success.
  std::map<std::string, Timestamp> clean_since_;  // guarded by mu_
};

// The suggestion for `view` (also used by the health API for connections never checked).
std::string RecoverySuggestion(const HealthView& view, Timestamp now);

}  // namespace sb::connections
