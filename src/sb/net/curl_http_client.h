// CurlHttpClient: the production HttpClient, on libcurl easy handles (libcurl stays inside
// sb/net; this header is curl-free).
//
// Each call runs one transfer on an easy handle driven by its own multi handle, the pair taken
// from a small pool of idle pairs; a pair keeps its connection cache (keep-alive), DNS cache
// and TLS session cache between transfers, and the easy handle is curl_easy_reset before it
// goes back to the pool. Send is Open plus reading the whole body. A stream (Open) buffers at
// most about `max_buffered_bytes` of body: beyond that the transfer pauses
// (CURL_WRITEFUNC_PAUSE) until Next takes the data, so a slow reader slows the server down
// instead of growing memory. A stream destroyed before its end aborts the transfer and frees
// its pair, closing the connection: a half-read connection is never reused. The cancel flag is
// checked at least every 50 ms while a call waits on the network. Only http and
// https are allowed, also for redirects. Proxy environment variables (http_proxy,
// https_proxy, ...) are ignored: transfers always connect directly. curl never adds
// "Expect: 100-continue", nor a default Content-Type for bodies.
//
// Thread safety: Send and Open may be called concurrently from any number of threads. The
// destructor REQUIRES that no Send is in flight and no stream is left.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "sb/base/status.h"
#include "sb/net/http_client.h"

namespace sb::net {

struct CurlHttpClientOptions {
  // PEM bundle of extra CA certificates to trust (e.g. a private CA for an on-premises
  // server). Empty: only the system trust store. It replaces libcurl's default CA bundle file
  // while the system CA directory (/etc/ssl/certs on Debian builds) stays trusted.
  std::string ca_file;
  bool follow_redirects = false;  // up to 10, http(s) only; a custom method is kept
  // Largest response accepted, headers plus (decoded) body; larger ones are aborted while
  // receiving and give ResourceExhausted (from Send, Open or Next).
  size_t max_response_bytes = 16 << 20;
  // Body bytes a stream holds before pausing the transfer; also the largest chunk from Next
  // (plus one libcurl write, at most 16 KiB, or more for compressed content).
  size_t max_buffered_bytes = 256 << 10;
  std::chrono::milliseconds connect_timeout{5'000};  // TCP + TLS handshake
  std::string user_agent = "switchboard";            // unless the request sets User-Agent
  size_t max_idle_handles = 16;                      // idle easy handles kept for reuse
};

class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(CurlHttpClientOptions options = {});
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  // See HttpClient::Send. Additionally InvalidArgument for a Content-Length or
  // Transfer-Encoding request header (libcurl frames the body itself), Internal when libcurl
  // cannot be initialized.
  Result<HttpResponse> Send(const HttpRequest& request) override;
  // See HttpClient::Open; errors as for Send.
  Result<std::unique_ptr<HttpResponseStream>> Open(const HttpRequest& request) override;

 private:
  class HandlePool;
  class Stream;

  const CurlHttpClientOptions options_;
  std::unique_ptr<HandlePool> pool_;
};

}  // namespace sb::net
