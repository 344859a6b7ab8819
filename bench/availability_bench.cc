// Availability latency (not a test): p50/p90/p99 of AvailabilityReader::Compute on SQLite.
//
// The store: one tenant, 10 connections, each with one synced calendar (Europe/Zurich) holding
// 40 single events over the two weeks from Monday 2 March 2026 (weekdays, 30 to 90 minutes,
// starting on the half hour between 07:00 and 15:00 UTC), a few transparent or cancelled, plus 4
// series started in January: a weekday standup, two weekly meetings and a Friday review with one
// cancelled occurrence. The query: all 10 connections over those two weeks, Zurich working hours
// (09:00-17:00, Monday to Friday) and 30-minute slots; single-threaded, after `warmup` untimed
// calls.
//
//   availability_bench [iterations=500] [warmup=20]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/random.h"
#include "sb/caltime/caltime.h"
#include "sb/store/calendar/calendar_repository.h"
#include "sb/store/connections/connect_repository.h"
#include "sb/store/tenancy/tenant_repository.h"
#include "sb/store/testing/test_backends.h"
#include "sb/sync/calendar/availability_reader.h"
#include "sb/sync/calendar/model.h"

namespace {

using sb::CalendarId;
using sb::ConnectionId;
using sb::EventId;
using sb::TenantId;
using sb::store::Transaction;
namespace cal = sb::sync::calendar;

constexpr int kConnections = 10;
constexpr int kSinglesPerCalendar = 40;
constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kDayMs = 86'400'000;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "availability_bench: %s\n", what.c_str());
  std::exit(1);
}

void Check(const sb::Status& s, const char* what) {
  if (!s.ok()) Die(std::string(what) + ": " + s.ToString());
}

int64_t At(const char* rfc3339) {
  auto ms = sb::caltime::ParseRfc3339(rfc3339);
  if (!ms.ok()) Die(rfc3339);
  return *ms;
}

struct Seeder {
  sb::store::Database& db;
  sb::IdGenerator& ids;
  const sb::Clock& clock;
  TenantId tenant;
  sb::store::CalendarRepository cals;

  sb::store::EventRecord Record(const ConnectionId& connection, const CalendarId& calendar,
                                const cal::Event& e) {
    sb::store::EventRecord r;
    r.tenant_id = tenant;
    r.id = EventId(ids.NewUuid());
    r.connection_id = connection;
    r.calendar_id = calendar;
    r.provider_id = e.provider_id;
    r.series_master_provider_id = e.series_master_provider_id;
    r.status = std::string(cal::EventStatusName(e.status));
    auto span = cal::EventSpan(e);
    Check(span.status(), "span");
    r.start_ms = span->start_ms;
    r.end_ms = span->end_ms;
    r.data = cal::EventToJson(e);
    r.content_hash = std::string(64, 'a');
    r.created_at = clock.Now();
    r.updated_at = r.created_at;
    return r;
  }

  static cal::Event Timed(std::string id, int64_t start_ms, int64_t minutes) {
    cal::Event e;
    e.provider_id = std::move(id);
    e.title = "Meeting";
    e.start.instant_ms = start_ms;
    e.start.time_zone = "Europe/Zurich";
    e.end.instant_ms = start_ms + minutes * kMinuteMs;
    e.end.time_zone = "Europe/Zurich";
    return e;
  }

  static cal::Event Series(std::string id, const char* first_start, int64_t minutes,
                           std::string rule) {
    cal::Event e = Timed(std::move(id), At(first_start), minutes);
    e.kind = cal::EventKind::kSeriesMaster;
    e.recurrence = {std::move(rule)};
    return e;
  }

  // Deterministic spread of `kSinglesPerCalendar` events over the 10 weekdays from `monday`.
  std::vector<cal::Event> Events(int connection_index, int64_t monday) {
    std::vector<cal::Event> out;
    for (int k = 0; k < kSinglesPerCalendar; ++k) {
      // Day and half-hour from the index, so that calendars overlap as colleagues' do; odd
      // connections half an hour later.
      const int day = k % 10;
      const int64_t date = monday + (day + (day >= 5 ? 2 : 0)) * kDayMs;  // skip the weekend
      const int64_t slot = (k * 7 + connection_index % 2) % 16;
      const int64_t start = date + (7 * 60 + slot * 30) * kMinuteMs;
      cal::Event e = Timed("single-" + std::to_string(k), start, 30 + (k % 3) * 30);
      if (k % 11 == 0) e.transparency = cal::Transparency::kTransparent;
      if (k % 13 == 0) e.status = cal::EventStatus::kCancelled;
      out.push_back(std::move(e));
    }
    out.push_back(
        Series("standup", "2026-01-05T08:15:00Z", 15, "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"));
    out.push_back(Series("team", "2026-01-06T13:00:00Z", 60, "RRULE:FREQ=WEEKLY;BYDAY=TU"));
    out.push_back(Series("one-on-one", "2026-01-07T10:00:00Z", 30, "RRULE:FREQ=WEEKLY;BYDAY=WE"));
    out.push_back(Series("review", "2026-01-09T15:00:00Z", 60, "RRULE:FREQ=WEEKLY;BYDAY=FR"));
    cal::Event skipped = Timed("review_20260306T150000Z", At("2026-03-06T15:00:00Z"), 60);
    skipped.kind = cal::EventKind::kException;
    skipped.series_master_provider_id = "review";
    skipped.original_start = skipped.start;
    skipped.status = cal::EventStatus::kCancelled;
    out.push_back(std::move(skipped));
    return out;
  }

