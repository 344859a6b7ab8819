#include "sb/sync/calendar/conflicts.h"

#include <gtest/gtest.h>

namespace sb::sync::calendar {
namespace {

using store::ConflictPolicy;
using store::ConflictResolution;

Timestamp At(int64_t ms) { return Timestamp(std::chrono::milliseconds(ms)); }

TEST(ConflictPolicyTest, TheConnectionsOwnPolicyElseTheFallback) {
  const Json settings = {{"conflict_policies", {{"calendar", "manual"}, {"email", "host_wins"}}}};
  EXPECT_EQ(PolicyFromSettings(settings, "calendar", ConflictPolicy::kHostWins),
            ConflictPolicy::kManual);
  EXPECT_EQ(PolicyFromSettings(settings, "contacts", ConflictPolicy::kHostWins),
            ConflictPolicy::kHostWins);
  for (const Json& odd : {Json(nullptr), Json::object(), Json{{"conflict_policies", 3}},
                          Json{{"conflict_policies", {{"calendar", "coin_flip"}}}},
                          Json{{"conflict_policies", {{"calendar", 1}}}}}) {
    EXPECT_EQ(PolicyFromSettings(odd, "calendar", ConflictPolicy::kLastModifiedWins),
              ConflictPolicy::kLastModifiedWins)
        << odd.dump();
  }
}

TEST(ConflictPolicyTest, AutomaticWinners) {
  Event provider;
  provider.updated_ms = 2'000;
  const Timestamp now = At(10'000);
  EXPECT_EQ(AutomaticWinner(ConflictPolicy::kProviderWins, provider, At(5'000), now),
            ConflictResolution::kProvider);
  EXPECT_EQ(AutomaticWinner(ConflictPolicy::kHostWins, provider, At(1'000), now),
            ConflictResolution::kHost);
  EXPECT_EQ(AutomaticWinner(ConflictPolicy::kManual, provider, At(1'000), now),
            ConflictResolution::kNone);
  // Last modified: the later side; a tie goes to the host (its write is the newer intent).
  EXPECT_EQ(AutomaticWinner(ConflictPolicy::kLastModifiedWins, provider, At(1'000), now),
            ConflictResolution::kProvider);
  EXPECT_EQ(AutomaticWinner(ConflictPolicy::kLastModifiedWins, provider, At(3'000), now),
            ConflictResolution::kHost);
  EXPECT_EQ(AutomaticWinner(ConflictPolicy::kLastModifiedWins, provider, At(2'000), now),
            ConflictResolution::kHost);
  // Deleted at the provider, or no update time: counted as changed now.
  EXPECT_EQ(AutomaticWinner(ConflictPolicy::kLastModifiedWins, std::nullopt, At(3'000), now),
            ConflictResolution::kProvider);
  EXPECT_EQ(AutomaticWinner(ConflictPolicy::kLastModifiedWins, Event{}, At(11'000), now),
            ConflictResolution::kHost);
}

TEST(ConflictDifferencesTest, NamesTheWritableFieldsThatDiffer) {
  const Json host = {{"title", "A"}, {"location", "X"}, {"provider_id", "1"}, {"all_day", false}};
  const Json provider = {{"title", "B"}, {"location", "X"}, {"provider_id", "2"}};
  const Json diff = ConflictDifferences(host, provider);
  ASSERT_EQ(diff.size(), 2u) << diff;
  EXPECT_EQ(diff[0], (Json{{"field", "title"}, {"host", "A"}, {"provider", "B"}}));
  EXPECT_EQ(diff[1], (Json{{"field", "all_day"}, {"host", false}, {"provider", nullptr}}));
  // Deleted at the provider: every member the host has differs.
  EXPECT_EQ(ConflictDifferences(host, nullptr).size(), 3u);
  EXPECT_TRUE(ConflictDifferences(Json::array(), Json(3)).empty());
}

TEST(ConflictJsonTest, ShowsTheVersionsOnlyInDetail) {
  store::EventConflictRecord c;
  c.id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
  c.connection_id = ConnectionId("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c");
  c.mapping_id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d";
  c.external_id = "job-1";
  c.policy = ConflictPolicy::kManual;
  c.host_event = {{"title", "A"}};
  const Json brief = ConflictJson(c, false);
  EXPECT_EQ(brief["policy"], "manual");
  EXPECT_EQ(brief["status"], "open");
  EXPECT_TRUE(brief["resolution"].is_null());
  EXPECT_FALSE(brief.contains("host_event"));
  const Json full = ConflictJson(c, true);
  EXPECT_EQ(full["host_event"]["title"], "A");
  EXPECT_TRUE(full["provider_event"].is_null());
  EXPECT_EQ(full["differences"].size(), 1u);
}

}  // namespace
}  // namespace sb::sync::calendar
