// Schema snapshots for tests: a stable textual dump of everything the migrations create, so
// that a change to a migration's effect (a column, a constraint, an index, a row-level security
// policy, a grant) shows up as a line-by-line difference against a checked-in golden file.
//
// A dump is a sorted list of lines, one fact per line, with no object ids, so that it does not
// depend on the order in which statements ran. PostgreSQL role names are replaced by
// placeholders ({{app_role}}, {{owner}}) so the dump does not depend on the names of the test
// server's roles. Free functions; thread-compatible.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sb/base/status.h"
#include "sb/store/database.h"

namespace sb::store::testing {

using SchemaLines = std::vector<std::string>;

// The role names a PostgreSQL dump replaces by placeholders.
struct SnapshotRoles {
  std::string app_role;  // -> {{app_role}}
  std::string owner;     // -> {{owner}}
};

// PostgreSQL: every schema but the system ones, with its owner and privileges; relations
// (kind, owner, persistence, relrowsecurity, relforcerowsecurity, options); columns (position,
// type, collation, nullability, default, identity, generation); constraints; indexes; policies
// (name, permissive, command, roles, USING, WITH CHECK); effective privileges per grantee on
// schemas, relations, columns and functions; sequences, functions, triggers, rules, views,
// types, default privileges and extensions. Run it as a role that sees the whole catalog (the
// owner or a superuser).
Result<SchemaLines> DumpPostgresSchema(Transaction& tx, const SnapshotRoles& roles);

// SQLite: every sqlite_master entry (type, name, table) with its SQL normalized: comments
// removed, whitespace collapsed, no blanks inside parentheses or before commas.
Result<SchemaLines> DumpSqliteSchema(Transaction& tx);

// The dump for the transaction's backend (`roles` is ignored on SQLite).
Result<SchemaLines> DumpSchema(Transaction& tx, const SnapshotRoles& roles);

// Comments removed, whitespace collapsed; quoted text ('...', "...") is kept as it is.
std::string NormalizeSql(std::string_view sql);

// The schema after one migration (version 0: after the migrator's bootstrap only).
struct VersionSchema {
  int64_t version = 0;
  std::string name;
  SchemaLines lines;
};

// The golden text of a sequence of versions: a header naming `backend_name`, then per version a
// `== <version> <name>` line followed by the lines it added (`+ `) and removed (`- `) relative to
// the version before it, in sorted order.
std::string RenderSnapshot(std::string_view backend_name, std::span<const VersionSchema> versions);

// Reads a whole file. Errors: NOT_FOUND.
Result<std::string> ReadTextFile(const std::filesystem::path& path);
// Replaces a file's content. Errors: UNAVAILABLE.
sb::Status WriteTextFile(const std::filesystem::path& path, std::string_view text);

}  // namespace sb::store::testing
