// PageApplier: one page of a calendar's events applied to the store inside the run's
// transaction (CalendarSync's work for each page): the page's stored events read at once,
// upserts gathered and written in batches, only real changes published (a content hash), the
// host's mappings followed (a write in flight holds its event back, Switchboard's own write comes
// back silently), series removed with their exceptions, and Graph's occurrence ids kept so that
// a removed occurrence cancels its slot. A full round marks what it saw; RemoveUnseen then
// deletes the rest. Not thread-safe: one per page.
#pragma once

#include <memory>
#include <vector>

#include "sb/base/ids.h"
#include "sb/base/status.h"
#include "sb/store/database.h"
#include "sb/sync/calendar/model.h"
#include "sb/sync/engine.h"

namespace sb::sync::calendar {

class PageApplier {
 public:
  // `full`: the page belongs to a full round of `calendar`.
  PageApplier(RunContext& context, store::Transaction& tx, const CalendarId& calendar, bool full,
              IdGenerator& ids);
  ~PageApplier();
  PageApplier(const PageApplier&) = delete;
  PageApplier& operator=(const PageApplier&) = delete;

  // Reads what the page's items need from the store, before Apply.
  Status Begin(const std::vector<EventChange>& items);
  // One item. An item the store refuses (an id too long, control characters in a version) is
  // skipped: one hostile item cannot hold up the calendar's sync.
  Status Apply(const EventChange& change);
  // The end of a full round: what it did not see is gone at the provider.
  Status RemoveUnseen();
  // Writes what is gathered and publishes the page's changes.
  Status Finish();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sb::sync::calendar
