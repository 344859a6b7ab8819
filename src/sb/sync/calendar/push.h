// CalendarPush: push notifications for calendar sync (issue 15, PRODUCT.md section 10):
// Google Calendar channels (events.watch, provider-protocols.md 3.7) and Microsoft Graph
// subscriptions (11.1-11.4), one per synced calendar.
//
// Channels. After a successful run the connection's channels are ensured by a job
// ("sync.push.ensure"): every synced calendar gets a channel that lives longer than the renewal
// margin (Google: a new channel, then the old one stopped; Graph: the subscription's expiry
// moved by PATCH, or a new subscription when it is gone), and channels of calendars no longer
// synced are stopped. A scheduler queues the same job for connections whose channels expire
// within the margin. A failed renewal is recorded as the connection's health (an incident after
// health.alert_after_failures in a row) and retried with backoff; the scheduled sync
// (sync.interval_seconds) goes on meanwhile, so syncing never stops silently. Disconnecting stops
// every channel at the provider while the token still works (StopAll).
//
// Notifications arrive on public routes (/push/google/{tenant}, /push/microsoft/{tenant}),
// which call Google / Graph here. A notification is accepted only for a known channel of that
// tenant whose secret (channel token, clientState) matches in constant time, and Google's
// resource id too; it is stored in the inbox (a duplicate is recognised by its message number
// or digest) and requests a push run (coalesced with an open one) in ONE transaction before the
// answer, so that an acknowledged notification is never lost. Forged, unknown and replayed
// notifications are refused or ignored and counted, and cost no provider call.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/metrics.h"
#include "sb/base/periodic.h"
#include "sb/base/random.h"
#include "sb/connections/health.h"
#include "sb/jobs/runner.h"
#include "sb/store/calendar/calendar_repository.h"
#include "sb/store/database.h"
#include "sb/store/sync/push_repository.h"
#include "sb/sync/engine.h"
#include "sb/sync/provider_client.h"

namespace sb::sync::calendar {

inline constexpr char kPushEnsureJob[] = "sync.push.ensure";

struct PushOptions {
  // Where providers deliver: the server's public URL (server.public_url); empty: push is off
  // and calendars sync on schedule only.
  std::string public_url;
  std::chrono::seconds google_ttl{7 * 86'400};   // asked for; the provider may give less
  std::chrono::minutes graph_ttl{4'230};         // Graph's documented maximum for events
  std::chrono::seconds renew_margin{6 * 3'600};  // renew channels expiring within this
  std::chrono::milliseconds renew_poll{60'000};  // the renewal scheduler's pass interval
  int renew_batch = 200;                         // due connections read per page of a renewal pass
  std::chrono::hours inbox_ttl{7 * 24};          // notifications remembered this long (duplicates)
};

struct PushDeps {
  store::Database& db;
  store::Database& maintenance;
  SyncEngine& engine;
  ProviderClient& provider;
  const Clock& clock;
  Random& random;
  IdGenerator& ids;
  connections::ConnectionHealth* health = nullptr;  // renewal failures become incidents
  metrics::MetricsRegistry* metrics = nullptr;
};

// What became of a notification (also the metric's outcome label).
enum class PushVerdict {
  kAccepted,   // stored; a run was requested
  kDuplicate,  // seen before: nothing more
  kIgnored,    // a known channel's `sync` message, or one for a stopped channel
  kUnknown,    // no such channel for the tenant
  kForged,     // the secret or resource id does not match
  kMalformed,  // missing or malformed fields
};
std::string_view PushVerdictName(PushVerdict verdict);

struct GoogleNotification {
  std::string channel_id;
  std::string token;
  std::string resource_id;
  std::string resource_state;  // "sync", "exists", "not_exists"
  std::string message_number;
};

class CalendarPush {
 public:
  CalendarPush(PushDeps deps, PushOptions options);
  ~CalendarPush();

  bool enabled() const { return !options_.public_url.empty(); }
  // Sets where providers deliver when options.public_url was empty (development against the
  // local sandbox: the listener's own URL). Call before Start and before any job runs.
  void SetPublicUrl(std::string url);

  // Queues the ensure job of a connection in `tx` (called by the calendar sync when a run
  // succeeded). A no-op when push is off.
  Status RequestEnsureIn(store::Transaction& tx, const TenantId& tenant,
                         const ConnectionId& connection);
  jobs::JobResult HandleEnsure(jobs::JobContext& job);

  // Stops every channel of the connection at the provider and forgets them; failures are
  // logged (the provider's channels then expire on their own).
  void StopAll(const TenantId& tenant, const ConnectionId& connection);

  Result<PushVerdict> OnGoogle(const TenantId& tenant, const GoogleNotification& notification);
  // One item of a Graph notification's `value` array (change or lifecycle notification).
  Result<PushVerdict> OnGraph(const TenantId& tenant, const Json& item);

  // The renewal scheduler's pass: queues the ensure job of every connection with a channel
  // expiring within the margin (already queued ones are deduplicated); how many.
  Result<int> RequestRenewals();
  void Start();
  void Stop();

 private:
  Status Ensure(const TenantId& tenant, const ConnectionId& connection, std::string& error);
  Status EnsureCalendar(const TenantId& tenant, const store::ConnectionRecord& connection,
                        const store::CalendarRecord& calendar,
                        std::optional<store::PushChannelRecord> current);
  Fetched<store::PushChannelRecord> Create(const store::ConnectionRecord& connection,
                                           const store::CalendarRecord& calendar);
  Fetched<Timestamp> RenewGraph(const store::ConnectionRecord& connection,
                                const store::PushChannelRecord& channel);
  void StopAtProvider(const store::PushChannelRecord& channel);
  std::string Address(std::string_view provider, const TenantId& tenant) const;
  Result<PushVerdict> Accept(const TenantId& tenant, const store::PushChannelRecord& channel,
                             const std::string& message_key, store::SyncTrigger trigger);
  void Count(std::string_view provider, PushVerdict verdict);
  void CountRenewal(std::string_view provider, std::string_view outcome);
  bool RenewalDue(const store::PushChannelRecord& channel, Timestamp now) const;

  store::Database& db_;
  store::Database& maintenance_;
  SyncEngine& engine_;
  ProviderClient& provider_;
  const Clock& clock_;
  Random& random_;
  IdGenerator& ids_;
  connections::ConnectionHealth* health_;
  PushOptions options_;  // public_url set at most once, before Start
  store::PushRepository repo_;
  store::CalendarRepository calendars_;
  metrics::CounterFamily* notifications_ = nullptr;
  metrics::CounterFamily* renewals_ = nullptr;
  std::unique_ptr<Periodic> scheduler_;
};

}  // namespace sb::sync::calendar
