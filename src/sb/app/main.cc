// switchboard: the composition root's entry point. Collects argv, the SWITCHBOARD_*
// environment and the user name (USER, LOGNAME or the passwd entry) and hands them to RunCli (the
// only code no test links).
#include <iostream>
#include <string>
#include <vector>

#include <pwd.h>
#include <unistd.h>

#include "sb/app/cli.h"

extern char** environ;

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  sb::config::Environment env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    // Settings, plus the user name that audit entries of CLI commands name as their actor.
    if (entry.rfind("SWITCHBOARD_", 0) != 0 && entry.rfind("USER=", 0) != 0 &&
        entry.rfind("LOGNAME=", 0) != 0) {
      continue;
    }
    auto eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  if (env.count("USER") == 0 && env.count("LOGNAME") == 0) {
    if (const passwd* pw = getpwuid(getuid()); pw != nullptr) env["USER"] = pw->pw_name;
  }
  return sb::app::RunCli(args, env, std::cin, std::cout, std::cerr);
}
