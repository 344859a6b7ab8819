#include "sandbox/app/sandbox_app.h"

#include <filesystem>

#include "sandbox/google/google_errors.h"
#include "sandbox/google/seed.h"

#include "sb/base/check.h"
#include "sb/base/logging.h"

namespace sandbox {

sb::Result<std::unique_ptr<SandboxApp>> SandboxApp::Create(SandboxOptions options,
                                                           const sb::Clock& base_clock) {
  std::unique_ptr<SandboxApp> app(new SandboxApp());
  app->options_ = options;
  app->clock_ = std::make_unique<ShiftedClock>(base_clock);
  const sb::Clock& clock = *app->clock_;
  std::error_code ec;
  std::filesystem::create_directories(options.state_dir, ec);
  if (ec) return sb::UnavailableError("cannot create " + options.state_dir + ": " + ec.message());
  auto ca = crypto::CertificateAuthority::Generate("Switchboard sandbox local CA");
  if (!ca.ok()) return ca.status();
  auto server = ca->IssueServerCertificate({"localhost"}, {"127.0.0.1", "::1"});
  if (!server.ok()) return server.status();
  app->ca_file_ = (std::filesystem::absolute(options.state_dir) / "ca.pem").string();
  if (sb::Status written = crypto::WriteFile(app->ca_file_, ca->ca_pem(), 0644); !written.ok()) {
    return written;
  }
  auto google_key = crypto::RsaSigningKey::Generate();
  if (!google_key.ok()) return google_key.status();
  app->google_key_.emplace(std::move(*google_key));
  auto microsoft_key = crypto::RsaSigningKey::Generate();
  if (!microsoft_key.ok()) return microsoft_key.status();
  app->microsoft_key_.emplace(std::move(*microsoft_key));

  sb::net::CurlHttpClientOptions http;
  http.ca_file = app->ca_file_;
  http.user_agent = "switchboard-sandbox";
  app->http_ = std::make_unique<sb::net::CurlHttpClient>(http);

  const sb::http::TlsOptions tls{server->cert_pem + ca->ca_pem(), server->key_pem};
  OriginOptions google_options;
  google_options.name = "google";
  google_options.address = options.address;
  google_options.port = options.google_port;
  if (options.google_tls) google_options.tls = tls;
  sb::Json google_settings = google::DefaultSettings();
  google_settings["auto_consent"] = options.auto_consent;
  app->google_origin_ =
      std::make_unique<Origin>(google_options, clock, google_settings, google::FaultResponse);
  app->google_ =
      std::make_unique<google::GoogleSandbox>(*app->google_origin_, *app->google_key_, *app->http_);
  app->google_->Register();

  OriginOptions microsoft_options;
  microsoft_options.name = "microsoft";
  microsoft_options.address = options.address;
  microsoft_options.port = options.microsoft_port;
  microsoft_options.tls = tls;
  sb::Json microsoft_settings = microsoft::DefaultSettings();
  microsoft_settings["auto_consent"] = options.auto_consent;
  app->microsoft_origin_ = std::make_unique<Origin>(microsoft_options, clock, microsoft_settings,
                                                    microsoft::MakeFaultResponder(clock));
  app->microsoft_ = std::make_unique<microsoft::MicrosoftSandbox>(
      *app->microsoft_origin_, *app->microsoft_key_, *app->http_);
  app->microsoft_->Register();
  app->CreateKeyed();
  app->AddClockRoute(*app->google_origin_);
  app->AddClockRoute(*app->microsoft_origin_);
  app->AddClockRoute(*app->keyed_origin_);
  if (options.demo) app->SeedDemo();
  return app;
}

SandboxApp::~SandboxApp() { Stop(); }

// The keyed origin, on plain HTTP: the providers that use API keys, HTTP Basic or named
// credential fields (sandbox/keyed/).
void SandboxApp::CreateKeyed() {
  OriginOptions keyed_options;
  keyed_options.name = "keyed";
  keyed_options.address = options_.address;
  keyed_options.port = options_.keyed_port;
  keyed_origin_ = std::make_unique<Origin>(keyed_options, *clock_, keyed::DefaultSettings(),
                                           keyed::FaultResponse);
  keyed_ = std::make_unique<keyed::KeyedSandbox>(*keyed_origin_, random_);
  keyed_->Register();
}

// POST /_sandbox/clock {"advance_seconds": N}: moves the providers' time forward (all origins
// share one clock), for tests whose Switchboard clock moved by as much.
void SandboxApp::AddClockRoute(Origin& origin) {
  const sb::http::RouteOptions open{.authenticated = false};
  SB_CHECK(
      origin.router()
          .Add(
              "POST", "/_sandbox/clock",
              [this](sb::http::Request& request) {
                const sb::Json body = sb::Json::parse(request.body, nullptr, false);
                if (!body.is_object() || !body.contains("advance_seconds") ||
                    !body["advance_seconds"].is_number_integer() ||
                    body["advance_seconds"].get<int64_t>() < 0 ||
                    body["advance_seconds"].get<int64_t>() > int64_t{10} * 365 * 86'400) {
                  return ControlError(
                      400, "\"advance_seconds\": a whole number of seconds, 0..10 years");
                }
                clock_->Advance(std::chrono::seconds(body["advance_seconds"].get<int64_t>()));
                return sb::http::Response::Json(
                    200,
                    {{"offset_seconds",
                      std::chrono::duration_cast<std::chrono::seconds>(clock_->offset()).count()}});
              },
              open)
          .ok());
}

void SandboxApp::SeedDemo() {
  Account demo;
  demo.email = "demo@example.com";
  demo.name = "Demo User";
  const Account google_demo = google_->CreateAccount(demo);
  google_->identity().PutClient(
      {"switchboard-demo.apps.googleusercontent.com", "sandbox-demo-secret", {}});
  if (auto calendar = google_->calendar().Calendar(google_demo.id, google_demo.email)) {
    google::SeedOptions seed;
    seed.events = options_.demo_events;
    seed.base_ms = sb::ToUnixMicros(sb::SystemClock().Now()) / 1000;
    (void)google::Seed(google_->calendar(), *calendar, seed, seed.base_ms);
  }
  const Account microsoft_demo = microsoft_->CreateAccount("demo@contoso.example", "Demo User", "");
  microsoft_->identity().PutClient(
      {"5b7e1a9c-0000-4000-8000-00000000de00", "sandbox-demo-secret", {}});
  microsoft_->Seed(microsoft_demo.id, static_cast<size_t>(options_.demo_events), 1);
  const sb::Status keyed_demo = keyed_->AddDemoAccounts();
  SB_CHECK(keyed_demo.ok());  // a fresh store accepts the fixed demo sets
}

sb::Status SandboxApp::Start() {
  if (sb::Status started = google_origin_->Start(); !started.ok()) return started;
  if (sb::Status started = microsoft_origin_->Start(); !started.ok()) {
    google_origin_->Stop();
    return started;
  }
  if (sb::Status started = keyed_origin_->Start(); !started.ok()) {
    google_origin_->Stop();
    microsoft_origin_->Stop();
    return started;
  }
  const std::string path =
      (std::filesystem::absolute(options_.state_dir) / "sandbox.json").string();
  return crypto::WriteFile(path, Describe().dump(2) + "\n", 0644);
}

void SandboxApp::Stop() {
  if (google_origin_) google_origin_->Stop();
  if (microsoft_origin_) microsoft_origin_->Stop();
  if (keyed_origin_) keyed_origin_->Stop();
}

sb::Json SandboxApp::Describe() const {
  return {{"google_url", google_url()},
          {"microsoft_url", microsoft_url()},
          {"keyed_url", keyed_url()},
          {"ca_file", ca_file_}};
}

}  // namespace sandbox
