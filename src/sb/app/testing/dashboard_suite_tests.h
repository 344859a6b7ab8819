// The dashboard's files under /dashboard through the real server (dashboard.assets_dir): the
// redirect, files with their types and caching, the SPA fallback, HEAD, traversal attempts and
// the dashboard switched off. No database work is involved, so server_app_test instantiates it
// on SQLite only; the file rules themselves are unit-tested in sb/http/static_files_test.cc.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "sb/app/testing/api_suite.h"

namespace sb::app::testing {

template <typename Backend>
class DashboardSuite : public ApiSuite<Backend> {
 protected:
  void SetUp() override {
    ApiSuite<Backend>::SetUp();
    base_ = this->keys_dir_ / "web";
    dist_ = base_ / "dist";
    Write(dist_ / "index.html", "<!doctype html><div id=app></div>");
    Write(dist_ / "assets" / "x.js", "export const x = 1;");
    Write(base_ / "secret.txt", "outside the build");
    std::filesystem::create_symlink(base_ / "secret.txt", dist_ / "assets" / "leak.js");
  }

  static void Write(const std::filesystem::path& path, const std::string& text) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }

  std::filesystem::path base_;
  std::filesystem::path dist_;
};

TYPED_TEST_SUITE_P(DashboardSuite);

TYPED_TEST_P(DashboardSuite, ServesTheBuildWithTypesCachingAndFallback) {
  this->config_.dashboard.assets_dir = this->dist_.string();
  this->Boot();
  TestResponse bare = this->Call("GET", "/dashboard?tab=1");
  EXPECT_EQ(bare.status, 308);
  EXPECT_EQ(bare.Header("location"), "/dashboard/?tab=1");

  TestResponse index = this->Call("GET", "/dashboard/");
  ASSERT_EQ(index.status, 200) << index.body;
  EXPECT_EQ(index.body, "<!doctype html><div id=app></div>");
  EXPECT_EQ(index.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(index.Header("cache-control"), "no-cache");
  EXPECT_EQ(index.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(index.Header("referrer-policy"), "same-origin");
  EXPECT_EQ(index.Header("content-security-policy"),
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
            "form-action 'self'");

  TestResponse js = this->Call("GET", "/dashboard/assets/x.js");
  ASSERT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "export const x = 1;");
  EXPECT_EQ(js.Header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js.Header("cache-control"), "public, max-age=31536000, immutable");

  TestResponse route = this->Call("GET", "/dashboard/connections/abc");  // a client-side route
  EXPECT_EQ(route.status, 200);
  EXPECT_EQ(route.body, index.body);
  EXPECT_EQ(route.Header("cache-control"), "no-cache");

  TestResponse missing = this->Call("GET", "/dashboard/assets/missing.js");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Header("content-type"), "application/problem+json");

  TestResponse head = this->Call("HEAD", "/dashboard/assets/x.js");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("content-length"), std::to_string(js.body.size()));
  EXPECT_EQ(head.body, "");
}

TYPED_TEST_P(DashboardSuite, RefusesPathsOutsideTheBuild) {
  this->config_.dashboard.assets_dir = this->dist_.string();
  this->Boot();
  for (const std::string path :
       {"/dashboard/../secret.txt", "/dashboard/%2e%2e/secret.txt",
        "/dashboard/%2E%2E%2Fsecret.txt", "/dashboard/assets/%2e%2e/%2e%2e/secret.txt",
        "/dashboard/..%5Csecret.txt", "/dashboard/assets/leak.js", "/dashboard/index.html%00.js",
        "/dashboard/%252e%252e/x.txt"}) {
    TestResponse r = this->Call("GET", path);
    EXPECT_NE(r.status, 200) << path;
    EXPECT_EQ(r.body.find("outside the build"), std::string::npos) << path;
  }
}

TYPED_TEST_P(DashboardSuite, IsOffWithoutAnAssetsDir) {
  this->Boot();
  EXPECT_EQ(this->Call("GET", "/dashboard").status, 404);
  EXPECT_EQ(this->Call("GET", "/dashboard/").status, 404);
  TestResponse file = this->Call("GET", "/dashboard/assets/x.js");
  EXPECT_EQ(file.status, 404);
  EXPECT_EQ(file.Header("content-type"), "application/problem+json");
}

REGISTER_TYPED_TEST_SUITE_P(DashboardSuite, ServesTheBuildWithTypesCachingAndFallback,
                            RefusesPathsOutsideTheBuild, IsOffWithoutAnAssetsDir);

}  // namespace sb::app::testing
