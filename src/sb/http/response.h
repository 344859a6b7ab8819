// Response: what a handler returns. A plain value type (Beast-free); the server adds
// Content-Length, Connection and X-Request-Id when writing it. Thread-compatible.
//
// A streamed response (Response::Stream) has no body but a BodySource that the server pulls
// chunk by chunk and writes with chunked transfer encoding: Next() runs on the blocking pool
// (it may read the database), each chunk is written before the next one is asked for (at most
// one chunk per stream in memory), empty chunks are skipped, and nullopt ends the body. An
// error from the first Next() becomes a problem+json answer; an error after the head went out
// closes the connection without the final chunk, so the client sees a truncated transfer,
// never a silently short one. The source is destroyed when the stream ends or the client goes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sb/base/json.h"
#include "sb/base/status.h"

namespace sb::http {

class BodySource {
 public:
  virtual ~BodySource() = default;
  // The next chunk, nullopt at the end, or an error that aborts the stream. Called from one
  // pool thread at a time, never concurrently.
  virtual Result<std::optional<std::string>> Next() = 0;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::shared_ptr<BodySource> stream;  // set: the body is streamed (see the header comment)

  // Replaces (case-insensitively) or adds a header.
  void SetHeader(std::string_view name, std::string_view value);
  std::optional<std::string_view> Header(std::string_view name) const;

  // `body` serialized as application/json (invalid UTF-8 is replaced, never thrown).
  static Response Json(int status, const sb::Json& body);
  // text/plain; charset=utf-8, or the given content type.
  static Response Text(int status, std::string body,
                       std::string_view content_type = "text/plain; charset=utf-8");
  // A response without a body (e.g. 204).
  static Response Empty(int status);
  // A streamed body of `content_type` produced by `source`.
  static Response Stream(int status, std::string_view content_type,
                         std::shared_ptr<BodySource> source);
};

// The standard reason phrase, e.g. "Not Found"; "Unknown" for unlisted codes.
std::string_view ReasonPhrase(int status);

}  // namespace sb::http
