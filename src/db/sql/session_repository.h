#pragma once
// SQL implementation of db::SessionRepository (contract: db/session_repository.h), the same SQL
// on SQLite and PostgreSQL.
//
// Ownership: borrows the Database, which must outlive the repository.

#include <memory>

#include "db/session_repository.h"
#include "db/sql/database.h"

namespace glimmer::db::sql {

std::unique_ptr<SessionRepository> NewSessionRepository(Database& db);

}  // namespace glimmer::db::sql
