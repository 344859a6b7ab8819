// TestHttpClient: a minimal blocking HTTP/1.1 client over a loopback socket, for tests that
// drive the real server. One keep-alive connection per client; not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sb/base/json.h"

namespace sb::app::testing {

struct TestResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  bool closed = false;     // the server closed the connection after this response
  bool truncated = false;  // a chunked body ended without its final chunk
  int chunks = 0;          // chunks of a chunked body (including the final empty one)

  Json JsonBody() const { return Json::parse(body, nullptr, false); }
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// The value of the hidden form field `name` in an HTML page ("" when absent), e.g. the CSRF
// token of the hosted connect page.
inline std::string HiddenFieldValue(const std::string& html, const std::string& name) {
  const std::string marker = "name=\"" + name + "\" value=\"";
  const size_t at = html.find(marker);
  if (at == std::string::npos) return "";
  const size_t begin = at + marker.size();
  const size_t end = html.find('"', begin);
  return end == std::string::npos ? "" : html.substr(begin, end - begin);
}

class TestHttpClient {
 public:
  // `source_address` (an IPv4 loopback address such as "127.0.0.2"; empty: the kernel's
  // choice) is the client address the server sees, for tests of per-client limits.
  explicit TestHttpClient(uint16_t port, std::string source_address = "")
      : port_(port), source_address_(std::move(source_address)) {}
  ~TestHttpClient();
  TestHttpClient(const TestHttpClient&) = delete;
  TestHttpClient& operator=(const TestHttpClient&) = delete;

  // Sends a request; `bearer` adds an Authorization header, a non-empty body gets
  // Content-Type: application/json unless `headers` sets one.
  TestResponse Send(const std::string& method, const std::string& target,
                    const std::string& body = "", const std::string& bearer = "",
                    const std::vector<std::pair<std::string, std::string>>& headers = {});
  // Writes raw bytes and reads one response (status 0 when the server closed without one).
  TestResponse SendRaw(const std::string& bytes);

 private:
  bool Connect();
  TestResponse ReadResponse();

  uint16_t port_;
  std::string source_address_;
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace sb::app::testing
