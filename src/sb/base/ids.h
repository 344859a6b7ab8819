// Strong id types (TenantId, ApiKeyId, ...) over canonical lowercase UUID text, and an
// IdGenerator that makes time-ordered UUIDv7 ids (RFC 9562) so that ids sort by creation time
// and serve as pagination cursors. IdGenerator is thread-safe.
#pragma once

#include <compare>
#include <functional>
#include <string>
#include <string_view>

#include "sb/base/clock.h"
#include "sb/base/random.h"

namespace sb {

// True for canonical lowercase 8-4-4-4-12 hex UUID text.
bool IsCanonicalUuid(std::string_view text);

template <typename Tag>
class StrongId {
 public:
  StrongId() = default;
  explicit StrongId(std::string value) : value_(std::move(value)) {}

  const std::string& value() const { return value_; }
  bool empty() const { return value_.empty(); }
  bool valid() const { return IsCanonicalUuid(value_); }

  friend auto operator<=>(const StrongId&, const StrongId&) = default;

 private:
  std::string value_;
};

struct TenantTag {};
struct ApiKeyTag {};
struct ConnectSessionTag {};
struct ConnectionTag {};
struct JobTag {};
struct WebhookEndpointTag {};
struct WebhookDeliveryTag {};
struct SyncRunTag {};
struct CalendarTag {};
struct EventTag {};
struct DashboardUserTag {};
struct DashboardSessionTag {};
using TenantId = StrongId<TenantTag>;
using ApiKeyId = StrongId<ApiKeyTag>;
using ConnectSessionId = StrongId<ConnectSessionTag>;
using ConnectionId = StrongId<ConnectionTag>;
using JobId = StrongId<JobTag>;
using WebhookEndpointId = StrongId<WebhookEndpointTag>;
using WebhookDeliveryId = StrongId<WebhookDeliveryTag>;
using SyncRunId = StrongId<SyncRunTag>;
using CalendarId = StrongId<CalendarTag>;  // a synced calendar (Switchboard's id)
using EventId = StrongId<EventTag>;        // a synced event (Switchboard's id)
using DashboardUserId = StrongId<DashboardUserTag>;
using DashboardSessionId = StrongId<DashboardSessionTag>;

class IdGenerator {
 public:
  IdGenerator(const Clock& clock, Random& random) : clock_(clock), random_(random) {}
  // A new UUIDv7 in canonical text form.
  std::string NewUuid();

 private:
  const Clock& clock_;
  Random& random_;
};

}  // namespace sb

template <typename Tag>
struct std::hash<sb::StrongId<Tag>> {
  size_t operator()(const sb::StrongId<Tag>& id) const {
    return std::hash<std::string>()(id.value());
  }
};
