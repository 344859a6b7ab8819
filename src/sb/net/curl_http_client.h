// CurlHttpClient: the production HttpClient, on libcurl easy handles (libcurl stays inside
// sb/net; this header is curl-free).
//
// Each Send runs one blocking transfer on an easy handle taken from a small pool of idle
// handles; a handle keeps its connection cache (keep-alive), DNS cache and TLS session cache
// between transfers and is curl_easy_reset before it goes back to the pool. Only http and
// https are allowed, also for redirects. Proxy environment variables (http_proxy,
// https_proxy, ...) are ignored: transfers always connect directly. curl never adds
// "Expect: 100-continue", nor a default Content-Type for bodies.
//
// Thread safety: Send may be called concurrently from any number of threads. The destructor
// REQUIRES that no Send is in flight.
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
  // receiving and give ResourceExhausted.
  size_t max_response_bytes = 16 << 20;
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

 private:
  class HandlePool;

  const CurlHttpClientOptions options_;
  std::unique_ptr<HandlePool> pool_;
};

}  // namespace sb::net
