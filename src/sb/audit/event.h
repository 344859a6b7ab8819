// The vocabulary of the audit log (AUD-01): who did what to which target with what outcome.
// Callers (tenancy, api, vault hooks, the CLI) build an Event and hand it to AuditLog::Append
// inside the transaction of the change. Plain values; thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sb/base/json.h"

namespace sb::audit {

enum class ActorKind {
  kApiKey,     // "api_key": id is the API key id
  kSystem,     // "system": the hub itself (background jobs); id names the component
  kCli,        // "cli": an operator on the command line; id is the OS user
  kAnonymous,  // "anonymous": an unauthenticated caller (e.g. a failed authentication)
  kUser,       // "user": a dashboard user signed in with a session; id is the user id
};

enum class Outcome {
  kSuccess,  // "success"
  kFailure,  // "failure": the operation failed
  kDenied,   // "denied": refused by authentication or authorization
};

struct Actor {
  ActorKind kind = ActorKind::kSystem;
  std::string id;  // may be empty (anonymous); at most 256 bytes of UTF-8

  friend bool operator==(const Actor&, const Actor&) = default;
};

struct Event {
  Actor actor;
  // What happened, e.g. "tenant.create", "api_key.revoke", "auth.failure", "vault.key.rotate":
  // 1..128 characters of [A-Za-z0-9._:/-].
  std::string action;
  std::string target;  // what it happened to, e.g. "api_keys/<id>"; at most 1024 bytes of UTF-8
  Outcome outcome = Outcome::kSuccess;
  std::string request_id;  // the HTTP request id, when there is one; at most 256 bytes
  // A JSON object (null means {}), at most 64 KiB serialized. Secret-bearing values appear
  // only as AuditLog::HmacSecret(value) (AUD-02), never raw: entries can never be deleted.
  Json details;
};

// Stored names ("api_key", "success", ...) and their inverses (nullopt for unknown names).
std::string_view ActorKindName(ActorKind kind);
std::optional<ActorKind> ParseActorKind(std::string_view name);
std::string_view OutcomeName(Outcome outcome);
std::optional<Outcome> ParseOutcome(std::string_view name);

}  // namespace sb::audit
