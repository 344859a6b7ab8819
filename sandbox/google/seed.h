// Realistic calendar content for an account: single events across several time zones,
// all-day events, recurring series (daily/weekly/monthly, COUNT, UNTIL or open-ended) with a
// moved and a cancelled occurrence, attendees, long descriptions and non-ASCII text. The same
// seed gives the same calendar (for a given base time). Events go through CalendarStore::Insert
// and Write, so they obey the same rules as events created over the API.
#pragma once

#include <cstdint>

#include "sandbox/google/calendar_store.h"

#include "sb/base/json.h"
#include "sb/base/status.h"

namespace sandbox::google {

struct SeedOptions {
  int64_t events = 50;
  uint64_t seed = 1;
  int64_t base_ms = 0;  // events spread from 90 days before to 180 days after this
};

// Returns counts by kind, e.g. {"created":50,"recurring":8,"exceptions":8,...}.
sb::Result<sb::Json> Seed(CalendarStore& store, const CalendarInfo& calendar,
                          const SeedOptions& options, int64_t now_ms);

struct MutateOptions {
  int64_t creates = 0;
  int64_t updates = 0;
  int64_t deletes = 0;
  uint64_t seed = 7;
};

// Changes a user might make in the provider's own UI: new events, edited titles and times,
// deletions. Returns the ids touched.
sb::Result<sb::Json> Mutate(CalendarStore& store, const CalendarInfo& calendar,
                            const MutateOptions& options, int64_t now_ms);

}  // namespace sandbox::google
