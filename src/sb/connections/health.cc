#include "sb/connections/health.h"

#include <utility>

#include "sb/base/logging.h"
#include "sb/base/time_format.h"
#include "sb/oauth/token_client.h"
#include "sb/vault/secure_buffer.h"

namespace sb::connections {
namespace {

using store::ConnectionStatus;

constexpr size_t kMaxMessageBytes = 1000;
constexpr size_t kMaxTracked = 100'000;  // connections whose clean state is remembered

// At most kMaxMessageBytes, cut on a UTF-8 boundary.
std::string Clip(std::string text) {
  if (text.size() <= kMaxMessageBytes) return text;
  size_t n = kMaxMessageBytes;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  text.resize(n);
  return text;
}

HealthStatus StatusOf(const HealthView& v) {
  switch (v.connection.status) {
    case ConnectionStatus::kReauthorizationRequired:
    case ConnectionStatus::kDisabled:
    case ConnectionStatus::kRevoked:
    case ConnectionStatus::kError:
      return HealthStatus::kUnhealthy;
    default:
      break;
  }
  if (!v.provider_disabled.empty() || v.record.incident_since) return HealthStatus::kUnhealthy;
  if (v.record.consecutive_failures > 0) return HealthStatus::kDegraded;
  if (!v.record.last_success_at) return HealthStatus::kUnknown;
  return HealthStatus::kHealthy;
}

// The stored record read into the view's enums, its status and its suggestion.
void Classify(HealthView& view, Timestamp now) {
  view.error_kind.reset();
  if (!view.record.last_error_kind.empty()) {
    view.error_kind =
        ParseHealthErrorKind(view.record.last_error_kind).value_or(HealthErrorKind::kProviderError);
  }
  view.status = StatusOf(view);
  view.suggestion = RecoverySuggestion(view, now);
}

Json HealthEventData(const HealthView& view) {
  Json data = ConnectionEventData(view.connection);
  data["health"] = {{"status", std::string(HealthStatusName(view.status))},
                    {"error_kind", view.record.last_error_kind},
                    {"error", view.record.last_error},
                    {"consecutive_failures", view.record.consecutive_failures},
                    {"suggestion", view.suggestion}};
  if (view.record.incident_since) {
    data["health"]["incident_since"] = FormatRfc3339(*view.record.incident_since);
  }
  return data;
}

}  // namespace

std::string_view HealthErrorKindName(HealthErrorKind kind) {
  switch (kind) {
    case HealthErrorKind::kTokenRejected:
      return "token_rejected";
    case HealthErrorKind::kReauthorizationRequired:
      return "reauthorization_required";
    case HealthErrorKind::kRateLimited:
      return "rate_limited";
    case HealthErrorKind::kProviderUnavailable:
      return "provider_unavailable";
    case HealthErrorKind::kRefreshFailing:
      return "refresh_failing";
    case HealthErrorKind::kProviderError:
      return "provider_error";
  }
  return "provider_error";
}

std::optional<HealthErrorKind> ParseHealthErrorKind(std::string_view name) {
  for (HealthErrorKind kind :
       {HealthErrorKind::kTokenRejected, HealthErrorKind::kReauthorizationRequired,
        HealthErrorKind::kRateLimited, HealthErrorKind::kProviderUnavailable,
        HealthErrorKind::kRefreshFailing, HealthErrorKind::kProviderError}) {
    if (HealthErrorKindName(kind) == name) return kind;
  }
  return std::nullopt;
}

std::string_view HealthStatusName(HealthStatus status) {
  switch (status) {
    case HealthStatus::kHealthy:
      return "healthy";
    case HealthStatus::kDegraded:
      return "degraded";
    case HealthStatus::kUnhealthy:
      return "unhealthy";
    case HealthStatus::kUnknown:
      return "unknown";
  }
  return "unknown";
}

ConnectionHealth::ConnectionHealth(HealthDeps deps, HealthOptions options)
    : db_(deps.db),
      catalog_(deps.catalog),
      connections_(deps.connections),
      http_(deps.http),
      clock_(deps.clock),
      options_(options),
      events_(deps.events),
      switches_(deps.switches) {
  if (deps.metrics != nullptr) {
    alerts_ = &deps.metrics->AddCounter(
        "sb_connection_health_alerts_total",
        "Connection health incidents opened (one alert each), by provider and error kind.",
        {"provider", "kind"});
    recoveries_ =
        &deps.metrics->AddCounter("sb_connection_health_recoveries_total",
                                  "Connection health incidents closed, by provider.", {"provider"});
  }
}

CallOutcome ConnectionHealth::OutcomeOf(int status, std::optional<Timestamp> retry_at,
                                        bool rate_limit_403) {
  if (status == 401) {
    return {false, HealthErrorKind::kTokenRejected,
            "the provider rejected the access token even after a refresh", std::nullopt, true};
  }
  if (status == 429 || rate_limit_403) {
    return {false, HealthErrorKind::kRateLimited,
            "the provider is rate-limiting this account (HTTP " + std::to_string(status) + ")",
            retry_at, false};
  }
  if (status >= 500) {
    return {false, HealthErrorKind::kProviderUnavailable,
            "the provider answered HTTP " + std::to_string(status), retry_at, false};
  }
  return {};
}

CallOutcome ConnectionHealth::OutcomeOfResponse(const net::HttpResponse& response,
                                                bool rate_limit_403) {
  std::optional<Timestamp> retry_at;
  if (auto header = response.Header("Retry-After")) {
    if (auto wait = oauth::ParseRetryAfter(*header, clock_.Now())) retry_at = clock_.Now() + *wait;
  }
  return OutcomeOf(response.status, retry_at, rate_limit_403);
}

Status ConnectionHealth::Record(const TenantId& tenant, const ConnectionId& id,
                                const CallOutcome& outcome) {
  const std::string key = tenant.value() + "/" + id.value();
  const Timestamp now = clock_.Now();
  if (outcome.ok) {
    std::lock_guard lock(mu_);
    auto it = clean_since_.find(key);
    if (it != clean_since_.end() && now - it->second < options_.success_resolution) {
      return OkStatus();
    }
  } else {
    std::lock_guard lock(mu_);
    clean_since_.erase(key);
  }
  SB_RETURN_IF_ERROR(Store(tenant, id, &outcome, std::nullopt, std::nullopt));
  if (outcome.ok) {
    std::lock_guard lock(mu_);
    // Bounded: past the limit, start over (the next success of each is written again).
    if (clean_since_.size() >= kMaxTracked) clean_since_.clear();
    clean_since_[key] = now;
  }
  return OkStatus();
}

Status ConnectionHealth::Store(const TenantId& tenant, const ConnectionId& id,
                               const CallOutcome* outcome, std::optional<Timestamp> checked_at,
                               std::optional<Timestamp> next_check_at) {
  const Timestamp now = clock_.Now();
  return db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto connection, connections_repo_.Get(tx, tenant, id));
    if (!connection) return NotFoundError("connection not found");
    SB_ASSIGN_OR_RETURN(auto stored, repo_.Get(tx, tenant, id));
    HealthView view;
    view.connection = *connection;
    view.record = stored.value_or(store::ConnectionHealthRecord{});
    store::ConnectionHealthRecord& h = view.record;
    h.tenant_id = tenant;
    h.connection_id = id;
    std::string_view event;
    if (outcome != nullptr && outcome->ok) {
      h.last_success_at = now;
      h.consecutive_failures = 0;
      h.retry_at.reset();
      if (h.incident_since) {
        h.incident_since.reset();
        SB_RETURN_IF_ERROR(repo_.CloseIncidents(tx, tenant, id, now));
        event = "connection.health_recovered";
        if (recoveries_ != nullptr) recoveries_->WithLabels({connection->provider}).Increment();
      }
    } else if (outcome != nullptr) {
      h.last_error_at = now;
      h.last_error_kind = std::string(HealthErrorKindName(outcome->kind));
      h.last_error = Clip(outcome->message);
      h.consecutive_failures += 1;
      h.retry_at = outcome->retry_at;
      if (!h.incident_since &&
          (outcome->definitive || h.consecutive_failures >= options_.alert_after_failures)) {
        h.incident_since = now;
        SB_RETURN_IF_ERROR(
            repo_
                .OpenIncident(tx, tenant,
                              store::HealthIncidentRecord{tenant, id, 0, now, std::nullopt,
                                                          h.last_error_kind, h.last_error})
                .status());
        event = "connection.health_alert";
        if (alerts_ != nullptr) {
          alerts_
              ->WithLabels({connection->provider, std::string(HealthErrorKindName(outcome->kind))})
              .Increment();
        }
        log::Warn("connection.health_alert",
                  {{"tenant", tenant.value()},
                   {"connection", id.value()},
                   {"provider", connection->provider},
                   {"kind", std::string(HealthErrorKindName(outcome->kind))}});
      }
    }
    if (checked_at) h.last_checked_at = checked_at;
    if (next_check_at) h.next_check_at = next_check_at;
    h.updated_at = now;
    SB_RETURN_IF_ERROR(repo_.Put(tx, tenant, h));
    if (!event.empty() && events_ != nullptr) {
      Classify(view, now);
      SB_RETURN_IF_ERROR(events_->Emit(tx, tenant, event, HealthEventData(view)));
    }
    return OkStatus();
  });
}

