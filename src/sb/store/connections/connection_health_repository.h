// Storage of connection health (issue 6): one row per connection in `connection_health`
// (inserted with the connection by ConnectionRepository::Insert), kept apart from the row so that
// recording a call's outcome never races the refresh's compare-and-set on the connection. The row
// goes with its connection (foreign key, cascade), as do its incidents
// (`connection_health_incidents`, the health history the dashboard shows).
//
// Stateless SQL over a Transaction, thread-safe; tenant scoping, maintenance calls and error
// codes as in admin_repository.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/status.h"
#include "sb/store/database.h"
#include "sb/store/updated_cursor.h"

namespace sb::store {

struct ConnectionHealthRecord {
  TenantId tenant_id;
  ConnectionId connection_id;
  std::optional<Timestamp> last_success_at;  // the last provider call that worked
  std::optional<Timestamp> last_error_at;
  std::string last_error_kind;  // a short machine word ("token_rejected", ...); "" when none
  std::string last_error;       // what happened, for people; never a token; <= 1024 bytes
  int64_t consecutive_failures = 0;
  std::optional<Timestamp> incident_since;   // set while an alerted incident is open
  std::optional<Timestamp> retry_at;         // when a rate-limited or failing call is retried
  std::optional<Timestamp> last_checked_at;  // the last live health check
  std::optional<Timestamp> next_check_at;    // when the scheduler checks again
  Timestamp updated_at;

  friend bool operator==(const ConnectionHealthRecord&, const ConnectionHealthRecord&) = default;
};

// One incident of a connection (connection_health_incidents): opened when the connection became
// unhealthy enough to alert, closed by the next success. `seq` counts the connection's
// incidents from 1; the newest kIncidentsKept are kept.
struct HealthIncidentRecord {
  TenantId tenant_id;
  ConnectionId connection_id;
  int64_t seq = 0;
  Timestamp opened_at;
  std::optional<Timestamp> closed_at;  // nullopt while open
  std::string error_kind;              // the failure that opened it, as last_error_kind
  std::string error;                   // for people; never a token; <= 1024 bytes

  friend bool operator==(const HealthIncidentRecord&, const HealthIncidentRecord&) = default;
};

// A connection with an open incident (connection_health.incident_since set), with what the
// overview shows of its connection: ConnectionHealthRepository::ListOpenIncidents.
struct OpenIncidentRecord {
  ConnectionId connection_id;
  std::string provider;
  std::string end_user_id;
  Timestamp incident_since;
  std::string last_error_kind;  // as ConnectionHealthRecord's
  std::string last_error;       // for people; never a token

  friend bool operator==(const OpenIncidentRecord&, const OpenIncidentRecord&) = default;
};

class ConnectionHealthRepository {
 public:
  static constexpr int kMaxListLimit = 1000;
  static constexpr int64_t kIncidentsKept = 100;

  Result<std::optional<ConnectionHealthRecord>> Get(Transaction& tx, const TenantId& tenant,
                                                    const ConnectionId& id);
  // Inserts or replaces the row. NOT_FOUND when the connection does not exist.
  Status Put(Transaction& tx, const TenantId& tenant, const ConnectionHealthRecord& record);

  // Up to `limit` (1..kMaxListLimit) of the tenant's rows updated after `after`, in
  // (updated_at, connection_id) order (connection_health_by_update); see updated_cursor.h, whose
  // key is the connection id here.
  Result<std::vector<ConnectionHealthRecord>> ListUpdatedSince(Transaction& tx,
                                                               const TenantId& tenant,
                                                               const UpdatedCursor& after,
                                                               int limit);

  // Records an incident opened at record.opened_at with the next seq (record.seq is ignored)
  // and returns it; drops the connection's incidents older than the newest kIncidentsKept.
  // NOT_FOUND when the connection does not exist.
  Result<HealthIncidentRecord> OpenIncident(Transaction& tx, const TenantId& tenant,
                                            const HealthIncidentRecord& record);
  // Closes the connection's open incidents at `closed_at` (none open: nothing happens).
  Status CloseIncidents(Transaction& tx, const TenantId& tenant, const ConnectionId& connection,
                        Timestamp closed_at);
  // The connection's incidents newest first: up to `limit` (1..kMaxListLimit) with seq below
  // `before` (nullopt: from the newest).
  Result<std::vector<HealthIncidentRecord>> ListIncidents(Transaction& tx, const TenantId& tenant,
                                                          const ConnectionId& connection,
                                                          std::optional<int64_t> before, int limit);

  // How many of the tenant's connections have an open incident.
  Result<int64_t> CountOpenIncidents(Transaction& tx, const TenantId& tenant);
  // Up to `limit` (1..kMaxListLimit) of the tenant's connections with an open incident, the
  // newest incident first (ties by connection id, descending), through the partial index
  // connection_health_open_incidents (migration 27).
  Result<std::vector<OpenIncidentRecord>> ListOpenIncidents(Transaction& tx, const TenantId& tenant,
                                                            int limit);

  // Maintenance: up to `limit` connections whose health check is due at `due`, the
  // longest-waiting first, for the health scheduler. A new connection's row is due at once.
  Result<std::vector<std::pair<TenantId, ConnectionId>>> MaintenanceListDue(Transaction& tx,
                                                                            Timestamp due,
                                                                            int limit);
};

}  // namespace sb::store
