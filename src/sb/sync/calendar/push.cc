#include "sb/sync/calendar/push.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "sb/base/encoding.h"
#include "sb/base/logging.h"
#include "sb/base/time_format.h"
#include "sb/caltime/caltime.h"
#include "sb/store/connections/connect_repository.h"
#include "sb/sync/calendar/calendar_sync.h"
#include "sb/vault/digest.h"

namespace sb::sync::calendar {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr size_t kMaxFieldBytes = 256;

std::string Digest(std::string_view secret) { return HexEncode(vault::Sha256(secret)); }

Timestamp FromMillis(int64_t ms) {
  return Timestamp(duration_cast<microseconds>(milliseconds(ms)));
}

int64_t ToMillis(Timestamp t) { return duration_cast<milliseconds>(t.time_since_epoch()).count(); }

// Google's expiration: milliseconds since the epoch, as a string or a number.
std::optional<Timestamp> GoogleExpiration(const Json& answer) {
  if (!answer.contains("expiration")) return std::nullopt;
  const Json& e = answer["expiration"];
  int64_t ms = 0;
  if (e.is_number_integer()) {
    ms = e.get<int64_t>();
  } else if (e.is_string()) {
    const std::string& text = e.get_ref<const std::string&>();
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (ms <= 0) return std::nullopt;
  return FromMillis(ms);
}

std::optional<Timestamp> GraphExpiration(const Json& answer) {
  if (!answer.contains("expirationDateTime") || !answer["expirationDateTime"].is_string()) {
    return std::nullopt;
  }
  auto ms = caltime::ParseRfc3339(answer["expirationDateTime"].get<std::string>());
  if (!ms.ok()) return std::nullopt;
  return FromMillis(*ms);
}

std::optional<std::string> ShortString(const Json& object, const char* name) {
  if (!object.is_object() || !object.contains(name) || !object[name].is_string()) {
    return std::nullopt;
  }
  std::string value = object[name].get<std::string>();
  if (value.empty() || value.size() > kMaxFieldBytes) return std::nullopt;
  return value;
}

PushOptions WithoutTrailingSlash(PushOptions options) {
  while (!options.public_url.empty() && options.public_url.back() == '/') {
    options.public_url.pop_back();
  }
  return options;
}

ProviderError BadAnswer(std::string message) {
  return ProviderError{ProviderFailure::kBadAnswer, std::move(message), std::nullopt};
}

}  // namespace

std::string_view PushVerdictName(PushVerdict verdict) {
  switch (verdict) {
    case PushVerdict::kAccepted:
      return "accepted";
    case PushVerdict::kDuplicate:
      return "duplicate";
    case PushVerdict::kIgnored:
      return "ignored";
    case PushVerdict::kUnknown:
      return "unknown";
    case PushVerdict::kForged:
      return "forged";
    case PushVerdict::kMalformed:
      return "malformed";
  }
  return "malformed";
}

CalendarPush::CalendarPush(PushDeps deps, PushOptions options)
    : db_(deps.db),
      maintenance_(deps.maintenance),
      engine_(deps.engine),
      provider_(deps.provider),
      clock_(deps.clock),
      random_(deps.random),
      ids_(deps.ids),
      health_(deps.health),
      options_(WithoutTrailingSlash(std::move(options))) {
  if (deps.metrics != nullptr) {
    notifications_ = &deps.metrics->AddCounter(
        "sb_push_notifications_total",
        "Push notifications received, by provider and verdict (accepted, duplicate, ignored, "
        "unknown, forged, malformed).",
        {"provider", "verdict"});
    renewals_ = &deps.metrics->AddCounter(
        "sb_push_renewals_total",
        "Push channel and subscription creations and renewals, by provider and outcome.",
        {"provider", "outcome"});
  }
  scheduler_ = std::make_unique<Periodic>(options_.renew_poll, [this] {
    auto n = RequestRenewals();
    if (!n.ok()) {
      log::Warn("push.renewal_pass_failed", {{"error", n.status().ToString()}});
      return false;
    }
    return false;  // a pass queues every due connection (RequestRenewals pages)
  });
}

CalendarPush::~CalendarPush() { Stop(); }

void CalendarPush::SetPublicUrl(std::string url) {
  if (!options_.public_url.empty()) return;
  options_.public_url = std::move(url);
  options_ = WithoutTrailingSlash(std::move(options_));
}

void CalendarPush::Start() {
  if (enabled()) scheduler_->Start();
}

void CalendarPush::Stop() {
  if (scheduler_) scheduler_->Stop();
}

std::string CalendarPush::Address(std::string_view provider, const TenantId& tenant) const {
  return options_.public_url + "/push/" + std::string(provider) + "/" + tenant.value();
}

void CalendarPush::Count(std::string_view provider, PushVerdict verdict) {
  if (notifications_ != nullptr) {
    notifications_->WithLabels({provider, PushVerdictName(verdict)}).Increment();
  }
}

void CalendarPush::CountRenewal(std::string_view provider, std::string_view outcome) {
  if (renewals_ != nullptr) renewals_->WithLabels({provider, outcome}).Increment();
}

// ---- Ensuring channels. ----

Status CalendarPush::RequestEnsureIn(store::Transaction& tx, const TenantId& tenant,
                                     const ConnectionId& connection) {
  if (!enabled()) return OkStatus();
  jobs::JobSpec spec;
  spec.kind = kPushEnsureJob;
  spec.payload = Json{{"connection_id", connection.value()}};
  spec.dedupe_key = "push:" + connection.value();
  // A running ensure job may have read the channels before this request's change (a removed
  // subscription, say): it runs again rather than standing for the request.
  spec.while_running = store::WhileRunning::kRunAgain;
  spec.max_attempts = 8;
  return jobs::Enqueue(tx, tenant, spec, clock_, ids_).status();
}

Result<int> CalendarPush::RequestRenewals() {
  // The inbox only has to remember notifications as long as a provider may redeliver them.
  SB_RETURN_IF_ERROR(maintenance_.RunUnscoped([&](store::Transaction& tx) -> Status {
    return repo_
        .MaintenancePruneInbox(tx, clock_.Now() - duration_cast<microseconds>(options_.inbox_ttl))
        .status();
  }));
  // Every due connection in one pass, a page at a time: the channels stay due until their
  // ensure jobs have run, so a pass that stopped at a page would find the same page again.
  const Timestamp now = clock_.Now();
  const auto margin = duration_cast<microseconds>(options_.renew_margin);
  int queued = 0;
  for (int64_t offset = 0;; offset += options_.renew_batch) {
    std::vector<std::pair<TenantId, ConnectionId>> due;
    SB_RETURN_IF_ERROR(
        maintenance_.RunUnscoped(store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
          SB_ASSIGN_OR_RETURN(
              due, repo_.MaintenanceListExpiring(tx, now, margin, options_.renew_batch, offset));
          return OkStatus();
        }));
    for (const auto& entry : due) {
      // Named references, not a structured binding: the lambda captures them (clang < 16).
      const TenantId& tenant = entry.first;
      const ConnectionId& connection = entry.second;
      Status s = db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
        return RequestEnsureIn(tx, tenant, connection);
      });
      if (s.ok()) ++queued;
    }
    if (due.size() < static_cast<size_t>(options_.renew_batch)) break;
  }
  if (queued > 0) engine_.WakeJobs();
  return queued;
}

