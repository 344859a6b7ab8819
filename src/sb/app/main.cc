// switchboard: the composition root's entry point. Collects argv and the SWITCHBOARD_*
// environment and hands them to RunCli (the only code no test links).
#include <iostream>
#include <string>
#include <vector>

#include "sb/app/cli.h"

extern char** environ;

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  sb::config::Environment env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    if (entry.rfind("SWITCHBOARD_", 0) != 0) continue;
    auto eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return sb::app::RunCli(args, env, std::cout, std::cerr);
}
