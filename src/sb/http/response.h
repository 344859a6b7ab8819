// Response: what a handler returns. A plain value type (Beast-free); the server adds
// Content-Length, Connection and X-Request-Id when writing it. Thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sb/base/json.h"

namespace sb::http {

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

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
};

// The standard reason phrase, e.g. "Not Found"; "Unknown" for unlisted codes.
std::string_view ReasonPhrase(int status);

}  // namespace sb::http
