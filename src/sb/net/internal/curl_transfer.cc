#include "sb/net/internal/curl_transfer.h"

#include <charconv>
#include <cstring>
#include <string_view>
#include <system_error>
#include <utility>

#include <curl/curl.h>

namespace sb::net::internal {
namespace {

std::string_view TrimWhitespace(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  const size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

// "HTTP/1.1 200 OK" -> 200; 0 when malformed.
int ParseStatusLine(std::string_view line) {
  const size_t space = line.find(' ');
  if (space == std::string_view::npos || line.size() < space + 4) return 0;
  int status = 0;
  const char* begin = line.data() + space + 1;
  const auto [end, error] = std::from_chars(begin, begin + 3, status);
  return error == std::errc() && end == begin + 3 ? status : 0;
}

// The blank line after a header block: is this the final response (not 1xx, not a redirect
// libcurl is about to follow)?
bool IsFinalHead(const Transfer& transfer) {
  const int status = transfer.line_status;
  if (status < 200) return false;
  if (!transfer.follow_redirects || status < 300 || status >= 400) return true;
  return !transfer.head.Header("Location").has_value();
}

}  // namespace

// Called once per header line of every response (1xx, redirects, the final one) and for
// trailers. A status line starts a new response, so only the final response's headers remain.
size_t OnHeaderLine(char* data, size_t size, size_t count, void* user) {
  Transfer& transfer = *static_cast<Transfer*>(user);
  const size_t n = size * count;
  const std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    transfer.head.headers.clear();
    transfer.buffer.clear();
    transfer.received = 0;
    transfer.line_status = ParseStatusLine(line);
  }
  if (!transfer.Admit(n)) return 0;  // anything but n aborts the transfer
  if (line.starts_with("HTTP/")) return n;
  const std::string_view trimmed = TrimWhitespace(line);
  if (trimmed.empty()) {  // the blank line that ends a header block
    if (!transfer.head_done && IsFinalHead(transfer)) {
      transfer.head_done = true;
      transfer.head.status = transfer.line_status;
    }
    return n;
  }
  HeaderList& headers = transfer.head.headers;
  if ((line[0] == ' ' || line[0] == '\t') && !headers.empty()) {  // obsolete line folding
    headers.back().second.append(" ").append(trimmed);
    return n;
  }
  const size_t colon = trimmed.find(':');
  if (colon == std::string_view::npos) return n;
  headers.emplace_back(TrimWhitespace(trimmed.substr(0, colon)),
                       TrimWhitespace(trimmed.substr(colon + 1)));
  return n;
}

size_t OnBodyData(char* data, size_t size, size_t count, void* user) {
  Transfer& transfer = *static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (n > 0 && transfer.buffer.size() >= transfer.max_buffered) {
    transfer.paused = true;  // libcurl keeps the data and offers it again after unpausing
    return CURL_WRITEFUNC_PAUSE;
  }
  if (!transfer.Admit(n)) return 0;  // aborts with CURLE_WRITE_ERROR
  transfer.buffer.append(data, n);
  return n;
}

// Fills `out` from the request body source; 0 ends the body.
size_t OnReadBody(char* out, size_t size, size_t count, void* user) {
  Transfer& transfer = *static_cast<Transfer*>(user);
  const size_t capacity = size * count;
  while (transfer.pending_offset == transfer.pending.size()) {
    if (transfer.source_done) return 0;
    if (transfer.Cancelled()) return CURL_READFUNC_ABORT;
    Result<std::optional<std::string>> next = transfer.source->Next();
    if (!next.ok()) {
      transfer.source_error = next.status();
      return CURL_READFUNC_ABORT;
    }
    if (!next->has_value()) {
      transfer.source_done = true;
      if (transfer.source_length && transfer.sent != *transfer.source_length) {
        transfer.source_error = InvalidArgumentError("the request body is shorter than its length");
        return CURL_READFUNC_ABORT;
      }
      return 0;
    }
    transfer.pending = std::move(**next);
    transfer.pending_offset = 0;
    if (transfer.source_length &&
        transfer.pending.size() > *transfer.source_length - transfer.sent) {
      transfer.source_error = InvalidArgumentError("the request body is longer than its length");
      return CURL_READFUNC_ABORT;
    }
  }
  const size_t n = std::min(capacity, transfer.pending.size() - transfer.pending_offset);
  std::memcpy(out, transfer.pending.data() + transfer.pending_offset, n);
  transfer.pending_offset += n;
  transfer.sent += n;
  return n;
}

}  // namespace sb::net::internal
