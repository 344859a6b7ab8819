#include "sb/oauth/provider_json.h"

namespace sb::oauth {

UserinfoIdentity ParseUserinfo(std::string_view body) {
  UserinfoIdentity identity;
  const Json info = ProviderJsonOrNull(body);
  if (!info.is_object()) return identity;
  for (const char* key : {"sub", "id", "user_id", "account_id"}) {
    const auto it = info.find(key);
    if (it == info.end()) continue;
    if (it->is_string()) identity.subject = it->get<std::string>();
    if (it->is_number_integer()) identity.subject = std::to_string(it->get<int64_t>());
    if (!identity.subject.empty()) break;
  }
  const auto email = info.find("email");
  if (email != info.end() && email->is_string()) identity.email = email->get<std::string>();
  return identity;
}

}  // namespace sb::oauth