  ConnectionId Connection(int index, int64_t monday) {
    sb::store::ConnectionRecord c;
    c.tenant_id = tenant;
    c.id = ConnectionId(ids.NewUuid());
    c.provider = "google";
    c.end_user_id = "user-" + std::to_string(index);
    c.account_subject = "sub-" + c.id.value();
    c.created_at = clock.Now();
    c.updated_at = c.created_at;
    sb::store::CalendarRecord calendar;
    calendar.tenant_id = tenant;
    calendar.id = CalendarId(ids.NewUuid());
    calendar.connection_id = c.id;
    calendar.provider_id = "primary";
    calendar.name = "primary";
    cal::Calendar unified;
    unified.provider_id = "primary";
    unified.time_zone = "Europe/Zurich";
    calendar.data = cal::CalendarToJson(unified);
    calendar.created_at = clock.Now();
    calendar.updated_at = calendar.created_at;
    std::vector<sb::store::EventRecord> records;
    for (const cal::Event& e : Events(index, monday)) {
      records.push_back(Record(c.id, calendar.id, e));
    }
    Check(db.RunInTenant(tenant,
                         [&](Transaction& tx) -> sb::Status {
                           SB_RETURN_IF_ERROR(
                               sb::store::ConnectionRepository().Insert(tx, tenant, c));
                           SB_RETURN_IF_ERROR(cals.UpsertCalendar(tx, tenant, calendar).status());
                           return cals.PutEvents(tx, tenant, records);
                         }),
          "seed");
    return c.id;
  }
};

double Percentile(std::vector<double>& sorted, double p) {
  return sorted[std::min(sorted.size() - 1,
                         static_cast<size_t>(p * static_cast<double>(sorted.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 500;
  const int warmup = argc > 2 ? std::atoi(argv[2]) : 20;
  if (iterations <= 0 || warmup < 0) Die("usage: availability_bench [iterations] [warmup]");
  sb::store::testing::SqliteTestBackend backend;
  auto opened = sb::store::testing::OpenMigrated(backend);
  Check(opened.status(), "database");
  sb::store::Database& db = **opened;
  sb::SystemClock clock;
  sb::SystemRandom random;
  sb::IdGenerator ids(clock, random);

  const TenantId tenant(ids.NewUuid());
  Check(
      db.RunInTenant(
          tenant,
          [&](Transaction& tx) {
            return sb::store::TenantRepository().Insert(tx, tenant, {tenant, "bench", clock.Now()});
          }),
      "tenant");
  const int64_t monday = At("2026-03-02T00:00:00Z");
  Seeder seeder{db, ids, clock, tenant, {}};
  cal::AvailabilityQuery query;
  for (int i = 0; i < kConnections; ++i) query.connections.push_back(seeder.Connection(i, monday));
  query.start_ms = monday;
  query.end_ms = monday + 14 * kDayMs;
  query.time_zone = "Europe/Zurich";
  query.hours = cal::WorkingHours{};
  query.slot_ms = 30 * kMinuteMs;

  cal::AvailabilityReader reader(db);
  cal::Availability last;
  for (int i = 0; i < warmup; ++i) Check(reader.Compute(tenant, query).status(), "warm-up");
  std::vector<double> ms;
  for (int i = 0; i < iterations; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto got = reader.Compute(tenant, query);
    const auto t1 = std::chrono::steady_clock::now();
    Check(got.status(), "compute");
    last = std::move(*got);
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("connections %d, events/calendar %d + 4 series, window 14 days, %d iterations\n",
              kConnections, kSinglesPerCalendar, iterations);
  std::printf("result: %zu busy, %zu free, %zu slots\n", last.busy.size(), last.free.size(),
              last.slots.size());
  std::printf("Compute ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n", Percentile(ms, 0.50),
              Percentile(ms, 0.90), Percentile(ms, 0.99), ms.back());
  return 0;
}
