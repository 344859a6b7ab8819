// The keyed providers' wire code, one file each (twilio.cc, stripe.cc, sendgrid.cc,
// postmark.cc, trello.cc, gohighlevel.cc, retell.cc): every provider's routes live under
// /<provider id>/ on the keyed origin, authenticate against the CredentialStore, answer the
// provider's own JSON (and error bodies), and read the sample items made by its samples
// function when the account was registered. Routes only read the store; they are safe to run
// concurrently.
#pragma once

#include <string_view>
#include <vector>

#include "sandbox/keyed/credential_store.h"

#include "sb/base/json.h"
#include "sb/http/router.h"

namespace sandbox::keyed {

using RouteAdder = void (*)(sb::http::Router& router, const CredentialStore& store);
// The account's sample items (deterministic per provider and account id).
using SampleMaker = sb::Json (*)(const KeyedAccount& account);

struct ProviderModule {
  std::string_view id;
  SampleMaker samples;
  RouteAdder add_routes;
};

// One module per catalog provider, in catalog order.
const std::vector<ProviderModule>& Modules();
const ProviderModule* FindModule(std::string_view id);

void AddTwilioRoutes(sb::http::Router& router, const CredentialStore& store);
sb::Json TwilioSamples(const KeyedAccount& account);
void AddStripeRoutes(sb::http::Router& router, const CredentialStore& store);
sb::Json StripeSamples(const KeyedAccount& account);
void AddSendGridRoutes(sb::http::Router& router, const CredentialStore& store);
sb::Json SendGridSamples(const KeyedAccount& account);
void AddPostmarkRoutes(sb::http::Router& router, const CredentialStore& store);
sb::Json PostmarkSamples(const KeyedAccount& account);
void AddTrelloRoutes(sb::http::Router& router, const CredentialStore& store);
sb::Json TrelloSamples(const KeyedAccount& account);
void AddHighLevelRoutes(sb::http::Router& router, const CredentialStore& store);
sb::Json HighLevelSamples(const KeyedAccount& account);
void AddRetellRoutes(sb::http::Router& router, const CredentialStore& store);
sb::Json RetellSamples(const KeyedAccount& account);

}  // namespace sandbox::keyed