jobs::JobResult CalendarPush::HandleEnsure(jobs::JobContext& job) {
  const Json& payload = job.job().payload;
  if (!payload.is_object() || !payload.contains("connection_id") ||
      !payload["connection_id"].is_string() ||
      !IsCanonicalUuid(payload["connection_id"].get<std::string>())) {
    return jobs::JobResult::Fail("malformed job payload");
  }
  const TenantId& tenant = job.job().tenant_id;
  const ConnectionId connection(payload["connection_id"].get<std::string>());
  std::string error;
  Status s = Ensure(tenant, connection, error);
  if (!s.ok()) return jobs::JobResult::Retry(s.ToString());
  if (!error.empty()) return jobs::JobResult::Retry(error);
  return jobs::JobResult::Done();
}

Status CalendarPush::Ensure(const TenantId& tenant, const ConnectionId& connection,
                            std::string& error) {
  std::optional<store::ConnectionRecord> record;
  std::vector<store::CalendarRecord> calendars;
  std::vector<store::PushChannelRecord> channels;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(record, store::ConnectionRepository().Get(tx, tenant, connection));
        if (!record) return OkStatus();
        SB_ASSIGN_OR_RETURN(calendars, calendars_.ListCalendars(tx, tenant, connection));
        SB_ASSIGN_OR_RETURN(channels, repo_.ListForConnection(tx, tenant, connection));
        return OkStatus();
      }));
  if (!record || record->status != store::ConnectionStatus::kActive) return OkStatus();
  for (const auto& calendar : calendars) {
    if (!calendar.selected) continue;
    std::optional<store::PushChannelRecord> current;
    for (const auto& c : channels) {
      if (c.resource == calendar.provider_id && c.status == store::PushChannelStatus::kActive) {
        current = c;
      }
    }
    Status s = EnsureCalendar(tenant, *record, calendar, std::move(current));
    if (!s.ok()) error = s.message();
  }
  // Channels of calendars that are gone or no longer synced.
  for (const auto& c : channels) {
    const bool wanted = std::any_of(calendars.begin(), calendars.end(), [&](const auto& cal) {
      return cal.selected && cal.provider_id == c.resource;
    });
    if (wanted && c.status == store::PushChannelStatus::kActive) continue;
    if (c.status == store::PushChannelStatus::kActive) StopAtProvider(c);
    SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
      return repo_.Delete(tx, tenant, c.id).status();
    }));
  }
  return OkStatus();
}

