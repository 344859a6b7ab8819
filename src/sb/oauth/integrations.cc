#include "sb/oauth/integrations.h"

#include "sb/store/vault/secret_repository.h"

namespace sb::oauth {
namespace {

constexpr char kSecretField[] = "client_secret";

vault::SecretContext SecretOf(const TenantId& tenant, const std::string& provider) {
  return {tenant, store::IntegrationSecretOwner(provider), kSecretField};
}

Json ServicesJson(const std::vector<store::ServiceGrant>& services) {
  Json out = Json::array();
  for (const auto& grant : services) {
    out.push_back({{"service", grant.service}, {"write", grant.write}});
  }
  return out;
}

}  // namespace

Status IntegrationService::Validate(const IntegrationInput& input) const {
  const ProviderEntry* entry = catalog_.Find(input.provider);
  if (entry == nullptr) return NotFoundError("unknown provider: " + input.provider);
  if (!entry->uses_oauth()) {
    // End users bring their own credentials; the tenant only chooses to offer the provider.
    if (!input.client_id.empty() || input.client_secret || !input.services.empty() ||
        !input.extra_scopes.empty()) {
      return InvalidArgumentError("provider '" + input.provider +
                                  "' takes its end users' own credentials: an integration has no "
                                  "client_id, client_secret, services or extra_scopes");
    }
    return OkStatus();
  }
  if (input.client_id.empty()) return InvalidArgumentError("client_id is required");
  if (input.client_secret && (input.client_secret->empty() || input.client_secret->size() > 4096)) {
    return InvalidArgumentError("client_secret must be 1 to 4096 bytes");
  }
  std::vector<std::pair<std::string, bool>> services;
  for (const auto& grant : input.services) services.emplace_back(grant.service, grant.write);
  // The catalog knows which services the provider offers and which scopes are well-formed.
  return catalog_.ScopesFor(input.provider, services, input.extra_scopes).status();
}

Result<IntegrationView> IntegrationService::Put(const TenantId& tenant,
                                                const IntegrationInput& input,
                                                const audit::Context& ctx) {
  SB_RETURN_IF_ERROR(Validate(input));
  store::IntegrationRecord record;
  record.tenant_id = tenant;
  record.provider = input.provider;
  record.client_id = input.client_id;
  record.services = input.services;
  record.extra_scopes = input.extra_scopes;
  record.enabled = input.enabled;
  record.allow_reassignment = input.allow_reassignment;
  record.conflict_policies = input.conflict_policies;
  IntegrationView view;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto existing, repo_.Get(tx, tenant, input.provider));
    const bool oauth = catalog_.Find(input.provider)->uses_oauth();
    if (!existing && !input.client_secret && oauth) {
      return InvalidArgumentError("client_secret is required when creating an integration");
    }
    SB_ASSIGN_OR_RETURN(view.record,
                        repo_.Upsert(tx, tenant, record, clock_.Now(), input.expected_version));
    Json details = {{"provider", input.provider},
                    {"client_id", input.client_id},
                    {"services", ServicesJson(input.services)},
                    {"extra_scopes", input.extra_scopes},
                    {"enabled", input.enabled},
                    {"allow_reassignment", input.allow_reassignment},
                    {"conflict_policies", input.conflict_policies},
                    {"version", view.record.version}};
    if (input.client_secret) {
      SB_RETURN_IF_ERROR(secrets_.Put(tx, SecretOf(tenant, input.provider), *input.client_secret));
      details["client_secret"] = audit_.HmacSecret(*input.client_secret);
    }
    view.has_client_secret = oauth;
    return audit_.Append(
        tx, tenant,
        audit::Event{ctx.actor, existing ? "integration.update" : "integration.create",
                     "integrations/" + input.provider, audit::Outcome::kSuccess, ctx.request_id,
                     std::move(details)});
  }));
  return view;
}

Result<std::optional<IntegrationView>> IntegrationService::Get(const TenantId& tenant,
                                                               const std::string& provider) {
  std::optional<IntegrationView> out;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(auto record, repo_.Get(tx, tenant, provider));
        if (!record) return OkStatus();
        store::SecretRepository raw;
        SB_ASSIGN_OR_RETURN(
            auto secret,
            raw.Get(tx, tenant, store::IntegrationSecretOwner(provider), kSecretField));
        out = IntegrationView{std::move(*record), secret.has_value()};
        return OkStatus();
      }));
  return out;
}

Result<std::vector<IntegrationView>> IntegrationService::List(const TenantId& tenant) {
  std::vector<IntegrationView> out;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(auto records, repo_.List(tx, tenant));
        store::SecretRepository raw;
        for (auto& record : records) {
          SB_ASSIGN_OR_RETURN(
              auto secret,
              raw.Get(tx, tenant, store::IntegrationSecretOwner(record.provider), kSecretField));
          out.push_back(IntegrationView{std::move(record), secret.has_value()});
        }
        return OkStatus();
      }));
  return out;
}

Result<bool> IntegrationService::Delete(const TenantId& tenant, const std::string& provider,
                                        const audit::Context& ctx) {
  bool existed = false;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(existed, repo_.Delete(tx, tenant, provider));
    if (!existed) return OkStatus();
    SB_RETURN_IF_ERROR(secrets_.Delete(tx, SecretOf(tenant, provider)).status());
    return audit_.Append(
        tx, tenant,
        audit::Event{ctx.actor, "integration.delete", "integrations/" + provider,
                     audit::Outcome::kSuccess, ctx.request_id, Json{{"provider", provider}}});
  }));
  return existed;
}

Result<IntegrationCredentials> IntegrationService::Credentials(const TenantId& tenant,
                                                               const std::string& provider) {
  std::optional<IntegrationCredentials> out;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(auto record, repo_.Get(tx, tenant, provider));
        if (!record) {
          return NotFoundError("no integration for " + provider);
        }
        if (!record->enabled) {
          return FailedPreconditionError("the " + provider + " integration is disabled");
        }
        SB_ASSIGN_OR_RETURN(auto secret, secrets_.Get(tx, SecretOf(tenant, provider)));
        if (!secret) {
          return FailedPreconditionError("the " + provider + " integration has no client secret");
        }
        out = IntegrationCredentials{record->client_id, std::move(*secret),
                                     record->allow_reassignment};
        return OkStatus();
      }));
  return std::move(*out);
}

}  // namespace sb::oauth
