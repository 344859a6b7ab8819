#include "sb/tenancy/tenants.h"

#include "sb/base/encoding.h"

namespace sb::tenancy {

Result<store::TenantRecord> TenantService::Create(const audit::Context& ctx,
                                                  const std::string& name) {
  return Insert(ctx, {TenantId(ids_.NewUuid()), name, clock_.Now()});
}

Result<store::TenantRecord> TenantService::CreateSystem(const audit::Context& ctx,
                                                        const std::string& name) {
  return Insert(ctx, {audit::SystemTenant(), name, clock_.Now()});
}

Result<store::TenantRecord> TenantService::Insert(const audit::Context& ctx,
                                                  store::TenantRecord record) {
  const std::string& name = record.name;
  if (name.empty() || name.size() > 200 || !IsValidUtf8(name)) {
    return InvalidArgumentError("name must be 1 to 200 characters of UTF-8");
  }
  SB_RETURN_IF_ERROR(db_.RunInTenant(record.id, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto existing, tenants_.Get(tx, record.id));
    if (existing) return AlreadyExistsError("tenant " + record.id.value() + " already exists");
    SB_RETURN_IF_ERROR(tenants_.Insert(tx, record.id, record));
    return audit_.Append(
        tx, record.id,
        audit::Event{ctx.actor, "tenant.create", "tenants/" + record.id.value(),
                     audit::Outcome::kSuccess, ctx.request_id, Json{{"name", name}}});
  }));
  return record;
}

Result<store::TenantRecord> TenantService::Get(const TenantId& id) {
  if (!id.valid()) return NotFoundError("tenant not found");
  std::optional<store::TenantRecord> out;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(id, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(out, tenants_.Get(tx, id));
        return OkStatus();
      }));
  if (!out) return NotFoundError("tenant " + id.value() + " not found");
  return *out;
}

}  // namespace sb::tenancy