Result<std::vector<store::HealthIncidentRecord>> ConnectionHealth::Incidents(
    const TenantId& tenant, const ConnectionId& id, std::optional<int64_t> before, int limit) {
  std::vector<store::HealthIncidentRecord> out;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(auto connection, connections_repo_.Get(tx, tenant, id));
        if (!connection) return NotFoundError("connection not found");
        SB_ASSIGN_OR_RETURN(out, repo_.ListIncidents(tx, tenant, id, before, limit));
        return OkStatus();
      }));
  return out;
}

Result<HealthSummary> ConnectionHealth::Summary(const TenantId& tenant, int limit) {
  HealthSummary out;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(out.by_status, connections_repo_.CountByStatus(tx, tenant));
        SB_ASSIGN_OR_RETURN(out.open_incidents, repo_.CountOpenIncidents(tx, tenant));
        SB_ASSIGN_OR_RETURN(out.incidents, repo_.ListOpenIncidents(tx, tenant, limit));
        return OkStatus();
      }));
  for (const auto& entry : out.by_status) out.total += entry.second;
  return out;
}

Result<HealthView> ConnectionHealth::Get(const TenantId& tenant, const ConnectionId& id) {
  HealthView view;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(auto connection, connections_repo_.Get(tx, tenant, id));
        if (!connection) return NotFoundError("connection not found");
        view.connection = std::move(*connection);
        SB_ASSIGN_OR_RETURN(auto stored, repo_.Get(tx, tenant, id));
        if (stored) {
          view.record = std::move(*stored);
        } else {
          view.record.tenant_id = tenant;
          view.record.connection_id = id;
        }
        return OkStatus();
      }));
  if (switches_ != nullptr) {
    Status off = switches_->Check(tenant, view.connection.provider);
    if (!off.ok()) view.provider_disabled = off.message();
  }
  Classify(view, clock_.Now());
  return view;
}

