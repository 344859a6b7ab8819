#include "sb/api/audit_handlers.h"

#include "sb/api/auth.h"
#include "sb/api/json_body.h"
#include "sb/api/tenant_handlers.h"
#include "sb/audit/entry.h"
#include "sb/base/time_format.h"
#include "sb/http/problem.h"

namespace sb::api {
namespace {

using tenancy::Principal;
using tenancy::Scope;

Result<std::optional<std::string>> QueryText(const http::Request& request, std::string_view name,
                                             size_t max_len) {
  auto value = request.Query(name);
  if (!value) return std::optional<std::string>();
  if (value->empty() || value->size() > max_len) {
    return InvalidArgumentError("query parameter '" + std::string(name) + "' must be 1 to " +
                                std::to_string(max_len) + " characters");
  }
  return std::optional<std::string>(std::string(*value));
}

Result<std::optional<Timestamp>> QueryTime(const http::Request& request, std::string_view name) {
  auto value = request.Query(name);
  if (!value) return std::optional<Timestamp>();
  auto t = ParseRfc3339(*value);
  if (!t) {
    return InvalidArgumentError("query parameter '" + std::string(name) +
                                "' must be an RFC 3339 time, e.g. 2026-11-23T10:00:00Z");
  }
  return std::optional<Timestamp>(*t);
}

Result<audit::Filter> ParseFilter(const http::Request& request) {
  audit::Filter f;
  SB_ASSIGN_OR_RETURN(f.from, QueryTime(request, "from"));
  SB_ASSIGN_OR_RETURN(f.to, QueryTime(request, "to"));
  SB_ASSIGN_OR_RETURN(f.action, QueryText(request, "action", 128));
  SB_ASSIGN_OR_RETURN(f.actor_id, QueryText(request, "actor_id", 256));
  SB_ASSIGN_OR_RETURN(f.target, QueryText(request, "target", 1024));
  SB_ASSIGN_OR_RETURN(auto kind, QueryText(request, "actor_kind", 32));
  if (kind) {
    f.actor_kind = audit::ParseActorKind(*kind);
    if (!f.actor_kind) {
      return InvalidArgumentError(
          "query parameter 'actor_kind' must be api_key, user, system, cli or anonymous");
    }
  }
  SB_ASSIGN_OR_RETURN(auto outcome, QueryText(request, "outcome", 32));
  if (outcome) {
    f.outcome = audit::ParseOutcome(*outcome);
    if (!f.outcome) {
      return InvalidArgumentError("query parameter 'outcome' must be success, failure or denied");
    }
  }
  SB_ASSIGN_OR_RETURN(const bool newest_first, NewestFirstParam(request));
  f.order = newest_first ? audit::Order::kNewestFirst : audit::Order::kOldestFirst;
  return f;
}

// Produces the export one page at a time, each page read in its own read-only transaction when
// the server asks for the next chunk (after the previous one was written): constant memory.
class ExportSource final : public http::BodySource {
 public:
  ExportSource(store::Database& db, audit::AuditLog& log, TenantId tenant, audit::Filter filter,
               std::optional<int64_t> after, bool csv)
      : db_(db),
        log_(log),
        tenant_(std::move(tenant)),
        filter_(std::move(filter)),
        after_(after),
        csv_(csv) {}

  Result<std::optional<std::string>> Next() override {
    if (done_) return std::optional<std::string>();
    std::string chunk;
    if (csv_ && !header_sent_) {
      chunk = audit::ToCsvHeader();
      header_sent_ = true;
    }
    audit::Page page;
    SB_RETURN_IF_ERROR(
        db_.RunInTenant(tenant_, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
          SB_ASSIGN_OR_RETURN(
              page, log_.List(tx, tenant_, filter_, after_, AuditHandlers::kExportPageSize));
          return OkStatus();
        }));
    for (const audit::Entry& e : page.entries) {
      if (csv_) {
        chunk += audit::ToCsvRow(e);
      } else {
        chunk += audit::ToJson(e).dump(-1, ' ', false, Json::error_handler_t::replace);
        chunk += '\n';
      }
    }
    after_ = page.next_after_seq;
    done_ = !after_.has_value();
    return std::optional<std::string>(std::move(chunk));
  }

