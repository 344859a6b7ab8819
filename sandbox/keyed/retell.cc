// Retell AI's API: "Authorization: Bearer <api_key>", GET /list-agents as list (and
// verification) route, since Retell has no identity endpoint; errors are
// {"status":"error","message"}.
#include <memory>
#include <string>

#include "sandbox/keyed/providers.h"
#include "sandbox/keyed/wire.h"

namespace sandbox::keyed {
namespace {

using sb::http::Request;
using sb::http::Response;

Response Error(int status, std::string_view message) {
  return Response::Json(status, {{"status", "error"}, {"message", message}});
}

}  // namespace

sb::Json RetellSamples(const KeyedAccount& account) {
  std::mt19937_64 rng = AccountRng(account);
  static constexpr std::string_view kNames[] = {"Front Desk", "Appointment Reminder"};
  sb::Json agents = sb::Json::array();
  for (std::string_view name : kNames) {
    agents.push_back(
        {{"agent_id", "agent_" + RandomText(rng, 26, kHexDigits)},
         {"agent_name", name},
         {"voice_id", "11labs-Adrian"},
         {"language", "en-US"},
         {"response_engine",
          {{"type", "retell-llm"}, {"llm_id", "llm_" + RandomText(rng, 26, kHexDigits)}}},
         {"last_modification_timestamp", SampleUnixSeconds(rng) * 1000}});
  }
  return agents;
}

void AddRetellRoutes(sb::http::Router& router, const CredentialStore& store) {
  AddRoute(router, "GET", "/retell/list-agents", [&store](Request& request) {
    const auto key = BearerToken(request);
    const auto account = key ? store.FindBy("retell", {{"api_key", *key}}) : nullptr;
    if (!account) return Error(401, "Invalid API key");
    return Response::Json(200, account->items);
  });
  AddCatchAll(router, "retell", [](Request&) { return Error(404, "Not Found"); });
}

}  // namespace sandbox::keyed
