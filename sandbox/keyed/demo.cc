// The demo credential sets of `switchboard-sandbox --demo` (documented in sandbox/README.md):
// fixed values, so that a demo Switchboard can be configured with them once.
#include <string>

#include "sandbox/keyed/keyed.h"

namespace sandbox::keyed {
namespace {

sb::Json Demo(std::string provider, sb::Json credentials, sb::Json account) {
  account["name"] = "Demo User";
  account["email"] = "demo@example.com";
  return {{"provider", std::move(provider)},
          {"credentials", std::move(credentials)},
          {"account", std::move(account)}};
}

}  // namespace

std::vector<sb::Json> DemoRegistrations() {
  return {
      Demo("twilio",
           {{"account_sid", "AC5b7e1a9c00004000800000000000de00"},
            {"auth_token", "8f1c2b3a4d5e6f708192a3b4c5d6e7f8"}},
           sb::Json::object()),
      Demo("stripe", {{"api_key", "sk_test_sandboxdemo4eC39HqLyjWDarjtT1zdp7dc"}},
           {{"id", "acct_SandboxDemo00001"}}),
      Demo("sendgrid",
           {{"api_key", "SG.sandboxdemo0000000000.sandboxdemo000000000000000000000000000000000"}},
           {{"id", "1000001"}, {"username", "sandboxdemo"}}),
      Demo("postmark", {{"server_token", "00000000-0000-4000-8000-00000000de00"}},
           {{"id", "1000001"}}),
      Demo("trello",
           {{"api_key", "0000000000000000000000000000de00"},
            {"token", "ATTAde00de00de00de00de00de00de00de00de00de00de00de00de00de00de00de00"}},
           {{"id", "5f000000000000000000de00"}, {"username", "demouser"}}),
      Demo("gohighlevel",
           {{"location_id", "SandboxDemoLocation0"},
            {"api_key", "pit-00000000-0000-4000-8000-00000000de00"}},
           sb::Json::object()),
      Demo("retell", {{"api_key", "key_sandboxdemo00000000000de00"}},
           {{"id", "org_000000000000de00"}}),
  };
}

}  // namespace sandbox::keyed
