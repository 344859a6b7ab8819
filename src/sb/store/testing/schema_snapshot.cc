#include "sb/store/testing/schema_snapshot.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>

namespace sb::store::testing {
namespace {

// Every PostgreSQL query starts with these: `r` labels roles ($1 app role, $2 owner; oid 0 is
// PUBLIC in ACLs), `ns` lists the schemas worth dumping (not the system ones).
constexpr std::string_view kPgPrelude = R"sql(
WITH r(oid, name, label) AS (
  SELECT oid, rolname::text,
         CASE rolname::text WHEN $1::text THEN '{{app_role}}' WHEN $2::text THEN '{{owner}}'
                            ELSE rolname::text END
    FROM pg_roles
  UNION ALL SELECT 0::oid, 'public', 'PUBLIC'),
ns AS (
  SELECT oid, nspname::text AS name, nspowner, nspacl FROM pg_namespace
   WHERE nspname !~ '^pg_' AND nspname <> 'information_schema')
)sql";

// The privileges of one grantee on one object, as in "DELETE,INSERT,SELECT*" (* = grantable).
#define SB_PG_PRIVILEGES                                                               \
  "string_agg(acl.privilege_type || CASE WHEN acl.is_grantable THEN '*' ELSE '' END, " \
  "',' ORDER BY acl.privilege_type)"
#define SB_PG_GRANTEE " JOIN r g ON g.oid = acl.grantee JOIN r b ON b.oid = acl.grantor "

constexpr std::string_view kPgQueries[] = {
    // Schemas and their effective privileges (the default ACL when none was granted).
    "SELECT format('schema %s owner=%s', ns.name, r.label) FROM ns JOIN r ON r.oid = ns.nspowner",
    "SELECT format('schema-grant %s to=%s %s by=%s', ns.name, g.label, " SB_PG_PRIVILEGES
    ", b.label) FROM ns CROSS JOIN LATERAL "
    "aclexplode(coalesce(ns.nspacl, acldefault('n', ns.nspowner))) acl" SB_PG_GRANTEE
    "GROUP BY ns.name, g.label, b.label",
    // Relations of every kind but indexes (listed below): tables, sequences, views, ...
    "SELECT format('relation %s.%s kind=%s owner=%s persistence=%s rls=%s force_rls=%s "
    "options=%s', ns.name, c.relname, c.relkind, r.label, c.relpersistence, c.relrowsecurity, "
    "c.relforcerowsecurity, coalesce(array_to_string(c.reloptions, ','), '')) "
    "FROM pg_class c JOIN ns ON ns.oid = c.relnamespace JOIN r ON r.oid = c.relowner "
    "WHERE c.relkind NOT IN ('i', 'I')",
    "SELECT format('grant %s.%s to=%s %s by=%s', ns.name, c.relname, g.label, " SB_PG_PRIVILEGES
    ", b.label) FROM pg_class c JOIN ns ON ns.oid = c.relnamespace CROSS JOIN LATERAL "
    "aclexplode(coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' "
    "END::\"char\", c.relowner))) acl" SB_PG_GRANTEE
    "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') GROUP BY ns.name, c.relname, g.label, "
    "b.label",
    // Columns by position (zero-padded) among the live ones: dropped columns leave no trace.
    "SELECT format('column %s.%s %s %s %s%s%s%s%s', ns.name, c.relname, "
    "lpad((row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum))::text, 3, '0'), a.attname, "
    "format_type(a.atttypid, a.atttypmod), "
    "CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation "
    "THEN ' collate ' || a.attcollation::regcollation::text ELSE '' END, "
    "CASE WHEN a.attnotnull THEN ' not null' ELSE '' END, "
    "CASE a.attidentity WHEN 'a' THEN ' identity always' WHEN 'd' THEN ' identity by default' "
    "ELSE '' END, "
    "CASE WHEN d.adbin IS NULL THEN '' WHEN a.attgenerated = 's' "
    "THEN ' generated ' || pg_get_expr(d.adbin, d.adrelid) "
    "ELSE ' default ' || pg_get_expr(d.adbin, d.adrelid) END) "
    "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN ns ON ns.oid = c.relnamespace "
    "JOIN pg_type t ON t.oid = a.atttypid "
    "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
    "WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')",
    "SELECT format('column-grant %s.%s.%s to=%s %s by=%s', ns.name, c.relname, a.attname, "
    "g.label, " SB_PG_PRIVILEGES
    ", b.label) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
    "JOIN ns ON ns.oid = c.relnamespace CROSS JOIN LATERAL aclexplode(a.attacl) acl" SB_PG_GRANTEE
    "WHERE a.attnum > 0 AND NOT a.attisdropped "
    "GROUP BY ns.name, c.relname, a.attname, g.label, b.label",
    // Constraints of tables and of domains.
    "SELECT format('constraint %s.%s %s %s', ns.name, coalesce(c.relname::text, t.typname::text), "
    "con.conname, pg_get_constraintdef(con.oid)) FROM pg_constraint con "
    "JOIN ns ON ns.oid = con.connamespace LEFT JOIN pg_class c ON c.oid = con.conrelid "
    "LEFT JOIN pg_type t ON t.oid = con.contypid",
    "SELECT format('index %s.%s %s', ns.name, ic.relname, pg_get_indexdef(i.indexrelid)) "
    "FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
    "JOIN ns ON ns.oid = ic.relnamespace",
    // Row-level security policies, roles sorted.
    "SELECT format('policy %s.%s %s %s %s to=%s using=%s check=%s', p.schemaname, p.tablename, "
    "p.policyname, p.permissive, p.cmd, (SELECT string_agg(coalesce(r.label, x::text), ',' "
    "ORDER BY coalesce(r.label, x::text)) FROM unnest(p.roles) x LEFT JOIN r ON r.name = "
    "x::text), coalesce(p.qual, '-'), coalesce(p.with_check, '-')) "
    "FROM pg_policies p JOIN ns ON ns.name = p.schemaname",
    "SELECT format('sequence %s.%s %s start=%s increment=%s min=%s max=%s cache=%s cycle=%s', "
    "s.schemaname, s.sequencename, s.data_type, s.start_value, s.increment_by, s.min_value, "
    "s.max_value, s.cache_size, s.cycle) FROM pg_sequences s JOIN ns ON ns.name = s.schemaname",
    // Functions and procedures, with their body and effective EXECUTE privileges.
    "SELECT format('function %s.%s(%s) kind=%s returns=%s owner=%s language=%s "
    "security_definer=%s volatility=%s config=%s body=%s', ns.name, p.proname, "
    "pg_get_function_identity_arguments(p.oid), p.prokind, "
    "coalesce(pg_get_function_result(p.oid), ''), r.label, l.lanname, p.prosecdef, "
    "p.provolatile, coalesce(array_to_string(p.proconfig, ','), ''), "
    "regexp_replace(coalesce(p.prosrc, ''), '\\s+', ' ', 'g')) FROM pg_proc p "
    "JOIN ns ON ns.oid = p.pronamespace JOIN r ON r.oid = p.proowner "
    "JOIN pg_language l ON l.oid = p.prolang",
    "SELECT format('function-grant %s.%s(%s) to=%s %s by=%s', ns.name, p.proname, "
    "pg_get_function_identity_arguments(p.oid), g.label, " SB_PG_PRIVILEGES
    ", b.label) FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace CROSS JOIN LATERAL "
    "aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) acl" SB_PG_GRANTEE
    "GROUP BY ns.name, p.proname, p.oid, g.label, b.label",
    "SELECT format('trigger %s.%s enabled=%s %s', ns.name, c.relname, t.tgenabled, "
    "pg_get_triggerdef(t.oid)) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
    "JOIN ns ON ns.oid = c.relnamespace WHERE NOT t.tgisinternal",
    "SELECT format('rule %s.%s %s', ru.schemaname, ru.tablename, "
    "regexp_replace(ru.definition, '\\s+', ' ', 'g')) FROM pg_rules ru "
    "JOIN ns ON ns.name = ru.schemaname",
    "SELECT format('view %s.%s %s', ns.name, c.relname, "
    "regexp_replace(pg_get_viewdef(c.oid), '\\s+', ' ', 'g')) FROM pg_class c "
    "JOIN ns ON ns.oid = c.relnamespace WHERE c.relkind IN ('v', 'm')",
    // Types of their own (enums, domains, composite and range types), not tables' row types.
    "SELECT format('type %s.%s kind=%s owner=%s%s', ns.name, t.typname, t.typtype, r.label, "
    "CASE t.typtype WHEN 'e' THEN ' labels=' || (SELECT string_agg(e.enumlabel, ',' ORDER BY "
    "e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) WHEN 'd' THEN ' base=' || "
    "format_type(t.typbasetype, t.typtypmod) || CASE WHEN t.typnotnull THEN ' not null' ELSE '' "
    "END || coalesce(' default ' || t.typdefault, '') ELSE '' END) FROM pg_type t "
    "JOIN ns ON ns.oid = t.typnamespace JOIN r ON r.oid = t.typowner "
    "WHERE t.typcategory <> 'A' AND (t.typrelid = 0 OR "
    "(SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')",
    "SELECT format('default-grant role=%s schema=%s objects=%s to=%s %s', o.label, "
    "coalesce(n.nspname::text, '*'), d.defaclobjtype, g.label, " SB_PG_PRIVILEGES
    ") FROM pg_default_acl d JOIN r o ON o.oid = d.defaclrole "
    "LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace "
    "CROSS JOIN LATERAL aclexplode(d.defaclacl) acl JOIN r g ON g.oid = acl.grantee "
    "GROUP BY o.label, n.nspname, d.defaclobjtype, g.label",
    "SELECT format('extension %s %s schema=%s', e.extname, e.extversion, n.nspname) "
    "FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace",
};

#undef SB_PG_PRIVILEGES
#undef SB_PG_GRANTEE

// Runs `sql` and appends its one text column to `lines`.
sb::Status AppendLines(Transaction& tx, const std::string& sql, std::span<const Value> params,
                       SchemaLines& lines) {
  SB_ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query(sql, params));
  for (const Row& row : rows) lines.push_back(row.GetString(0));
  return OkStatus();
}

