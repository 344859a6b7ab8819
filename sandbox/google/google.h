// GoogleSandbox: the emulated Google origin: OAuth 2.0 + OpenID Connect (oauth.cc), Calendar
// v3 with push channels (calendar_api.cc over calendar_store.h) and freeBusy (freebusy.cc),
// and the control routes under /_sandbox/ for accounts, clients, seeding, user-side changes
// and fault actions (control.cc).
// Wire behaviour follows provider-protocols.md sections 1-3 and 12.1-12.2.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sandbox/core/identity.h"
#include "sandbox/core/origin.h"
#include "sandbox/crypto/signing_key.h"
#include "sandbox/google/calendar_store.h"
#include "sandbox/google/push.h"

#include "sb/http/request.h"
#include "sb/http/response.h"
#include "sb/net/http_client.h"

namespace sandbox::google {

// The settings a test can switch (PUT /_sandbox/settings) and their defaults.
sb::Json DefaultSettings();

class GoogleSandbox {
 public:
  GoogleSandbox(Origin& origin, const crypto::RsaSigningKey& signing_key,
                sb::net::HttpClient& http);
  ~GoogleSandbox();

  // Adds every route to origin.router() and the reset hook. Call once, before Start.
  void Register();

  IdentityStore& identity() { return identity_; }
  CalendarStore& calendar() { return calendar_; }

  // Creates an account with a primary calendar (and its id when none is given).
  Account CreateAccount(Account account);

 private:
  void RegisterOAuth();
  void RegisterCalendar();
  void RegisterControl();
  // POST /calendar/v3/freeBusy once authenticated (freebusy.cc).
  sb::http::Response FreeBusy(const sb::http::Request& request, const AccessToken& token);

  // The bearer token's grant, or the 401 to answer with.
  std::variant<AccessToken, sb::http::Response> Authenticate(const sb::http::Request& request);
  std::string IdToken(const Account& account, const std::string& client_id,
                      const std::string& nonce, const std::string& access_token);
  std::string Issuer() const;
  void NotifyChannels(const std::string& calendar_key);
  PushSwitches Switches() const;

  Origin& origin_;
  const crypto::RsaSigningKey& key_;
  IdentityStore identity_;
  CalendarStore calendar_;
  PushSender push_;
  std::atomic<int64_t> next_account_{110'000'000'000'000'000};
};

}  // namespace sandbox::google
