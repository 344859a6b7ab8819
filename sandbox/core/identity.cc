#include "sandbox/core/identity.h"

#include <algorithm>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "sb/base/check.h"
#include "sb/base/encoding.h"

namespace sandbox {

std::string_view GrantErrorName(GrantError error) {
  switch (error) {
    case GrantError::kUnknown:
      return "unknown";
    case GrantError::kExpired:
      return "expired";
    case GrantError::kAlreadyUsed:
      return "already_used";
    case GrantError::kRevoked:
      return "revoked";
    case GrantError::kRotatedAway:
      return "rotated_away";
    case GrantError::kClientMismatch:
      return "client_mismatch";
    case GrantError::kRedirectMismatch:
      return "redirect_mismatch";
    case GrantError::kPkceMismatch:
      return "pkce_mismatch";
    case GrantError::kPkceMissing:
      return "pkce_missing";
  }
  return "unknown";
}

std::string RandomToken(size_t bytes) {
  std::string raw(bytes, '\0');
  SB_CHECK(RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) == 1);
  return sb::Base64UrlEncode(raw);
}

std::string Sha256(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  SB_CHECK(EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr) == 1);
  return std::string(reinterpret_cast<const char*>(digest), size);
}

std::string PkceS256(std::string_view verifier) { return sb::Base64UrlEncode(Sha256(verifier)); }

void IdentityStore::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  clients_.clear();
  accounts_.clear();
  codes_.clear();
  access_.clear();
  refresh_.clear();
  consents_.clear();
}

void IdentityStore::PutClient(OAuthClient client) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string id = client.client_id;
  clients_[id] = std::move(client);
}

std::optional<OAuthClient> IdentityStore::Client(std::string_view client_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = clients_.find(client_id);
  if (it == clients_.end()) return std::nullopt;
  return it->second;
}

void IdentityStore::PutAccount(Account account) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string id = account.id;
  accounts_[id] = std::move(account);
}

std::optional<Account> IdentityStore::FindAccount(std::string_view id) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = accounts_.find(id);
  if (it == accounts_.end()) return std::nullopt;
  return it->second;
}

std::optional<Account> IdentityStore::FindAccountByEmail(std::string_view email) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, account] : accounts_) {
    if (sb::http::EqualsIgnoreCase(account.email, email)) return account;
  }
  return std::nullopt;
}

std::vector<Account> IdentityStore::Accounts() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Account> out;
  for (const auto& [id, account] : accounts_) out.push_back(account);
  return out;
}

std::string IdentityStore::IssueCode(AuthCode code) {
  std::string text = "4/0" + RandomToken(32);
  std::lock_guard<std::mutex> lock(mu_);
  codes_[text] = StoredCode{std::move(code), false};
  return text;
}

std::variant<AuthCode, GrantError> IdentityStore::RedeemCode(std::string_view code,
                                                             std::string_view client_id,
                                                             std::string_view redirect_uri,
                                                             std::string_view code_verifier,
                                                             int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = codes_.find(code);
  if (it == codes_.end()) return GrantError::kUnknown;
  StoredCode& stored = it->second;
  if (stored.used) return GrantError::kAlreadyUsed;
  // A failed redemption burns the code too, as the real services do.
  stored.used = true;
  if (stored.code.expires_ms <= now_ms) return GrantError::kExpired;
  if (stored.code.client_id != client_id) return GrantError::kClientMismatch;
  if (stored.code.redirect_uri != redirect_uri) return GrantError::kRedirectMismatch;
  if (!stored.code.code_challenge.empty()) {
    if (code_verifier.empty()) return GrantError::kPkceMissing;
    const std::string expected = stored.code.code_challenge_method == "S256"
                                     ? PkceS256(code_verifier)
                                     : std::string(code_verifier);
    if (expected != stored.code.code_challenge) return GrantError::kPkceMismatch;
  }
  return stored.code;
}

AccessToken IdentityStore::IssueAccessToken(std::string_view prefix, const std::string& account_id,
                                            const std::string& client_id,
                                            std::vector<std::string> scopes, int64_t expires_ms) {
  AccessToken token{std::string(prefix) + RandomToken(48), account_id, client_id, std::move(scopes),
                    expires_ms};
  std::lock_guard<std::mutex> lock(mu_);
  access_[token.token] = StoredAccess{token, false, {}};
  return token;
}

