#include "db/sqlite/database.h"

#include <gtest/gtest.h>

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>

#include "db/sqlite/pragmas.h"

namespace glimmer::db::sqlite {
namespace {

using sql::Connection;
using sql::Statement;
using Database = SqliteDatabase;

class TempDir {
 public:
  TempDir() {
    std::string templ = ::testing::TempDir() + "glimmer_sqlite_XXXXXX";
    EXPECT_NE(mkdtemp(templ.data()), nullptr);
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

std::unique_ptr<SqliteDatabase> OpenOrDie(const std::string& path) {
  auto db = SqliteDatabase::Open(path);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(db).value() : nullptr;
}

Status Exec(Connection& conn, const std::string& sql) {
  ASSIGN_OR_RETURN(Statement st, conn.Prepare(sql));
  return st.Run();
}

StatusOr<int64_t> QueryInt(Database& db, const std::string& sql) {
  int64_t value = -1;
  RETURN_IF_ERROR(db.Read([&](Connection& conn) -> Status {
    ASSIGN_OR_RETURN(Statement st, conn.Prepare(sql));
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return NotFoundError("no row");
    value = st.Int(0);
    return OkStatus();
  }));
  return value;
}

TEST(DatabaseTest, FreshDatabaseGetsEveryMigration) {
  TempDir dir;
  auto db = OpenOrDie(dir.File("meta.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_GE(EmbeddedMigrations().size(), 2u);
  EXPECT_EQ(db->schema_version(), Database::LatestSchemaVersion());
  EXPECT_EQ(db->schema_version(), EmbeddedMigrations().back().version);
  for (const char* table : {"images", "image_tags", "image_properties", "image_locations",
                            "image_members", "identity_domains", "projects", "users", "roles",
                            "role_assignments", "tokens"}) {
    auto n = QueryInt(*db, std::string("SELECT COUNT(*) FROM sqlite_master WHERE type = "
                                       "'table' AND name = '") + table + "'");
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    EXPECT_EQ(*n, 1) << table;
  }
  auto wal = QueryInt(*db, "SELECT journal_mode = 'wal' FROM pragma_journal_mode");
  ASSERT_TRUE(wal.ok());
  EXPECT_EQ(*wal, 1);
  auto fk = QueryInt(*db, "PRAGMA foreign_keys");
  ASSERT_TRUE(fk.ok());
  EXPECT_EQ(*fk, 1);
}

TEST(DatabaseTest, ReopenKeepsDataAndDoesNotReapply) {
  TempDir dir;
  {
    auto db = OpenOrDie(dir.File("meta.db"));
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->Write([](Connection& conn) {
                    return Exec(conn,
                        "INSERT INTO identity_domains (id, name) VALUES ('default', 'Default')");
                  }).ok());
  }
  auto db = OpenOrDie(dir.File("meta.db"));
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->schema_version(), Database::LatestSchemaVersion());
  auto n = QueryInt(*db, "SELECT COUNT(*) FROM identity_domains");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
}

TEST(DatabaseTest, NewerSchemaIsRefused) {
  TempDir dir;
  {
    auto db = OpenOrDie(dir.File("meta.db"));
    ASSERT_NE(db, nullptr);
    const std::string sql = std::string(pragmas::kSetUserVersionPrefix) +
                            std::to_string(Database::LatestSchemaVersion() + 1);
    ASSERT_TRUE(db->Write([&](Connection& conn) { return Exec(conn, sql); }).ok());
  }
  auto db = Database::Open(dir.File("meta.db"));
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kFailedPrecondition);
}

TEST(DatabaseTest, NewDatabaseFilesAreOwnerOnlyWhateverTheUmask) {
  TempDir dir;
  const std::string path = dir.File("meta.db");
  mode_t old_umask = ::umask(022);
  auto db = OpenOrDie(path);
  ::umask(old_umask);
  ASSERT_NE(db, nullptr);
  // A write makes SQLite create the -wal and -shm files.
  ASSERT_TRUE(db->Write([](Connection& c) { return Exec(c, "CREATE TABLE t (x INTEGER)"); }).ok());
  for (const char* suffix : {"", "-wal", "-shm"}) {
    struct stat st;
    ASSERT_EQ(::stat((path + suffix).c_str(), &st), 0) << suffix;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << suffix;
  }
}

TEST(DatabaseTest, NotADatabaseIsDataLoss) {
  TempDir dir;
  const std::string path = dir.File("garbage.db");
  FILE* f = fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  const std::string junk(8192, 'x');
  fwrite(junk.data(), 1, junk.size(), f);
  fclose(f);
  auto db = Database::Open(path);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kDataLoss);
}

TEST(DatabaseTest, FailedWriteRollsBack) {
  TempDir dir;
  auto db = OpenOrDie(dir.File("meta.db"));
  ASSERT_NE(db, nullptr);
  Status st = db->Write([](Connection& conn) -> Status {
    RETURN_IF_ERROR(
        Exec(conn, "INSERT INTO identity_domains (id, name) VALUES ('default', 'Default')"));
    return AbortedError("changed my mind");
  });
  EXPECT_EQ(st.code(), StatusCode::kAborted);
  auto n = QueryInt(*db, "SELECT COUNT(*) FROM identity_domains");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
}

}  // namespace
}  // namespace glimmer::db::sqlite
