#include "sb/base/ids.h"

#include <set>

#include <gtest/gtest.h>

#include "sb/base/testing/fake_clock.h"

namespace sb {
namespace {

TEST(IdGenerator, MakesCanonicalTimeOrderedUuidV7) {
  testing::FakeClock clock;
  SystemRandom random;
  IdGenerator ids(clock, random);
  std::string first = ids.NewUuid();
  clock.Advance(std::chrono::milliseconds(2));
  std::string second = ids.NewUuid();
  EXPECT_TRUE(IsCanonicalUuid(first));
  EXPECT_EQ(first[14], '7');
  EXPECT_LT(first, second);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(ids.NewUuid());
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(IsCanonicalUuid, RejectsOtherForms) {
  EXPECT_TRUE(IsCanonicalUuid("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"));
  EXPECT_FALSE(IsCanonicalUuid("0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B"));
  EXPECT_FALSE(IsCanonicalUuid("0190a1b2c3d47e5f8a9b0c1d2e3f4a5b"));
  EXPECT_FALSE(IsCanonicalUuid("../../etc/passwd"));
}

}  // namespace
}  // namespace sb
