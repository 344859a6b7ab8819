#include "sandbox/keyed/credential_store.h"

namespace sandbox::keyed {

sb::Json PublicJson(const KeyedAccount& account) {
  sb::Json fields = sb::Json::array();
  for (const auto& [field, value] : account.credentials) fields.push_back(field);
  return {{"provider", account.provider},
          {"id", account.id},
          {"name", account.name},
          {"email", account.email},
          {"username", account.username},
          {"credential_fields", std::move(fields)},
          {"created_ms", account.created_ms}};
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // On a length mismatch compare a with itself, so the loop still runs over a's length.
  const std::string_view other = a.size() == b.size() ? b : a;
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(static_cast<unsigned char>(a[i]) ^
                                       static_cast<unsigned char>(other[i]));
  }
  return diff == 0;
}

namespace {

std::string_view Credential(const KeyedAccount& account, std::string_view field) {
  const auto it = account.credentials.find(field);
  return it == account.credentials.end() ? std::string_view() : std::string_view(it->second);
}

bool SameCredentials(const KeyedAccount& a, const KeyedAccount& b,
                     const std::vector<std::string_view>& fields) {
  bool same = true;
  for (std::string_view field : fields) {
    same &= ConstantTimeEquals(Credential(a, field), Credential(b, field));
  }
  return same;
}

}  // namespace

sb::Status CredentialStore::Add(KeyedAccount account,
                                const std::vector<std::string_view>& unique_fields) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& existing : accounts_) {
    if (existing->provider != account.provider) continue;
    if (existing->id == account.id) {
      return sb::AlreadyExistsError("a " + account.provider + " account with id \"" + account.id +
                                    "\" is already registered");
    }
    if (SameCredentials(*existing, account, unique_fields)) {
      return sb::AlreadyExistsError("these " + account.provider +
                                    " credentials are already registered");
    }
  }
  accounts_.push_back(std::make_shared<const KeyedAccount>(std::move(account)));
  return sb::OkStatus();
}

std::shared_ptr<const KeyedAccount> CredentialStore::FindBy(std::string_view provider,
                                                            const CredentialMatch& match) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<const KeyedAccount> found;
  for (const auto& account : accounts_) {
    if (account->provider != provider) continue;
    bool equal = true;
    for (const auto& [field, value] : match) {
      equal &= ConstantTimeEquals(Credential(*account, field), value);
    }
    if (equal && !found) found = account;
  }
  return found;
}

std::vector<std::shared_ptr<const KeyedAccount>> CredentialStore::List(
    std::string_view provider) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<const KeyedAccount>> out;
  for (const auto& account : accounts_) {
    if (provider.empty() || account->provider == provider) out.push_back(account);
  }
  return out;
}

void CredentialStore::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  accounts_.clear();
}

}  // namespace sandbox::keyed
