// Storage of conflicts between the host's writes and provider changes (issue 16, PRODUCT.md
// section 7): one row per conflict, with both versions of the event (unified JSON), the policy
// that applied and, once resolved, the winning side and who decided. Automatic policies store
// their conflicts already resolved (the losing version kept here); `manual` ones stay open
// until resolved through the API. Rows go with their connection (foreign key, cascade).
//
// Stateless SQL over a Transaction, thread-safe; tenant scoping, maintenance calls and error
// codes as in admin_repository.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/json.h"
#include "sb/base/status.h"
#include "sb/store/database.h"

namespace sb::store {

enum class ConflictPolicy { kLastModifiedWins, kProviderWins, kHostWins, kManual };
enum class ConflictStatus { kOpen, kResolved };
enum class ConflictResolution { kNone, kProvider, kHost, kMerged };

std::string_view ConflictPolicyName(ConflictPolicy v);  // "last_modified_wins", ...
std::optional<ConflictPolicy> ParseConflictPolicy(std::string_view name);
// A map of policies by service, as integrations and connection settings name them:
// {"calendar" | "email" | "contacts": "<policy>"}. INVALID_ARGUMENT naming what is wrong.
Status CheckConflictPolicies(const Json& policies);
std::string_view ConflictStatusName(ConflictStatus v);  // "open", "resolved"
std::optional<ConflictStatus> ParseConflictStatus(std::string_view name);
std::string_view ConflictResolutionName(ConflictResolution v);  // "", "provider", "host", ...
std::optional<ConflictResolution> ParseConflictResolution(std::string_view name);

struct EventConflictRecord {
  TenantId tenant_id;
  std::string id;  // canonical UUID
  ConnectionId connection_id;
  std::string mapping_id;   // the host's entry (canonical UUID)
  std::string external_id;  // its external id: 1..256 bytes of visible ASCII
  std::optional<EventId> event_id;
  ConflictPolicy policy = ConflictPolicy::kLastModifiedWins;
  ConflictStatus status = ConflictStatus::kOpen;
  ConflictResolution resolution = ConflictResolution::kNone;  // kNone exactly while open
  Json host_event = Json::object();  // the host's version; an object of at most 1 MiB
  Json provider_event = nullptr;     // the provider's version (object), null: deleted there
  Json resolved_event = nullptr;     // a merged resolution's event (object), else null
  std::string resolved_by;           // "" while open; else 1..200 bytes ("policy", an actor)
  Timestamp detected_at;
  std::optional<Timestamp> resolved_at;  // set exactly when resolved
  friend bool operator==(const EventConflictRecord&, const EventConflictRecord&) = default;
};

struct ConflictFilter {
  std::optional<ConnectionId> connection;
  std::optional<ConflictStatus> status;
  std::string after;  // a conflict id (exclusive); "" for the first page
  int limit = 100;    // 1..1000
};

class ConflictRepository {
 public:
  // ALREADY_EXISTS for a duplicate id; NOT_FOUND when the connection does not exist;
  // INVALID_ARGUMENT for a field out of its bounds (or an open record with a resolution).
  Status Insert(Transaction& tx, const TenantId& tenant, const EventConflictRecord& record);
  Result<std::optional<EventConflictRecord>> Get(Transaction& tx, const TenantId& tenant,
                                                 const std::string& id);
  // The open conflict of a mapping, if any (the oldest when several).
  Result<std::optional<EventConflictRecord>> FindOpen(Transaction& tx, const TenantId& tenant,
                                                      const std::string& mapping_id);
  // Id order (oldest first).
  Result<std::vector<EventConflictRecord>> List(Transaction& tx, const TenantId& tenant,
                                                const ConflictFilter& filter);
  // Marks an open conflict resolved (resolution not kNone; `merged` the event of a merged
  // resolution, else null): false when it is not open (nothing written). NOT_FOUND when there
  // is no such conflict.
  Result<bool> Resolve(Transaction& tx, const TenantId& tenant, const std::string& id,
                       ConflictResolution resolution, const Json& merged,
                       const std::string& resolved_by, Timestamp at);
};

}  // namespace sb::store
