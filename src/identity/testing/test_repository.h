#pragma once
// Test-only: the identity repository tests run against. With the SQLite backend built in
// (GLIMMER_IDENTITY_TEST_SQLITE) it is a real database file in a fresh temporary directory;
// otherwise the in-memory fake.

#include <memory>
#include <string>

#include "db/identity_repository.h"
#include "identity/testing/in_memory_repository.h"

#ifdef GLIMMER_IDENTITY_TEST_SQLITE
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

#include "db/sqlite/database.h"
#include "db/sql/identity_repository.h"
#endif

namespace glimmer::identity::testing {

class TestIdentityStore {
 public:
#ifdef GLIMMER_IDENTITY_TEST_SQLITE
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
#else
  TestIdentityStore() : repo_(std::make_unique<InMemoryIdentityRepository>()) {}
#endif
  TestIdentityStore(const TestIdentityStore&) = delete;
  TestIdentityStore& operator=(const TestIdentityStore&) = delete;

  db::IdentityRepository& repo() { return *repo_; }

 private:
#ifdef GLIMMER_IDENTITY_TEST_SQLITE
  std::string dir_;
  std::unique_ptr<db::sqlite::SqliteDatabase> db_;
#endif
  std::unique_ptr<db::IdentityRepository> repo_;
};

}  // namespace glimmer::identity::testing