// Due within the margin; but a channel the provider granted for less than twice the margin
// (a provider's cap) is renewed at half its life, not on every pass. After a failed renewal
// the margin alone counts, so retries go on.
bool CalendarPush::RenewalDue(const store::PushChannelRecord& channel, Timestamp now) const {
  auto margin = duration_cast<microseconds>(options_.renew_margin);
  if (channel.renew_failures == 0 && channel.expires_at > channel.updated_at) {
    margin = std::min(margin, (channel.expires_at - channel.updated_at) / 2);
  }
  return channel.expires_at <= now + margin;
}

Status CalendarPush::EnsureCalendar(const TenantId& tenant,
                                    const store::ConnectionRecord& connection,
                                    const store::CalendarRecord& calendar,
                                    std::optional<store::PushChannelRecord> current) {
  const Timestamp now = clock_.Now();
  if (current && !RenewalDue(*current, now)) return OkStatus();
  std::optional<ProviderError> failure;
  // Graph: move the subscription's expiry; Google channels cannot be renewed.
  if (current && connection.provider == "microsoft") {
    Fetched<Timestamp> renewed = RenewGraph(connection, *current);
    if (!FailureOf(renewed)) {
      current->expires_at = std::get<Timestamp>(renewed);
      current->renew_failures = 0;
      current->last_error.clear();
      current->updated_at = now;
      CountRenewal(connection.provider, "renewed");
      return db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
        return repo_.Update(tx, tenant, *current);
      });
    }
    if (FailureOf(renewed)->kind != ProviderFailure::kNotFound) failure = *FailureOf(renewed);
  }
  if (!failure) {
    Fetched<store::PushChannelRecord> created = Create(connection, calendar);
    if (!FailureOf(created)) {
      CountRenewal(connection.provider, "created");
      const store::PushChannelRecord& fresh = std::get<store::PushChannelRecord>(created);
      SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
        SB_RETURN_IF_ERROR(repo_.Insert(tx, tenant, fresh));
        if (current) SB_RETURN_IF_ERROR(repo_.Delete(tx, tenant, current->id).status());
        return OkStatus();
      }));
      // Overlapping channels are normal (3.7): the old one is stopped only now.
      if (current && connection.provider == "google") StopAtProvider(*current);
      return OkStatus();
    }
    failure = *FailureOf(created);
  }
  CountRenewal(connection.provider, "failed");
  if (current) {
    ++current->renew_failures;
    current->last_error = std::string(ProviderFailureName(failure->kind)) + ": " + failure->message;
    if (current->last_error.size() > 1024) current->last_error.resize(1024);
    current->updated_at = now;
    (void)db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
      return repo_.Update(tx, tenant, *current);
    });
  }
  if (health_ != nullptr) {
    (void)health_->Record(
        tenant, connection.id,
        connections::CallOutcome{.ok = false,
                                 .kind = connections::HealthErrorKind::kProviderError,
                                 .message = "push subscription: " + failure->message});
  }
  return UnavailableError("push channel for calendar " + calendar.id.value() + ": " +
                          failure->message);
}

