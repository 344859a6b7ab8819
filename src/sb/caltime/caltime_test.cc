#include "sb/caltime/caltime.h"

#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "sb/caltime/windows_zones.h"

namespace sb::caltime {
namespace {

// 2024-05-06T08:00:00Z, the first instance of the spec's weekly example.
constexpr int64_t kMay6At8Utc = 1'714'982'400'000;

int64_t Ms(std::string_view rfc3339) {
  sb::Result<int64_t> r = ParseRfc3339(rfc3339);
  EXPECT_TRUE(r.ok()) << rfc3339 << ": " << r.status().ToString();
  return r.ok() ? *r : 0;
}

TEST(ParseRfc3339Test, AcceptsOffsetsAndFractions) {
  EXPECT_EQ(Ms("2024-05-06T08:00:00Z"), kMay6At8Utc);
  EXPECT_EQ(Ms("2024-05-06T10:00:00+02:00"), kMay6At8Utc);
  EXPECT_EQ(Ms("2024-05-06T03:00:00-05:00"), kMay6At8Utc);
  EXPECT_EQ(Ms("2024-05-06T02:30:00-05:30"), kMay6At8Utc);
  EXPECT_EQ(Ms("2024-05-06t08:00:00z"), kMay6At8Utc);
  EXPECT_EQ(Ms("2024-05-06T08:00:00.5Z"), kMay6At8Utc + 500);
  EXPECT_EQ(Ms("2024-05-06T08:00:00.345Z"), kMay6At8Utc + 345);
  // Digits beyond milliseconds are truncated, never rounded into the next unit.
  EXPECT_EQ(Ms("2024-05-06T08:00:00.3456789Z"), kMay6At8Utc + 345);
  EXPECT_EQ(Ms("2024-05-06T09:59:59.999+01:00"), kMay6At8Utc + 3'599'999);
  EXPECT_EQ(Ms("1969-12-31T23:59:59.999Z"), -1);
}

TEST(ParseRfc3339Test, RejectsMalformed) {
  for (const char* bad :
       {"", "2024-05-06T08:00:00", "2024-05-06 08:00:00Z", "2024-05-06T08:00Z",
        "2024-13-06T08:00:00Z", "2024-02-30T08:00:00Z", "2024-05-06T24:00:00Z",
        "2024-05-06T08:00:60Z", "2024-05-06T08:00:00.Z", "2024-05-06T08:00:00+2:00",
        "2024-05-06T08:00:00+0200", "2024-05-06T08:00:00Zjunk", "2024-05-06"}) {
    const sb::Result<int64_t> r = ParseRfc3339(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), sb::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(FormatRfc3339InZoneTest, RendersWallTimeWithOffset) {
  EXPECT_EQ(*FormatRfc3339InZone(kMay6At8Utc, "Europe/Zurich"), "2024-05-06T10:00:00+02:00");
  EXPECT_EQ(*FormatRfc3339InZone(Ms("2024-01-15T15:00:00Z"), "America/New_York"),
            "2024-01-15T10:00:00-05:00");
  EXPECT_EQ(*FormatRfc3339InZone(kMay6At8Utc, "Asia/Kolkata"), "2024-05-06T13:30:00+05:30");
  EXPECT_EQ(*FormatRfc3339InZone(kMay6At8Utc, "America/St_Johns"), "2024-05-06T05:30:00-02:30");
  // Google renders UTC with "Z"; London in winter is +00:00, not UTC.
  EXPECT_EQ(*FormatRfc3339InZone(kMay6At8Utc, "UTC"), "2024-05-06T08:00:00Z");
  EXPECT_EQ(*FormatRfc3339InZone(kMay6At8Utc, "Etc/UTC"), "2024-05-06T08:00:00Z");
  EXPECT_EQ(*FormatRfc3339InZone(Ms("2024-01-15T08:00:00Z"), "Europe/London"),
            "2024-01-15T08:00:00+00:00");
  // No fraction on the wire: truncated, not rounded.
  EXPECT_EQ(*FormatRfc3339InZone(kMay6At8Utc + 999, "Europe/Zurich"), "2024-05-06T10:00:00+02:00");
}

TEST(FormatRfc3339InZoneTest, RoundTripsThroughParse) {
  struct Case {
    const char* text;
    const char* zone;
  };
  for (const Case& c : {Case{"2024-05-06T10:00:00+02:00", "Europe/Zurich"},
                        Case{"2024-12-24T18:30:00+01:00", "Europe/Zurich"},
                        Case{"2024-11-03T01:30:00-04:00", "America/New_York"},
                        Case{"2024-11-03T01:30:00-05:00", "America/New_York"},
                        Case{"1965-07-01T12:00:00-07:00", "America/Los_Angeles"},
                        Case{"2024-04-07T02:30:00+10:00", "Australia/Sydney"},
                        Case{"2024-04-07T02:30:00+11:00", "Australia/Sydney"},
                        Case{"2030-02-01T23:59:59Z", "UTC"}}) {
    const sb::Result<std::string> formatted = FormatRfc3339InZone(Ms(c.text), c.zone);
    ASSERT_TRUE(formatted.ok()) << formatted.status().ToString();
    EXPECT_EQ(*formatted, c.text);
  }
}

TEST(FormatRfc3339InZoneTest, UnknownZoneIsInvalidArgument) {
  for (const char* zone :
       {"Mars/Olympus_Mons", "", "../../etc/passwd", "/etc/localtime", "Pacific Standard Time"}) {
    const sb::Result<std::string> r = FormatRfc3339InZone(kMay6At8Utc, zone);
    EXPECT_FALSE(r.ok()) << zone;
    EXPECT_EQ(r.status().code(), sb::StatusCode::kInvalidArgument) << zone;
  }
  EXPECT_NE(FormatRfc3339InZone(kMay6At8Utc, "Mars/Olympus_Mons")
                .status()
                .message()
                .find("Mars/Olympus_Mons"),
            std::string::npos);
}

TEST(FormatUtcMillisTest, AlwaysThreeFractionDigits) {
  EXPECT_EQ(FormatUtcMillis(Ms("2024-05-01T09:05:12.345Z")), "2024-05-01T09:05:12.345Z");
  EXPECT_EQ(FormatUtcMillis(Ms("2024-05-01T09:00:00Z")), "2024-05-01T09:00:00.000Z");
  EXPECT_EQ(FormatUtcMillis(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatUtcMillis(0), "1970-01-01T00:00:00.000Z");
}

TEST(LocalToUtcTest, ConvertsWallTimeInZone) {
  EXPECT_EQ(*LocalToUtc("2024-05-06T10:00:00", "Europe/Zurich"), kMay6At8Utc);
  // Windows names are the caller's to resolve (ResolveZone).
  EXPECT_FALSE(LocalToUtc("2024-05-06T10:00:00.0000000", "W. Europe Standard Time").ok());
  EXPECT_EQ(*LocalToUtc("2024-05-06T10:00:00.1234567", "Europe/Zurich"), kMay6At8Utc + 123);
  EXPECT_EQ(*LocalToUtc("2024-05-06T04:00:00", "America/New_York"), kMay6At8Utc);
  EXPECT_EQ(*LocalToUtc("2024-05-06T08:00:00", "UTC"), kMay6At8Utc);
  EXPECT_EQ(*LocalToUtc(LocalDateTime{2024, 1, 15, 10, 0, 0, 0}, "Europe/Zurich"),
            Ms("2024-01-15T09:00:00Z"));
}

TEST(LocalToUtcTest, DstGapAndOverlapUseTheOffsetBeforeTheTransition) {
  // Zurich springs forward 2024-03-31 02:00 -> 03:00: 02:30 does not exist and is read
  // with +01:00, landing at 03:30 CEST.
  EXPECT_EQ(*LocalToUtc("2024-03-31T02:30:00", "Europe/Zurich"), Ms("2024-03-31T01:30:00Z"));
  // Zurich falls back 2024-10-27 03:00 -> 02:00: 02:30 happens twice; the earlier wins.
  EXPECT_EQ(*LocalToUtc("2024-10-27T02:30:00", "Europe/Zurich"), Ms("2024-10-27T00:30:00Z"));
  // Just outside the transitions both readings agree.
  EXPECT_EQ(*LocalToUtc("2024-10-27T03:00:00", "Europe/Zurich"), Ms("2024-10-27T02:00:00Z"));
  EXPECT_EQ(*LocalToUtc("2024-03-31T03:00:00", "Europe/Zurich"), Ms("2024-03-31T01:00:00Z"));
  // New York: gap 2024-03-10 02:00-03:00, overlap 2024-11-03 01:00-02:00.
  EXPECT_EQ(*LocalToUtc("2024-03-10T02:15:00", "America/New_York"), Ms("2024-03-10T07:15:00Z"));
  EXPECT_EQ(*LocalToUtc("2024-11-03T01:15:00", "America/New_York"), Ms("2024-11-03T05:15:00Z"));
}

TEST(LocalToUtcTest, RejectsMalformedInputAndUnknownZones) {
  for (const char* bad : {"2024-05-06T10:00:00Z", "2024-05-06T10:00:00+02:00", "2024-05-06",
                          "2024-05-06T10:00", "2024-02-30T10:00:00", "2024-05-06T10:00:00."}) {
    EXPECT_EQ(LocalToUtc(bad, "Europe/Zurich").status().code(), sb::StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(LocalToUtc("2024-05-06T10:00:00", "Nowhere/City").status().code(),
            sb::StatusCode::kInvalidArgument);
  EXPECT_FALSE(LocalToUtc(LocalDateTime{2024, 2, 30, 0, 0, 0, 0}, "UTC").ok());
}

TEST(UtcToLocalTest, GivesWallTime) {
  const sb::Result<LocalDateTime> local = UtcToLocal(kMay6At8Utc + 7, "Asia/Tokyo");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(*local, (LocalDateTime{2024, 5, 6, 17, 0, 0, 7}));
}

TEST(FormatGraphDateTimeTest, SevenFractionDigitsNoOffset) {
  EXPECT_EQ(*FormatGraphDateTime(Ms("2016-12-09T20:30:00Z"), "UTC"), "2016-12-09T20:30:00.0000000");
  EXPECT_EQ(*FormatGraphDateTime(Ms("2016-12-09T20:30:00Z"), "America/Los_Angeles"),
            "2016-12-09T12:30:00.0000000");
  EXPECT_EQ(*FormatGraphDateTime(Ms("2024-05-01T09:05:12.345Z"), "Europe/Berlin"),
            "2024-05-01T11:05:12.3450000");
  EXPECT_FALSE(FormatGraphDateTime(0, "Nowhere/City").ok());
  // What Graph emits, LocalToUtc reads back.
  EXPECT_EQ(*LocalToUtc(*FormatGraphDateTime(Ms("2024-05-01T09:05:12.345Z"), "Europe/Berlin"),
                        "Europe/Berlin"),
            Ms("2024-05-01T09:05:12.345Z"));
}

TEST(IsKnownZoneTest, KnowsTzdataNamesOnly) {
  for (const char* zone : {"Europe/Zurich", "America/New_York", "Asia/Kolkata", "Asia/Calcutta",
                           "UTC", "Etc/UTC", "Etc/GMT+12", "Australia/Sydney"}) {
    EXPECT_TRUE(IsKnownZone(zone)) << zone;
  }
  for (const char* zone : {"", "Mars/Olympus_Mons", "Europe", "Europe/Zurich ", "../zone.tab",
                           "W. Europe Standard Time", "Europe/Zurich\n"}) {
    EXPECT_FALSE(IsKnownZone(zone)) << zone;
  }
}

TEST(DateTest, ParsesAndFormatsDates) {
  EXPECT_EQ(*ParseDate("2024-05-06"), Ms("2024-05-06T00:00:00Z"));
  EXPECT_EQ(*ParseDate("1969-12-31"), -86'400'000);
  EXPECT_EQ(FormatDate(*ParseDate("2024-02-29")), "2024-02-29");
  EXPECT_EQ(FormatDate(-86'400'000), "1969-12-31");
  for (const char* bad : {"2024-5-6", "2024-02-30", "2023-02-29", "2024-05-06T00:00:00Z", ""}) {
    EXPECT_EQ(ParseDate(bad).status().code(), sb::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(WindowsZonesTest, MapsCommonWindowsZonesToIana) {
  EXPECT_EQ(WindowsToIana("UTC"), "Etc/UTC");
  EXPECT_EQ(WindowsToIana("GMT Standard Time"), "Europe/London");
  EXPECT_EQ(WindowsToIana("W. Europe Standard Time"), "Europe/Berlin");
  EXPECT_EQ(WindowsToIana("Romance Standard Time"), "Europe/Paris");
  EXPECT_EQ(WindowsToIana("Central Europe Standard Time"), "Europe/Budapest");
  EXPECT_EQ(WindowsToIana("Eastern Standard Time"), "America/New_York");
  EXPECT_EQ(WindowsToIana("Pacific Standard Time"), "America/Los_Angeles");
  EXPECT_EQ(WindowsToIana("Tokyo Standard Time"), "Asia/Tokyo");
  EXPECT_EQ(WindowsToIana("India Standard Time"), "Asia/Calcutta");
  EXPECT_EQ(WindowsToIana("AUS Eastern Standard Time"), "Australia/Sydney");
  EXPECT_EQ(WindowsToIana("pacific standard time"), "America/Los_Angeles");
  EXPECT_EQ(WindowsToIana("Pacific Standard Time (Mexico)"), "America/Tijuana");
  EXPECT_EQ(WindowsToIana("Atlantis Standard Time"), std::nullopt);
  EXPECT_EQ(WindowsToIana(""), std::nullopt);
}

TEST(WindowsZonesTest, MapsIanaZonesToWindows) {
  EXPECT_EQ(IanaToWindows("Europe/Berlin"), "W. Europe Standard Time");
  EXPECT_EQ(IanaToWindows("Europe/Zurich"), "W. Europe Standard Time");
  EXPECT_EQ(IanaToWindows("Europe/Madrid"), "Romance Standard Time");
  EXPECT_EQ(IanaToWindows("Asia/Calcutta"), "India Standard Time");
  EXPECT_EQ(IanaToWindows("Asia/Kolkata"), "India Standard Time");
  EXPECT_EQ(IanaToWindows("America/Toronto"), "Eastern Standard Time");
  EXPECT_EQ(IanaToWindows("Australia/Melbourne"), "AUS Eastern Standard Time");
  EXPECT_EQ(IanaToWindows("UTC"), "UTC");
  EXPECT_EQ(IanaToWindows("Etc/UTC"), "UTC");
  EXPECT_EQ(IanaToWindows("Europe/Zuric"), std::nullopt);  // no prefix matches
  EXPECT_EQ(IanaToWindows("Zurich"), std::nullopt);
  EXPECT_EQ(IanaToWindows(""), std::nullopt);
}

TEST(WindowsZonesTest, EveryTableEntryRoundTripsToAKnownZone) {
  const std::vector<std::string_view> names = WindowsZoneNames();
  EXPECT_GE(names.size(), 40u);
  for (const std::string_view name : names) {
    const std::optional<std::string> iana = WindowsToIana(name);
    ASSERT_TRUE(iana.has_value()) << name;
    EXPECT_TRUE(IsKnownZone(*iana)) << name << " -> " << *iana;
    EXPECT_EQ(IanaToWindows(*iana), std::string(name)) << *iana;
  }
}

TEST(WindowsZonesTest, ResolveZoneAcceptsBothForms) {
  EXPECT_EQ(*ResolveZone("W. Europe Standard Time"), "Europe/Berlin");
  EXPECT_EQ(*ResolveZone("Europe/Zurich"), "Europe/Zurich");
  EXPECT_EQ(*ResolveZone("UTC"), "UTC");
  EXPECT_EQ(*ResolveZone("India Standard Time"), "Asia/Calcutta");
  const sb::Result<std::string> unknown = ResolveZone("Atlantis Standard Time");
  EXPECT_EQ(unknown.status().code(), sb::StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("Atlantis Standard Time"), std::string::npos);
}

TEST(ConcurrencyTest, ZoneConversionsFromManyThreads) {
  std::vector<std::thread> threads;
  std::vector<int> failures(8, 0);
  const char* zones[] = {"Europe/Zurich", "America/New_York", "Asia/Tokyo", "Australia/Hobart"};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 200; ++k) {
        const char* zone = zones[(i + k) % 4];
        const int64_t t = kMay6At8Utc + int64_t(k) * 86'400'000 * 3;
        const sb::Result<std::string> text = FormatRfc3339InZone(t, zone);
        if (!text.ok() || *ParseRfc3339(*text) != t) ++failures[i];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

}  // namespace
}  // namespace sb::caltime
