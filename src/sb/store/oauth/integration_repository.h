// Storage of integrations: a tenant's OAuth app for one provider (client id, the services it
// enabled, extra scopes, on/off). The client secret is not stored here but in the vault
// (vault_secrets, owner IntegrationSecretOwner(provider), field "client_secret"), written in
// the same transaction by the service that owns integrations. Stateless SQL over a
// Transaction, thread-safe. Every call takes the tenant explicitly, filters by it, and refuses
// a transaction scoped to another tenant (PERMISSION_DENIED); malformed rows give DATA_LOSS.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/json.h"
#include "sb/base/status.h"
#include "sb/store/database.h"

namespace sb::store {

struct ServiceGrant {
  std::string service;  // "calendar", "email", "contacts"
  bool write = false;   // read-write rather than read-only

  friend bool operator==(const ServiceGrant&, const ServiceGrant&) = default;
};

struct IntegrationRecord {
  TenantId tenant_id;
  std::string provider;   // catalog id: 1..64 of [a-z0-9-]
  std::string client_id;  // 1..512 printable bytes; empty for a credential provider
  std::vector<ServiceGrant> services;
  std::vector<std::string> extra_scopes;
  bool enabled = true;
  // Whether a provider account connected for one end user may be moved to another end user of
  // the tenant by a later connect flow (migration 10; default false: refused and audited).
  bool allow_reassignment = false;
  // The conflict policy per service (migration 17): {"calendar": "manual"}; a connection's
  // settings.conflict_policies override it (sync/calendar/conflicts.h).
  Json conflict_policies = Json::object();
  Timestamp created_at;
  Timestamp updated_at;
  int64_t version = 0;  // 1 on creation, +1 on every change

  friend bool operator==(const IntegrationRecord&, const IntegrationRecord&) = default;
};

// The vault owner id of an integration's client secret.
std::string IntegrationSecretOwner(std::string_view provider);

class IntegrationRepository {
 public:
  static constexpr size_t kMaxScopes = 100;

  // Creates or replaces the tenant's integration for record.provider and returns what is
  // stored: version 1 and created_at = `at` for a new one; for an existing one created_at is
  // kept and version incremented. With `expected_version`, replaces only that version
  // (ABORTED otherwise: someone else changed it). INVALID_ARGUMENT for malformed fields.
  Result<IntegrationRecord> Upsert(Transaction& tx, const TenantId& tenant,
                                   const IntegrationRecord& record, Timestamp at,
                                   std::optional<int64_t> expected_version = std::nullopt);
  Result<std::optional<IntegrationRecord>> Get(Transaction& tx, const TenantId& tenant,
                                               const std::string& provider);
  // All of the tenant's integrations, by provider.
  Result<std::vector<IntegrationRecord>> List(Transaction& tx, const TenantId& tenant);
  // False when it did not exist.
  Result<bool> Delete(Transaction& tx, const TenantId& tenant, const std::string& provider);
};

}  // namespace sb::store
