#pragma once
// Test-only helpers for the SQLite backend tests (not part of glimmer::db_sqlite).

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "db/sqlite/database.h"
#include "domain/image.h"

namespace glimmer::db::sqlite::testing {

// A fresh directory under the test temp dir, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    std::string templ = ::testing::TempDir() + "glimmer_db_XXXXXX";
    char* made = mkdtemp(templ.data());
    EXPECT_NE(made, nullptr);
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::unique_ptr<Database> OpenOrDie(const std::string& path) {
  auto db = Database::Open(path);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(db).value() : nullptr;
}

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

}  // namespace glimmer::db::sqlite::testing
