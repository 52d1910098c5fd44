#pragma once
// SQL implementation of db::TaskRepository (contract: db/task_repository.h). A claim is one write
// transaction that selects the oldest runnable task and marks it claimed: on SQLite the write
// lock serializes claimers; on PostgreSQL the SELECT takes the row with FOR UPDATE SKIP LOCKED,
// so runners on several nodes never claim the same task and never wait for each other.
//
// Ownership: borrows the Database, which must outlive the repository.

#include <memory>

#include "db/sql/database.h"
#include "db/task_repository.h"

namespace glimmer::db::sql {

std::unique_ptr<TaskRepository> NewTaskRepository(Database& db);

}  // namespace glimmer::db::sql
