// IdentityStore: the OAuth side of one emulated provider, in memory: registered clients,
// accounts, authorization codes, access and refresh tokens, and granted consents. The wire
// formats live in the providers (google/oauth.cc, microsoft/identity.cc); this store keeps the
// rules both share: codes are single use and short-lived, PKCE is checked at redemption,
// tokens expire, refresh tokens can be revoked one by one or per account, and a rotation can
// (optionally) invalidate the refresh token it replaced. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "sb/base/json.h"
#include "sb/base/status.h"
#include "sb/http/request.h"

namespace sandbox {

struct OAuthClient {
  std::string client_id;
  std::string client_secret;
  std::vector<std::string> redirect_uris;  // exact match; empty accepts any loopback URI
};

struct Account {
  std::string id;  // Google "sub" / Microsoft "oid"
  std::string email;
  std::string name;
  std::string given_name;
  std::string family_name;
  std::string tenant_id;  // Microsoft "tid"
  std::string time_zone = "Europe/Zurich";
};

struct AuthCode {
  std::string client_id;
  std::string redirect_uri;
  std::string account_id;
  std::vector<std::string> scopes;  // granted
  std::string code_challenge;
  std::string code_challenge_method;  // "S256", "plain" or empty
  std::string nonce;
  bool issue_refresh_token = false;
  int64_t expires_ms = 0;
};

struct AccessToken {
  std::string token;
  std::string account_id;
  std::string client_id;
  std::vector<std::string> scopes;
  int64_t expires_ms = 0;
};

struct RefreshToken {
  std::string token;
  std::string account_id;
  std::string client_id;
  std::vector<std::string> scopes;
  int64_t issued_ms = 0;
};

// Why a grant was refused; the providers map these to their own error bodies.
enum class GrantError {
  kUnknown,         // never issued (or forgotten by a reset)
  kExpired,         // code past its lifetime
  kAlreadyUsed,     // code redeemed before
  kRevoked,         // refresh token revoked (user, admin or fault switch)
  kRotatedAway,     // refresh token replaced by rotation while invalidation is on
  kClientMismatch,  // issued to another client
  kRedirectMismatch,
  kPkceMismatch,
  kPkceMissing,
};
std::string_view GrantErrorName(GrantError error);

enum class TokenError { kUnknown, kExpired, kRevoked };

class IdentityStore {
 public:
  void Reset();

  void PutClient(OAuthClient client);
  std::optional<OAuthClient> Client(std::string_view client_id) const;

  // Adds or replaces an account (by id).
  void PutAccount(Account account);
  std::optional<Account> FindAccount(std::string_view id) const;
  std::optional<Account> FindAccountByEmail(std::string_view email) const;
  std::vector<Account> Accounts() const;

  // Returns the new code's text.
  std::string IssueCode(AuthCode code);
  // Redeems once: a second call for the same code gives kAlreadyUsed. Checks client, redirect
  // URI and the PKCE verifier against the stored challenge.
  std::variant<AuthCode, GrantError> RedeemCode(std::string_view code, std::string_view client_id,
                                                std::string_view redirect_uri,
                                                std::string_view code_verifier, int64_t now_ms);

  AccessToken IssueAccessToken(std::string_view prefix, const std::string& account_id,
                               const std::string& client_id, std::vector<std::string> scopes,
                               int64_t expires_ms);
  RefreshToken IssueRefreshToken(std::string_view prefix, const std::string& account_id,
                                 const std::string& client_id, std::vector<std::string> scopes,
                                 int64_t now_ms);

  std::variant<AccessToken, TokenError> Authenticate(std::string_view token, int64_t now_ms) const;
  std::optional<AccessToken> FindAccessToken(std::string_view token) const;

  // The live refresh token, or why it is not.
  std::variant<RefreshToken, GrantError> UseRefreshToken(std::string_view token,
                                                         std::string_view client_id) const;
  // Marks `old_token` as rotated away (refused from now on) when `invalidate` is set.
  void RecordRotation(std::string_view old_token, bool invalidate);

  // Revokes one token (access or refresh; for a refresh token also the access tokens minted
  // from the same grant). False when unknown.
  bool Revoke(std::string_view token);
  // Revokes every token of the account (all clients), as a password reset would.
  size_t RevokeAccount(std::string_view account_id);
  // Ends every access token of the account now (early expiry); returns how many.
  size_t ExpireAccessTokens(std::string_view account_id, int64_t now_ms);

  // Scopes the account already granted the client (for "no refresh token on re-consent").
  std::set<std::string> GrantedScopes(std::string_view account_id,
                                      std::string_view client_id) const;
  void RecordConsent(const std::string& account_id, const std::string& client_id,
                     const std::vector<std::string>& scopes);

  sb::Json Stats() const;

 private:
  struct StoredCode {
    AuthCode code;
    bool used = false;
  };
  struct StoredRefresh {
    RefreshToken token;
    bool revoked = false;
    bool rotated_away = false;
  };
  struct StoredAccess {
    AccessToken token;
    bool revoked = false;
    std::string refresh_token;  // the grant it came from, if any
  };

  mutable std::mutex mu_;
  std::map<std::string, OAuthClient, std::less<>> clients_;
  std::map<std::string, Account, std::less<>> accounts_;
  std::map<std::string, StoredCode, std::less<>> codes_;
  std::map<std::string, StoredAccess, std::less<>> access_;
  std::map<std::string, StoredRefresh, std::less<>> refresh_;
  std::map<std::pair<std::string, std::string>, std::set<std::string>, std::less<>> consents_;
};

// A random URL-safe token of `bytes` random bytes, base64url without padding.
std::string RandomToken(size_t bytes);
// The raw 32-byte SHA-256 digest of `data`.
std::string Sha256(std::string_view data);
// BASE64URL(SHA256(verifier)) as PKCE S256 defines it (RFC 7636 section 4.2).
std::string PkceS256(std::string_view verifier);

}  // namespace sandbox
