#include "sb/audit/event.h"

namespace sb::audit {

std::string_view ActorKindName(ActorKind kind) {
  switch (kind) {
    case ActorKind::kApiKey:
      return "api_key";
    case ActorKind::kSystem:
      return "system";
    case ActorKind::kCli:
      return "cli";
    case ActorKind::kAnonymous:
      return "anonymous";
    case ActorKind::kUser:
      return "user";
  }
  return "";
}

std::optional<ActorKind> ParseActorKind(std::string_view name) {
  for (ActorKind k : {ActorKind::kApiKey, ActorKind::kSystem, ActorKind::kCli,
                      ActorKind::kAnonymous, ActorKind::kUser}) {
    if (ActorKindName(k) == name) return k;
  }
  return std::nullopt;
}

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kSuccess:
      return "success";
    case Outcome::kFailure:
      return "failure";
    case Outcome::kDenied:
      return "denied";
  }
  return "";
}

std::optional<Outcome> ParseOutcome(std::string_view name) {
  for (Outcome o : {Outcome::kSuccess, Outcome::kFailure, Outcome::kDenied}) {
    if (OutcomeName(o) == name) return o;
  }
  return std::nullopt;
}

}  // namespace sb::audit