 private:
  store::Database& db_;
  audit::AuditLog& log_;
  const TenantId tenant_;
  const audit::Filter filter_;
  std::optional<int64_t> after_;
  const bool csv_;
  bool header_sent_ = false;
  bool done_ = false;
};

}  // namespace

Result<http::Response> AuditHandlers::Export(const http::Request& /*request*/,
                                             const TenantId& tenant, const audit::Filter& filter,
                                             std::optional<int64_t> after,
                                             const std::string& format) {
  const bool csv = format == "csv";
  http::Response response = http::Response::Stream(
      200, csv ? "text/csv; charset=utf-8" : "application/jsonl; charset=utf-8",
      std::make_shared<ExportSource>(db_, log_, tenant, filter, after, csv));
  response.SetHeader("Content-Disposition", csv ? "attachment; filename=\"audit.csv\""
                                                : "attachment; filename=\"audit.jsonl\"");
  response.SetHeader("Cache-Control", "no-store");
  return response;
}

http::Response AuditHandlers::List(http::Request& r) { return Respond(r, DoList(r)); }

http::Response AuditHandlers::Verify(http::Request& r) { return Respond(r, DoVerify(r)); }

Result<TenantId> AuditHandlers::ReadTenant(const http::Request& request) {
  const Principal& p = PrincipalOf(request);
  if (!p.Has(Scope::kRead) && !p.Has(Scope::kAdmin) && !p.IsOperator()) {
    return PermissionDeniedError("this API key lacks the 'read' scope");
  }
  TenantId tenant = p.tenant_id;
  if (auto other = request.Query("tenant_id"); other && *other != p.tenant_id.value()) {
    SB_RETURN_IF_ERROR(RequireOperator(p, "reading another tenant's audit log"));
    tenant = TenantId(std::string(*other));
    if (!tenant.valid()) return InvalidArgumentError("query parameter 'tenant_id' is not valid");
  }
  return tenant;
}

Result<http::Response> AuditHandlers::DoVerify(http::Request& request) {
  SB_ASSIGN_OR_RETURN(TenantId tenant, ReadTenant(request));
  const auto run = verifications_.Enter(tenant.value());
  if (run == nullptr) {
    http::Response busy = http::MakeProblem(
        429, "verification-running",
        "A verification of this audit chain, or too many of all chains, is running. Retry when "
        "it has finished.",
        request.request_id);
    busy.SetHeader("Retry-After", "5");
    return busy;
  }
  SB_ASSIGN_OR_RETURN(audit::VerifyReport report, log_.Verify(db_, tenant));
  Json findings = Json::array();
  for (const audit::Finding& f : report.findings) {
    findings.push_back({{"seq", f.seq},
                        {"entry_id", f.entry_id},
                        {"reason", std::string(audit::ReasonName(f.reason))},
                        {"detail", f.detail},
                        {"verified_through", f.verified_through}});
  }
  http::Response response = http::Response::Json(200, {{"tenant_id", tenant.value()},
                                                       {"ok", report.ok()},
                                                       {"entries", report.entries},
                                                       {"checkpoints", report.checkpoints},
                                                       {"findings", findings}});
  response.SetHeader("Cache-Control", "no-store");
  return response;
}

Result<http::Response> AuditHandlers::DoList(http::Request& request) {
  SB_ASSIGN_OR_RETURN(TenantId tenant, ReadTenant(request));
  SB_ASSIGN_OR_RETURN(audit::Filter filter, ParseFilter(request));
  SB_ASSIGN_OR_RETURN(std::optional<int64_t> after, SeqCursorParam(request));
  const std::string format =
      request.Query("format") ? std::string(*request.Query("format")) : std::string("json");
  if (format == "csv" || format == "jsonl") return Export(request, tenant, filter, after, format);
  if (format != "json") {
    return InvalidArgumentError("query parameter 'format' must be json, csv or jsonl");
  }
  SB_ASSIGN_OR_RETURN(int limit, PageLimit(request, 100, audit::AuditLog::kMaxPageSize));
  audit::Page page;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(page, log_.List(tx, tenant, filter, after, limit));
        return OkStatus();
      }));
  Json data = Json::array();
  for (const audit::Entry& e : page.entries) data.push_back(audit::ToJson(e));
  Json next = page.next_after_seq ? Json(std::to_string(*page.next_after_seq)) : Json(nullptr);
  return http::Response::Json(200, {{"data", data}, {"next_cursor", next}});
}

}  // namespace sb::api
