// Storage of the host's mapping of its own schedule entries to provider events (issue 16,
// PRODUCT.md section 7): one row per (connection, external id) the host named, tying its id to
// the calendar, the provider's event id and version, Switchboard's unified event once it
// exists, and the mapping's sync state. `host_version` counts the host's writes; a write that
// could not reach the provider yet keeps the event it asked for in `pending`.
//
// Rows go with their connection and their calendar (foreign keys, cascade). `event_id` is not
// a foreign key: the event row may be replaced or removed by a sync while the mapping stays
// (state and error say what happened).
//
// Stateless SQL over a Transaction, thread-safe; tenant scoping, maintenance calls and error
// codes as in admin_repository.h.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/json.h"
#include "sb/base/status.h"
#include "sb/store/database.h"

namespace sb::store {

enum class MappingState { kSynced, kPending, kConflict, kError };
std::string_view MappingStateName(MappingState state);  // "synced", "pending", "conflict", ...
std::optional<MappingState> ParseMappingState(std::string_view name);

struct EventMappingRecord {
  TenantId tenant_id;
  std::string id;  // Switchboard's id of the mapping (canonical UUID)
  ConnectionId connection_id;
  CalendarId calendar_id;           // the synced calendar the event lives in
  std::string external_id;          // the host's id: 1..256 bytes of visible ASCII, no space
  std::optional<EventId> event_id;  // the unified event, once stored
  std::string provider_id;          // the provider's event id; "" until known; <= 1024 bytes
  std::string provider_version;     // etag / changeKey last written or seen; <= 256 bytes
  int64_t host_version = 0;         // >= 0; the number of host writes applied or queued
  MappingState state = MappingState::kPending;
  std::string last_error;  // the provider's reason (state error); <= 1024 bytes
  Json pending = nullptr;  // null, or the event (object) awaiting its write;
                           // at most 1 MiB serialized
  Timestamp created_at;
  Timestamp updated_at;

  friend bool operator==(const EventMappingRecord&, const EventMappingRecord&) = default;
};

class EventMappingRepository {
 public:
  static constexpr int kMaxLookup = 256;

  // ALREADY_EXISTS for a duplicate id or (connection, external_id); NOT_FOUND when the
  // connection or the calendar does not exist (or the calendar is another connection's:
  // INVALID_ARGUMENT); INVALID_ARGUMENT for a field out of its bounds.
  Status Insert(Transaction& tx, const TenantId& tenant, const EventMappingRecord& record);
  // Replaces every field but tenant_id, id, connection_id, external_id and created_at, when
  // the stored host_version is `expected_host_version` (compare and set): false when it is
  // not (nothing written). NOT_FOUND when there is no such mapping or no such calendar;
  // INVALID_ARGUMENT for a field out of its bounds (every field is checked, the kept ones too),
  // a negative `expected_host_version`, or a calendar of another connection than the mapping's.
  Result<bool> Update(Transaction& tx, const TenantId& tenant, const EventMappingRecord& record,
                      int64_t expected_host_version);
  Result<bool> Delete(Transaction& tx, const TenantId& tenant, const std::string& id);
  Result<std::optional<EventMappingRecord>> Get(Transaction& tx, const TenantId& tenant,
                                                const std::string& id);
  Result<std::optional<EventMappingRecord>> FindByExternalId(Transaction& tx,
                                                             const TenantId& tenant,
                                                             const ConnectionId& connection,
                                                             std::string_view external_id);
  Result<std::optional<EventMappingRecord>> FindByEvent(Transaction& tx, const TenantId& tenant,
                                                        const EventId& event);
  // The mappings of `calendar` whose provider_id is one of `provider_ids` (at most kMaxLookup,
  // INVALID_ARGUMENT beyond), in no particular order; for a sync page's items. An id no mapping
  // could have ("", too long, control characters) matches nothing, like
  // CalendarRepository::FindEvents.
  Result<std::vector<EventMappingRecord>> FindByProviderIds(
      Transaction& tx, const TenantId& tenant, const CalendarId& calendar,
      std::span<const std::string> provider_ids);
  // A connection's mappings, id order, after `after` (a mapping id, exclusive; "" for the first
  // page), at most `limit` (1..1000), optionally only those in `state`.
  Result<std::vector<EventMappingRecord>> List(Transaction& tx, const TenantId& tenant,
                                               const ConnectionId& connection,
                                               std::optional<MappingState> state,
                                               std::string_view after, int limit);
};

}  // namespace sb::store