SchemaLines Sorted(SchemaLines lines) {
  std::sort(lines.begin(), lines.end());
  return lines;
}

std::string SqliteLine(const Row& row) {
  std::string line = row.GetString(0) + " " + row.GetString(1) + " table=" + row.GetString(2);
  return line + " " + (row.IsNull(3) ? "(automatic)" : NormalizeSql(row.GetString(3)));
}

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The index just past the quoted text that starts at `begin` (quote char at begin).
size_t SkipQuoted(std::string_view sql, size_t begin) {
  const char close = sql[begin] == '[' ? ']' : sql[begin];
  const size_t end = sql.find(close, begin + 1);
  return end == std::string_view::npos ? sql.size() : end + 1;
}

// The index just past the comment that starts at `begin`, or `begin` when there is none.
size_t SkipComment(std::string_view sql, size_t begin) {
  if (sql.substr(begin, 2) == "--") {
    const size_t end = sql.find('\n', begin);
    return end == std::string_view::npos ? sql.size() : end + 1;
  }
  if (sql.substr(begin, 2) == "/*") {
    const size_t end = sql.find("*/", begin + 2);
    return end == std::string_view::npos ? sql.size() : end + 2;
  }
  return begin;
}

void AppendDiff(const SchemaLines& from, const SchemaLines& to, std::string& out) {
  SchemaLines added;
  SchemaLines removed;
  std::set_difference(to.begin(), to.end(), from.begin(), from.end(), std::back_inserter(added));
  std::set_difference(from.begin(), from.end(), to.begin(), to.end(), std::back_inserter(removed));
  for (const std::string& line : removed) out += "- " + line + "\n";
  for (const std::string& line : added) out += "+ " + line + "\n";
}

}  // namespace