Fetched<store::PushChannelRecord> CalendarPush::Create(const store::ConnectionRecord& connection,
                                                       const store::CalendarRecord& calendar) {
  auto base = provider_.BaseUrl(connection.provider);
  if (!base.ok()) return BadAnswer(base.status().message());
  const TenantId& tenant = connection.tenant_id;
  const Timestamp now = clock_.Now();
  const std::string secret = Base64UrlEncode(random_.Bytes(32));
  store::PushChannelRecord record;
  record.tenant_id = tenant;
  record.id = ids_.NewUuid();
  record.connection_id = connection.id;
  record.service = kCalendarService;
  record.provider = connection.provider;
  record.resource = calendar.provider_id;
  record.secret_hash = Digest(secret);
  record.created_at = record.updated_at = now;
  if (connection.provider == "google") {
    const Json body{{"id", record.id},
                    {"type", "web_hook"},
                    {"address", Address("google", tenant)},
                    {"token", secret},
                    {"params", {{"ttl", std::to_string(options_.google_ttl.count())}}}};
    Fetched<Json> answer = provider_.Send(
        tenant, connection.id, "POST",
        *base + "/calendar/v3/calendars/" + PercentEncode(calendar.provider_id) + "/events/watch",
        body);
    if (const ProviderError* e = FailureOf(answer)) return *e;
    const Json& channel = std::get<Json>(answer);
    auto resource_id = ShortString(channel, "resourceId");
    auto expires = GoogleExpiration(channel);
    if (!resource_id || !expires)
      return BadAnswer("the watch answer lacks resourceId or expiration");
    record.external_id = record.id;
    record.resource_id = *resource_id;
    record.expires_at = *expires;
    return record;
  }
  const Timestamp wanted = now + duration_cast<microseconds>(options_.graph_ttl);
  const Json body{{"changeType", "created,updated,deleted"},
                  {"notificationUrl", Address("microsoft", tenant)},
                  {"lifecycleNotificationUrl", Address("microsoft", tenant)},
                  {"resource", "me/calendars/" + calendar.provider_id + "/events"},
                  {"expirationDateTime", caltime::FormatUtcMillis(ToMillis(wanted))},
                  {"clientState", secret}};
  Fetched<Json> answer =
      provider_.Send(tenant, connection.id, "POST", *base + "/v1.0/subscriptions", body);
  if (const ProviderError* e = FailureOf(answer)) return *e;
  const Json& subscription = std::get<Json>(answer);
  auto id = ShortString(subscription, "id");
  auto expires = GraphExpiration(subscription);
  if (!id || !expires) return BadAnswer("the subscription answer lacks id or expirationDateTime");
  record.external_id = *id;
  record.expires_at = *expires;
  return record;
}

