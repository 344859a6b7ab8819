#include "sb/net/testing/browser.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sb/net/testing/loopback_http_server.h"

namespace sb::net::testing {
namespace {

using ::testing::AnyOf;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

struct Seen {
  std::string method;
  std::string target;
  std::string body;
  std::string cookie;
};

// A LoopbackHttpServer whose routes are set per test; it logs every request it serves.
class BrowserTest : public ::testing::Test {
 protected:
  using Route = std::function<ServedResponse(const ServedRequest&)>;

  void SetUp() override {
    const Status started = server_.Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
  }

  ServedResponse Serve(const ServedRequest& request) {
    std::lock_guard lock(mu_);
    seen_.push_back({request.method, request.target, request.body,
                     std::string(request.Header("Cookie").value_or(""))});
    const auto route = routes_.find(request.target.substr(0, request.target.find('?')));
    return route == routes_.end() ? ServedResponse{.status = 404} : route->second(request);
  }

  static Route Redirect(int status, std::string location) {
    return [=](const ServedRequest&) {
      return ServedResponse{.status = status, .headers = {{"Location", location}}};
    };
  }
  static Route Ok(std::string body) {
    return [=](const ServedRequest&) { return ServedResponse{.body = body}; };
  }

  void On(const std::string& path, Route route) {
    std::lock_guard lock(mu_);
    routes_[path] = std::move(route);
  }

  std::vector<Seen> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

  std::mutex mu_;
  std::map<std::string, Route> routes_;  // guarded by mu_
  std::vector<Seen> seen_;               // guarded by mu_
  LoopbackHttpServer server_{[this](const ServedRequest& request) { return Serve(request); }};
  Browser browser_;
};

TEST_F(BrowserTest, SendsCookiesFromEarlierResponses) {
  On("/set", [](const ServedRequest&) {
    return ServedResponse{.headers = {{"Set-Cookie", "sid=abc; Path=/; HttpOnly"},
                                      {"Set-Cookie", "theme=dark; Path=/"},
                                      {"X-Mixed-Case", "yes"}}};
  });
  On("/echo", Ok("echo"));
  auto set = browser_.Get(server_.Url("/set"));
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->Header("X-MIXED-CASE"), "yes");
  EXPECT_EQ(set->headers.count("x-mixed-case"), 1u);
  ASSERT_TRUE(browser_.Get(server_.Url("/echo")).ok());
  EXPECT_THAT(seen().back().cookie, AnyOf("sid=abc; theme=dark", "theme=dark; sid=abc"));
  EXPECT_THAT(browser_.Cookies(),
              ::testing::UnorderedElementsAre(Pair("sid", "abc"), Pair("theme", "dark")));

  browser_.ClearCookies();
  EXPECT_THAT(browser_.Cookies(), IsEmpty());
  ASSERT_TRUE(browser_.Get(server_.Url("/echo")).ok());
  EXPECT_EQ(seen().back().cookie, "");

  browser_.SetCookie("127.0.0.1\tFALSE\t/\tFALSE\t0\tlang\tde");
  ASSERT_TRUE(browser_.Get(server_.Url("/echo")).ok());
  EXPECT_EQ(seen().back().cookie, "lang=de");
  EXPECT_THAT(browser_.Cookies(), ElementsAre(Pair("lang", "de")));
  browser_.SetCookie("Set-Cookie: sid=xyz; Domain=127.0.0.1; Path=/");
  ASSERT_TRUE(browser_.Get(server_.Url("/echo")).ok());
  EXPECT_THAT(seen().back().cookie, AnyOf("lang=de; sid=xyz", "sid=xyz; lang=de"));
}

TEST_F(BrowserTest, FollowsAndRecordsARedirectChain) {
  On("/a", Redirect(302, "/b"));
  On("/b", Redirect(301, server_.Url("/c?x=1")));
  On("/c", [](const ServedRequest&) {
    return ServedResponse{.headers = {{"Set-Cookie", "hop=c"}}, .body = "done"};
  });
  On("/d", Ok("d"));
  auto response = browser_.Get(server_.Url("/a"));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "done");
  EXPECT_EQ(response->url, server_.Url("/c?x=1"));
  EXPECT_THAT(browser_.history(),
              ElementsAre(server_.Url("/a"), server_.Url("/b"), server_.Url("/c?x=1")));
  ASSERT_TRUE(browser_.Get(server_.Url("/d")).ok());
  EXPECT_EQ(browser_.history().back(), server_.Url("/d"));
  EXPECT_EQ(seen().back().cookie, "hop=c");  // a cookie set during a chain is kept
}