std::optional<CallOutcome> ConnectionHealth::ReauthorizationOutcome(const TenantId& tenant,
                                                                    const ConnectionId& id) {
  auto connection = connections_.Get(tenant, id);
  if (!connection.ok() || connection->status != ConnectionStatus::kReauthorizationRequired) {
    return std::nullopt;
  }
  return CallOutcome{false, HealthErrorKind::kReauthorizationRequired,
                     "the grant is no longer valid: " + connection->status_reason, std::nullopt,
                     true};
}

CallOutcome ConnectionHealth::LiveCall(const TenantId& tenant, const ConnectionId& id,
                                       const audit::Context& ctx, bool* skipped,
                                       std::string* skip_reason) {
  auto token = connections_.Token(tenant, id, RefreshMode::kIfNeeded, ctx);
  if (!token.ok()) {
    if (token.status().code() == StatusCode::kUnavailable) {
      return {false, HealthErrorKind::kRefreshFailing, token.status().message(), std::nullopt,
              false};
    }
    // Not usable: reauthorization is the user's incident; a disabled or revoked connection or
    // a switched-off provider is reported by the view, not recorded as a failure.
    if (auto reconnect = ReauthorizationOutcome(tenant, id)) return *reconnect;
    *skipped = true;
    *skip_reason = token.status().message();
    return {};
  }
  const oauth::ProviderEntry* entry = catalog_.Find(token->provider);
  if (entry != nullptr && entry->credentials && token->credentials) {
    return VerificationCall(*entry, *token->credentials, skipped, skip_reason);
  }
  const std::string& url_template =
      entry == nullptr
          ? std::string()
          : (entry->identity_check_url.empty() ? entry->userinfo_url : entry->identity_check_url);
  if (url_template.empty()) {
    *skipped = true;
    *skip_reason = "the provider has no identity endpoint to call";
    return {};
  }
  auto url = oauth::ExpandUrl(*entry, url_template);
  if (!url.ok()) {
    *skipped = true;
    *skip_reason = url.status().message();
    return {};
  }
  net::HttpRequest request;
  request.url = *url;
  request.timeout = options_.timeout;
  request.headers = {{"Accept", "application/json"}, {"Authorization", ""}};
  for (int attempt = 0; attempt < 2; ++attempt) {
    request.headers[1].second = "Bearer " + std::string(token->token.view());
    auto response = http_.Send(request);
    vault::Wipe(request.headers[1].second);
    if (!response.ok()) {
      return {false, HealthErrorKind::kProviderUnavailable,
              "the provider could not be reached: " + response.status().message(), std::nullopt,
              false};
    }
    if (response->status == 401 && attempt == 0) {
      token = connections_.Token(tenant, id, RefreshMode::kForce, ctx);
      if (!token.ok()) {
        if (auto reconnect = ReauthorizationOutcome(tenant, id)) return *reconnect;
        return {false, HealthErrorKind::kRefreshFailing, token.status().message(), std::nullopt,
                false};
      }
      continue;
    }
    return OutcomeOfResponse(*response, oauth::IsRateLimit403(response->status, response->body));
  }
  return {};
}

