#include "sb/tenancy/api_keys.h"

#include "sb/base/encoding.h"
#include "sb/base/logging.h"
#include "sb/tenancy/tenant_token.h"
#include "sb/vault/digest.h"

namespace sb::tenancy {
namespace {

constexpr std::string_view kPrefix = "sb_live_";

Status InvalidKey() { return UnauthenticatedError("invalid or revoked API key"); }

std::string HashKey(std::string_view token) { return HexEncode(vault::Sha256(token)); }

std::set<Scope> ScopesOf(const std::vector<std::string>& names) {
  std::set<Scope> scopes;
  for (const std::string& n : names) {
    if (auto s = ParseScope(n)) scopes.insert(*s);
  }
  return scopes;
}

}  // namespace

std::optional<Scope> ParseScope(std::string_view text) {
  if (text == "admin") return Scope::kAdmin;
  if (text == "read") return Scope::kRead;
  if (text == "write") return Scope::kWrite;
  if (text == "operator") return Scope::kOperator;
  return std::nullopt;
}

std::string_view ScopeName(Scope scope) {
  switch (scope) {
    case Scope::kAdmin:
      return "admin";
    case Scope::kRead:
      return "read";
    case Scope::kWrite:
      return "write";
    case Scope::kOperator:
      return "operator";
  }
  return "read";
}

ApiKeyService::ApiKeyService(ApiKeyDeps deps, ApiKeyServiceOptions options)
    : db_(deps.db),
      clock_(deps.clock),
      random_(deps.random),
      ids_(deps.ids),
      audit_(deps.audit),
      options_(options) {}

std::optional<TenantId> ApiKeyService::TenantOfKey(std::string_view token) {
  return TenantOfToken(kPrefix, token);
}

Result<IssuedKey> ApiKeyService::Create(const audit::Context& ctx, const TenantId& tenant,
                                        const std::string& name, const std::set<Scope>& scopes) {
  if (!tenant.valid()) return InvalidArgumentError("tenant id is not a valid id");
  if (scopes.empty()) return InvalidArgumentError("an API key needs at least one scope");
  if (scopes.count(Scope::kOperator) > 0 && tenant != audit::SystemTenant()) {
    return InvalidArgumentError("the operator scope is only for keys of the system tenant " +
                                audit::SystemTenant().value());
  }
  if (name.empty() || name.size() > 200 || !IsValidUtf8(name)) {
    return InvalidArgumentError("name must be 1 to 200 characters of UTF-8");
  }
  IssuedKey issued;
  issued.plaintext = NewTenantToken(kPrefix, tenant, random_);
  store::ApiKeyRecord& r = issued.record;
  r.tenant_id = tenant;
  r.id = ApiKeyId(ids_.NewUuid());
  r.name = name;
  r.key_hash = HashKey(issued.plaintext);
  for (Scope s : scopes) r.scopes.emplace_back(ScopeName(s));
  r.created_at = clock_.Now();
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto existing, tenants_.Get(tx, tenant));
    if (!existing) return NotFoundError("tenant " + tenant.value() + " does not exist");
    SB_RETURN_IF_ERROR(keys_.Insert(tx, tenant, r));
    return audit_.Append(tx, tenant,
                         audit::Event{ctx.actor, "api_key.create", "api_keys/" + r.id.value(),
                                      audit::Outcome::kSuccess, ctx.request_id,
                                      Json{{"name", name},
                                           {"scopes", r.scopes},
                                           {"key", audit_.HmacSecret(issued.plaintext)}}});
  }));
  return issued;
}

