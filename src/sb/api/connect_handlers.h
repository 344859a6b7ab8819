// REST handlers and hosted pages of the connect flow and of connections:
//   POST /v1/connect/sessions               (write) a connect session for one end user
//   GET  /connect/{token}                   (public) the hosted page: pick provider, services
//   POST /connect/{token}/start             (public) form post of the page itself (CSRF token,
//                                            Origin, Sec-Fetch-Site): sets the browser-binding
//                                            and session cookies, redirects to the provider
//   GET  /connect/callback                  (public) the provider's redirect back; a failure
//                                            page offers "Try again" to the session's browser
//   GET  /v1/connections                    (read) filter by provider, status, end_user_id
//   GET|PATCH|DELETE /v1/connections/{id}   (read | write | write)
//   POST /v1/connections/{id}/refresh       (write) refresh the access token now
// Connection views carry token facts only, never a token. Thread-safe.
#pragma once

#include "sb/connections/connect.h"
#include "sb/connections/connections.h"
#include "sb/http/request.h"
#include "sb/http/response.h"

namespace sb::api {

// The browser-binding cookie of an authorization in flight (OA-03).
inline constexpr char kConnectCookie[] = "sb_connect";
// The token of the connect session an authorization started from, sent back only to the
// callback: a failed callback links this browser back to the session's page ("Try again").
inline constexpr char kConnectSessionCookie[] = "sb_connect_session";

class ConnectHandlers {
 public:
  ConnectHandlers(connections::ConnectService& connect, connections::ConnectionService& connections)
      : connect_(connect), connections_(connections) {}

  http::Response CreateSession(http::Request& request);
  http::Response Page(http::Request& request);
  http::Response Start(http::Request& request);
  // POST /connect/{token}/credentials: a credential provider's form (provider, csrf and
  // field.<name> values); on success to the return URL as a callback goes, on a failure the
  // page again with the error above the provider's fields.
  http::Response SubmitCredentials(http::Request& request);
  http::Response Callback(http::Request& request);

  http::Response ListConnections(http::Request& request);
  http::Response GetConnection(http::Request& request);
  http::Response PatchConnection(http::Request& request);
  http::Response DeleteConnection(http::Request& request);
  http::Response RefreshConnection(http::Request& request);

 private:
  http::Response CredentialFailurePage(const connections::CredentialSubmission& submission,
                                       const Status& status);
  Result<http::Response> DoCreateSession(http::Request& request);
  Result<http::Response> DoListConnections(http::Request& request);
  Result<http::Response> DoGetConnection(http::Request& request);
  Result<http::Response> DoPatchConnection(http::Request& request);
  Result<http::Response> DoDeleteConnection(http::Request& request);
  Result<http::Response> DoRefreshConnection(http::Request& request);

  connections::ConnectService& connect_;
  connections::ConnectionService& connections_;
};

}  // namespace sb::api
