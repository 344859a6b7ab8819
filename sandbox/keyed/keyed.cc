#include "sandbox/keyed/keyed.h"

#include "sandbox/keyed/catalog.h"
#include "sandbox/keyed/providers.h"

#include "sb/base/check.h"

namespace sandbox::keyed {

const std::vector<ProviderModule>& Modules() {
  static const std::vector<ProviderModule> kModules = {
      {"twilio", TwilioSamples, AddTwilioRoutes},
      {"stripe", StripeSamples, AddStripeRoutes},
      {"sendgrid", SendGridSamples, AddSendGridRoutes},
      {"postmark", PostmarkSamples, AddPostmarkRoutes},
      {"trello", TrelloSamples, AddTrelloRoutes},
      {"gohighlevel", HighLevelSamples, AddHighLevelRoutes},
      {"retell", RetellSamples, AddRetellRoutes},
  };
  return kModules;
}

const ProviderModule* FindModule(std::string_view id) {
  for (const ProviderModule& module : Modules()) {
    if (module.id == id) return &module;
  }
  return nullptr;
}

sb::Json DefaultSettings() { return sb::Json::object(); }

sb::http::Response FaultResponse(const FaultRule& rule, const sb::http::Request&) {
  const int status = rule.kind == FaultKind::kUnauthorized ? 401 : rule.status;
  const std::string message =
      rule.reason.empty() ? std::string(sb::http::ReasonPhrase(status)) : rule.reason;
  return sb::http::Response::Json(status, {{"error", {{"status", status}, {"message", message}}}});
}

KeyedSandbox::KeyedSandbox(Origin& origin, sb::Random& random) : origin_(origin), random_(random) {}

void KeyedSandbox::Register() {
  for (const ProviderModule& module : Modules()) {
    SB_CHECK(FindProvider(module.id) != nullptr);
    module.add_routes(origin_.router(), store_);
  }
  RegisterControl();
  origin_.OnReset([this] { store_.Reset(); });
}

sb::Result<KeyedAccount> KeyedSandbox::AddAccount(const sb::Json& registration) {
  SB_ASSIGN_OR_RETURN(KeyedAccount account,
                      ParseRegistration(registration, random_, next_number_.fetch_add(1)));
  const ProviderSpec* spec = FindProvider(account.provider);
  const ProviderModule* module = FindModule(account.provider);
  SB_CHECK(spec != nullptr && module != nullptr);
  account.created_ms = NowMillis(origin_.clock());
  account.items = module->samples(account);
  SB_RETURN_IF_ERROR(store_.Add(account, spec->unique_fields));
  return account;
}

sb::Status KeyedSandbox::AddDemoAccounts() {
  for (const sb::Json& registration : DemoRegistrations()) {
    SB_RETURN_IF_ERROR(AddAccount(registration));
  }
  return sb::OkStatus();
}

}  // namespace sandbox::keyed
