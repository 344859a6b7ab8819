// Storage of push subscriptions (issue 15, PRODUCT.md section 10): one row per Google Calendar
// channel or Microsoft Graph subscription that Switchboard holds for a connection's synced
// resource (`push_channels`), and the inbox of notifications received (`push_inbox`), whose
// unique key makes a notification delivered twice count once.
//
// The channel's secret (Google's channel token, Graph's clientState) is stored only as its
// SHA-256; a notification's secret is compared with it in constant time.
//
// Rows go with their connection (foreign key, cascade); inbox rows with their channel.
//
// Stateless SQL over a Transaction, thread-safe; tenant scoping, maintenance calls and error
// codes as in admin_repository.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/status.h"
#include "sb/store/database.h"

namespace sb::store {

enum class PushChannelStatus { kActive, kStopped };
std::string_view PushChannelStatusName(PushChannelStatus status);  // "active", "stopped"
std::optional<PushChannelStatus> ParsePushChannelStatus(std::string_view name);

struct PushChannelRecord {
  TenantId tenant_id;
  std::string id;  // Switchboard's id of the channel (UUID)
  ConnectionId connection_id;
  std::string service;      // "calendar"
  std::string provider;     // "google", "microsoft"
  std::string resource;     // the watched calendar's provider id; 1..1024 bytes
  std::string external_id;  // Google's channel id (ours, given at watch), Graph's subscription
                            // id; 1..256 bytes; unique per (tenant, provider)
  std::string resource_id;  // Google's X-Goog-Resource-ID; "" for Graph; at most 256 bytes
  std::string secret_hash;  // lowercase hex SHA-256 of the channel token / clientState
  Timestamp expires_at;
  PushChannelStatus status = PushChannelStatus::kActive;
  int64_t renew_failures = 0;  // consecutive failed renewals
  std::string last_error;      // at most 1024 bytes, never a secret
  Timestamp created_at;
  Timestamp updated_at;

  friend bool operator==(const PushChannelRecord&, const PushChannelRecord&) = default;
};

class PushRepository {
 public:
  static constexpr int kMaxListLimit = 1000;

  // ALREADY_EXISTS for a duplicate id or (provider, external_id); NOT_FOUND when the connection
  // does not exist.
  Status Insert(Transaction& tx, const TenantId& tenant, const PushChannelRecord& record);
  // Replaces the mutable fields (external_id, resource_id, secret_hash, expires_at, status,
  // renew_failures, last_error, updated_at). NOT_FOUND when there is no such channel;
  // ALREADY_EXISTS when the new external_id is another channel's of the provider.
  Status Update(Transaction& tx, const TenantId& tenant, const PushChannelRecord& record);
  Result<bool> Delete(Transaction& tx, const TenantId& tenant, const std::string& id);
  Result<std::optional<PushChannelRecord>> FindByExternal(Transaction& tx, const TenantId& tenant,
                                                          std::string_view provider,
                                                          std::string_view external_id);
  // A connection's channels (every status), oldest first.
  Result<std::vector<PushChannelRecord>> ListForConnection(Transaction& tx, const TenantId& tenant,
                                                           const ConnectionId& connection);
  // Maintenance: up to `limit` (tenant, connection) pairs with an active channel due for
  // renewal at `now`, the soonest first, for the renewal scheduler; each pair once (ordered by
  // its soonest-expiring channel), after skipping the first `offset` (paging through a pass).
  // Due: expiring before now + `margin` and, unless its last renewal failed, past half its life
  // (expires_at + updated_at <= 2 * now), so that a channel the provider granted for less than
  // twice the margin is renewed at half its life rather than listed on every pass.
  Result<std::vector<std::pair<TenantId, ConnectionId>>> MaintenanceListExpiring(
      Transaction& tx, Timestamp now, std::chrono::microseconds margin, int limit,
      int64_t offset = 0);

  // Records a notification in the inbox: true when it is new, false when `message_key` (the
  // provider's message number, or a digest of the notification) was seen for the channel.
  // INVALID_ARGUMENT unless `message_key` is 1..128 bytes of visible ASCII (no spaces);
  // NOT_FOUND when there is no such channel.
  Result<bool> RecordNotification(Transaction& tx, const TenantId& tenant,
                                  const std::string& channel_id, const std::string& message_key,
                                  Timestamp received_at);
  // Maintenance: deletes inbox rows received before `before`; returns how many.
  Result<int64_t> MaintenancePruneInbox(Transaction& tx, Timestamp before);
};

}  // namespace sb::store
