// switchboard-sandbox: the Google and Microsoft emulators and the keyed (API-key) providers
// (see sandbox/README.md).
//
//   switchboard-sandbox [--address A] [--google-port N] [--microsoft-port N] [--keyed-port N]
//                       [--state-dir DIR] [--demo] [--demo-events N] [--auto-consent]
//                       [--google-tls]
//
// Prints one JSON line {"google_url","microsoft_url","keyed_url","ca_file"} when every origin
// listens (also written to DIR/sandbox.json), then serves until SIGINT or SIGTERM.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "sandbox/app/sandbox_app.h"

#include "sb/base/logging.h"

namespace {

bool ParsePort(const char* text, uint16_t& port) {
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value < 0 || value > 65535) return false;
  port = static_cast<uint16_t>(value);
  return true;
}

int Usage() {
  std::fprintf(stderr,
               "usage: switchboard-sandbox [--address A] [--google-port N] [--microsoft-port N] "
               "[--keyed-port N] [--state-dir DIR] [--demo] [--demo-events N] [--auto-consent] "
               "[--google-tls]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  sandbox::SandboxOptions options;
  options.google_port = 8081;
  options.microsoft_port = 8443;
  options.keyed_port = 8082;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--address" && has_value) {
      options.address = argv[++i];
    } else if (arg == "--google-port" && has_value) {
      if (!ParsePort(argv[++i], options.google_port)) return Usage();
    } else if (arg == "--microsoft-port" && has_value) {
      if (!ParsePort(argv[++i], options.microsoft_port)) return Usage();
    } else if (arg == "--keyed-port" && has_value) {
      if (!ParsePort(argv[++i], options.keyed_port)) return Usage();
    } else if (arg == "--state-dir" && has_value) {
      options.state_dir = argv[++i];
    } else if (arg == "--demo") {
      options.demo = true;
    } else if (arg == "--demo-events" && has_value) {
      options.demo_events = std::strtol(argv[++i], nullptr, 10);
    } else if (arg == "--auto-consent") {
      options.auto_consent = true;
    } else if (arg == "--google-tls") {
      options.google_tls = true;
    } else {
      return Usage();
    }
  }
  // Block the stop signals before any thread starts, so only sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  sb::SystemClock clock;
  auto app = sandbox::SandboxApp::Create(options, clock);
  if (!app.ok()) {
    std::fprintf(stderr, "switchboard-sandbox: %s\n", app.status().ToString().c_str());
    return 1;
  }
  if (sb::Status started = (*app)->Start(); !started.ok()) {
    std::fprintf(stderr, "switchboard-sandbox: %s\n", started.ToString().c_str());
    return 1;
  }
  std::cout << (*app)->Describe().dump() << std::endl;
  int received = 0;
  sigwait(&signals, &received);
  (*app)->Stop();
  return 0;
}