Fetched<Timestamp> CalendarPush::RenewGraph(const store::ConnectionRecord& connection,
                                            const store::PushChannelRecord& channel) {
  auto base = provider_.BaseUrl(connection.provider);
  if (!base.ok()) return BadAnswer(base.status().message());
  const Timestamp wanted = clock_.Now() + duration_cast<microseconds>(options_.graph_ttl);
  Fetched<Json> answer =
      provider_.Send(connection.tenant_id, connection.id, "PATCH",
                     *base + "/v1.0/subscriptions/" + PercentEncode(channel.external_id),
                     Json{{"expirationDateTime", caltime::FormatUtcMillis(ToMillis(wanted))}});
  if (const ProviderError* e = FailureOf(answer)) return *e;
  auto expires = GraphExpiration(std::get<Json>(answer));
  if (!expires) return BadAnswer("the renewal answer lacks expirationDateTime");
  return *expires;
}

void CalendarPush::StopAtProvider(const store::PushChannelRecord& channel) {
  auto base = provider_.BaseUrl(channel.provider);
  if (!base.ok()) return;
  Fetched<Json> answer =
      channel.provider == "google"
          ? provider_.Send(channel.tenant_id, channel.connection_id, "POST",
                           *base + "/calendar/v3/channels/stop",
                           Json{{"id", channel.external_id}, {"resourceId", channel.resource_id}})
          : provider_.Send(channel.tenant_id, channel.connection_id, "DELETE",
                           *base + "/v1.0/subscriptions/" + PercentEncode(channel.external_id),
                           Json());
  if (const ProviderError* e = FailureOf(answer)) {
    log::Info("push.stop_failed",
              {{"channel", channel.id}, {"provider", channel.provider}, {"error", e->message}});
  }
}

void CalendarPush::StopAll(const TenantId& tenant, const ConnectionId& connection) {
  std::vector<store::PushChannelRecord> channels;
  Status listed =
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(channels, repo_.ListForConnection(tx, tenant, connection));
        return OkStatus();
      });
  if (!listed.ok()) return;
  for (const auto& c : channels) {
    if (c.status == store::PushChannelStatus::kActive) StopAtProvider(c);
  }
  (void)db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    for (const auto& c : channels) SB_RETURN_IF_ERROR(repo_.Delete(tx, tenant, c.id).status());
    return OkStatus();
  });
}

// ---- Notifications. ----

Result<PushVerdict> CalendarPush::Accept(const TenantId& tenant,
                                         const store::PushChannelRecord& channel,
                                         const std::string& message_key,
                                         store::SyncTrigger trigger) {
  PushVerdict verdict = PushVerdict::kAccepted;
  SB_RETURN_IF_ERROR(RetryOnOpenRunRace(db_, tenant, [&](store::Transaction& tx) -> Status {
    verdict = PushVerdict::kAccepted;
    SB_ASSIGN_OR_RETURN(
        bool fresh, repo_.RecordNotification(tx, tenant, channel.id, message_key, clock_.Now()));
    if (!fresh) {
      verdict = PushVerdict::kDuplicate;
      return OkStatus();
    }
    SB_ASSIGN_OR_RETURN(auto record,
                        store::ConnectionRepository().Get(tx, tenant, channel.connection_id));
    if (!record) {
      verdict = PushVerdict::kIgnored;
      return OkStatus();
    }
    auto run =
        engine_.RequestRunIn(tx, tenant, *record, channel.service, trigger, SyncAuditContext());
    // A paused sync (the user must reconnect) keeps the notification but runs nothing.
    if (!run.ok() && run.status().code() != StatusCode::kFailedPrecondition) return run.status();
    return OkStatus();
  }));
  // The run is committed: the job runner polls when it is due (SyncOptions::push_delay), not
  // at its next idle poll.
  if (verdict == PushVerdict::kAccepted) engine_.WakeJobs(trigger);
  return verdict;
}

