// The provider side of calendar sync: listing a connection's calendars and fetching one page
// of a calendar's events, for Google Calendar (provider-protocols.md 3.1-3.4, 3.8) and
// Microsoft Graph (8.2, 8.4). Stateless apart from the ProviderClient; thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sb/base/ids.h"
#include "sb/sync/calendar/model.h"
#include "sb/sync/provider_client.h"

namespace sb::sync::calendar {

struct EventPage {
  std::vector<EventChange> items;
  std::vector<std::string> skipped;  // items that did not translate (why), for the run's log
  std::string next_page;             // where the round continues; "" on its last page
  std::string cursor;                // the last page only: where the next incremental round starts
};

// Where a page starts: the stored cursor of the last complete round (empty: a full round) and
// the position within the current round (empty: its first page).
struct PagePosition {
  std::string cursor;
  std::string page;
};

class CalendarSource {
 public:
  virtual ~CalendarSource() = default;
  // Every calendar of the account (all pages; bounded).
  virtual Fetched<std::vector<Calendar>> ListCalendars(const TenantId& tenant,
                                                       const ConnectionId& connection) = 0;
  virtual Fetched<EventPage> FetchEvents(const TenantId& tenant, const ConnectionId& connection,
                                         const Calendar& calendar,
                                         const PagePosition& position) = 0;
};

// nullptr for a provider without calendar sync.
std::unique_ptr<CalendarSource> MakeCalendarSource(std::string_view provider,
                                                   ProviderClient& client, const Clock& clock);

}  // namespace sb::sync::calendar
