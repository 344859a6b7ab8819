#include "sb/net/testing/loopback_http_server.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <utility>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sb::net::testing {
namespace {

constexpr size_t kChunkBytes = size_t{64} * 1024;

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Appends what the peer sends next; false at end of stream or on an error.
bool ReadMore(int fd, std::string& buffer) {
  char chunk[16 * 1024];
  while (true) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
    return true;
  }
}

std::string_view Trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

// Parses the request line and header lines (the head without its final blank line).
std::optional<ServedRequest> ParseHead(std::string_view head) {
  ServedRequest request;
  size_t line_end = head.find("\r\n");
  const std::string_view request_line = head.substr(0, line_end);
  const size_t first_space = request_line.find(' ');
  const size_t last_space = request_line.rfind(' ');
  if (first_space == std::string_view::npos || first_space == last_space) return std::nullopt;
  request.method = request_line.substr(0, first_space);
  request.target = request_line.substr(first_space + 1, last_space - first_space - 1);
  while (line_end != std::string_view::npos) {
    head.remove_prefix(line_end + 2);
    line_end = head.find("\r\n");
    const std::string_view line = head.substr(0, line_end);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    request.headers.emplace_back(line.substr(0, colon), Trim(line.substr(colon + 1)));
  }
  return request;
}

// Reads a chunked body (without trailers) into `body`; false when malformed or cut short.
bool ReadChunkedBody(int fd, std::string& buffer, std::string& body) {
  while (true) {
    size_t line_end;
    while ((line_end = buffer.find("\r\n")) == std::string::npos) {
      if (!ReadMore(fd, buffer)) return false;
    }
    size_t size = 0;
    const auto [end, error] = std::from_chars(buffer.data(), buffer.data() + line_end, size, 16);
    if (error != std::errc() || end == buffer.data()) return false;
    buffer.erase(0, line_end + 2);
    while (buffer.size() < size + 2) {
      if (!ReadMore(fd, buffer)) return false;
    }
    if (buffer.compare(size, 2, "\r\n") != 0) return false;
    body.append(buffer, 0, size);
    buffer.erase(0, size + 2);
    if (size == 0) return true;
  }
}

// Reads one request (head and Content-Length or chunked body) from `fd`; `buffer` keeps what was
// read beyond it. nullopt at end of stream or on a request this server does not understand.
std::optional<ServedRequest> ReadRequest(int fd, std::string& buffer) {
  size_t head_end;
  while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (!ReadMore(fd, buffer)) return std::nullopt;
  }
  std::optional<ServedRequest> request = ParseHead(std::string_view(buffer).substr(0, head_end));
  buffer.erase(0, head_end + 4);
  if (!request) return std::nullopt;
  if (const auto encoding = request->Header("Transfer-Encoding")) {
    if (!EqualsIgnoreCase(*encoding, "chunked") || !ReadChunkedBody(fd, buffer, request->body)) {
      return std::nullopt;
    }
    return request;
  }
  size_t length = 0;
  if (const auto value = request->Header("Content-Length")) {
    const auto [end, error] = std::from_chars(value->data(), value->data() + value->size(), length);
    if (error != std::errc() || end != value->data() + value->size()) return std::nullopt;
  }
  while (buffer.size() < length) {
    if (!ReadMore(fd, buffer)) return std::nullopt;
  }
  request->body = buffer.substr(0, length);
  buffer.erase(0, length);
  return request;
}

void AppendChunk(std::string_view chunk, std::string& out) {
  char size[32];
  const auto result = std::to_chars(size, size + sizeof size, chunk.size(), 16);
  out.append(size, result.ptr).append("\r\n").append(chunk).append("\r\n");
}

void AppendChunkedBody(std::string_view body, std::string& out) {
  while (!body.empty()) {
    const std::string_view chunk = body.substr(0, kChunkBytes);
    char size[32];
    const auto result = std::to_chars(size, size + sizeof size, chunk.size(), 16);
    out.append(size, result.ptr).append("\r\n").append(chunk).append("\r\n");
    body.remove_prefix(chunk.size());
  }
  out += "0\r\n\r\n";
}

std::string Serialize(const ServedResponse& response, bool head_request) {
  std::string out = response.raw_prefix;
  out += "HTTP/1.1 " + std::to_string(response.status) + " Loopback\r\n";
  for (const auto& [name, value] : response.headers) {
    out.append(name).append(": ").append(value).append("\r\n");
  }
  const bool generated = response.body_generator != nullptr;
  const bool chunked = response.chunked || (generated && !response.content_length);
  const size_t length = generated ? response.content_length.value_or(0) : response.body.size();
  out += chunked ? std::string("Transfer-Encoding: chunked\r\n")
                 : "Content-Length: " + std::to_string(length) + "\r\n";
  out += "\r\n";
  if (head_request) return out;
  if (generated) {
    if (chunked && !response.body.empty()) {
      AppendChunk(response.body, out);
    } else {
      out += response.body;
    }
  } else if (response.chunked) {
    AppendChunkedBody(response.body, out);
  } else {
    out += response.body;
  }
  return out;
}

}  // namespace

std::optional<std::string_view> ServedRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

LoopbackHttpServer::LoopbackHttpServer(Handler handler) : handler_(std::move(handler)) {}

LoopbackHttpServer::~LoopbackHttpServer() { Stop(); }

Status LoopbackHttpServer::Start() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return UnavailableError("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listen_fd_, 128) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return UnavailableError("bind/listen on 127.0.0.1 failed");
  }
  port_ = ntohs(address.sin_port);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  return OkStatus();
}

void LoopbackHttpServer::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept() on Linux
  if (accept_thread_.joinable()) accept_thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);  // wakes recv(); Serve closes the fd
    workers.swap(workers_);
  }
  for (std::thread& worker : workers) worker.join();
}

std::string LoopbackHttpServer::Url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

void LoopbackHttpServer::AcceptLoop() {
  while (true) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0 && (errno == EINTR || errno == ECONNABORTED)) continue;
    if (fd < 0) return;
    std::lock_guard lock(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    ++connections_accepted_;
    open_fds_.push_back(fd);
    workers_.emplace_back([this, fd] { Serve(fd); });
  }
}

bool LoopbackHttpServer::Write(int fd, std::string_view data) {
  if (!SendAll(fd, data)) return false;
  bytes_sent_ += data.size();
  return true;
}

bool LoopbackHttpServer::WriteGenerated(int fd, const ServedResponse& response) {
  const bool chunked = !response.content_length.has_value();
  while (std::optional<std::string> piece = response.body_generator()) {
    if (piece->empty()) continue;
    std::string frame;
    if (chunked) {
      AppendChunk(*piece, frame);
    } else {
      frame = std::move(*piece);
    }
    if (!Write(fd, frame)) return false;
  }
  return !chunked || Write(fd, "0\r\n\r\n");
}

void LoopbackHttpServer::Serve(int fd) {
  std::string buffer;
  while (std::optional<ServedRequest> request = ReadRequest(fd, buffer)) {
    const ServedResponse response = handler_(*request);
    const bool head_request = request->method == "HEAD";
    if (!Write(fd, Serialize(response, head_request))) break;
    if (response.body_generator && !head_request && !WriteGenerated(fd, response)) break;
    const auto connection = request->Header("Connection");
    if (connection && EqualsIgnoreCase(*connection, "close")) break;
  }
  Forget(fd);
}

void LoopbackHttpServer::Forget(int fd) {
  std::lock_guard lock(mu_);
  open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
  ::close(fd);
}

}  // namespace sb::net::testing
