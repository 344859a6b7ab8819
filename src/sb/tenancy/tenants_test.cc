#include "sb/tenancy/tenants.h"

#include <gtest/gtest.h>

#include "sb/base/encoding.h"

namespace sb::tenancy {
namespace {

std::string DataUri(std::string_view type, std::string_view bytes) {
  return "data:" + std::string(type) + ";base64," + Base64Encode(bytes);
}

TEST(CanonicalLogo, AcceptsTheFourImageTypesByTheirOwnBytes) {
  const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + "rest of the image";
  Result<std::string> logo = CanonicalLogo(DataUri("image/png", png));
  ASSERT_TRUE(logo.ok()) << logo.status().ToString();
  EXPECT_EQ(*logo, DataUri("image/png", png));
  EXPECT_TRUE(CanonicalLogo(DataUri("image/jpeg", "\xff\xd8\xff\xe0 jfif")).ok());
  EXPECT_TRUE(CanonicalLogo(DataUri("image/gif", "GIF89a...")).ok());
  EXPECT_TRUE(CanonicalLogo(DataUri("image/webp", std::string("RIFF\0\0\0\0WEBPVP8 ", 16))).ok());
  EXPECT_EQ(*CanonicalLogo(""), "");  // removes the logo
}

TEST(CanonicalLogo, RefusesOtherTypesMismatchesOversizeAndBadEncoding) {
  const std::string png = std::string("\x89PNG\r\n\x1a\n", 8);
  for (const std::string& bad : {
           DataUri("image/svg+xml", "<svg onload=alert(1)>"),
           DataUri("text/html", "<script>"),
           DataUri("image/png", "GIF89a"),  // the bytes say otherwise
           DataUri("image/webp", "RIFF0000AVI "),
           DataUri("image/png", png + std::string(kMaxLogoBytes, 'x')),
           std::string("data:image/png;base64,%%%"),
           std::string("data:image/png,") + png,
           std::string("https://cdn.example/logo.png"),
           std::string("data:image/png;base64,"),
       }) {
    EXPECT_EQ(CanonicalLogo(bad).status().code(), StatusCode::kInvalidArgument)
        << bad.substr(0, 40);
  }
}

}  // namespace
}  // namespace sb::tenancy
