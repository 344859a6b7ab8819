// RawClient: a minimal blocking HTTP/1.1 client over a plain TCP socket, for server tests that
// need to send malformed or partial bytes. Not thread-safe; test-only.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace sb::http::testing {

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;

  std::string Header(const std::string& lowercase_name) const {
    auto it = headers.find(lowercase_name);
    return it == headers.end() ? "" : it->second;
  }
};

class RawClient {
 public:
  // Connects to 127.0.0.1:port; connected() tells whether it worked.
  explicit RawClient(uint16_t port);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Sends all bytes; false on error.
  bool Send(std::string_view bytes);
  // Reads one response (Content-Length framed); nullopt on EOF, error or timeout.
  std::optional<RawResponse> Read(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Sends a GET with keep-alive and reads the response.
  std::optional<RawResponse> Get(std::string_view target, std::string_view extra_headers = "");
  // True when the peer closes (EOF or reset) within `timeout`, discarding any data.
  bool WaitClosed(std::chrono::milliseconds timeout);
  // True while the peer has neither answered nor closed (a request still in its handler).
  bool Pending() const;
  // Everything the peer sends until it closes, or what arrived within `timeout`.
  std::string ReadToClose(std::chrono::milliseconds timeout);

 private:
  // Appends available bytes to buffer_; false on EOF, error or timeout.
  bool Fill(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string buffer_;
};

}  // namespace sb::http::testing
