#include "sb/app/testing/test_http_client.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sb::app::testing {

TestHttpClient::~TestHttpClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool TestHttpClient::Connect() {
  if (fd_ >= 0) return true;
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (!source_address_.empty()) {
    sockaddr_in source{};
    source.sin_family = AF_INET;
    if (::inet_pton(AF_INET, source_address_.c_str(), &source.sin_addr) != 1 ||
        ::bind(fd_, reinterpret_cast<sockaddr*>(&source), sizeof(source)) != 0) {
      ::close(fd_);
      fd_ = -1;
      return false;
    }
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  timeval tv{10, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  buffer_.clear();
  return true;
}

TestResponse TestHttpClient::Send(const std::string& method, const std::string& target,
                                  const std::string& body, const std::string& bearer,
                                  const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  bool has_type = false;
  for (const auto& [k, v] : headers) {
    req += k + ": " + v + "\r\n";
    std::string lower = k;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    has_type = has_type || lower == "content-type";
  }
  if (!bearer.empty()) req += "Authorization: Bearer " + bearer + "\r\n";
  if (!body.empty() && !has_type) req += "Content-Type: application/json\r\n";
  req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return SendRaw(req);
}

TestResponse TestHttpClient::SendRaw(const std::string& bytes) {
  if (!Connect()) return TestResponse{0, {}, "", true};
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  TestResponse r = ReadResponse();
  if (r.closed || r.status == 0) {
    ::close(fd_);
    fd_ = -1;
  }
  return r;
}

TestResponse TestHttpClient::ReadResponse() {
  TestResponse r;
  auto fill = [this]() {
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  };
  size_t header_end;
  while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) {
      r.closed = true;
      return r;
    }
  }
  std::string head = buffer_.substr(0, header_end);
  buffer_.erase(0, header_end + 4);
  size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  r.status = std::atoi(status_line.substr(9, 3).c_str());
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string::npos) end = head.size();
    std::string line = head.substr(pos, end - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      r.headers[name] = value;
    }
    pos = end + 2;
  }
  if (r.Header("transfer-encoding") == "chunked") {
    // Chunked body: "<hex size>\r\n<data>\r\n" ... "0\r\n\r\n". A connection that closes
    // before the final chunk leaves `truncated` set.
    r.truncated = true;
    while (true) {
      size_t line_end;
      while ((line_end = buffer_.find("\r\n")) == std::string::npos) {
        if (!fill()) {
          r.closed = true;
          return r;
        }
      }
      const size_t size = std::strtoul(buffer_.substr(0, line_end).c_str(), nullptr, 16);
      while (buffer_.size() < line_end + 2 + size + 2) {
        if (!fill()) {
          r.closed = true;
          return r;
        }
      }
      r.body.append(buffer_, line_end + 2, size);
      ++r.chunks;
      buffer_.erase(0, line_end + 2 + size + 2);
      if (size == 0) break;
    }
    r.truncated = false;
    r.closed = r.Header("connection") == "close";
    return r;
  }
  size_t length = std::strtoul(r.Header("content-length").c_str(), nullptr, 10);
  while (buffer_.size() < length) {
    if (!fill()) break;
  }
  r.body = buffer_.substr(0, std::min(length, buffer_.size()));
  buffer_.erase(0, r.body.size());
  r.closed = r.Header("connection") == "close";
  return r;
}

}  // namespace sb::app::testing
