#pragma once
// Test-only: the engines the repository contract tests run on, each giving every test a fresh,
// empty database that it can open several handles on (reopen, or a second "node").
//
//   sqlite     a file in a temporary directory;
//   postgres   a schema of its own on the server named by GLIMMER_TEST_PG_DSN (dropped at the
//              end). Without that variable the PostgreSQL cases skip, unless
//              GLIMMER_TEST_REQUIRE_PG=1 (CI), when they fail.

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "db/sql/database.h"
#include "domain/image.h"

namespace glimmer::db::sql::testing {

// A fresh directory under the test temp dir, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// "sqlite", "postgres".
std::vector<std::string> Engines();

class TestDatabase {
 public:
  explicit TestDatabase(std::string engine);
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  // Empty when the engine can be used here; otherwise why not (the test should skip).
  const std::string& unavailable() const { return unavailable_; }
  // A new handle on this test's database (migrated); fails the test and returns null on error.
  std::unique_ptr<Database> Open();

 private:
  std::string engine_;
  std::string unavailable_;
  TempDir dir_;
  std::string dsn_;
  std::string schema_;
};

// For INSTANTIATE_TEST_SUITE_P(Engines, Fixture, ValuesIn(Engines()), EngineName).
inline std::string EngineName(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

// Skips (or, with GLIMMER_TEST_REQUIRE_PG=1, fails) the current test when `db` is unusable.
#define GLIMMER_SKIP_UNLESS_AVAILABLE(db)                              \
  do {                                                                 \
    if (!(db).unavailable().empty()) GTEST_SKIP() << (db).unavailable(); \
  } while (0)

inline domain::Image MakeImage(std::string id, std::string owner, domain::Visibility visibility,
                               UnixMicros created_at = 1'000'000) {
  domain::Image image;
  image.id = std::move(id);
  image.name = "image-" + image.id;
  image.owner = std::move(owner);
  image.visibility = visibility;
  image.status = domain::ImageStatus::kActive;
  image.created_at = created_at;
  image.updated_at = created_at;
  return image;
}

}  // namespace glimmer::db::sql::testing
