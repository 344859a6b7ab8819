#include "sb/api/event_handlers.h"

#include <utility>

#include "sb/api/auth.h"
#include "sb/api/json_body.h"
#include "sb/api/tenant_handlers.h"
#include "sb/base/encoding.h"
#include "sb/http/problem.h"
#include "sb/sync/calendar/conflicts.h"
#include "sb/sync/calendar/occurrences.h"

namespace sb::api {
namespace {

using sync::calendar::WriteResult;
using tenancy::Scope;

Result<EventId> EventParam(const http::Request& request) {
  const auto id = request.PathParam("id");
  if (!id || !IsCanonicalUuid(*id)) return NotFoundError("event not found");
  return EventId(std::string(*id));
}

Result<std::string> ExternalIdParam(const http::Request& request) {
  const auto raw = request.PathParam("external_id");
  if (!raw) return NotFoundError("no entry with this external id");
  auto decoded = PercentDecodeBytes(*raw);
  if (!decoded) return InvalidArgumentError("external_id: malformed percent-encoding");
  return std::move(*decoded);
}

// The ETag of an event version (Google's etags come quoted already).
std::string EtagOf(std::string_view version) {
  if (version.size() >= 2 && version.front() == '"' && version.back() == '"') {
    return std::string(version);
  }
  std::string etag;
  etag.reserve(version.size() + 2);
  etag.push_back('"');
  etag.append(version);
  etag.push_back('"');
  return etag;
}

std::optional<std::string> IfMatch(const http::Request& request) {
  const auto header = request.Header("If-Match");
  if (!header) return std::nullopt;
  return std::string(*header);
}

// The body's calendar_id, when it names one.
Result<std::optional<CalendarId>> CalendarMember(const Json& body) {
  if (!body.contains("calendar_id") || body["calendar_id"].is_null()) {
    return std::optional<CalendarId>();
  }
  const Json& id = body["calendar_id"];
  if (!id.is_string() || !IsCanonicalUuid(id.get<std::string>())) {
    return InvalidArgumentError("calendar_id: not a calendar id");
  }
  return std::optional<CalendarId>(CalendarId(id.get<std::string>()));
}

// The answer to a write: `done` when the provider has it (201 for a new entry), 202 when it
// is queued, 409 with the mapping when the provider's event changed, 204 when deleted.
http::Response Answer(const http::Request& request, const Result<WriteResult>& result, int done) {
  if (!result.ok()) {
    if (result.status().code() == StatusCode::kAborted &&
        result.status().message().find("If-Match") != std::string::npos) {
      return http::MakeProblem(412, "precondition-failed", result.status().message(),
                               request.request_id);
    }
    return Respond(request, result.status());
  }
  const WriteResult& r = *result;
  switch (r.kind) {
    case WriteResult::Kind::kDeleted:
      return http::Response::Empty(204);
    case WriteResult::Kind::kQueued:
      return http::Response::Json(202, sync::calendar::WriteResultJson(r));
    case WriteResult::Kind::kConflict: {
      http::Response conflict = http::MakeProblem(
          409, "event-conflict", "the provider's event changed since the version written against",
          request.request_id);
      Json body = Json::parse(conflict.body, nullptr, /*allow_exceptions=*/false);
      if (body.is_object()) {
        body["mapping"] = sync::calendar::MappingJson(r.mapping);
        if (r.conflict) body["conflict"] = sync::calendar::ConflictJson(*r.conflict, false);
        conflict.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
      }
      return conflict;
    }
    case WriteResult::Kind::kWritten:
      break;
  }
  http::Response response = http::Response::Json(done, sync::calendar::WriteResultJson(r));
  if (r.event) response.SetHeader("ETag", EtagOf(r.event->version));
  return response;
}

Result<sync::calendar::EventTime> OriginalStartParam(const http::Request& request) {
  const auto raw = request.PathParam("original_start");
  if (!raw) return NotFoundError("occurrence not found");
  auto decoded = PercentDecodeBytes(*raw);
  if (!decoded) return InvalidArgumentError("original_start: malformed percent-encoding");
  return sync::calendar::ParseOriginalStart(*decoded);
}

Result<std::string> ConflictParam(const http::Request& request) {
  const auto id = request.PathParam("id");
  if (!id || !IsCanonicalUuid(*id)) return NotFoundError("conflict not found");
  return std::string(*id);
}

Result<store::ConflictFilter> ConflictQuery(const http::Request& request) {
  store::ConflictFilter filter;
  if (auto status = request.Query("status")) {
    filter.status = store::ParseConflictStatus(*status);
    if (!filter.status) return InvalidArgumentError("status: open or resolved");
  }
  SB_ASSIGN_OR_RETURN(filter.connection, ConnectionFilterParam(request));
  if (auto cursor = request.Query("cursor")) {
    if (!IsCanonicalUuid(*cursor)) return InvalidArgumentError("cursor: not a cursor");
    filter.after = std::string(*cursor);
  }
  SB_ASSIGN_OR_RETURN(filter.limit, PageLimit(request, 100, 1000));
  return filter;
}

}  // namespace

http::Response EventHandlers::ListConflicts(http::Request& r) {
  return Respond(r, DoListConflicts(r));
}
http::Response EventHandlers::GetConflict(http::Request& r) { return Respond(r, DoGetConflict(r)); }
http::Response EventHandlers::ResolveConflict(http::Request& r) {
  return idempotent_.Run(r, [this](http::Request& q) { return Respond(q, DoResolveConflict(q)); });
}

Result<http::Response> EventHandlers::DoListConflicts(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kRead));
  SB_ASSIGN_OR_RETURN(const store::ConflictFilter filter, ConflictQuery(request));
  SB_ASSIGN_OR_RETURN(auto conflicts, writer_.Conflicts(p.tenant_id, filter));
  Json data = Json::array();
  for (const auto& c : conflicts) data.push_back(sync::calendar::ConflictJson(c, false));
  const bool more = static_cast<int>(conflicts.size()) == filter.limit;
  return http::Response::Json(
      200, Json{{"data", data}, {"next_cursor", more ? Json(conflicts.back().id) : Json(nullptr)}});
}

