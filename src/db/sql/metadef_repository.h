#pragma once
// SQL implementation of db::MetadefRepository (contract: db/metadef_repository.h), on SQLite and
// PostgreSQL alike.
//
// Ownership: borrows the Database, which must outlive the repository.

#include <memory>

#include "db/metadef_repository.h"
#include "db/sql/database.h"

namespace glimmer::db::sql {

std::unique_ptr<MetadefRepository> NewMetadefRepository(Database& db);

}  // namespace glimmer::db::sql
