// ConnectionEvents: where connection changes are announced (connection.created, .updated,
// .reauthorization_required, .deleted). Emit runs inside the transaction of the change, so an
// event exists exactly when the change committed (the outbox of issue 6); an error from Emit
// rolls the change back. The webhooks module implements it (a higher layer, injected by the
// app); without one, nothing is announced.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "sb/base/ids.h"
#include "sb/base/json.h"
#include "sb/base/status.h"
#include "sb/store/database.h"

namespace sb::connections {

// One event of a batch: its type ("event.created") and its data.
struct Announcement {
  std::string type;
  Json data;
};

class ConnectionEvents {
 public:
  virtual ~ConnectionEvents() = default;
  virtual Status Emit(store::Transaction& tx, const TenantId& tenant, std::string_view type,
                      const Json& data) = 0;
  // Emit for each, in order; an implementation may share work between them (a sync page
  // announces hundreds of changes at once).
  virtual Status EmitAll(store::Transaction& tx, const TenantId& tenant,
                         std::span<const Announcement> events) {
    for (const Announcement& event : events) {
      SB_RETURN_IF_ERROR(Emit(tx, tenant, event.type, event.data));
    }
    return OkStatus();
  }
};

}  // namespace sb::connections
