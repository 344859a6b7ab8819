// SandboxApp: the emulated providers in one process, as `switchboard-sandbox` runs them and as
// tests start them in-process: Google, Microsoft and the keyed origin (the providers that use
// API keys, HTTP Basic or named credential fields; plain HTTP), all on one shifted clock. At start
// it creates a local CA and a server certificate for 127.0.0.1/localhost (the Microsoft origin
// speaks HTTPS because the Graph client drops the Authorization header on plain http), writes the
// CA to `<state_dir>/ca.pem`, and generates one RS256 signing key per provider.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "sandbox/core/origin.h"
#include "sandbox/core/shifted_clock.h"
#include "sandbox/crypto/certificate_authority.h"
#include "sandbox/crypto/signing_key.h"
#include "sandbox/google/google.h"
#include "sandbox/keyed/keyed.h"
#include "sandbox/microsoft/microsoft.h"

#include "sb/base/clock.h"
#include "sb/base/random.h"
#include "sb/net/curl_http_client.h"

namespace sandbox {

struct SandboxOptions {
  std::string address = "127.0.0.1";
  uint16_t google_port = 0;
  uint16_t microsoft_port = 0;
  uint16_t keyed_port = 0;
  std::string state_dir = "var/sandbox";  // ca.pem (and sandbox.json) go here
  bool google_tls = false;                // googleapis works over plain http
  bool auto_consent = false;
  bool demo = false;  // demo accounts, OAuth clients, seeded calendars, keyed credential sets
  int64_t demo_events = 200;
};

class SandboxApp {
 public:
  static sb::Result<std::unique_ptr<SandboxApp>> Create(SandboxOptions options,
                                                        const sb::Clock& clock);
  ~SandboxApp();

  sb::Status Start();
  void Stop();

  std::string google_url() const { return google_origin_->base_url(); }
  std::string microsoft_url() const { return microsoft_origin_->base_url(); }
  std::string keyed_url() const { return keyed_origin_->base_url(); }
  const std::string& ca_file() const { return ca_file_; }
  google::GoogleSandbox& google() { return *google_; }
  microsoft::MicrosoftSandbox& microsoft() { return *microsoft_; }
  keyed::KeyedSandbox& keyed() { return *keyed_; }
  // {"google_url","microsoft_url","keyed_url","ca_file"}: written to <state_dir>/sandbox.json
  // at start.
  sb::Json Describe() const;

 private:
  SandboxApp() = default;
  void CreateKeyed();
  void SeedDemo();
  void AddClockRoute(Origin& origin);

  SandboxOptions options_;
  std::string ca_file_;
  std::optional<crypto::RsaSigningKey> google_key_;
  std::optional<crypto::RsaSigningKey> microsoft_key_;
  std::unique_ptr<sb::net::CurlHttpClient> http_;
  std::unique_ptr<ShiftedClock> clock_;  // every origin's (POST /_sandbox/clock)
  sb::SystemRandom random_;              // the keyed accounts' generated ids
  std::unique_ptr<Origin> google_origin_;
  std::unique_ptr<Origin> microsoft_origin_;
  std::unique_ptr<Origin> keyed_origin_;
  std::unique_ptr<google::GoogleSandbox> google_;
  std::unique_ptr<microsoft::MicrosoftSandbox> microsoft_;
  std::unique_ptr<keyed::KeyedSandbox> keyed_;
};

}  // namespace sandbox
