#include "sandbox/google/google.h"

#include "sandbox/google/google_errors.h"

namespace sandbox::google {

sb::Json DefaultSettings() {
  return {
      // Identity (provider-protocols.md 2 and 12.1).
      {"auto_consent", false},        // skip the consent page: tests and demos
      {"consent_decision", "allow"},  // "deny": auto consent answers access_denied
      {"grant_scopes", ""},           // auto consent grants only these (granular consent)
      {"issuer", "https://accounts.google.com"},
      {"access_token_ttl_seconds", 3599},
      {"id_token_ttl_seconds", 3600},
      {"code_ttl_seconds", 600},
      {"omit_refresh_on_reconsent", true},  // no refresh_token again without prompt=consent
      {"refresh_token_rotation", false},    // Google does not rotate; switch on to test it
      {"invalidate_old_refresh_on_rotate", false},
      // Calendar (3 and 12.2).
      {"calendar_max_page_size", 2500},
      {"calendar_empty_pages", false},  // an empty page with nextPageToken before the first
      {"sync_token_ttl_seconds", 0},    // 0: sync tokens never age out
      {"channel_default_ttl_seconds", 3600},
      {"channel_max_ttl_seconds", 604800},
      {"push_drop_rate", 0.0},
      {"push_duplicate", false},
      {"push_delay_ms", 0},
      {"push_send_after_stop", false},
  };
}

GoogleSandbox::GoogleSandbox(Origin& origin, const crypto::RsaSigningKey& signing_key,
                             sb::net::HttpClient& http)
    : origin_(origin), key_(signing_key), push_(http) {}

GoogleSandbox::~GoogleSandbox() = default;

void GoogleSandbox::Register() {
  RegisterOAuth();
  RegisterCalendar();
  RegisterControl();
  origin_.OnReset([this] {
    identity_.Reset();
    calendar_.Reset();
    push_.Reset();
  });
}

Account GoogleSandbox::CreateAccount(Account account) {
  if (account.id.empty()) account.id = std::to_string(next_account_.fetch_add(1));
  if (account.name.empty()) account.name = account.email.substr(0, account.email.find('@'));
  if (account.given_name.empty())
    account.given_name = account.name.substr(0, account.name.find(' '));
  if (account.family_name.empty() && account.name.find(' ') != std::string::npos) {
    account.family_name = account.name.substr(account.name.find(' ') + 1);
  }
  identity_.PutAccount(account);
  CalendarInfo primary;
  primary.account_id = account.id;
  primary.id = account.email;
  primary.summary = account.email;
  primary.time_zone = account.time_zone;
  primary.primary = true;
  calendar_.AddCalendar(primary);
  return account;
}

}  // namespace sandbox::google
