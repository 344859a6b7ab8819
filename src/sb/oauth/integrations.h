// IntegrationService: a tenant's OAuth app per provider (client id, client secret, enabled
// services, extra scopes, on/off): the `/v1/integrations/{provider}` resource.
//
// The provider must be in the catalog and the services must be ones it offers. The client
// secret goes only through the vault (owner "integration:<provider>", field "client_secret"),
// in the same transaction as the row and its audit entry; it is never returned (views say
// only whether one is stored) and the audit entry carries it only as its HMAC (AUD-02).
// Creating needs a secret; replacing may omit it to keep the stored one. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sb/audit/audit_log.h"
#include "sb/audit/context.h"
#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/json.h"
#include "sb/oauth/catalog.h"
#include "sb/store/database.h"
#include "sb/store/oauth/integration_repository.h"
#include "sb/vault/secret_store.h"

namespace sb::oauth {

struct IntegrationInput {
  std::string provider;
  std::string client_id;
  std::optional<std::string> client_secret;  // required on create; absent keeps the stored one
  std::vector<store::ServiceGrant> services;
  std::vector<std::string> extra_scopes;
  bool enabled = true;
  bool allow_reassignment = false;          // see store::IntegrationRecord
  Json conflict_policies = Json::object();  // see store::IntegrationRecord
  std::optional<int64_t> expected_version;  // If-Match: replace only this version
};

struct IntegrationView {
  store::IntegrationRecord record;
  bool has_client_secret = false;
};

struct IntegrationCredentials {
  std::string client_id;
  vault::SecretBytes client_secret;
  bool allow_reassignment = false;  // the integration's setting, for the connect flow
};

// What IntegrationService works with.
struct IntegrationDeps {
  store::Database& db;
  const ProviderCatalog& catalog;
  vault::SecretStore& secrets;  // holds the client secrets
  audit::AuditLog& audit;
  const Clock& clock;
};

class IntegrationService {
 public:
  explicit IntegrationService(IntegrationDeps deps)
      : db_(deps.db),
        catalog_(deps.catalog),
        secrets_(deps.secrets),
        audit_(deps.audit),
        clock_(deps.clock) {}

  // Creates or replaces. NOT_FOUND for a provider the catalog lacks, INVALID_ARGUMENT for bad
  // fields or services the provider does not offer, ABORTED for a stale expected_version.
  Result<IntegrationView> Put(const TenantId& tenant, const IntegrationInput& input,
                              const audit::Context& ctx);
  Result<std::optional<IntegrationView>> Get(const TenantId& tenant, const std::string& provider);
  Result<std::vector<IntegrationView>> List(const TenantId& tenant);
  // Deletes the row and the secret; false when there was none.
  Result<bool> Delete(const TenantId& tenant, const std::string& provider,
                      const audit::Context& ctx);

  // For the connect flow and token refresh: the app's credentials, secret decrypted.
  // NOT_FOUND when the tenant has no such integration; FAILED_PRECONDITION when disabled.
  Result<IntegrationCredentials> Credentials(const TenantId& tenant, const std::string& provider);

 private:
  Status Validate(const IntegrationInput& input) const;

  store::Database& db_;
  const ProviderCatalog& catalog_;
  vault::SecretStore& secrets_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  store::IntegrationRepository repo_;
};

}  // namespace sb::oauth
