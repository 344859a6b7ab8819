// StaticFiles: serves the files of one directory (a built single-page app such as the
// dashboard) read from disk per request, with an SPA fallback to index.html.
//
// A request's relative path (raw, still percent-encoded, as a {path...} route parameter holds
// it) is decoded once and refused (404) when it is not plain: a NUL, backslash or control
// character, an empty, "." or ".." segment, or a segment starting with '.' (no dotfiles). The
// file is then resolved with every symlink followed and must still lie inside the directory,
// be a regular file and be at most max_file_bytes. A path whose last segment has no extension
// and that names no file answers the fallback (index.html) so that client-side routes load the
// app; a missing path with an extension is 404 problem+json.
//
// Answers carry a Content-Type by extension, Cache-Control (immutable for files under
// immutable_prefix, which a bundler names by content hash; no-cache otherwise) and the
// security headers of an HTML page that loads only its own scripts: a strict
// Content-Security-Policy, X-Content-Type-Options: nosniff and Referrer-Policy: same-origin.
//
// Reads block: call Serve from the blocking pool, never on an I/O thread. Immutable after
// Open; thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "sb/base/status.h"
#include "sb/http/response.h"

namespace sb::http {

struct StaticFilesOptions {
  std::string root;  // the directory served; must exist
  size_t max_file_bytes = size_t{16} << 20;
  // Files below this relative prefix never change under their name (hashed by the bundler).
  std::string immutable_prefix = "assets/";
  std::string fallback = "index.html";  // the SPA entry point, relative to root
};

// The Content-Type for a file name by its extension; application/octet-stream when unknown.
std::string_view ContentTypeFor(std::string_view file_name);

class StaticFiles {
 public:
  // INVALID_ARGUMENT when `options.root` is not an existing directory.
  static Result<std::unique_ptr<StaticFiles>> Open(StaticFilesOptions options);

  // The answer for `raw_relative` ("" for the directory's index), as described above.
  Response Serve(std::string_view raw_relative, std::string_view request_id) const;

  const std::string& root() const { return root_; }

 private:
  StaticFiles(StaticFilesOptions options, std::string root)
      : options_(std::move(options)), root_(std::move(root)) {}

  // The file's bytes when `relative` resolves to a servable file inside root_: NOT_FOUND when
  // there is none (or it escapes), OUT_OF_RANGE past max_file_bytes.
  Result<std::string> Read(const std::string& relative) const;
  Response FileResponse(const std::string& relative, std::string body) const;

  const StaticFilesOptions options_;
  const std::string root_;  // options_.root fully resolved (symlinks followed)
};

}  // namespace sb::http
