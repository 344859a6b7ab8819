// POST /v1/availability (issue 16): busy time, free time and bookable slots over one or more
// connections' calendars, from the synced store when fresh, else from the provider
// (sync/calendar/availability_reader.h). Read scope.
//
//   {"connection_ids": [uuid, ...],          1..20
//    "time_min": RFC 3339, "time_max": RFC 3339,   at most 62 days
//    "time_zone": IANA,                      working hours and all-day events (default UTC)
//    "working_hours": {"start": "09:00", "end": "17:00",
//                      "days": ["monday", ...]}    optional; none: the whole window
//    "slot_minutes": 30,                     optional; 5..1440
//    "source": "auto",                       optional; auto, store, provider
//    "max_staleness_seconds": 900}           optional; auto: the store is fresh within this
// -> {"busy_by_connection": [{connection_id, busy, source, stale}], "busy": [...], "free": [...],
//     "slots": [...]}
#pragma once

#include "sb/http/request.h"
#include "sb/http/response.h"
#include "sb/sync/calendar/availability_reader.h"

namespace sb::api {

class AvailabilityHandlers {
 public:
  explicit AvailabilityHandlers(sync::calendar::AvailabilityReader& reader) : reader_(reader) {}

  http::Response Post(http::Request& request);

 private:
  Result<http::Response> DoPost(http::Request& request);

  sync::calendar::AvailabilityReader& reader_;
};

}  // namespace sb::api
