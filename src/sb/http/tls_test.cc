// The server's TLS listener: a verified TLS 1.2+ client is served; plain HTTP on the TLS port
// and bad key material are refused.
#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

  // One GET over TLS, verifying the server against the test certificate; returns the raw
  // response bytes or the error text.
  std::string TlsGet(const std::string& target) {
    asio::io_context io;
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.add_certificate_authority(asio::buffer(std::string(testing::kTestCertificatePem)));
    ctx.set_verify_mode(asio::ssl::verify_peer);
    asio::ssl::stream<asio::ip::tcp::socket> stream(io, ctx);
    stream.set_verify_callback(asio::ssl::host_name_verification("127.0.0.1"));
    boost::system::error_code ec;
    stream.next_layer().connect({asio::ip::make_address("127.0.0.1"), server_->port()}, ec);
    if (!ec) stream.handshake(asio::ssl::stream_base::client, ec);
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

}  // namespace
}  // namespace sb::http
