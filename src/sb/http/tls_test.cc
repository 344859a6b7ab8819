// The server's TLS listener: a verified TLS 1.2+ client is served; plain HTTP on the TLS port
// and bad key material are refused; an idle streamed response ends when its client closes.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sb/base/testing/wait.h"
#include "sb/http/server.h"
#include "sb/http/testing/raw_client.h"
#include "sb/http/testing/test_tls.h"

namespace sb::http {
namespace {

namespace asio = boost::asio;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class TlsServerTest : public ::testing::Test {
 protected:
  TlsServerTest() {
    EXPECT_TRUE(router_
                    .Add("GET", "/hello", [](Request&) { return Response::Text(200, "hello tls"); },
                         {.authenticated = false})
                    .ok());
  }
  ~TlsServerTest() override {
    if (server_) server_->Stop(std::chrono::milliseconds(500));
  }

  Status Start(TlsOptions tls) {
    ServerOptions options;
    options.access_log = false;
    options.tls = std::move(tls);
    server_ = std::make_unique<Server>(options, router_, metrics_, clock_);
    return server_->Start();
  }

  // A TLS connection to the server, verified against the test certificate.
  struct TlsClient {
    asio::io_context io;
    asio::ssl::context ctx{asio::ssl::context::tls_client};
    asio::ssl::stream<asio::ip::tcp::socket> stream{io, ctx};
  };
  boost::system::error_code Connect(TlsClient& c) {
    boost::system::error_code ec;
    c.ctx.add_certificate_authority(asio::buffer(std::string(testing::kTestCertificatePem)));
    c.ctx.set_verify_mode(asio::ssl::verify_peer);
    c.stream.set_verify_callback(asio::ssl::host_name_verification("127.0.0.1"));
    c.stream.next_layer().connect({asio::ip::make_address("127.0.0.1"), server_->port()}, ec);
    if (!ec) c.stream.handshake(asio::ssl::stream_base::client, ec);
    return ec;
  }

  // One GET over TLS, verifying the server against the test certificate; returns the raw
  // response bytes or the error text.
  std::string TlsGet(const std::string& target) {
    TlsClient client;
    auto& stream = client.stream;
    boost::system::error_code ec = Connect(client);
    if (ec) return "error: " + ec.message();
    const std::string request =
        "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    asio::write(stream, asio::buffer(request), ec);
    std::string response;
    char buf[4096];
    while (!ec) {
      const size_t n = stream.read_some(asio::buffer(buf), ec);
      response.append(buf, n);
    }
    return response;
  }

  Router router_;
  metrics::MetricsRegistry metrics_;
  SystemClock clock_;
  std::unique_ptr<Server> server_;
};

TEST_F(TlsServerTest, ServesVerifiedTlsClient) {
  ASSERT_TRUE(Start({testing::kTestCertificatePem, testing::kTestPrivateKeyPem}).ok());
  const std::string response = TlsGet("/hello");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK"));
  EXPECT_THAT(response, HasSubstr("hello tls"));
}

TEST_F(TlsServerTest, PlainHttpOnTlsPortGetsNoResponse) {
  ASSERT_TRUE(Start({testing::kTestCertificatePem, testing::kTestPrivateKeyPem}).ok());
  testing::RawClient client(server_->port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(client.WaitClosed(std::chrono::seconds(5)));
  // The server keeps serving TLS clients afterwards.
  EXPECT_THAT(TlsGet("/hello"), HasSubstr("hello tls"));
}

TEST_F(TlsServerTest, BadKeyMaterialIsInvalidArgumentWithoutTheKey) {
  const Status status = Start({testing::kTestCertificatePem, "-----BEGIN PRIVATE KEY-----\nAAAA"});
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("private key"));
  EXPECT_THAT(status.message(), ::testing::Not(HasSubstr("AAAA")));
}

TEST_F(TlsServerTest, BadCertificateIsInvalidArgument) {
  const Status status = Start({"not a certificate", testing::kTestPrivateKeyPem});
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
}

TEST_F(TlsServerTest, AnIdleStreamEndsWhenTheClientCloses) {
  std::atomic<int> pulls{0};
  std::atomic<bool> released{false};
  class IdleSource final : public BodySource {  // one chunk, then nothing to send for ever
   public:
    IdleSource(std::atomic<int>& pulls, std::atomic<bool>& released)
        : pulls_(pulls), released_(released) {}
    ~IdleSource() override { released_ = true; }
    Result<std::optional<std::string>> Next() override {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      return std::optional<std::string>(++pulls_ == 1 ? "ready" : "");
    }

   private:
    std::atomic<int>& pulls_;
    std::atomic<bool>& released_;
  };
  ASSERT_TRUE(router_
                  .Add("GET", "/idle",
                       [&](Request&) {
                         return Response::Stream(200, "text/event-stream",
                                                 std::make_shared<IdleSource>(pulls, released));
                       },
                       {.authenticated = false})
                  .ok());
  ASSERT_TRUE(Start({testing::kTestCertificatePem, testing::kTestPrivateKeyPem}).ok());
  TlsClient client;
  ASSERT_FALSE(Connect(client));
  boost::system::error_code ec;
  asio::write(client.stream, asio::buffer(std::string("GET /idle HTTP/1.1\r\nHost: x\r\n\r\n")),
              ec);
  ASSERT_FALSE(ec);
  char buf[256];
  client.stream.read_some(asio::buffer(buf), ec);
  ASSERT_FALSE(ec);
  ASSERT_TRUE(sb::testing::Eventually([&] { return pulls.load() > 3; }));
  // As a browser closing its tab: close_notify, then the TCP connection closed. The server holds
  // the unread alert in front of the FIN.
  SSL_shutdown(client.stream.native_handle());
  client.stream.next_layer().close();
  EXPECT_TRUE(sb::testing::Eventually([&] { return released.load(); }))
      << "the idle stream must end when its client closes";
  server_->Stop(std::chrono::milliseconds(500));  // before `pulls` and `released` go
}

}  // namespace
}  // namespace sb::http
