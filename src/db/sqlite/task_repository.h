#pragma once
// SQLite implementation of db::TaskRepository (contract: db/task_repository.h). A claim is one
// BEGIN IMMEDIATE transaction (select the oldest runnable task, mark it claimed), so two
// runners — threads or processes sharing the file — never claim the same task.
//
// Ownership: borrows the Database, which must outlive the repository.

#include <memory>

#include "db/sqlite/database.h"
#include "db/task_repository.h"

namespace glimmer::db::sqlite {

std::unique_ptr<TaskRepository> NewTaskRepository(Database& db);

}  // namespace glimmer::db::sqlite