TEST_F(BrowserTest, ResolvesRelativeLocations) {
  On("/dir/a", Redirect(302, "next?q=1"));
  On("/dir/next", Redirect(307, "../top#frag"));
  On("/top", Ok("top"));
  auto response = browser_.Get(server_.Url("/dir/a"));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->body, "top");
  EXPECT_THAT(browser_.history(), ElementsAre(server_.Url("/dir/a"), server_.Url("/dir/next?q=1"),
                                              server_.Url("/top#frag")));
  EXPECT_EQ(seen().back().target, "/top");  // the fragment stays in the browser
}

TEST_F(BrowserTest, A303AfterPostBecomesGetWhileA307RepeatsThePost) {
  On("/login", Redirect(303, "/home"));
  On("/submit", Redirect(307, "/receive"));
  On("/old", Redirect(302, "/home"));
  On("/home", Ok("home"));
  On("/receive", Ok("received"));

  auto response = browser_.PostForm(server_.Url("/login"), {{"user", "a b"}, {"pw", "x&y"}});
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->body, "home");
  std::vector<Seen> log = seen();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].method, "POST");
  EXPECT_EQ(log[0].body, "user=a%20b&pw=x%26y");
  EXPECT_EQ(log[1].method, "GET");
  EXPECT_EQ(log[1].body, "");

  ASSERT_TRUE(browser_.PostForm(server_.Url("/old"), {{"k", "v"}}).ok());
  EXPECT_EQ(seen().back().method, "GET");

  ASSERT_TRUE(browser_.PostForm(server_.Url("/submit"), {{"k", "v"}}).ok());
  log = seen();
  EXPECT_EQ(log.back().target, "/receive");
  EXPECT_EQ(log.back().method, "POST");
  EXPECT_EQ(log.back().body, "k=v");
}

TEST_F(BrowserTest, StopAtReturnsTheRedirectWithoutRequestingItsTarget) {
  // Nothing listens on port 1: requesting the callback would fail.
  const std::string callback = "http://127.0.0.1:1/callback?code=c%2F1&state=s+t";
  On("/authorize", Redirect(302, "/consent"));
  On("/consent", Redirect(302, callback));
  browser_.StopAt([](std::string_view url) { return url.starts_with("http://127.0.0.1:1/"); });
  auto response = browser_.Get(server_.Url("/authorize"));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 302);
  EXPECT_EQ(response->url, callback);
  EXPECT_THAT(browser_.history(), ElementsAre(server_.Url("/authorize"), server_.Url("/consent")));
  auto query = ParseQuery(response->url);
  ASSERT_TRUE(query.ok());
  EXPECT_THAT(*query, ElementsAre(Pair("code", "c/1"), Pair("state", "s t")));

  browser_.StopAt(nullptr);
  auto unstopped = browser_.Get(server_.Url("/authorize"));
  EXPECT_EQ(unstopped.status().code(), StatusCode::kUnavailable);
}

