// /v1 routes of calendar writes from the host (issue 16; sync/calendar/writer.h):
//
//   POST   /v1/connections/{id}/events      a new event (body: the event, optional calendar_id;
//                                           default the primary calendar) -> 201
//   PATCH  /v1/events/{id}                  a merge patch of the event's writable members -> 200
//   DELETE /v1/events/{id}                  -> 204
//   PATCH  /v1/events/{id}/occurrences/{original_start}
//                                           one occurrence of a series changed (an exception)
//   DELETE /v1/events/{id}/occurrences/{original_start}
//                                           one occurrence cancelled -> 200 (the cancelled
//                                           exception)
//   POST   /v1/events/{id}/split            {"from": original start, "changes": {...},
//                                            "external_id": optional} the series from that
//                                           occurrence on: {"series", "following"} -> 200
//   PUT    /v1/connections/{id}/events/by-external-id/{external_id}
//                                           the host's entry: created (201) or replaced (200)
//   GET    /v1/connections/{id}/events/by-external-id/{external_id}
//   DELETE /v1/connections/{id}/events/by-external-id/{external_id}   -> 204
//   GET    /v1/conflicts                    status (open, resolved), connection_id, cursor, limit
//   GET    /v1/conflicts/{id}               both versions and their field-level differences
//   POST   /v1/conflicts/{id}/resolve       {"choose": "provider" | "host" | "merged",
//                                            "event": {...} (merged: a patch of the host's)}
//
// Answers carry the stored event with its `mapping` (state, provider ids and version) and an
// ETag of the event's version; a write the provider cannot take now is 202 with the mapping
// (the job sends it); If-Match with a stale version is 412; a write the provider's newer
// version stopped is 409 with the mapping in state `conflict`. Every write honours
// Idempotency-Key (idempotency.h).
#pragma once

#include "sb/api/idempotency.h"
#include "sb/http/request.h"
#include "sb/http/response.h"
#include "sb/sync/calendar/writer.h"

namespace sb::api {

class EventHandlers {
 public:
  EventHandlers(sync::calendar::EventWriter& writer, IdempotentWrites& idempotent)
      : writer_(writer), idempotent_(idempotent) {}

  http::Response Create(http::Request& request);
  http::Response Patch(http::Request& request);
  http::Response Delete(http::Request& request);
  http::Response PatchOccurrence(http::Request& request);
  http::Response CancelOccurrence(http::Request& request);
  http::Response Split(http::Request& request);
  http::Response Put(http::Request& request);
  http::Response Get(http::Request& request);
  http::Response DeleteByExternalId(http::Request& request);
  http::Response ListConflicts(http::Request& request);
  http::Response GetConflict(http::Request& request);
  http::Response ResolveConflict(http::Request& request);

 private:
  Result<http::Response> DoCreate(http::Request& request);
  Result<http::Response> DoPatch(http::Request& request);
  Result<http::Response> DoDelete(http::Request& request);
  Result<http::Response> DoOccurrence(http::Request& request, bool cancel);
  Result<http::Response> DoSplit(http::Request& request);
  Result<http::Response> DoPut(http::Request& request);
  Result<http::Response> DoGet(http::Request& request);
  Result<http::Response> DoDeleteByExternalId(http::Request& request);
  Result<http::Response> DoListConflicts(http::Request& request);
  Result<http::Response> DoGetConflict(http::Request& request);
  Result<http::Response> DoResolveConflict(http::Request& request);

  sync::calendar::EventWriter& writer_;
  IdempotentWrites& idempotent_;
};

}  // namespace sb::api
