// /v1 routes of sync (issue 15): starting a sync by hand and watching its run, a connection's
// sync states, synced calendars and events, and the tenant's change feed.
//
//   POST /v1/connections/{id}/sync     {"service": "calendar"} -> 202 the run (an open run when
//                                      one is queued or running: coalesced)
//   GET  /v1/connections/{id}/sync     the connection's sync states
//   GET  /v1/sync-runs/{id}            a run with its live progress
//   GET  /v1/connections/{id}/calendars
//   GET  /v1/connections/{id}/events   calendar_id, time_min, time_max, updated_since, cursor,
//                                      limit, expand_recurring
//   GET  /v1/events/{id}
//   GET  /v1/changes                   cursor, types (comma-separated), limit
#pragma once

#include "sb/http/request.h"
#include "sb/http/response.h"
#include "sb/sync/calendar/reader.h"
#include "sb/sync/engine.h"

namespace sb::api {

class SyncHandlers {
 public:
  SyncHandlers(sync::SyncEngine& engine, sync::calendar::CalendarReader& calendars)
      : engine_(engine), calendars_(calendars) {}

  http::Response StartSync(http::Request& request);
  http::Response ListStates(http::Request& request);
  http::Response GetRun(http::Request& request);
  http::Response ListCalendars(http::Request& request);
  // GET /v1/connections/{id}/sync-runs (read): the connection's runs, newest first.
  http::Response ListRuns(http::Request& request);
  http::Response ListEvents(http::Request& request);
  http::Response GetEvent(http::Request& request);
  http::Response ListChanges(http::Request& request);

 private:
  Result<http::Response> DoStartSync(http::Request& request);
  Result<http::Response> DoListStates(http::Request& request);
  Result<http::Response> DoGetRun(http::Request& request);
  Result<http::Response> DoListCalendars(http::Request& request);
  Result<http::Response> DoListRuns(http::Request& request);
  Result<http::Response> DoListEvents(http::Request& request);
  Result<http::Response> DoGetEvent(http::Request& request);
  Result<http::Response> DoListChanges(http::Request& request);

  sync::SyncEngine& engine_;
  sync::calendar::CalendarReader& calendars_;
};

}  // namespace sb::api
