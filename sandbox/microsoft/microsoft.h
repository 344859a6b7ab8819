// MicrosoftSandbox: the emulated Microsoft origin: the identity platform v2.0 (OAuth 2.0 +
// OpenID Connect, identity_routes.cc), Microsoft Graph calendars, events, calendarView and its
// delta (graph_routes.cc over event_store.h), getSchedule (schedule.cc), change notifications
// (subscriptions.cc over notifier.h), JSON batching (batch.cc), and the control routes under
// /_sandbox/ for accounts, clients, tokens, seeding, user-side changes and fault actions
// (control.cc). Wire behaviour follows provider-protocols.md sections 0.4, 6-8, 11, 12.5-12.6
// and 13.
//
// Thread safety: routes run concurrently on the origin's pool; every store guards itself and
// the sandbox's own state (subscriptions, delta epochs, pending refresh failures) is guarded
// by named mutexes or atomics.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "sandbox/core/identity.h"
#include "sandbox/core/origin.h"
#include "sandbox/crypto/signing_key.h"
#include "sandbox/microsoft/event_store.h"
#include "sandbox/microsoft/notifier.h"

#include "sb/base/clock.h"
#include "sb/http/request.h"
#include "sb/http/response.h"
#include "sb/net/http_client.h"

namespace sandbox::microsoft {

// Tenant id of every personal (outlook.com, hotmail.com) account.
inline constexpr std::string_view kPersonalTenantId = "9188040d-6c67-4c5b-b112-36a304b66dad";
// Tenant id of work accounts created without one.
inline constexpr std::string_view kDemoTenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";

// The settings a test can switch (PUT /_sandbox/settings) and their defaults. `issuer_host`
// empty means the origin's own URL as the client addressed it.
sb::Json DefaultSettings();

// The Origin's fault responder for this provider (Graph and AADSTS error bodies).
FaultResponder MakeFaultResponder(const sb::Clock& clock);

struct Subscription {
  std::string id;
  std::string account_id;
  std::string client_id;
  std::string resource;
  std::string change_type;  // "created,updated,deleted"
  std::string notification_url;
  std::string lifecycle_url;
  std::string client_state;
  std::string tls_version;
  int64_t expiration_ms = 0;
};

class MicrosoftSandbox {
 public:
  MicrosoftSandbox(Origin& origin, const crypto::RsaSigningKey& signing_key,
                   sb::net::HttpClient& http);
  ~MicrosoftSandbox();
  MicrosoftSandbox(const MicrosoftSandbox&) = delete;
  MicrosoftSandbox& operator=(const MicrosoftSandbox&) = delete;

  // Adds every route to origin.router(), the Graph header middleware and the reset hook.
  // Call once, before the origin starts.
  void Register();

  IdentityStore& identity() { return identity_; }
  EventStore& events() { return events_; }

  // Creates an account (oid = a new GUID) with its default calendar. `tenant_id` empty: the
  // personal tenant for outlook.com/hotmail.com addresses, the demo tenant otherwise.
  Account CreateAccount(const std::string& email, const std::string& name,
                        const std::string& tenant_id);
  // Adds `count` realistic events (see control.cc) generated from `seed`; returns how many.
  size_t Seed(const std::string& account_id, size_t count, uint64_t seed);

 private:
  // What Graph routes see after authentication.
  struct Principal {
    AccessToken token;
    Account account;
  };
  enum class Need { kNone, kCalendarRead, kCalendarWrite };
  using GraphHandler = std::function<sb::http::Response(sb::http::Request&, const Principal&)>;

  // identity_routes.cc
  void RegisterIdentity();
  sb::http::Response Authorize(sb::http::Request& request);
  sb::http::Response AuthorizeDecision(sb::http::Request& request);
  sb::http::Response Token(sb::http::Request& request);
  sb::http::Response RedeemCode(const sb::http::Request& request, const sb::http::HeaderList& form,
                                const OAuthClient& client);
  sb::http::Response RedeemRefresh(const sb::http::Request& request,
                                   const sb::http::HeaderList& form, const OAuthClient& client);
  sb::http::Response TokenResponse(const sb::http::Request& request, const Account& account,
                                   const std::string& client_id,
                                   const std::vector<std::string>& scopes, bool with_refresh,
                                   const std::string& nonce);
  std::string Issuer(const sb::http::Request& request, std::string_view tenant) const;
  std::optional<int> TakeRefreshFailure();

  // graph_routes.cc
  void RegisterGraph();
  void AddGraph(std::string_view method, std::string_view me_pattern, Need need,
                GraphHandler handler);
  std::variant<Principal, sb::http::Response> Authenticate(const sb::http::Request& request,
                                                           Need need) const;
  sb::http::Response Delta(sb::http::Request& request, const Principal& principal);
  sb::http::Response CreateEvent(sb::http::Request& request, const Principal& principal,
                                 const std::string& calendar_id);

  // schedule.cc: calendar getSchedule once authenticated; times rendered in `zone`.
  sb::http::Response GetSchedule(const sb::http::Request& request, const Principal& principal,
                                 const RenderZone& zone) const;

  // subscriptions.cc
  void RegisterSubscriptions();
  std::optional<sb::http::Response> ValidateEndpoint(const sb::http::Request& request,
                                                     const std::string& url);
  sb::Json SubscriptionJson(const sb::http::Request& request, const Subscription& sub) const;
  void Notify(const std::vector<Change>& changes);
  bool SendLifecycle(const std::string& subscription_id, const std::string& event);

  // batch.cc
  sb::http::Response Batch(sb::http::Request& request);

  // control.cc
  void RegisterControl();
  sb::http::Response Action(sb::http::Request& request);
  sb::Json Mutate(const std::string& account_id, int creates, int updates, int deletes,
                  uint64_t seed);

  void OnReset();
  int64_t Now() const;
  // The sequence a new delta round reports up to (delta_lag_ms holds back recent changes).
  int64_t Snapshot(const std::string& account_id) const;

  Origin& origin_;
  const crypto::RsaSigningKey& key_;
  sb::net::HttpClient& http_;
  IdentityStore identity_;
  EventStore events_;
  Notifier notifier_;

  // Delta tokens carry the epoch they were minted in; the actions move these bounds.
  std::atomic<int64_t> delta_epoch_{1};
  std::atomic<int64_t> expired_before_{0};
  std::atomic<int64_t> reset_before_{0};

  std::mutex refresh_failures_mu_;
  std::deque<int> refresh_failures_;  // guarded by refresh_failures_mu_: AADSTS codes to answer

  mutable std::mutex subscriptions_mu_;
  std::map<std::string, Subscription> subscriptions_;  // guarded by subscriptions_mu_
};

}  // namespace sandbox::microsoft
