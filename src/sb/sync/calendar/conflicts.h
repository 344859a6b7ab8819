// Conflicts between the host's writes and provider changes (issue 16, PRODUCT.md section 7):
// the policy that applies, the side an automatic policy picks, and the API's view of a conflict
// with a field-level difference of the two versions. Pure; thread-safe.
//
// Policies: `last_modified_wins` (the default: the side changed last wins, the provider's
// `updated` against the time the host wrote), `provider_wins`, `host_wins`, and `manual`
// (nothing is written on either side; the conflict waits in the queue). A connection's settings
// may name its own per service: {"conflict_policies": {"calendar": "manual"}}; otherwise the
// integration's, otherwise the default.
#pragma once

#include <optional>
#include <string_view>

#include "sb/base/clock.h"
#include "sb/base/json.h"
#include "sb/store/calendar/conflict_repository.h"
#include "sb/sync/calendar/model.h"

namespace sb::sync::calendar {

// The connection's own policy for `service` from its settings, else `fallback`.
store::ConflictPolicy PolicyFromSettings(const Json& settings, std::string_view service,
                                         store::ConflictPolicy fallback);

// The side an automatic policy picks: kProvider or kHost; kNone for `manual`. `provider` is
// the provider's version (nullopt: deleted there; a deletion counts as changed now).
store::ConflictResolution AutomaticWinner(store::ConflictPolicy policy,
                                          const std::optional<Event>& provider,
                                          Timestamp host_written_at, Timestamp now);

// [{"field", "host", "provider"}] for every writable member (outbound.h) whose values differ.
Json ConflictDifferences(const Json& host_event, const Json& provider_event);

// The API's view: ids, policy, status, resolution, times; with `detail`, both versions, the
// merged event of a merged resolution and the differences.
Json ConflictJson(const store::EventConflictRecord& conflict, bool detail);

}  // namespace sb::sync::calendar