Result<PushVerdict> CalendarPush::OnGoogle(const TenantId& tenant, const GoogleNotification& n) {
  auto verdict = [&](PushVerdict v) -> Result<PushVerdict> {
    Count("google", v);
    return v;
  };
  if (!tenant.valid() || !IsCanonicalUuid(n.channel_id) || n.token.empty() ||
      n.token.size() > kMaxFieldBytes || n.resource_id.empty() ||
      n.resource_id.size() > kMaxFieldBytes || n.message_number.size() > 20 ||
      (n.resource_state != "sync" && n.resource_state != "exists" &&
       n.resource_state != "not_exists")) {
    return verdict(PushVerdict::kMalformed);
  }
  std::optional<store::PushChannelRecord> channel;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(channel, repo_.FindByExternal(tx, tenant, "google", n.channel_id));
        return OkStatus();
      }));
  if (!channel) return verdict(PushVerdict::kUnknown);
  if (!vault::ConstantTimeEquals(Digest(n.token), channel->secret_hash) ||
      n.resource_id != channel->resource_id) {
    return verdict(PushVerdict::kForged);
  }
  if (channel->status != store::PushChannelStatus::kActive || n.resource_state == "sync") {
    return verdict(PushVerdict::kIgnored);
  }
  SB_ASSIGN_OR_RETURN(PushVerdict v,
                      Accept(tenant, *channel, "n:" + n.message_number, store::SyncTrigger::kPush));
  return verdict(v);
}

Result<PushVerdict> CalendarPush::OnGraph(const TenantId& tenant, const Json& item) {
  auto verdict = [&](PushVerdict v) -> Result<PushVerdict> {
    Count("microsoft", v);
    return v;
  };
  auto subscription = ShortString(item, "subscriptionId");
  auto client_state = ShortString(item, "clientState");
  if (!tenant.valid() || !subscription || !client_state) return verdict(PushVerdict::kMalformed);
  std::string lifecycle;
  if (item.contains("lifecycleEvent")) {
    auto event = ShortString(item, "lifecycleEvent");
    if (!event) return verdict(PushVerdict::kMalformed);
    lifecycle = *event;
  }
  std::optional<store::PushChannelRecord> channel;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(channel, repo_.FindByExternal(tx, tenant, "microsoft", *subscription));
        return OkStatus();
      }));
  if (!channel) return verdict(PushVerdict::kUnknown);
  if (!vault::ConstantTimeEquals(Digest(*client_state), channel->secret_hash)) {
    return verdict(PushVerdict::kForged);
  }
  if (channel->status != store::PushChannelStatus::kActive) return verdict(PushVerdict::kIgnored);
  const std::string key = "d:" + HexEncode(vault::Sha256(item.dump()));
  if (lifecycle == "reauthorizationRequired" || lifecycle == "subscriptionRemoved") {
    // Renew (or recreate) the subscription: the ensure job does both. Its expiry is made due.
    SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
      SB_ASSIGN_OR_RETURN(bool fresh,
                          repo_.RecordNotification(tx, tenant, channel->id, key, clock_.Now()));
      if (!fresh) return OkStatus();
      store::PushChannelRecord due = *channel;
      due.expires_at = clock_.Now();
      due.updated_at = clock_.Now();
      if (lifecycle == "subscriptionRemoved") {
        // Gone at Microsoft: a new subscription, not a renewal.
        SB_RETURN_IF_ERROR(repo_.Delete(tx, tenant, channel->id).status());
      } else {
        SB_RETURN_IF_ERROR(repo_.Update(tx, tenant, due));
      }
      return RequestEnsureIn(tx, tenant, channel->connection_id);
    }));
    return verdict(PushVerdict::kAccepted);
  }
  if (!lifecycle.empty() && lifecycle != "missed") return verdict(PushVerdict::kIgnored);
  const store::SyncTrigger trigger =
      lifecycle == "missed" ? store::SyncTrigger::kResync : store::SyncTrigger::kPush;
  SB_ASSIGN_OR_RETURN(PushVerdict v, Accept(tenant, *channel, key, trigger));
  return verdict(v);
}

}  // namespace sb::sync::calendar
