// CalendarSync: the calendar capability of the sync engine (issue 15), for Google Calendar and
// Microsoft Graph.
//
// A run first lists the account's calendars (stored, changes published, calendars gone at the
// provider deleted with their events), then syncs each calendar's events page by page. The
// run's checkpoint holds the calendars still to do and the position within the current one;
// the state's cursor holds each calendar's syncToken / delta link, replaced only by the commit
// of a round's last page.
//
// A calendar without a cursor, or whose cursor the provider rejects (410), is synced in full:
// every event received is marked with the run's id, and the commit of the last page deletes the
// calendar's events the round did not mark (gone at the provider). An event whose unified form
// did not change (content hash) publishes nothing, so a resync that finds nothing new is silent.
#pragma once

#include <memory>
#include <string_view>

#include "sb/base/ids.h"
#include "sb/store/calendar/calendar_repository.h"
#include "sb/sync/calendar/model.h"
#include "sb/sync/calendar/sources.h"
#include "sb/sync/engine.h"

namespace sb::sync::calendar {

inline constexpr char kCalendarService[] = "calendar";
class CalendarPush;

class CalendarSync final : public ServiceSync {
 public:
  CalendarSync(ProviderClient& client, const Clock& clock, IdGenerator& ids)
      : client_(client), clock_(clock), ids_(ids) {}

  std::string_view service() const override { return kCalendarService; }
  bool Supports(std::string_view provider) const override;
  Result<Fetched<bool>> Step(RunContext& context) override;
  Status OnSucceeded(store::Transaction& tx, RunContext& context) override;
  // Push channels are ensured after every successful run; null (the default): no push.
  void SetPush(CalendarPush* push) { push_ = push; }

 private:
  Result<Fetched<bool>> SyncCalendars(RunContext& context, CalendarSource& source);
  Result<Fetched<bool>> SyncEvents(RunContext& context, CalendarSource& source);

  ProviderClient& client_;
  const Clock& clock_;
  IdGenerator& ids_;
  CalendarPush* push_ = nullptr;
};

// The API's view of a stored calendar and event (the unified JSON plus Switchboard's ids).
Json CalendarApiJson(const store::CalendarRecord& record);
Json EventApiJson(const store::EventRecord& record);
// The same, taking the record's unified JSON instead of copying it (record.data is left empty).
Json EventApiJson(store::EventRecord&& record);

}  // namespace sb::sync::calendar
