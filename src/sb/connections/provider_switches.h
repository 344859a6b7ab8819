// ProviderSwitches: the emergency kill switch (PUT /v1/admin/providers/{provider}). An
// administrator disables a provider for every tenant or for one tenant; from then on
//   - ConnectionService::Token refuses it (FAILED_PRECONDITION), so proxied calls, refreshes,
//     health checks and everything else that needs a token stop before calling out;
//   - calls already in flight stop: whoever calls the provider registers the call with Track
//     and passes the returned flag to its HTTP request, which is set at once;
//   - new connections to it cannot be started.
// Switches are stored (store::ProviderSwitchRepository, audited in the tenant's chain or the
// system chain for global ones) and cached in memory: a change made on this node applies at
// once; other nodes pick it up within one poll interval (Start). A tenant switch and a global
// one combine: the provider is usable only if neither disables it.
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sb/audit/audit_log.h"
#include "sb/audit/context.h"
#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/metrics.h"
#include "sb/base/periodic.h"
#include "sb/store/admin/admin_repository.h"
#include "sb/store/database.h"

namespace sb::connections {

// What ProviderSwitches works with; the pointers are optional (null: not used).
struct ProviderSwitchesDeps {
  store::Database& db;
  store::Database& maintenance;  // lists every tenant's switches (BYPASSRLS on PostgreSQL)
  const Clock& clock;
  audit::AuditLog& audit;
  metrics::MetricsRegistry* metrics = nullptr;  // gets sb_provider_calls_cancelled_total
};

class ProviderSwitches {
 private:
  struct Tracked {
    TenantId tenant;
    std::string provider;
    std::shared_ptr<std::atomic<bool>> flag;
  };

 public:
  // An in-flight call to a provider. `cancelled` is set when the provider is switched off for
  // the call's tenant; the call stops when the guard's owner sees it. Unregisters on
  // destruction.
  class Call {
   public:
    ~Call();
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;
    const std::shared_ptr<std::atomic<bool>>& cancelled() const { return flag_; }

   private:
    friend class ProviderSwitches;
    Call(ProviderSwitches* owner, std::list<Tracked>::iterator it,
         std::shared_ptr<std::atomic<bool>> flag)
        : owner_(owner), it_(it), flag_(std::move(flag)) {}
    ProviderSwitches* owner_;
    std::list<Tracked>::iterator it_;
    std::shared_ptr<std::atomic<bool>> flag_;
  };

  explicit ProviderSwitches(ProviderSwitchesDeps deps);
  ~ProviderSwitches();

  // Reads every switch into the cache and stops in-flight calls that it now disables.
  Status Reload();
  // Polls Reload every `interval` until Stop.
  void Start(std::chrono::milliseconds interval);
  void Stop();

  // OK, or FAILED_PRECONDITION naming the provider and the administrator's reason.
  Status Check(const TenantId& tenant, std::string_view provider) const;
  bool Enabled(const TenantId& tenant, std::string_view provider) const {
    return Check(tenant, provider).ok();
  }

  // Sets the switch of `provider` for `tenant` (nullopt: every tenant), audited
  // ("provider.disable" / "provider.enable"), and applies it on this node at once.
  // INVALID_ARGUMENT for a malformed provider id or reason.
  Result<store::ProviderSwitchRecord> Set(const audit::Context& ctx,
                                          const std::optional<TenantId>& tenant,
                                          const std::string& provider, bool enabled,
                                          const std::string& reason);
  // The cached switches: global ones (nil tenant) and per-tenant ones, by tenant and provider.
  std::vector<store::ProviderSwitchRecord> List() const;

  // Registers an in-flight call; its flag (`flag`, or a new one) is set at once if the
  // provider is disabled, and whenever it is switched off while the Call lives.
  std::unique_ptr<Call> Track(const TenantId& tenant, std::string_view provider,
                              std::shared_ptr<std::atomic<bool>> flag = nullptr);

 private:
  void CancelDisabledLocked();
  Status CheckLocked(const TenantId& tenant, std::string_view provider) const;
  void Untrack(std::list<Tracked>::iterator it);

  store::Database& db_;
  store::Database& maintenance_;
  const Clock& clock_;
  audit::AuditLog& audit_;
  metrics::CounterFamily* cancelled_ = nullptr;
  store::ProviderSwitchRepository repo_;

  mutable std::mutex mu_;
  std::vector<store::ProviderSwitchRecord> switches_;  // guarded by mu_
  std::list<Tracked> calls_;                           // guarded by mu_
  uint64_t generation_ = 0;                            // guarded by mu_; +1 on every Set
  std::unique_ptr<Periodic> poller_;
};

}  // namespace sb::connections
