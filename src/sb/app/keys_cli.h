// `switchboard keys rotate | rewrap | status | set-min-version N`: master key administration
// (KMS-02..04). Every change is audited in the system tenant's chain with actor "cli".
#pragma once

#include <iosfwd>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sb/config/config.h"

namespace sb::app {

// `words` starts with "keys". Returns the exit code: 0 done, 1 failed (including a rewrap that
// left secrets it could not decrypt), 2 usage error.
// `user` is the audit actor (the operating-system user).
int KeysCommand(const config::Config& config, const std::string& user,
                const std::vector<std::string>& words,
                const std::map<std::string, std::string>& flags,
                const std::set<std::string>& switches, std::ostream& out, std::ostream& err);

}  // namespace sb::app
