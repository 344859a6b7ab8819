// The `switchboard` command line: parses arguments and runs one subcommand. Everything main()
// does lives here so that tests can run subcommands in-process. Output goes to the given
// streams; the environment is passed in (no globals are read outside main.cc).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "sb/config/config.h"

namespace sb::app {

// Runs `args` (without the program name). Returns the process exit code: 0 success, 1 runtime
// failure, 2 usage or configuration error.
int RunCli(const std::vector<std::string>& args, const config::Environment& env, std::istream& in,
           std::ostream& out, std::ostream& err);
// The same with empty standard input.
int RunCli(const std::vector<std::string>& args, const config::Environment& env, std::ostream& out,
           std::ostream& err);

}  // namespace sb::app