RefreshToken IdentityStore::IssueRefreshToken(std::string_view prefix,
                                              const std::string& account_id,
                                              const std::string& client_id,
                                              std::vector<std::string> scopes, int64_t now_ms) {
  RefreshToken token{std::string(prefix) + RandomToken(48), account_id, client_id,
                     std::move(scopes), now_ms};
  std::lock_guard<std::mutex> lock(mu_);
  refresh_[token.token] = StoredRefresh{token, false, false};
  return token;
}

std::variant<AccessToken, TokenError> IdentityStore::Authenticate(std::string_view token,
                                                                  int64_t now_ms) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = access_.find(token);
  if (it == access_.end()) return TokenError::kUnknown;
  if (it->second.revoked) return TokenError::kRevoked;
  if (it->second.token.expires_ms <= now_ms) return TokenError::kExpired;
  return it->second.token;
}

std::optional<AccessToken> IdentityStore::FindAccessToken(std::string_view token) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = access_.find(token);
  if (it == access_.end() || it->second.revoked) return std::nullopt;
  return it->second.token;
}

std::variant<RefreshToken, GrantError> IdentityStore::UseRefreshToken(
    std::string_view token, std::string_view client_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = refresh_.find(token);
  if (it == refresh_.end()) return GrantError::kUnknown;
  if (it->second.revoked) return GrantError::kRevoked;
  if (it->second.rotated_away) return GrantError::kRotatedAway;
  if (it->second.token.client_id != client_id) return GrantError::kClientMismatch;
  return it->second.token;
}

void IdentityStore::RecordRotation(std::string_view old_token, bool invalidate) {
  if (!invalidate) return;
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = refresh_.find(old_token);
  if (it != refresh_.end()) it->second.rotated_away = true;
}

bool IdentityStore::Revoke(std::string_view token) {
  std::lock_guard<std::mutex> lock(mu_);
  if (const auto it = access_.find(token); it != access_.end()) {
    it->second.revoked = true;
    return true;
  }
  const auto it = refresh_.find(token);
  if (it == refresh_.end()) return false;
  it->second.revoked = true;
  // Google revokes the whole grant: access tokens of the same account and client go too.
  for (auto& [text, access] : access_) {
    if (access.token.account_id == it->second.token.account_id &&
        access.token.client_id == it->second.token.client_id) {
      access.revoked = true;
    }
  }
  return true;
}

size_t IdentityStore::RevokeAccount(std::string_view account_id) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t count = 0;
  for (auto& [text, refresh] : refresh_) {
    if (refresh.token.account_id == account_id && !refresh.revoked) {
      refresh.revoked = true;
      ++count;
    }
  }
  for (auto& [text, access] : access_) {
    if (access.token.account_id == account_id) access.revoked = true;
  }
  for (auto it = consents_.begin(); it != consents_.end();) {
    it = it->first.first == account_id ? consents_.erase(it) : std::next(it);
  }
  return count;
}

size_t IdentityStore::ExpireAccessTokens(std::string_view account_id, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t count = 0;
  for (auto& [text, access] : access_) {
    if ((account_id.empty() || access.token.account_id == account_id) &&
        access.token.expires_ms > now_ms) {
      access.token.expires_ms = now_ms;
      ++count;
    }
  }
  return count;
}

std::set<std::string> IdentityStore::GrantedScopes(std::string_view account_id,
                                                   std::string_view client_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = consents_.find(std::make_pair(std::string(account_id), std::string(client_id)));
  if (it == consents_.end()) return {};
  return it->second;
}

void IdentityStore::RecordConsent(const std::string& account_id, const std::string& client_id,
                                  const std::vector<std::string>& scopes) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& granted = consents_[{account_id, client_id}];
  granted.insert(scopes.begin(), scopes.end());
}

sb::Json IdentityStore::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t live_refresh = 0;
  for (const auto& [text, refresh] : refresh_) {
    if (!refresh.revoked && !refresh.rotated_away) ++live_refresh;
  }
  return {{"clients", clients_.size()},
          {"accounts", accounts_.size()},
          {"codes", codes_.size()},
          {"access_tokens", access_.size()},
          {"refresh_tokens", refresh_.size()},
          {"live_refresh_tokens", live_refresh}};
}

}  // namespace sandbox