void ApiKeyService::RecordFailure(std::string_view token, const AuthAttempt& attempt,
                                  std::string_view reason) {
  const std::optional<TenantId> tenant = TenantOfKey(token);
  audit::Event event{audit::Actor{audit::ActorKind::kAnonymous, ""},
                     "auth.failure",
                     "api_keys",
                     audit::Outcome::kDenied,
                     attempt.request_id,
                     Json{{"reason", reason},
                          {"remote", attempt.remote_address},
                          {"key", audit_.HmacSecret(token)}}};
  // The key's tenant gets the entry when it exists; anything else goes to the system chain, so
  // that made-up tenant ids cannot create chains.
  bool recorded = false;
  Status s = OkStatus();
  if (tenant) {
    s = db_.RunInTenant(*tenant, [&](store::Transaction& tx) -> Status {
      SB_ASSIGN_OR_RETURN(auto existing, tenants_.Get(tx, *tenant));
      if (!existing) return OkStatus();
      recorded = true;
      return audit_.Append(tx, *tenant, event);
    });
  }
  if (s.ok() && !recorded) {
    event.details["tenant"] = tenant ? tenant->value() : "";
    s = db_.RunInTenant(audit::SystemTenant(), [&](store::Transaction& tx) {
      return audit_.Append(tx, audit::SystemTenant(), event);
    });
  }
  if (!s.ok()) {
    log::Warn("auth.failure_not_audited",
              {{"request_id", attempt.request_id}, {"error", s.ToString()}});
  }
}

Result<Principal> ApiKeyService::Authenticate(std::string_view token, std::string* failure_reason) {
  std::optional<TenantId> tenant = TenantOfKey(token);
  if (!tenant) {
    if (failure_reason != nullptr) *failure_reason = "malformed key";
    return InvalidKey();
  }
  const std::string hash = HashKey(token);
  std::optional<store::ApiKeyRecord> found;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(*tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(found, keys_.FindByHash(tx, *tenant, hash));
        return OkStatus();
      }));
  if (!found || found->revoked_at || !vault::ConstantTimeEquals(found->key_hash, hash)) {
    if (failure_reason != nullptr) *failure_reason = found ? "revoked key" : "unknown key";
    return InvalidKey();
  }
  const Timestamp now = clock_.Now();
  if (!found->last_used_at || now - *found->last_used_at >= options_.last_used_resolution) {
    // Bookkeeping only: a failure to record last use does not turn away a valid key.
    Status touched = db_.RunInTenant(*tenant, [&](store::Transaction& tx) {
      return keys_.TouchLastUsed(tx, *tenant, found->id, now);
    });
    if (!touched.ok()) {
      log::Warn("apikey.touch_failed",
                {{"key_id", found->id.value()}, {"error", touched.ToString()}});
    }
  }
  return Principal{found->tenant_id, found->id, ScopesOf(found->scopes)};
}

Result<std::vector<store::ApiKeyRecord>> ApiKeyService::List(const TenantId& tenant,
                                                             const std::optional<ApiKeyId>& after,
                                                             int limit) {
  std::vector<store::ApiKeyRecord> out;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(out, keys_.List(tx, tenant, after, limit));
        return OkStatus();
      }));
  return out;
}

Result<store::ApiKeyRecord> ApiKeyService::Get(const TenantId& tenant, const ApiKeyId& id) {
  std::optional<store::ApiKeyRecord> out;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(out, keys_.Get(tx, tenant, id));
        return OkStatus();
      }));
  if (!out) return NotFoundError("API key " + id.value() + " not found");
  return *out;
}

Status ApiKeyService::Revoke(const audit::Context& ctx, const TenantId& tenant,
                             const ApiKeyId& id) {
  bool revoked = false;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(revoked, keys_.Revoke(tx, tenant, id, clock_.Now()));
    if (!revoked) return OkStatus();
    return audit_.Append(tx, tenant,
                         audit::Event{ctx.actor, "api_key.revoke", "api_keys/" + id.value(),
                                      audit::Outcome::kSuccess, ctx.request_id, Json::object()});
  }));
  if (!revoked) return NotFoundError("API key " + id.value() + " not found or already revoked");
  return OkStatus();
}

}  // namespace sb::tenancy