CallOutcome ConnectionHealth::VerificationCall(const oauth::ProviderEntry& entry,
                                               const oauth::CredentialValues& credentials,
                                               bool* skipped, std::string* skip_reason) {
  auto base = oauth::ExpandUrl(entry, entry.api_base_url);
  auto request = base.ok() ? oauth::VerificationRequest(*entry.credentials, *base, credentials)
                           : Result<net::HttpRequest>(base.status());
  if (!request.ok()) {
    *skipped = true;
    *skip_reason = request.status().message();
    return {};
  }
  request->timeout = options_.timeout;
  auto response = http_.Send(*request);
  for (auto& [name, value] : request->headers) vault::Wipe(value);
  vault::Wipe(request->url);
  if (!response.ok()) {
    return {false, HealthErrorKind::kProviderUnavailable,
            "the provider could not be reached: " + response.status().message(), std::nullopt,
            false};
  }
  if (response->status == 401 || response->status == 403) {
    return {false, HealthErrorKind::kTokenRejected,
            "the provider no longer accepts the connection's credentials (HTTP " +
                std::to_string(response->status) + "); the user must connect again",
            std::nullopt, true};
  }
  return OutcomeOfResponse(*response, false);
}

Result<HealthView> ConnectionHealth::Check(const TenantId& tenant, const ConnectionId& id,
                                           const audit::Context& ctx,
                                           std::optional<Timestamp> next_check_at) {
  bool skipped = false;
  std::string skip_reason;
  const CallOutcome outcome = LiveCall(tenant, id, ctx, &skipped, &skip_reason);
  SB_RETURN_IF_ERROR(Store(tenant, id, skipped ? nullptr : &outcome, clock_.Now(), next_check_at));
  if (!skipped) {
    std::lock_guard lock(mu_);
    const std::string key = tenant.value() + "/" + id.value();
    if (outcome.ok) {
      clean_since_[key] = clock_.Now();
    } else {
      clean_since_.erase(key);
    }
  }
  SB_ASSIGN_OR_RETURN(HealthView view, Get(tenant, id));
  if (!skipped) view.live_ok = outcome.ok;
  if (skipped && view.suggestion.empty()) view.suggestion = "Not checked: " + skip_reason + ".";
  return view;
}

std::string RecoverySuggestion(const HealthView& view, Timestamp now) {
  const store::ConnectionRecord& c = view.connection;
  const store::ConnectionHealthRecord& h = view.record;
  if (!view.provider_disabled.empty()) {
    return "Wait: " + view.provider_disabled +
           ". Calls to it resume when it is enabled again (PUT /v1/admin/providers/" + c.provider +
           ").";
  }
  switch (c.status) {
    case ConnectionStatus::kReauthorizationRequired:
      return "Reconnect: the user revoked access or the grant expired (" + c.status_reason +
             "). Send the user through a new connect session.";
    case ConnectionStatus::kDisabled:
      return "Enable the connection again: PATCH /v1/connections/" + c.id.value() +
             " with {\"enabled\": true}.";
    case ConnectionStatus::kRevoked:
      return "The connection was revoked; the user must connect again.";
    case ConnectionStatus::kError: {
      std::string s = "Token refresh keeps failing (" + c.status_reason + ")";
      if (c.next_refresh_at) s += "; retrying at " + FormatRfc3339(*c.next_refresh_at);
      return s + ". If it persists, check the integration's client credentials.";
    }
    default:
      break;
  }
  if (h.consecutive_failures > 0) {
    const HealthErrorKind kind = view.error_kind.value_or(HealthErrorKind::kProviderError);
    std::string retry;
    if (h.retry_at && *h.retry_at > now) retry = ", retrying at " + FormatRfc3339(*h.retry_at);
    if (kind == HealthErrorKind::kTokenRejected) {
      return "Reconnect: the provider rejects this connection's token even after a refresh "
             "(access revoked or changed at the provider).";
    }
    if (kind == HealthErrorKind::kReauthorizationRequired) {
      return "Reconnect: the grant is no longer valid. Send the user through a new connect "
             "session.";
    }
    if (kind == HealthErrorKind::kRateLimited) {
      return "Wait: the provider is rate-limiting this account" +
             (retry.empty() ? std::string(", calls are retried with backoff") : retry) +
             ". Lower the request rate if it persists.";
    }
    if (kind == HealthErrorKind::kRefreshFailing) {
      return "Wait: the provider's token endpoint is failing" + retry +
             "; refreshes are retried with backoff.";
    }
    return "Wait: the provider is failing or unreachable (" + h.last_error + ")" + retry +
           "; calls are retried. Check the provider's status page if it persists.";
  }
  if (!c.missing_scopes.empty()) {
    return "Healthy, but some requested permissions were not granted; reconnect to grant them "
           "if the calls that need them fail.";
  }
  return "";
}

}  // namespace sb::connections
