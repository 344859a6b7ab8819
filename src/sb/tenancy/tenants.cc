#include "sb/tenancy/tenants.h"

#include <algorithm>

#include "sb/base/encoding.h"
#include "sb/vault/digest.h"

namespace sb::tenancy {
namespace {

struct ImageType {
  std::string_view media_type;
  std::string_view magic;  // the image's first bytes
};

// The image formats every browser shows. No SVG: it is a document that can carry scripts.
constexpr ImageType kLogoTypes[] = {
    {"image/png", "\x89PNG\r\n\x1a\n"},
    {"image/jpeg", "\xff\xd8\xff"},
    {"image/gif", "GIF8"},
    {"image/webp", "RIFF"},  // then 4 size bytes and "WEBP", checked below
};

bool LooksLike(const ImageType& type, std::string_view bytes) {
  if (!bytes.starts_with(type.magic)) return false;
  return type.media_type != "image/webp" || (bytes.size() >= 12 && bytes.substr(8, 4) == "WEBP");
}

}  // namespace

Result<std::string> CanonicalLogo(std::string_view data_uri) {
  if (data_uri.empty()) return std::string();
  constexpr std::string_view kScheme = "data:";
  constexpr std::string_view kBase64 = ";base64,";
  const size_t comma = data_uri.find(kBase64);
  if (!data_uri.starts_with(kScheme) || comma == std::string_view::npos) {
    return InvalidArgumentError("logo must be a data: URI with base64 content");
  }
  const std::string_view media_type = data_uri.substr(kScheme.size(), comma - kScheme.size());
  const auto type = std::find_if(std::begin(kLogoTypes), std::end(kLogoTypes),
                                 [&](const ImageType& t) { return t.media_type == media_type; });
  if (type == std::end(kLogoTypes)) {
    return InvalidArgumentError("logo must be a PNG, JPEG, GIF or WebP image");
  }
  const std::optional<std::string> bytes = Base64Decode(data_uri.substr(comma + kBase64.size()));
  if (!bytes || bytes->empty()) return InvalidArgumentError("logo is not valid base64");
  if (bytes->size() > kMaxLogoBytes) {
    return InvalidArgumentError("logo must be at most " + std::to_string(kMaxLogoBytes / 1024) +
                                " KiB");
  }
  if (!LooksLike(*type, *bytes)) {
    return InvalidArgumentError("logo content is not a " + std::string(media_type) + " image");
  }
  return std::string(kScheme) + std::string(media_type) + std::string(kBase64) +
         Base64Encode(*bytes);
}

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

namespace {

Result<std::vector<std::string>> NormaliseOrigins(const std::vector<std::string>& origins) {
  if (origins.size() > TenantService::kMaxReturnUrlOrigins) {
    return InvalidArgumentError("field 'return_url_origins' holds at most " +
                                std::to_string(TenantService::kMaxReturnUrlOrigins) + " origins");
  }
  std::vector<std::string> out;
  for (const std::string& origin : origins) {
    std::optional<std::string> normalised = UrlOrigin(origin, /*bare=*/true);
    if (!normalised || origin.size() > 300) {
      return InvalidArgumentError(
          "field 'return_url_origins' must list origins such as \"https://app.example\" or "
          "\"http://localhost:3000\" (scheme, host and port only)");
    }
    if (std::find(out.begin(), out.end(), *normalised) == out.end()) out.push_back(*normalised);
  }
  return out;
}

}  // namespace

Result<store::TenantRecord> TenantService::Update(const audit::Context& ctx, const TenantId& id,
                                                  const TenantPatch& patch) {
  if (!id.valid()) return NotFoundError("tenant not found");
  std::optional<std::vector<std::string>> origins;
  if (patch.return_url_origins) {
    SB_ASSIGN_OR_RETURN(origins, NormaliseOrigins(*patch.return_url_origins));
  }
  std::optional<std::string> logo;
  if (patch.logo) {
    SB_ASSIGN_OR_RETURN(logo, CanonicalLogo(*patch.logo));
  }
  std::optional<store::TenantRecord> out;
  SB_RETURN_IF_ERROR(db_.RunInTenant(id, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(out, tenants_.Get(tx, id));
    if (!out) return OkStatus();
    Json details = Json::object();
    if (logo) {
      SB_RETURN_IF_ERROR(tenants_.SetLogo(tx, id, *logo).status());
      // The image itself is not audited: its size and digest say what changed.
      details["logo_bytes"] = logo->size();
      details["logo_sha256"] = logo->empty() ? "" : HexEncode(vault::Sha256(*logo));
      out->logo = *logo;
    }
    if (origins) {
      SB_RETURN_IF_ERROR(tenants_.SetReturnUrlOrigins(tx, id, *origins).status());
      details["return_url_origins"] = *origins;
      details["previous_return_url_origins"] = out->return_url_origins;
      out->return_url_origins = *origins;
    }
    return audit_.Append(
        tx, id,
        audit::Event{ctx.actor, "tenant.update", "tenants/" + id.value(), audit::Outcome::kSuccess,
                     ctx.request_id, std::move(details)});
  }));
  if (!out) return NotFoundError("tenant " + id.value() + " not found");
  return *out;
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

Result<std::vector<store::TenantRecord>> TenantService::List(const std::optional<TenantId>& after,
                                                             int limit) {
  std::vector<store::TenantRecord> out;
  SB_RETURN_IF_ERROR(
      maintenance_.RunUnscoped(store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(out, tenants_.MaintenanceList(tx, after, limit));
        return OkStatus();
      }));
  return out;
}

}  // namespace sb::tenancy