Result<http::Response> EventHandlers::DoGetConflict(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kRead));
  SB_ASSIGN_OR_RETURN(const std::string id, ConflictParam(request));
  SB_ASSIGN_OR_RETURN(auto conflict, writer_.Conflict(p.tenant_id, id));
  return http::Response::Json(200, sync::calendar::ConflictJson(conflict, true));
}

Result<http::Response> EventHandlers::DoResolveConflict(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kWrite));
  SB_ASSIGN_OR_RETURN(const std::string id, ConflictParam(request));
  SB_ASSIGN_OR_RETURN(const Json body, ParseJsonObject(request, {"choose", "event"}));
  SB_ASSIGN_OR_RETURN(const std::string choose, RequiredString(body, "choose", 16));
  const auto choice = store::ParseConflictResolution(choose);
  if (!choice || *choice == store::ConflictResolution::kNone) {
    return InvalidArgumentError("choose: provider, host or merged");
  }
  const Json merged = body.contains("event") ? body["event"] : Json(nullptr);
  if ((*choice == store::ConflictResolution::kMerged) != merged.is_object()) {
    return InvalidArgumentError("event: an object exactly when choose is merged");
  }
  SB_ASSIGN_OR_RETURN(auto conflict,
                      writer_.Resolve(p.tenant_id, id, *choice, merged, AuditContextOf(request)));
  return http::Response::Json(200, sync::calendar::ConflictJson(conflict, true));
}

http::Response EventHandlers::Create(http::Request& r) {
  return idempotent_.Run(r, [this](http::Request& q) { return Respond(q, DoCreate(q)); });
}
http::Response EventHandlers::Patch(http::Request& r) {
  return idempotent_.Run(r, [this](http::Request& q) { return Respond(q, DoPatch(q)); });
}
http::Response EventHandlers::Delete(http::Request& r) {
  return idempotent_.Run(r, [this](http::Request& q) { return Respond(q, DoDelete(q)); });
}
http::Response EventHandlers::Put(http::Request& r) {
  return idempotent_.Run(r, [this](http::Request& q) { return Respond(q, DoPut(q)); });
}
http::Response EventHandlers::Get(http::Request& r) { return Respond(r, DoGet(r)); }
http::Response EventHandlers::DeleteByExternalId(http::Request& r) {
  return idempotent_.Run(r,
                         [this](http::Request& q) { return Respond(q, DoDeleteByExternalId(q)); });
}

Result<http::Response> EventHandlers::DoCreate(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kWrite));
  SB_ASSIGN_OR_RETURN(const ConnectionId connection, ConnectionParam(request));
  SB_ASSIGN_OR_RETURN(const Json body, ParseJsonObject(request));
  SB_ASSIGN_OR_RETURN(const auto calendar, CalendarMember(body));
  return Answer(request, writer_.Create(p.tenant_id, connection, calendar, body), 201);
}

