#include "sandbox/microsoft/microsoft.h"

#include "sandbox/microsoft/graph_common.h"

namespace sandbox::microsoft {
namespace {

bool EndsWith(std::string_view text, std::string_view suffix) {
  if (text.size() < suffix.size()) return false;
  return sb::http::EqualsIgnoreCase(text.substr(text.size() - suffix.size()), suffix);
}

}  // namespace

sb::Json DefaultSettings() {
  return {{"access_token_ttl_seconds", 3599},
          {"code_ttl_seconds", 600},
          {"auto_consent", false},
          {"consent_decision", "allow"},
          {"invalidate_old_refresh_on_rotate", false},
          {"subscription_max_minutes", 10080},
          {"max_page_size", 1000},
          {"default_page_size", 10},
          {"notification_drop_rate", 0.0},
          {"notification_duplicate", false},
          {"validation_timeout_ms", 10000},
          {"issuer_host", ""},
          {"delta_replay_changes", 0},  // a new delta round repeats this many earlier changes
          {"delta_lag_ms", 0}};         // changes younger than this wait for a later round
}

FaultResponder MakeFaultResponder(const sb::Clock& clock) {
  return [&clock](const FaultRule& rule, const sb::http::Request& request) {
    return FaultResponse(rule, request, NowMillis(clock));
  };
}

MicrosoftSandbox::MicrosoftSandbox(Origin& origin, const crypto::RsaSigningKey& signing_key,
                                   sb::net::HttpClient& http)
    : origin_(origin), key_(signing_key), http_(http), notifier_(http) {}

MicrosoftSandbox::~MicrosoftSandbox() = default;

int64_t MicrosoftSandbox::Now() const { return NowMillis(origin_.clock()); }

int64_t MicrosoftSandbox::Snapshot(const std::string& account_id) const {
  const int64_t lag = origin_.settings().Int("delta_lag_ms");
  return lag > 0 ? events_.SeqAsOf(account_id, Now() - lag) : events_.CurrentSeq();
}

void MicrosoftSandbox::Register() {
  // Graph stamps every response with request-id and echoes client-request-id; errors repeat
  // both in innerError, so the ids are chosen before the handler runs.
  origin_.router().Use([this](sb::http::Request& request, const sb::http::Handler& next) {
    if (!request.path.starts_with("/v1.0/")) return next(request);
    const std::string request_id = NewGuid();
    request.context[std::string(kRequestIdKey)] = request_id;
    request.context[std::string(kDateKey)] = FormatInnerDate(Now());
    sb::http::Response response = next(request);
    response.SetHeader("request-id", request_id);
    AddGraphHeaders(request, response);
    return response;
  });
  RegisterIdentity();
  RegisterGraph();
  RegisterSubscriptions();
  RegisterControl();
  origin_.OnReset([this] { OnReset(); });
}

void MicrosoftSandbox::OnReset() {
  identity_.Reset();
  events_.Reset();
  notifier_.Clear();
  {
    std::lock_guard<std::mutex> lock(refresh_failures_mu_);
    refresh_failures_.clear();
  }
  std::lock_guard<std::mutex> lock(subscriptions_mu_);
  subscriptions_.clear();
}

Account MicrosoftSandbox::CreateAccount(const std::string& email, const std::string& name,
                                        const std::string& tenant_id) {
  Account account;
  account.id = NewGuid();
  account.email = email;
  account.name = name.empty() ? email.substr(0, email.find('@')) : name;
  const size_t space = account.name.find(' ');
  account.given_name = account.name.substr(0, space);
  account.family_name = space == std::string::npos ? "" : account.name.substr(space + 1);
  const bool personal = EndsWith(email, "@outlook.com") || EndsWith(email, "@hotmail.com");
  account.tenant_id =
      !tenant_id.empty() ? tenant_id : std::string(personal ? kPersonalTenantId : kDemoTenantId);
  identity_.PutAccount(account);
  events_.EnsureAccount(account.id, account.name, account.email);
  return account;
}

}  // namespace sandbox::microsoft