TEST_F(BrowserTest, TooManyRedirectsIsAnError) {
  On("/loop", Redirect(302, "/loop"));
  Browser browser(BrowserOptions{.max_redirects = 3});
  auto response = browser.Get(server_.Url("/loop"));
  EXPECT_EQ(response.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(browser.history().size(), 4u);  // the first request and three redirects
}

TEST(ParseQueryTest, DecodesParametersInOrder) {
  auto query = ParseQuery("https://h/cb?code=a%2Bb&empty=&flag&sp=x+y&code=2#frag=1");
  ASSERT_TRUE(query.ok());
  EXPECT_THAT(*query, ElementsAre(Pair("code", "a+b"), Pair("empty", ""), Pair("flag", ""),
                                  Pair("sp", "x y"), Pair("code", "2")));
  EXPECT_THAT(ParseQuery("https://h/cb").value(), IsEmpty());
  EXPECT_THAT(ParseQuery("https://h/cb#a=b").value(), IsEmpty());
  EXPECT_EQ(ParseQuery("https://h/?a=%4").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseQuery("https://h/?a=%zz").status().code(), StatusCode::kInvalidArgument);
}

// An HTTPS server on 127.0.0.1 with a fresh self-signed certificate (written to cert_file()
// for clients to trust) that answers every request with 200 "secure" and a Secure cookie.
class TlsServer {
 public:
  explicit TlsServer(std::filesystem::path cert_file) : cert_file_(std::move(cert_file)) {
    key_ = EVP_EC_gen("P-256");
    cert_ = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(cert_), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert_), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert_), 3600);
    X509_set_version(cert_, 2);
    X509_set_pubkey(cert_, key_);
    X509_NAME* name = X509_get_subject_name(cert_);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
    X509_set_issuer_name(cert_, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert_, cert_, nullptr, nullptr, 0);
    for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                              std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
      X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
      X509_add_ext(cert_, extension, -1);
      X509_EXTENSION_free(extension);
    }
    X509_sign(cert_, key_, EVP_sha256());
    FILE* out = std::fopen(cert_file_.c_str(), "w");
    PEM_write_X509(out, cert_);
    std::fclose(out);

    ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(ctx_, cert_);
    SSL_CTX_use_PrivateKey(ctx_, key_);
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{.sin_family = AF_INET, .sin_port = 0, .sin_addr = {htonl(INADDR_LOOPBACK)}};
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    ::listen(listen_fd_, 8);
    socklen_t length = sizeof(address);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { AcceptLoop(); });
  }

  ~TlsServer() {
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    ::close(listen_fd_);
    SSL_CTX_free(ctx_);
    X509_free(cert_);
    EVP_PKEY_free(key_);
  }

  std::string Url(std::string_view path) const {
    return "https://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  const std::filesystem::path& cert_file() const { return cert_file_; }

 private:
  void AcceptLoop() {
    for (int fd; (fd = ::accept(listen_fd_, nullptr, nullptr)) >= 0; ::close(fd)) {
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) == 1) {
        std::string request;
        char buffer[4096];
        int n = 0;
        while (request.find("\r\n\r\n") == std::string::npos &&
               (n = SSL_read(ssl, buffer, sizeof(buffer))) > 0) {
          request.append(buffer, static_cast<size_t>(n));
        }
        const std::string response =
            "HTTP/1.1 200 OK\r\nSet-Cookie: s=1; Secure\r\nContent-Length: 6\r\n"
            "Connection: close\r\n\r\nsecure";
        SSL_write(ssl, response.data(), static_cast<int>(response.size()));
        SSL_shutdown(ssl);
      }
      SSL_free(ssl);
    }
  }

  std::filesystem::path cert_file_;
  EVP_PKEY* key_ = nullptr;
  X509* cert_ = nullptr;
  SSL_CTX* ctx_ = nullptr;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST(BrowserTlsTest, TrustsTheCaFileForHttps) {
  const std::filesystem::path cert =
      std::filesystem::temp_directory_path() / ("sb-browser-ca-" + std::to_string(::getpid()));
  TlsServer server(cert);

  Browser browser(BrowserOptions{.ca_file = cert.string()});
  auto response = browser.Get(server.Url("/"));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "secure");
  EXPECT_THAT(browser.Cookies(), ElementsAre(Pair("s", "1")));

  Browser untrusting;
  EXPECT_EQ(untrusting.Get(server.Url("/")).status().code(), StatusCode::kUnavailable);
  std::filesystem::remove(cert);
}

}  // namespace
}  // namespace sb::net::testing
