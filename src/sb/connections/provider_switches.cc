#include "sb/connections/provider_switches.h"

#include <algorithm>
#include <utility>

#include "sb/base/logging.h"

namespace sb::connections {

ProviderSwitches::Call::~Call() { owner_->Untrack(it_); }

ProviderSwitches::ProviderSwitches(ProviderSwitchesDeps deps)
    : db_(deps.db), maintenance_(deps.maintenance), clock_(deps.clock), audit_(deps.audit) {
  if (deps.metrics != nullptr) {
    cancelled_ = &deps.metrics->AddCounter("sb_provider_calls_cancelled_total",
                                           "In-flight provider calls stopped by a kill switch.",
                                           {"provider"});
  }
}

ProviderSwitches::~ProviderSwitches() { Stop(); }

Status ProviderSwitches::Reload() {
  uint64_t generation;
  {
    std::lock_guard lock(mu_);
    generation = generation_;
  }
  std::vector<store::ProviderSwitchRecord> all;
  SB_RETURN_IF_ERROR(
      maintenance_.RunUnscoped(store::TxMode::kReadOnly, [&](store::Transaction& tx) {
        SB_ASSIGN_OR_RETURN(all, repo_.MaintenanceListAll(tx));
        return OkStatus();
      }));
  std::lock_guard lock(mu_);
  // A Set on this node while the rows were read: they may predate it; the next poll rereads.
  if (generation != generation_) return OkStatus();
  switches_ = std::move(all);
  CancelDisabledLocked();
  return OkStatus();
}

void ProviderSwitches::Start(std::chrono::milliseconds interval) {
  if (poller_) return;
  poller_ = std::make_unique<Periodic>(interval, [this] {
    Status s = Reload();
    if (!s.ok()) log::Warn("provider_switches.reload_failed", {{"error", s.ToString()}});
    return false;
  });
  poller_->Start();
}

void ProviderSwitches::Stop() {
  if (poller_) poller_->Stop();
  poller_.reset();
}

void ProviderSwitches::CancelDisabledLocked() {
  for (Tracked& call : calls_) {
    if (!call.flag->load() && !CheckLocked(call.tenant, call.provider).ok()) {
      call.flag->store(true);
      if (cancelled_ != nullptr) cancelled_->WithLabels({call.provider}).Increment();
    }
  }
}

Status ProviderSwitches::CheckLocked(const TenantId& tenant, std::string_view provider) const {
  const TenantId global = audit::SystemTenant();
  for (const auto& s : switches_) {
    if (s.enabled || s.provider != provider) continue;
    if (s.tenant_id == global || s.tenant_id == tenant) {
      std::string message =
          "the provider " + std::string(provider) + " is disabled by an " +
          (s.tenant_id == global ? "operator for every tenant" : "administrator for this tenant");
      if (!s.reason.empty()) message += ": " + s.reason;
      return FailedPreconditionError(message);
    }
  }
  return OkStatus();
}

Status ProviderSwitches::Check(const TenantId& tenant, std::string_view provider) const {
  std::lock_guard lock(mu_);
  return CheckLocked(tenant, provider);
}

Result<store::ProviderSwitchRecord> ProviderSwitches::Set(const audit::Context& ctx,
                                                          const std::optional<TenantId>& tenant,
                                                          const std::string& provider, bool enabled,
                                                          const std::string& reason) {
  const TenantId scope = tenant.value_or(audit::SystemTenant());
  store::ProviderSwitchRecord record{scope, provider, enabled, reason, clock_.Now()};
  SB_RETURN_IF_ERROR(db_.RunInTenant(scope, [&](store::Transaction& tx) -> Status {
    SB_RETURN_IF_ERROR(repo_.Put(tx, scope, record));
    return audit_.Append(
        tx, scope,
        audit::Event{ctx.actor, enabled ? "provider.enable" : "provider.disable",
                     "providers/" + provider, audit::Outcome::kSuccess, ctx.request_id,
                     Json{{"scope", tenant ? "tenant" : "global"}, {"reason", reason}}});
  }));
  {
    std::lock_guard lock(mu_);
    auto it = std::find_if(switches_.begin(), switches_.end(), [&](const auto& s) {
      return s.tenant_id == scope && s.provider == provider;
    });
    if (it != switches_.end()) {
      *it = record;
    } else {
      switches_.push_back(record);
    }
    ++generation_;
    CancelDisabledLocked();
  }
  log::Warn(enabled ? "provider.enabled" : "provider.disabled",
            {{"provider", provider}, {"scope", tenant ? tenant->value() : "global"}});
  return record;
}

std::vector<store::ProviderSwitchRecord> ProviderSwitches::List() const {
  std::lock_guard lock(mu_);
  auto out = switches_;
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.tenant_id.value(), a.provider) < std::tie(b.tenant_id.value(), b.provider);
  });
  return out;
}

std::unique_ptr<ProviderSwitches::Call> ProviderSwitches::Track(
    const TenantId& tenant, std::string_view provider, std::shared_ptr<std::atomic<bool>> flag) {
  if (!flag) flag = std::make_shared<std::atomic<bool>>(false);
  std::lock_guard lock(mu_);
  if (!CheckLocked(tenant, provider).ok()) flag->store(true);
  calls_.push_back(Tracked{tenant, std::string(provider), flag});
  return std::unique_ptr<Call>(new Call(this, std::prev(calls_.end()), std::move(flag)));
}

void ProviderSwitches::Untrack(std::list<Tracked>::iterator it) {
  std::lock_guard lock(mu_);
  calls_.erase(it);
}

}  // namespace sb::connections
