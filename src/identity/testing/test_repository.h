#pragma once
// Test-only: the identity repository the service tests run against: the real SQLite one, in a
// database file of a fresh temporary directory (removed with the store).

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "db/identity_repository.h"
#include "db/sql/identity_repository.h"
#include "db/sqlite/database.h"

namespace glimmer::identity::testing {

class TestIdentityStore {
 public:
  TestIdentityStore() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "glimmer-identity-XXXXXX");
    dir_ = mkdtemp(tmpl.data()) ? tmpl : std::string();
    auto db = db::sqlite::SqliteDatabase::Open(dir_ + "/glimmer.db");
    if (!db.ok()) ADD_FAILURE() << db.status().ToString();
    db_ = std::move(*db);
    repo_ = db::sql::NewIdentityRepository(*db_);
  }
  ~TestIdentityStore() {
    repo_.reset();
    db_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  TestIdentityStore(const TestIdentityStore&) = delete;
  TestIdentityStore& operator=(const TestIdentityStore&) = delete;

  db::IdentityRepository& repo() { return *repo_; }

 private:
  std::string dir_;
  std::unique_ptr<db::sqlite::SqliteDatabase> db_;
  std::unique_ptr<db::IdentityRepository> repo_;
};

}  // namespace glimmer::identity::testing
