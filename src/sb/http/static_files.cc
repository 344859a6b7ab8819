#include "sb/http/static_files.h"

#include <climits>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sb/http/problem.h"
#include "sb/http/request.h"

namespace sb::http {

namespace {

constexpr std::string_view kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'";

// The resolved absolute form of `path` (every symlink followed), or nullopt when it does not
// exist or cannot be resolved.
std::optional<std::string> Resolve(const std::string& path) {
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr) return std::nullopt;
  return std::string(resolved);
}

std::string_view LastSegment(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool HasExtension(std::string_view path) {
  return LastSegment(path).find('.') != std::string_view::npos;
}

// A decoded relative path made only of plain segments (see the header).
bool IsPlainRelative(std::string_view path) {
  if (path.empty()) return true;
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    const std::string_view segment = path.substr(start, slash - start);
    if (segment.empty() || segment.front() == '.') return false;
    for (char c : segment) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f || c == '\\') return false;
    }
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

Result<std::string> ReadRegularFile(const std::string& path, size_t max_bytes) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return NotFoundError("file not found");
  struct stat st {};
  std::string body;
  Status status = OkStatus();
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    status = NotFoundError("file not found");
  } else if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    status = ResourceExhaustedError("file too large to serve");
  } else {
    body.resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (done < body.size()) {
      const ssize_t n = read(fd, body.data() + done, body.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    body.resize(done);  // a file that shrank meanwhile
  }
  close(fd);
  if (!status.ok()) return status;
  return body;
}

}  // namespace

std::string_view ContentTypeFor(std::string_view file_name) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".json", "application/json"},
      {".woff2", "font/woff2"},
      {".map", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
  };
  const std::string_view name = LastSegment(file_name);
  for (const auto& [extension, type] : kTypes) {
    if (name.size() > extension.size() && name.ends_with(extension)) return type;
  }
  return "application/octet-stream";
}

Result<std::unique_ptr<StaticFiles>> StaticFiles::Open(StaticFilesOptions options) {
  const std::optional<std::string> root = Resolve(options.root);
  struct stat st {};
  if (!root || stat(root->c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return InvalidArgumentError("not a directory: " + options.root);
  }
  return std::unique_ptr<StaticFiles>(new StaticFiles(std::move(options), *root));
}

Response StaticFiles::Serve(std::string_view raw_relative, std::string_view request_id) const {
  const Response not_found = MakeProblem(404, "not-found", "no such file", request_id);
  Result<std::string> decoded = PercentDecode(raw_relative);
  if (!decoded.ok() || !IsPlainRelative(*decoded)) return not_found;
  std::string relative = decoded->empty() ? options_.fallback : std::move(*decoded);
  Result<std::string> body = Read(relative);
  if (!body.ok() && body.status().code() == StatusCode::kNotFound && !HasExtension(relative)) {
    relative = options_.fallback;  // a client-side route of the app
    body = Read(relative);
  }
  if (!body.ok()) {
    if (body.status().code() == StatusCode::kNotFound) return not_found;
    return StatusToProblem(InternalError("static file unavailable"), request_id);
  }
  return FileResponse(relative, std::move(body).value());
}

Result<std::string> StaticFiles::Read(const std::string& relative) const {
  const std::string inside = root_.ends_with('/') ? root_ : root_ + "/";
  const std::optional<std::string> resolved = Resolve(inside + relative);
  // Symlinks are followed by Resolve; whatever they point at must stay inside root_.
  if (!resolved || !resolved->starts_with(inside)) return NotFoundError("file not found");
  return ReadRegularFile(*resolved, options_.max_file_bytes);
}

Response StaticFiles::FileResponse(const std::string& relative, std::string body) const {
  Response response = Response::Text(200, std::move(body), ContentTypeFor(relative));
  const bool immutable =
      !options_.immutable_prefix.empty() && relative.starts_with(options_.immutable_prefix);
  response.SetHeader("Cache-Control",
                     immutable ? "public, max-age=31536000, immutable" : "no-cache");
  response.SetHeader("X-Content-Type-Options", "nosniff");
  response.SetHeader("Referrer-Policy", "same-origin");
  response.SetHeader("Content-Security-Policy", kCsp);
  return response;
}

}  // namespace sb::http
