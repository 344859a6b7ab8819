// CheckAppRoleIsSafe: the startup check of security requirement RLS-02.
#pragma once

#include "sb/base/status.h"
#include "sb/store/database.h"

namespace sb::store {

// On PostgreSQL, verifies that the role `db` connects as — and every role it is a member of,
// directly or transitively — is not a superuser, has no BYPASSRLS, and owns neither schema
// `switchboard` nor any table in it. Any of those would let the app bypass or switch off
// row-level security. Returns FAILED_PRECONDITION naming the offending role and attribute; the
// app must refuse to start. On SQLite (no roles) returns OK. Thread-safe.
Status CheckAppRoleIsSafe(Database& db);

}  // namespace sb::store
