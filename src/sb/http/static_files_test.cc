#include "sb/http/static_files.h"

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace sb::http {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() /
            ("sb_static_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
    root_ = base_ / "dist";
    Write(root_ / "index.html", "<!doctype html><title>app</title>");
    Write(root_ / "assets" / "x.js", "console.log(1)");
    Write(root_ / "assets" / "s.css", "body{}");
    Write(root_ / "favicon.ico", "ico");
    Write(root_ / ".env", "SECRET=1");
    Write(base_ / "secret.txt", "outside");
    auto files = StaticFiles::Open({.root = root_.string(), .max_file_bytes = 1024});
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    files_ = std::move(files).value();
  }
  void TearDown() override { fs::remove_all(base_); }

  Response Get(std::string_view raw) const { return files_->Serve(raw, "req-1"); }

  fs::path base_;
  fs::path root_;
  std::unique_ptr<StaticFiles> files_;
};

TEST_F(StaticFilesTest, ServesFilesWithTypeAndCaching) {
  Response index = Get("");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<!doctype html><title>app</title>");
  EXPECT_EQ(index.Header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(index.Header("Cache-Control"), "no-cache");
  EXPECT_EQ(index.Header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(index.Header("Referrer-Policy"), "same-origin");
  EXPECT_NE(index.Header("Content-Security-Policy")->find("frame-ancestors 'none'"),
            std::string_view::npos);

  Response js = Get("assets/x.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "console.log(1)");
  EXPECT_EQ(js.Header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js.Header("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(Get("assets/s.css").Header("Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(Get("favicon.ico").Header("Cache-Control"), "no-cache");
}

TEST_F(StaticFilesTest, ContentTypesByExtension) {
  EXPECT_EQ(ContentTypeFor("a.svg"), "image/svg+xml");
  EXPECT_EQ(ContentTypeFor("a.png"), "image/png");
  EXPECT_EQ(ContentTypeFor("a.json"), "application/json");
  EXPECT_EQ(ContentTypeFor("a.woff2"), "font/woff2");
  EXPECT_EQ(ContentTypeFor("assets/a.js.map"), "application/json");
  EXPECT_EQ(ContentTypeFor("robots.txt"), "text/plain; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("a.exe"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor(".js"), "application/octet-stream");
}

TEST_F(StaticFilesTest, PathsWithoutExtensionFallBackToTheApp) {
  Response route = Get("connections/123");
  EXPECT_EQ(route.status, 200);
  EXPECT_EQ(route.body, "<!doctype html><title>app</title>");
  EXPECT_EQ(route.Header("Cache-Control"), "no-cache");
  EXPECT_EQ(Get("assets").status, 200);  // a directory is no file: the app
  Response missing = Get("assets/missing.js");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Header("Content-Type"), "application/problem+json");
}

TEST_F(StaticFilesTest, RefusesTraversalAndTricks) {
  for (std::string_view raw :
       {"../secret.txt", "assets/../../secret.txt", "%2e%2e/secret.txt", "%2E%2E%2Fsecret.txt",
        "assets/%2e%2e/%2e%2e/secret.txt", "..%2fsecret.txt", "..%5csecret.txt",
        "assets%5c..%5c..%5csecret.txt", "index.html%00.js", "/etc/passwd.txt", "assets//x.js",
        "./index.html", ".env", "%2eenv", "%252e%252e/secret.txt", "assets/x.js%ff",
        "assets/x%0a.js"}) {
    Response response = Get(raw);
    EXPECT_EQ(response.status, 404) << raw;
    EXPECT_EQ(response.body.find("outside"), std::string::npos) << raw;
    EXPECT_EQ(response.body.find("SECRET"), std::string::npos) << raw;
  }
}

TEST_F(StaticFilesTest, SymlinksMustStayInside) {
  fs::create_symlink(base_ / "secret.txt", root_ / "leak.txt");
  fs::create_directory_symlink(base_, root_ / "up");
  fs::create_symlink(root_ / "assets" / "x.js", root_ / "alias.js");
  EXPECT_EQ(Get("leak.txt").status, 404);
  EXPECT_EQ(Get("up/secret.txt").status, 404);
  EXPECT_EQ(Get("alias.js").status, 200);  // inside: fine
}

TEST_F(StaticFilesTest, RefusesFilesOverTheSizeLimit) {
  Write(root_ / "big.js", std::string(2048, 'x'));
  EXPECT_EQ(Get("big.js").status, 500);
}

TEST(StaticFiles, OpenNeedsADirectory) {
  EXPECT_EQ(StaticFiles::Open({.root = "/nonexistent/sb-dist"}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(StaticFiles::Open({.root = "/etc/hostname"}).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sb::http
