#include "sandbox/google/seed.h"

#include <random>

#include "sb/caltime/caltime.h"
#include "sb/caltime/recurrence.h"

namespace sandbox::google {
namespace {

constexpr int64_t kMinute = 60'000;
constexpr int64_t kDay = 86'400'000;

constexpr const char* kZones[] = {
    "Europe/Zurich",       "America/New_York", "Asia/Tokyo",   "Europe/London",
    "America/Los_Angeles", "Australia/Sydney", "Asia/Kolkata", "UTC"};
constexpr const char* kTitles[] = {"Weekly sync",
                                   "1:1 Alice / Bob",
                                   "Café Zürich – 会议 📅",
                                   "Réunion d'équipe",
                                   "Ужин с командой",
                                   "Sprint planning",
                                   "Dentist",
                                   "Flight LX 38 ✈",
                                   "Board review",
                                   "Büroumzug – Planung",
                                   "チーム定例",
                                   "Yoga",
                                   "Quarterly business review (QBR) with customer",
                                   "Lunch",
                                   "חג שמח",
                                   "Offsite 🏔"};
constexpr const char* kPeople[][2] = {
    {"bob@example.com", "Bob Builder"},       {"carol@example.org", "Carol Dupré"},
    {"dmitri@example.net", "Дмитрий Иванов"}, {"emi@example.jp", "佐藤 えみ"},
    {"frank@example.com", "Frank Ó Briain"},  {"grace@example.com", "Grace Hopper"}};
constexpr const char* kLocations[] = {"Room 1", "Bahnhofstrasse 1, 8001 Zürich",
                                      "https://meet.example.com/abc-defg-hij", "東京都千代田区"};

std::string LongDescription(std::mt19937_64& rng) {
  static constexpr std::string_view kParagraph =
      "Agenda: review the numbers, decide on the roll-out, and agree on owners. "
      "Notes in <b>HTML</b> are allowed. Ünïcödé ✓ — 日本語のテキスト. ";
  std::string out;
  const size_t target = 2000 + rng() % 6000;
  while (out.size() < target) out += kParagraph;
  return out;
}

std::string LocalText(int64_t utc_ms, const std::string& zone) {
  auto local = sb::caltime::UtcToLocal(utc_ms, zone);
  char text[32];
  std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:00", local->year, local->month,
                local->day, local->hour, local->minute);
  return text;
}

// A start on a round quarter hour between 07:00 and 19:00 (in the zone) on a random day.
int64_t RandomStart(std::mt19937_64& rng, int64_t base_ms, const std::string& zone) {
  const int64_t day = (base_ms / kDay - 90 + static_cast<int64_t>(rng() % 270)) * kDay;
  const int64_t minutes = 7 * 60 + static_cast<int64_t>(rng() % 48) * 15;
  auto local = sb::caltime::UtcToLocal(day, "UTC");
  sb::caltime::LocalDateTime wall = *local;
  wall.hour = static_cast<int>(minutes / 60);
  wall.minute = static_cast<int>(minutes % 60);
  auto utc = sb::caltime::LocalToUtc(wall, zone);
  return utc.ok() ? *utc : day + minutes * kMinute;
}

sb::Json Attendees(std::mt19937_64& rng, const std::string& self) {
  sb::Json out = sb::Json::array();
  const size_t count = rng() % 5;
  if (count == 0) return out;
  out.push_back(
      {{"email", self}, {"organizer", true}, {"self", true}, {"responseStatus", "accepted"}});
  static constexpr const char* kStatus[] = {"needsAction", "accepted", "declined", "tentative"};
  for (size_t i = 0; i < count; ++i) {
    const auto& person = kPeople[(rng() + i) % std::size(kPeople)];
    out.push_back({{"email", person[0]},
                   {"displayName", person[1]},
                   {"optional", rng() % 4 == 0},
                   {"responseStatus", kStatus[rng() % 4]}});
  }
  return out;
}

std::string RecurrenceRule(std::mt19937_64& rng, int64_t start_ms) {
  switch (rng() % 4) {
    case 0:
      return "RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=" + std::to_string(4 + rng() % 20);
    case 1: {
      const std::string until =
          sb::caltime::FormatDate(start_ms + static_cast<int64_t>(30 + rng() % 120) * kDay);
      return "RRULE:FREQ=DAILY;UNTIL=" + until.substr(0, 4) + until.substr(5, 2) +
             until.substr(8, 2) + "T235959Z";
    }
    case 2:
      return "RRULE:FREQ=MONTHLY;BYMONTHDAY=" + std::to_string(1 + rng() % 28) + ";COUNT=12";
    default:
      return "RRULE:FREQ=WEEKLY";  // open-ended
  }
}

sb::Result<sb::Json> CreateOne(CalendarStore& store, const CalendarInfo& calendar,
                               std::mt19937_64& rng, int64_t base_ms, int64_t now_ms,
                               sb::Json& counts) {
  const std::string zone = kZones[rng() % std::size(kZones)];
  sb::Json body = {{"summary", kTitles[rng() % std::size(kTitles)]}};
  if (rng() % 10 == 0) {
    body["description"] = LongDescription(rng);
  } else if (rng() % 2 == 0) {
    body["description"] = "Notes: bring the latest figures. Grüße!";
  }
  if (rng() % 3 == 0) body["location"] = kLocations[rng() % std::size(kLocations)];
  if (rng() % 5 == 0)
    body["extendedProperties"] = {{"private", {{"seed", std::to_string(rng() % 1000)}}}};
  const sb::Json attendees = Attendees(rng, calendar.id);
  if (!attendees.empty()) body["attendees"] = attendees;
  const uint64_t kind = rng() % 100;
  if (kind < 12) {  // all-day, 1-3 days
    const int64_t day = (base_ms / kDay - 60 + static_cast<int64_t>(rng() % 200)) * kDay;
    body["start"] = {{"date", sb::caltime::FormatDate(day)}};
    body["end"] = {
        {"date", sb::caltime::FormatDate(day + static_cast<int64_t>(1 + rng() % 3) * kDay)}};
    counts["all_day"] = counts.value("all_day", 0) + 1;
  } else {
    const int64_t start = RandomStart(rng, base_ms, zone);
    const int64_t length = (15 + static_cast<int64_t>(rng() % 12) * 15) * kMinute;
    body["start"] = {{"dateTime", LocalText(start, zone)}, {"timeZone", zone}};
    body["end"] = {{"dateTime", LocalText(start + length, zone)}, {"timeZone", zone}};
    if (kind >= 80) {
      body["recurrence"] = {RecurrenceRule(rng, start)};
      counts["recurring"] = counts.value("recurring", 0) + 1;
    }
  }
  auto inserted = store.Insert(calendar, body, now_ms);
  if (auto* error = std::get_if<GoogleError>(&inserted)) {
    return sb::InternalError("seed insert failed: " + error->message);
  }
  return sb::Json::parse(std::get<std::string>(inserted));
}

// A moved and a cancelled occurrence of a fresh series.
void AddExceptions(CalendarStore& store, const CalendarInfo& calendar, const sb::Json& series,
                   int64_t now_ms, sb::Json& counts) {
  sb::caltime::EventTime start;
  start.time_zone = series["start"].value("timeZone", "UTC");
  auto parsed = sb::caltime::ParseRfc3339(series["start"].value("dateTime", ""));
  if (!parsed.ok()) return;
  start.utc_ms = *parsed;
  std::vector<std::string> rules = series["recurrence"].get<std::vector<std::string>>();
  auto slots =
      sb::caltime::ExpandRecurrence(start, rules, start.utc_ms, start.utc_ms + 400 * kDay, 3);
  if (!slots.ok() || slots->size() < 3) return;
  const std::string id = series["id"].get<std::string>();
  const std::string moved = id + "_" + sb::caltime::InstanceIdSuffix((*slots)[1]);
  auto moved_start = sb::caltime::FormatRfc3339InZone((*slots)[1].utc_ms + 60 * kMinute, "UTC");
  auto moved_end = sb::caltime::FormatRfc3339InZone((*slots)[1].utc_ms + 120 * kMinute, "UTC");
  sb::Json patch = {{"summary", series.value("summary", "") + " (moved)"},
                    {"start", {{"dateTime", *moved_start}, {"timeZone", start.time_zone}}},
                    {"end", {{"dateTime", *moved_end}, {"timeZone", start.time_zone}}}};
  if (std::holds_alternative<std::string>(store.Write(calendar, moved, patch, false, "", now_ms))) {
    counts["exceptions"] = counts.value("exceptions", 0) + 1;
  }
  const std::string cancelled = id + "_" + sb::caltime::InstanceIdSuffix((*slots)[2]);
  if (std::holds_alternative<std::string>(store.Delete(calendar, cancelled, "", now_ms))) {
    counts["cancelled_occurrences"] = counts.value("cancelled_occurrences", 0) + 1;
  }
}

}  // namespace