std::string NormalizeSql(std::string_view sql) {
  std::string out;
  bool blank = false;
  for (size_t i = 0; i < sql.size();) {
    if (const size_t next = SkipComment(sql, i); next != i || IsBlank(sql[i])) {
      blank = true;
      i = std::max(next, i + 1);
      continue;
    }
    const char c = sql[i];
    if (blank && !out.empty() && out.back() != '(' && c != ')' && c != ',') out += ' ';
    blank = false;
    const bool quoted = c == '\'' || c == '"' || c == '`' || c == '[';
    const size_t end = quoted ? SkipQuoted(sql, i) : i + 1;
    out.append(sql.substr(i, end - i));
    i = end;
  }
  return out;
}

Result<SchemaLines> DumpPostgresSchema(Transaction& tx, const SnapshotRoles& roles) {
  const Value params[] = {roles.app_role, roles.owner};
  SchemaLines lines;
  for (std::string_view query : kPgQueries) {
    SB_RETURN_IF_ERROR(AppendLines(tx, std::string(kPgPrelude) + std::string(query), params, lines)
                           .WithContext("schema dump"));
  }
  return Sorted(std::move(lines));
}

Result<SchemaLines> DumpSqliteSchema(Transaction& tx) {
  SB_ASSIGN_OR_RETURN(std::vector<Row> rows,
                      tx.Query("SELECT type, name, tbl_name, sql FROM sqlite_master"));
  SchemaLines lines;
  for (const Row& row : rows) lines.push_back(SqliteLine(row));
  return Sorted(std::move(lines));
}

Result<SchemaLines> DumpSchema(Transaction& tx, const SnapshotRoles& roles) {
  return tx.backend() == Backend::kPostgres ? DumpPostgresSchema(tx, roles) : DumpSqliteSchema(tx);
}

std::string RenderSnapshot(std::string_view backend_name, std::span<const VersionSchema> versions) {
  std::string out = "# Schema snapshot of the " + std::string(backend_name) +
                    " migrations, written by the schema snapshot test (do not edit by hand).\n"
                    "# Per version: the schema lines its up migration removes (-) and adds (+).\n"
                    "# After an intended schema change, regenerate with\n"
                    "#   SB_UPDATE_SCHEMA_SNAPSHOT=1 ctest --test-dir build/debug -R "
                    "schema_snapshot\n";
  const SchemaLines none;
  const SchemaLines* previous = &none;
  for (const VersionSchema& v : versions) {
    out += "\n== " + std::to_string(v.version) + " " + v.name + "\n";
    AppendDiff(*previous, v.lines, out);
    previous = &v.lines;
  }
  return out;
}

Result<std::string> ReadTextFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

sb::Status WriteTextFile(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) return UnavailableError("cannot write " + path.string());
  return OkStatus();
}

}  // namespace sb::store::testing
