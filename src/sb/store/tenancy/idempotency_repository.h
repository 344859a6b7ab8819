// Storage of the Idempotency-Key header's results (issue 16): one row per (tenant, key) a
// client sent with a write. The first request with a key claims it (status 0, in progress,
// held until `locked_until`), runs, and stores its answer; a retry with the same key and the
// same request (fingerprint) gets that answer again, a retry with another request is refused,
// and a retry while the first is still running waits or is told to. A claim whose holder died
// (locked_until passed without an answer) can be taken over. Rows expire at `expires_at`.
//
// Stateless SQL over a Transaction, thread-safe; tenant scoping, maintenance calls and error
// codes as in admin_repository.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/json.h"
#include "sb/base/status.h"
#include "sb/store/database.h"

namespace sb::store {

struct IdempotencyRecord {
  TenantId tenant_id;
  std::string key;                // 1..255 bytes of visible ASCII (0x21..0x7e)
  std::string fingerprint;        // lowercase hex SHA-256 of the request (64 chars)
  int status = 0;                 // the answer's HTTP status; 0 while in progress
  Json headers = Json::object();  // the answer's headers worth replaying (name -> string
                                  // value); at most 64 KiB serialized
  std::string body;               // the answer's body; at most 1 MiB
  Timestamp created_at;
  Timestamp locked_until;  // an in-progress claim is the holder's until then
  Timestamp expires_at;

  friend bool operator==(const IdempotencyRecord&, const IdempotencyRecord&) = default;
};

enum class ClaimOutcome {
  kClaimed,  // the caller holds the key now (a new row, or an abandoned claim taken over)
  kFound,    // another request holds or answered it: see `existing`
};

struct IdempotencyClaim {
  ClaimOutcome outcome = ClaimOutcome::kClaimed;
  std::optional<IdempotencyRecord> existing;  // kFound: the stored row
};

class IdempotencyRepository {
 public:
  // Claims `record.key` for the tenant: a new row from `record` (status must be 0), or the
  // existing row's claim when it is in progress with locked_until <= now (its fingerprint,
  // created_at, locked_until and expires_at replaced by `record`'s); otherwise kFound with the
  // stored row. An expired row (expires_at <= now) counts as absent and is replaced (every
  // field). INVALID_ARGUMENT for a field out of its bounds.
  Result<IdempotencyClaim> Claim(Transaction& tx, const TenantId& tenant,
                                 const IdempotencyRecord& record, Timestamp now);
  // Stores the answer of a claimed key (status 100..599). NOT_FOUND when there is no row;
  // FAILED_PRECONDITION when the key was answered already (the stored answer stays).
  Status Complete(Transaction& tx, const TenantId& tenant, std::string_view key, int status,
                  const Json& headers, std::string_view body);
  // Gives up a claim that produced no answer worth replaying (the row is deleted, only while
  // in progress); false when there was none.
  Result<bool> Release(Transaction& tx, const TenantId& tenant, std::string_view key);
  Result<std::optional<IdempotencyRecord>> Get(Transaction& tx, const TenantId& tenant,
                                               std::string_view key);
  // Maintenance: deletes up to `limit` (1..10000) rows that have expired at `now`
  // (expires_at <= now, as Claim counts them), the longest expired first; returns how many.
  Result<int64_t> MaintenanceDeleteExpired(Transaction& tx, Timestamp now, int limit);
};

}  // namespace sb::store
