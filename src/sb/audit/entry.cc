#include "sb/audit/entry.h"

#include "sb/base/time_format.h"

namespace sb::audit {

std::string CsvCell(std::string_view value) {
  std::string cell;
  if (!value.empty() && (value.front() == '=' || value.front() == '+' || value.front() == '-' ||
                         value.front() == '@' || value.front() == '\t' || value.front() == '\r')) {
    cell += '\'';
  }
  cell += value;
  if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
  std::string quoted = "\"";
  for (char c : cell) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

std::string ToCsvHeader() {
  return "seq,id,occurred_at,actor_kind,actor_id,action,target,outcome,request_id,details,"
         "leaf_hash,chain_hash\r\n";
}

std::string ToCsvRow(const Entry& e) {
  std::string row = std::to_string(e.seq);
  auto add = [&row](std::string_view value) {
    row += ',';
    row += CsvCell(value);
  };
  if (e.body_erased) {
    for (int i = 0; i < 9; ++i) add("");
  } else {
    add(e.id);
    add(FormatRfc3339(e.occurred_at));
    add(ActorKindName(e.actor.kind));
    add(e.actor.id);
    add(e.action);
    add(e.target);
    add(OutcomeName(e.outcome));
    add(e.request_id);
    add(e.details.dump(-1, ' ', false, Json::error_handler_t::replace));
  }
  add(e.leaf_hash);
  add(e.chain_hash);
  row += "\r\n";
  return row;
}

Json ToJson(const Entry& e) {
  if (e.body_erased) {
    return Json{{"tenant_id", e.tenant_id.value()},
                {"seq", e.seq},
                {"body_erased", true},
                {"leaf_hash", e.leaf_hash},
                {"chain_hash", e.chain_hash}};
  }
  return Json{{"tenant_id", e.tenant_id.value()},
              {"seq", e.seq},
              {"id", e.id},
              {"occurred_at", FormatRfc3339(e.occurred_at)},
              {"actor", {{"kind", std::string(ActorKindName(e.actor.kind))}, {"id", e.actor.id}}},
              {"action", e.action},
              {"target", e.target},
              {"outcome", std::string(OutcomeName(e.outcome))},
              {"request_id", e.request_id},
              {"details", e.details},
              {"leaf_hash", e.leaf_hash},
              {"chain_hash", e.chain_hash}};
}

}  // namespace sb::audit
