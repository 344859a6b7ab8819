// Internal to sb_net: the state one libcurl transfer's callbacks share, and the callbacks
// (header lines, body data with pause-based backpressure, pulled request bodies). The header
// is curl-free; the callbacks' return values follow libcurl's contracts.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "sb/base/status.h"
#include "sb/net/http_client.h"

namespace sb::net::internal {

// What the callbacks of one transfer read from and write into. Only touched by the thread
// driving the transfer.
struct Transfer {
  size_t max_bytes = 0;     // header and body bytes of one response
  size_t max_buffered = 0;  // body bytes held before the transfer pauses
  bool follow_redirects = false;
  size_t received = 0;  // header and body bytes of the current response
  bool too_large = false;
  int line_status = 0;     // from the current response's status line
  bool head_done = false;  // the final response's header block is complete
  HttpResponse head;       // status and headers (and trailers) of the final response
  std::string buffer;      // body bytes not handed out yet
  bool paused = false;     // the write callback paused the transfer
  // The request body, when pulled from a source.
  RequestBodySource* source = nullptr;
  std::optional<uint64_t> source_length;
  uint64_t sent = 0;
  std::string pending;  // the source's current piece
  size_t pending_offset = 0;
  bool source_done = false;
  Status source_error;
  const std::atomic<bool>* cancel = nullptr;

  bool Admit(size_t n) {
    if (n > max_bytes - std::min(received, max_bytes)) {
      too_large = true;
      return false;
    }
    received += n;
    return true;
  }
  bool Cancelled() const { return cancel != nullptr && cancel->load(std::memory_order_relaxed); }
};

// CURLOPT_HEADERFUNCTION: collects the final response's status and headers into `head`,
// marks head_done after its blank line, counts bytes against max_bytes.
size_t OnHeaderLine(char* data, size_t size, size_t count, void* user);
// CURLOPT_WRITEFUNCTION: appends to `buffer`, or pauses the transfer while max_buffered bytes
// wait.
size_t OnBodyData(char* data, size_t size, size_t count, void* user);
// CURLOPT_READFUNCTION: copies from the request body source; aborts on its error, a length
// mismatch or the cancel flag.
size_t OnReadBody(char* out, size_t size, size_t count, void* user);

}  // namespace sb::net::internal
