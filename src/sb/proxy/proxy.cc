#include "sb/proxy/proxy.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>

#include "sb/base/encoding.h"
#include "sb/base/json.h"
#include "sb/oauth/token_client.h"
#include "sb/vault/secure_buffer.h"

namespace sb::proxy {
namespace {

using std::chrono::milliseconds;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

constexpr std::array<std::string_view, 11> kRequestHeaders = {
    "accept",   "accept-language",  "content-type",      "content-language",
    "if-match", "if-none-match",    "if-modified-since", "if-unmodified-since",
    "prefer",   "consistencylevel", "cache-control"};

// Headers that make a provider run another method than the one sent (and checked).
constexpr std::array<std::string_view, 3> kMethodOverrides = {"x-http-method-override",
                                                              "x-http-method", "x-method-override"};

constexpr std::array<std::string_view, 11> kHopByHop = {"connection",
                                                        "keep-alive",
                                                        "proxy-authenticate",
                                                        "proxy-authorization",
                                                        "te",
                                                        "trailer",
                                                        "transfer-encoding",
                                                        "upgrade",
                                                        "content-length",
                                                        "host",
                                                        "proxy-connection"};

bool IsHopByHop(const std::string& lower) {
  return std::find(kHopByHop.begin(), kHopByHop.end(), lower) != kHopByHop.end();
}

Status BadPath(std::string_view why) {
  return InvalidArgumentError("the proxied path must be a relative path below the API base (" +
                              std::string(why) + ")");
}

// One raw segment, percent-decoded and checked.
Result<std::string> DecodeSegment(std::string_view raw) {
  if (raw.find_first_of("#\\ ") != std::string_view::npos) {
    return BadPath("a '#', backslash or space");
  }
  std::optional<std::string> decoded = PercentDecodeBytes(raw);
  if (!decoded) return BadPath("a malformed percent escape");
  std::string out = std::move(*decoded);
  for (unsigned char c : out) {
    if (c < 0x20 || c == 0x7f || c == '\\') {
      return BadPath("a control character or an encoded backslash");
    }
  }
  // An encoded '/' splits the segment for any server that decodes it: no piece may climb.
  size_t start = 0;
  while (start <= out.size()) {
    size_t end = out.find('/', start);
    if (end == std::string::npos) end = out.size();
    const std::string_view piece(out.data() + start, end - start);
    if (piece == "." || piece == "..") return BadPath("a '.' or '..' segment");
    start = end + 1;
  }
  return out;
}

bool IsPathLiteral(unsigned char c) {
  return std::isalnum(c) ||
         std::string_view("-._~!$&'()*,;=:@").find(static_cast<char>(c)) != std::string_view::npos;
}

std::string EncodeSegment(std::string_view decoded) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : decoded) {
    if (IsPathLiteral(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

// Request bodies above this go out through a source over one shared copy, so that a retry
// sends them again without another copy; smaller ones go as a string.
constexpr size_t kSourcedBodyBytes = 64 << 10;
constexpr size_t kBodyPieceBytes = 256 << 10;

class SharedBodySource final : public net::RequestBodySource {
 public:
  explicit SharedBodySource(std::shared_ptr<const std::string> body) : body_(std::move(body)) {}
  Result<std::optional<std::string>> Next() override {
    if (offset_ >= body_->size()) return std::optional<std::string>();
    std::string piece = body_->substr(offset_, kBodyPieceBytes);
    offset_ += piece.size();
    return std::optional<std::string>(std::move(piece));
  }

 private:
  std::shared_ptr<const std::string> body_;
  size_t offset_ = 0;
};

// A streamed caller body: what was read ahead, then the rest as it arrives.
class PrefixedBodySource final : public net::RequestBodySource {
 public:
  PrefixedBodySource(std::string prefix, std::shared_ptr<net::RequestBodySource> rest)
      : prefix_(std::move(prefix)), rest_(std::move(rest)) {}
  Result<std::optional<std::string>> Next() override {
    if (!prefix_.empty()) return std::optional<std::string>(std::exchange(prefix_, {}));
    return rest_->Next();
  }

 private:
  std::string prefix_;
  std::shared_ptr<net::RequestBodySource> rest_;
};

// A caller's body that could not be read: too large (413), or the caller went away.
Status CallerBodyError(const Status& status) {
  if (status.code() == StatusCode::kOutOfRange || status.code() == StatusCode::kInvalidArgument ||
      status.code() == StatusCode::kCancelled) {
    return status;
  }
  return InvalidArgumentError("the request body could not be read: " + status.message());
}

Status TooLarge(size_t limit) {
  return ResourceExhaustedError("the provider's answer exceeds the proxy's size limit of " +
                                std::to_string(limit) + " bytes");
}

// The rest of the final answer, with the size limit applied as it arrives.
class LimitedBody final : public ProxyBody {
 public:
  LimitedBody(std::unique_ptr<net::HttpResponseStream> stream, size_t received, size_t limit)
      : stream_(std::move(stream)), received_(received), limit_(limit) {}
  Result<std::optional<std::string>> Next() override {
    SB_ASSIGN_OR_RETURN(std::optional<std::string> chunk, stream_->Next());
    if (chunk) {
      received_ += chunk->size();
      if (received_ > limit_) return TooLarge(limit_);
    }
    return chunk;
  }

 private:
  std::unique_ptr<net::HttpResponseStream> stream_;
  size_t received_;
  const size_t limit_;
};

// A failed provider call as the caller sees it.
Status ProviderError(const Status& status) {
  switch (status.code()) {
    case StatusCode::kResourceExhausted:
    case StatusCode::kCancelled:
      return status;
    default:
      return UnavailableError("the provider could not be reached: " + status.message());
  }
}

// The provider's Content-Length, when it announces one.
std::optional<uint64_t> AnnouncedLength(const net::HttpResponse& head) {
  const auto value = head.Header("Content-Length");
  if (!value) return std::nullopt;
  uint64_t length = 0;
  const auto [end, error] = std::from_chars(value->data(), value->data() + value->size(), length);
  if (error != std::errc() || end != value->data() + value->size()) return std::nullopt;
  return length;
}

// The caller's API key against the catalog's classification of the call (read or write).
Status CheckCallerAccess(const oauth::ProviderEntry& entry, const ProxyRequest& request,
                         std::string_view decoded_path) {
  const bool read =
      oauth::ClassifyCall(entry, request.method, decoded_path) == oauth::CallAccess::kRead;
  if (read ? request.may_read : request.may_write) return OkStatus();
  return PermissionDeniedError("this API key lacks the '" + std::string(read ? "read" : "write") +
                               "' scope: the catalog classifies this " + request.method +
                               " call to " + entry.id + " as a " + (read ? "read" : "write"));
}

}  // namespace

Result<NormalizedPath> NormalizeProxyPath(std::string_view raw) {
  if (raw.empty()) return BadPath("empty");
  NormalizedPath out;
  size_t start = 0;
  while (start <= raw.size()) {
    size_t end = raw.find('/', start);
    const bool last = end == std::string_view::npos;
    if (last) end = raw.size();
    const std::string_view segment = raw.substr(start, end - start);
    if (segment.empty() && !(last && start > 0)) return BadPath("an empty segment");
    SB_ASSIGN_OR_RETURN(std::string decoded, DecodeSegment(segment));
    if (start > 0) {
      out.decoded += '/';
      out.encoded += '/';
    }
    out.encoded += EncodeSegment(decoded);
    out.decoded += decoded;
    start = end + 1;
  }
  return out;
}

bool IsForwardableRequestHeader(std::string_view name) {
  const std::string lower = Lower(name);
  if (std::find(kMethodOverrides.begin(), kMethodOverrides.end(), lower) !=
      kMethodOverrides.end()) {
    return false;
  }
  if (std::find(kRequestHeaders.begin(), kRequestHeaders.end(), lower) != kRequestHeaders.end()) {
    return true;
  }
  // Provider-specific X- headers pass (e.g. X-Goog-*, X-AnchorMailbox); forwarding and client
  // identity headers and our own do not.
  return lower.starts_with("x-") && !lower.starts_with("x-forwarded-") && lower != "x-real-ip" &&
         lower != "x-request-id" && !lower.starts_with("x-sb-");
}

// Puts the token or the credentials on `out` (the headers from `auth_index` on belong to them).
Status Authorize(net::HttpRequest& out, size_t auth_index, const connections::AccessToken& token,
                 const oauth::CredentialAuth* keyed) {
  if (keyed == nullptr) {
    out.headers[auth_index].second = "Bearer " + std::string(token.token.view());
    return OkStatus();
  }
  if (!token.credentials) return InternalError("the connection's credentials were not read");
  return oauth::ApplyCredentials(*keyed, *token.credentials, out);
}

// Wipes what Authorize put on `out` and takes the credentials off again.
void ForgetAuthorization(net::HttpRequest& out, size_t auth_index,
                         const oauth::CredentialAuth* keyed, const std::string& plain_url) {
  for (size_t i = auth_index; i < out.headers.size(); ++i) vault::Wipe(out.headers[i].second);
  if (keyed == nullptr) return;
  out.headers.resize(auth_index);
  vault::Wipe(out.url);
  out.url = plain_url;
}

bool IsForwardableResponseHeader(std::string_view name) {
  const std::string lower = Lower(name);
  return !IsHopByHop(lower) && lower != "set-cookie" && lower != "set-cookie2";
}

ProxyService::ProxyService(ProxyDeps deps, ProxyOptions options)
    : catalog_(deps.catalog),
      connections_(deps.connections),
      http_(deps.http),
      counter_(deps.metrics.AddCounter(
          "sb_proxy_requests_total",
          "Proxied calls by provider and the provider's status (0: no answer), and by tenant "
          "when metrics.tenant_labels is on.",
          options.tenant_label ? std::vector<std::string>{"tenant", "provider", "status"}
                               : std::vector<std::string>{"provider", "status"})),
      options_(options),
      sleep_(deps.sleep ? std::move(deps.sleep)
                        : [](milliseconds d) { std::this_thread::sleep_for(d); }),
      switches_(deps.switches) {}

// A streamed answer that keeps its kill-switch registration until it is read or dropped.
class TrackedBody final : public ProxyBody {
 public:
  TrackedBody(std::unique_ptr<ProxyBody> inner,
              std::unique_ptr<connections::ProviderSwitches::Call> tracked)
      : inner_(std::move(inner)), tracked_(std::move(tracked)) {}
  Result<std::optional<std::string>> Next() override { return inner_->Next(); }

 private:
  std::unique_ptr<ProxyBody> inner_;
  std::unique_ptr<connections::ProviderSwitches::Call> tracked_;
};

// One provider answer being read.
struct ProxyService::Attempt {
  std::unique_ptr<net::HttpResponseStream> stream;
  std::string body;                  // the part of the body read so far
  bool complete = false;             // `body` is the whole body
  std::optional<milliseconds> wait;  // before the retry, when ShouldRetry says so
  connections::RefreshMode mode = connections::RefreshMode::kIfNeeded;  // for the retry's token

  int status() const { return stream->head().status; }
  // Reads on until the body is complete or `bound` bytes are in; errors as for the call.
  Status ReadUpTo(size_t bound) {
    while (!complete && body.size() < bound) {
      SB_ASSIGN_OR_RETURN(std::optional<std::string> chunk, stream->Next());
      if (!chunk) {
        complete = true;
      } else {
        body += *chunk;
      }
    }
    return OkStatus();
  }
};

// 401 (once): refresh and retry. 429, 503, Google's rate-limit 403: wait and retry, within the
// caps. The answers involved are small; they are read (up to kInspectBytes) first.
void ProxyService::Count(const TenantId& tenant, const std::string& provider, int status) const {
  const std::string code = std::to_string(status);
  if (options_.tenant_label) {
    counter_.WithLabels({tenant.value(), provider, code}).Increment();
  } else {
    counter_.WithLabels({provider, code}).Increment();
  }
}

Result<bool> ProxyService::ShouldRetry(Attempt& attempt, bool& refreshed, int& retries) {
  const int status = attempt.status();
  if (status == 401 && !refreshed) {
    refreshed = true;
    attempt.mode = connections::RefreshMode::kForce;
    // A small answer read to its end leaves the connection fit for the retry.
    (void)attempt.ReadUpTo(kInspectBytes);
    return true;
  }
  if (status != 429 && status != 503 && status != 403) return false;
  if (retries >= options_.max_retries) return false;
  if (Status read = attempt.ReadUpTo(kInspectBytes); !read.ok()) return ProviderError(read);
  if (status == 403 && !(attempt.complete && oauth::IsRateLimit403(status, attempt.body)))
    return false;
  milliseconds wait(1000);
  if (auto header = attempt.stream->head().Header("Retry-After")) {
    if (auto parsed = oauth::ParseRetryAfter(*header, std::chrono::system_clock::now())) {
      wait = *parsed;
    }
  }
  if (wait > options_.max_retry_wait) return false;
  attempt.wait = wait;
  ++retries;
  return true;
}

// The final answer: whole when small, else its start plus the rest as a stream.
Result<ProxyResponse> ProxyService::Answer(Attempt attempt) {
  const size_t limit = options_.max_response_bytes;
  if (Status read = attempt.ReadUpTo(kBufferedAnswerBytes); !read.ok()) {
    return ProviderError(read);
  }
  if (attempt.body.size() > limit) return TooLarge(limit);
  ProxyResponse result;
  const net::HttpResponse& head = attempt.stream->head();
  result.status = head.status;
  for (const auto& [name, value] : head.headers) {
    if (IsForwardableResponseHeader(name)) result.headers.emplace_back(name, value);
  }
  result.rate_limited =
      head.status == 429 || (attempt.complete && oauth::IsRateLimit403(head.status, attempt.body));
  result.body = std::move(attempt.body);
  if (!attempt.complete) {
    result.more =
        std::make_unique<LimitedBody>(std::move(attempt.stream), result.body.size(), limit);
  }
  return result;
}

Result<ProxyResponse> ProxyService::Forward(const TenantId& tenant, const ConnectionId& connection,
                                            const ProxyRequest& request,
                                            const audit::Context& ctx) {
  SB_ASSIGN_OR_RETURN(NormalizedPath path, NormalizeProxyPath(request.path));
  if (request.body.size() > options_.max_request_bytes) {
    return Status(StatusCode::kOutOfRange, "the request body exceeds the proxy's size limit");
  }
  // The token first: one read of the connection gives its provider and its usability.
  auto first_token =
      connections_.Token(tenant, connection, connections::RefreshMode::kIfNeeded, ctx);
  if (!first_token.ok()) return first_token.status();
  const std::string provider = first_token->provider;
  const oauth::ProviderEntry* entry = catalog_.Find(provider);
  if (entry == nullptr || entry->api_base_url.empty()) {
    return FailedPreconditionError("the provider " + provider +
                                   " has no fixed API base URL to proxy to");
  }
  // Calls the caller's key may not make, or into a service the user did not grant, are refused
  // before they reach the provider; both checks see the decoded path that is sent.
  SB_RETURN_IF_ERROR(CheckCallerAccess(*entry, request, path.decoded));
  SB_RETURN_IF_ERROR(
      oauth::CheckScopesForCall(*entry, first_token->granted_scopes, request.method, path.decoded));
  // A streamed body: read up to kSourcedBodyBytes ahead; one that ends there is sent as a
  // string (and again on a retry), a longer one streams, once.
  ProxyRequest bodied;
  const ProxyRequest* effective = &request;
  if (request.body_stream) {
    bodied = request;
    std::string prefix;
    bool ended = false;
    while (!ended && prefix.size() <= kSourcedBodyBytes) {
      auto piece = request.body_stream->Next();
      if (!piece.ok()) return CallerBodyError(piece.status());
      if (!*piece) {
        ended = true;
      } else {
        prefix += **piece;
      }
    }
    if (prefix.size() > options_.max_request_bytes) {
      return Status(StatusCode::kOutOfRange, "the request body exceeds the proxy's size limit");
    }
    if (ended) {
      bodied.body = std::move(prefix);
      bodied.body_stream.reset();
    } else {
      bodied.body_stream =
          std::make_shared<PrefixedBodySource>(std::move(prefix), request.body_stream);
    }
    effective = &bodied;
  }
  // The kill switch sets the request's flag while the call, or its streamed answer, runs.
  auto cancel = request.cancel ? request.cancel : std::make_shared<std::atomic<bool>>(false);
  std::unique_ptr<connections::ProviderSwitches::Call> tracked;
  if (switches_ != nullptr) {
    tracked = switches_->Track(tenant, provider, cancel);
    // Switched off since the token was read: no call at all.
    if (cancel->load()) SB_RETURN_IF_ERROR(switches_->Check(tenant, provider));
  }
  Result<ProxyResponse> result = Call(tenant, connection, *effective, path.encoded, ctx,
                                      std::move(*first_token), *entry, cancel);
  if (!result.ok()) {
    // Stopped by the kill switch: say so, not "cancelled".
    if (result.status().code() == StatusCode::kCancelled && switches_ != nullptr) {
      Status off = switches_->Check(tenant, provider);
      if (!off.ok()) return off;
    }
    return result.status();
  }
  if (result->more && tracked) {
    result->more = std::make_unique<TrackedBody>(std::move(result->more), std::move(tracked));
  }
  return result;
}

Result<ProxyResponse> ProxyService::Call(const TenantId& tenant, const ConnectionId& connection,
                                         const ProxyRequest& request, const std::string& path,
                                         const audit::Context& ctx,
                                         connections::AccessToken first_token,
                                         const oauth::ProviderEntry& entry,
                                         const std::shared_ptr<std::atomic<bool>>& cancel) {
  const std::string& provider = entry.id;
  SB_ASSIGN_OR_RETURN(std::string base, oauth::ExpandUrl(entry, entry.api_base_url));
  // A credential provider's credentials go where its catalog entry places them; a caller's
  // header or parameter of the same name never travels beside them.
  const oauth::CredentialAuth* keyed = entry.credentials ? &*entry.credentials : nullptr;
  const std::string query =
      keyed ? oauth::WithoutPlacedParams(*keyed, request.query) : request.query;
  net::HttpRequest out;
  out.method = request.method;
  out.url = base + "/" + path + (query.empty() ? "" : "?" + query);
  const std::string plain_url = out.url;
  out.timeout = options_.timeout;
  out.cancel = cancel;
  std::shared_ptr<const std::string> shared_body;
  // A streamed body can be sent once: its answer is final.
  const bool once = request.body_stream != nullptr;
  if (once) {
    out.body_length = request.body_length;
  } else if (request.body.size() > kSourcedBodyBytes) {
    shared_body = std::make_shared<const std::string>(request.body);
    out.body_length = shared_body->size();
  } else {
    out.body = request.body;
  }
  for (const auto& [name, value] : request.headers) {
    if (IsForwardableRequestHeader(name) && !(keyed && oauth::IsPlacedHeader(*keyed, name))) {
      out.headers.emplace_back(name, value);
    }
  }
  const size_t auth_index = out.headers.size();
  if (keyed == nullptr) out.headers.emplace_back("Authorization", "");

  bool refreshed = keyed != nullptr;  // credentials do not refresh: their 401 is the answer
  int retries = 0;
  int attempts = 0;
  connections::RefreshMode mode = connections::RefreshMode::kIfNeeded;
  std::optional<Result<connections::AccessToken>> pending(std::move(first_token));
  while (true) {
    Result<connections::AccessToken> token =
        pending ? std::move(*pending) : connections_.Token(tenant, connection, mode, ctx);
    pending.reset();
    if (!token.ok()) {
      Count(tenant, provider, 0);
      return token.status();
    }
    SB_RETURN_IF_ERROR(Authorize(out, auth_index, *token, keyed));
    if (shared_body) out.body_source = std::make_shared<SharedBodySource>(shared_body);
    if (once) out.body_source = request.body_stream;
    auto opened = http_.Open(out);
    ForgetAuthorization(out, auth_index, keyed, plain_url);
    ++attempts;
    if (!opened.ok()) {
      Count(tenant, provider, 0);
      // The caller's streamed body failed (too large, or the caller left): say so.
      if (once && opened.status().message().find("request body") != std::string::npos) {
        return CallerBodyError(opened.status());
      }
      return ProviderError(opened.status());
    }
    Attempt attempt{.stream = std::move(*opened)};
    Count(tenant, provider, attempt.status());
    const std::optional<uint64_t> announced = AnnouncedLength(attempt.stream->head());
    if (announced && *announced > options_.max_response_bytes) {
      return TooLarge(options_.max_response_bytes);
    }
    bool retry = false;
    if (!once) {
      SB_ASSIGN_OR_RETURN(retry, ShouldRetry(attempt, refreshed, retries));
    }
    if (!retry) {
      SB_ASSIGN_OR_RETURN(ProxyResponse result, Answer(std::move(attempt)));
      result.attempts = attempts;
      return result;
    }
    mode = attempt.mode;
    if (attempt.wait) sleep_(*attempt.wait);
  }
}

}  // namespace sb::proxy
