// GET /v1/audit: the caller's tenant's audit log, filtered (time range, action, actor, target,
// outcome), in seq order with cursor pagination, as JSON pages or exported whole as CSV or JSON
// lines (`?format=csv|jsonl`), streamed page by page so that any number of entries exports in
// constant memory. Admin keys may read another tenant's log, or the deployment-wide system
// chain, with `tenant_id`. Entries cannot be changed or deleted through any API. Thread-safe.
#pragma once

#include "sb/api/exclusive_runs.h"
#include "sb/audit/audit_log.h"
#include "sb/http/request.h"
#include "sb/http/response.h"
#include "sb/store/database.h"

namespace sb::api {

class AuditHandlers {
 public:
  static constexpr int kExportPageSize = 500;

  // Chains verified at once on this node (one per tenant at most): each holds a thread and a
  // database connection for as long as re-hashing takes.
  static constexpr size_t kMaxVerifications = 2;

  AuditHandlers(store::Database& db, audit::AuditLog& log) : db_(db), log_(log) {}

  http::Response List(http::Request& request);  // GET /v1/audit (read)
  // GET /v1/audit/verification (read): verifies the tenant's chain now (operators: any tenant's
  // with tenant_id) and reports the entries and checkpoints verified and the first bad entry.
  // It reads and re-hashes the whole chain (seconds per million entries), so it is asked for,
  // never polled: one at a time per tenant and kMaxVerifications on the node, else 429.
  http::Response Verify(http::Request& request);

 private:
  Result<http::Response> DoList(http::Request& request);
  Result<http::Response> DoVerify(http::Request& request);
  // The tenant a request reads: its own, or (operators) the one named by ?tenant_id.
  Result<TenantId> ReadTenant(const http::Request& request);
  Result<http::Response> Export(const http::Request& request, const TenantId& tenant,
                                const audit::Filter& filter, std::optional<int64_t> after,
                                const std::string& format);

  store::Database& db_;
  audit::AuditLog& log_;
  ExclusiveRuns verifications_{kMaxVerifications};
};

}  // namespace sb::api