sb::Result<sb::Json> Seed(CalendarStore& store, const CalendarInfo& calendar,
                          const SeedOptions& options, int64_t now_ms) {
  std::mt19937_64 rng(options.seed);
  sb::Json counts = {{"created", 0}};
  for (int64_t i = 0; i < options.events; ++i) {
    auto created = CreateOne(store, calendar, rng, options.base_ms, now_ms, counts);
    if (!created.ok()) return created.status();
    counts["created"] = counts["created"].get<int64_t>() + 1;
    if (created->contains("recurrence") && (*created)["start"].contains("dateTime")) {
      AddExceptions(store, calendar, *created, now_ms, counts);
    }
  }
  return counts;
}

sb::Result<sb::Json> Mutate(CalendarStore& store, const CalendarInfo& calendar,
                            const MutateOptions& options, int64_t now_ms) {
  std::mt19937_64 rng(options.seed ^ static_cast<uint64_t>(now_ms));
  sb::Json counts =
      sb::Json::object();  // CreateOne counts kinds with value(), which needs an object
  sb::Json created = sb::Json::array();
  sb::Json updated = sb::Json::array();
  sb::Json deleted = sb::Json::array();
  // Updates and deletes touch only events that existed before this call: one created and
  // deleted in the same mutation never reaches an incremental feed, so a caller counting the
  // answer's creates would wait for one that cannot come.
  std::vector<std::string> ids =
      store.LiveEventIds(calendar, static_cast<size_t>(options.updates + options.deletes) * 4 + 16);
  std::shuffle(ids.begin(), ids.end(), rng);
  for (int64_t i = 0; i < options.creates; ++i) {
    auto event = CreateOne(store, calendar, rng, now_ms, now_ms, counts);
    if (!event.ok()) return event.status();
    created.push_back((*event)["id"]);
  }
  size_t next = 0;
  for (int64_t i = 0; i < options.updates && next < ids.size(); ++i, ++next) {
    const sb::Json patch = {
        {"summary", std::string(kTitles[rng() % std::size(kTitles)]) + " (edited)"},
        {"location", kLocations[rng() % std::size(kLocations)]}};
    if (std::holds_alternative<std::string>(
            store.Write(calendar, ids[next], patch, false, "", now_ms))) {
      updated.push_back(ids[next]);
    }
  }
  for (int64_t i = 0; i < options.deletes && next < ids.size(); ++i, ++next) {
    if (std::holds_alternative<std::string>(store.Delete(calendar, ids[next], "", now_ms))) {
      deleted.push_back(ids[next]);
    }
  }
  return sb::Json{{"created", created}, {"updated", updated}, {"deleted", deleted}};
}

}  // namespace sandbox::google