Result<http::Response> EventHandlers::DoPatch(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kWrite));
  SB_ASSIGN_OR_RETURN(const EventId event, EventParam(request));
  SB_ASSIGN_OR_RETURN(const Json body, ParseJsonObject(request));
  return Answer(request, writer_.Update(p.tenant_id, event, body, IfMatch(request)), 200);
}

Result<http::Response> EventHandlers::DoDelete(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kWrite));
  SB_ASSIGN_OR_RETURN(const EventId event, EventParam(request));
  return Answer(request, writer_.Delete(p.tenant_id, event, IfMatch(request)), 204);
}

http::Response EventHandlers::PatchOccurrence(http::Request& r) {
  return idempotent_.Run(r,
                         [this](http::Request& q) { return Respond(q, DoOccurrence(q, false)); });
}
http::Response EventHandlers::CancelOccurrence(http::Request& r) {
  return idempotent_.Run(r, [this](http::Request& q) { return Respond(q, DoOccurrence(q, true)); });
}
http::Response EventHandlers::Split(http::Request& r) {
  return idempotent_.Run(r, [this](http::Request& q) { return Respond(q, DoSplit(q)); });
}

Result<http::Response> EventHandlers::DoOccurrence(http::Request& request, bool cancel) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kWrite));
  SB_ASSIGN_OR_RETURN(const EventId event, EventParam(request));
  SB_ASSIGN_OR_RETURN(const auto slot, OriginalStartParam(request));
  std::optional<Json> patch;
  if (!cancel) {
    SB_ASSIGN_OR_RETURN(patch, ParseJsonObject(request));
  }
  return Answer(request, writer_.WriteOccurrence(p.tenant_id, event, slot, patch, IfMatch(request)),
                200);
}

Result<http::Response> EventHandlers::DoSplit(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kWrite));
  SB_ASSIGN_OR_RETURN(const EventId event, EventParam(request));
  SB_ASSIGN_OR_RETURN(const Json body,
                      ParseJsonObject(request, {"from", "changes", "external_id"}));
  SB_ASSIGN_OR_RETURN(const std::string from_text, RequiredString(body, "from", 64));
  SB_ASSIGN_OR_RETURN(const auto from, sync::calendar::ParseOriginalStart(from_text));
  const Json changes = body.contains("changes") ? body["changes"] : Json::object();
  if (!changes.is_object()) return InvalidArgumentError("changes: an object");
  SB_ASSIGN_OR_RETURN(const auto external_id, OptionalString(body, "external_id", 256));
  SB_ASSIGN_OR_RETURN(
      auto split, writer_.Split(p.tenant_id, event, from, changes, external_id, IfMatch(request)));
  const bool queued = split.ended.kind == WriteResult::Kind::kQueued ||
                      split.following.kind == WriteResult::Kind::kQueued;
  return http::Response::Json(
      queued ? 202 : 200, Json{{"series", sync::calendar::WriteResultJson(split.ended)},
                               {"following", sync::calendar::WriteResultJson(split.following)}});
}

Result<http::Response> EventHandlers::DoPut(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kWrite));
  SB_ASSIGN_OR_RETURN(const ConnectionId connection, ConnectionParam(request));
  SB_ASSIGN_OR_RETURN(const std::string external_id, ExternalIdParam(request));
  SB_ASSIGN_OR_RETURN(const Json body, ParseJsonObject(request));
  SB_ASSIGN_OR_RETURN(const auto calendar, CalendarMember(body));
  auto result = writer_.Put(p.tenant_id, connection, external_id, calendar, body, IfMatch(request));
  const bool created = result.ok() && result->mapping.host_version == 1;
  return Answer(request, result, created ? 201 : 200);
}

Result<http::Response> EventHandlers::DoGet(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kRead));
  SB_ASSIGN_OR_RETURN(const ConnectionId connection, ConnectionParam(request));
  SB_ASSIGN_OR_RETURN(const std::string external_id, ExternalIdParam(request));
  SB_ASSIGN_OR_RETURN(auto result, writer_.Get(p.tenant_id, connection, external_id));
  http::Response response = http::Response::Json(200, sync::calendar::WriteResultJson(result));
  if (result.event) response.SetHeader("ETag", EtagOf(result.event->version));
  return response;
}

Result<http::Response> EventHandlers::DoDeleteByExternalId(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kWrite));
  SB_ASSIGN_OR_RETURN(const ConnectionId connection, ConnectionParam(request));
  SB_ASSIGN_OR_RETURN(const std::string external_id, ExternalIdParam(request));
  return Answer(request,
                writer_.DeleteByExternalId(p.tenant_id, connection, external_id, IfMatch(request)),
                204);
}

}  // namespace sb::api
