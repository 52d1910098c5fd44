#pragma once
// The embedded metadata database: one SQLite file in WAL mode with a small connection pool.
//
// Ownership: created by SqliteDatabase::Open; repositories built from it (db/sql/*_repository.h)
// borrow it and must be destroyed first.
// Thread-safety: Read and Write may be called concurrently from any number of threads. Writes
// are serialized in-process on one writer connection and use BEGIN IMMEDIATE, so a write
// transaction never has to upgrade a read lock (no SQLITE_BUSY deadlocks) and the repositories'
// read-then-write sequences need no row locks; readers use a pool of connections and see a
// consistent snapshot for the duration of their callback.
// Errors: Open returns FailedPrecondition when the file's schema is newer than this binary,
// Unavailable when the file cannot be opened, DataLoss when it is not a database, Internal
// when a migration fails. Read/Write return whatever the callback returns, or the SQLite error.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "db/sql/database.h"
#include "db/sql/migrations.h"
#include "db/sqlite/connection.h"

namespace glimmer::db::sqlite {

// The SQLite migrations (migrations/*.sql), generated at build time.
const std::vector<sql::Migration>& EmbeddedMigrations();

struct DatabaseOptions {
  bool synchronous_full = false;  // PRAGMA synchronous=FULL instead of NORMAL
  int max_readers = 8;            // reader connections kept in the pool
  int busy_timeout_ms = 10'000;   // for other processes holding the write lock
};

class SqliteDatabase final : public sql::Database {
 public:
  // Opens or creates the database at `path` and applies pending migrations.
  static StatusOr<std::unique_ptr<SqliteDatabase>> Open(const std::string& path);
  static StatusOr<std::unique_ptr<SqliteDatabase>> Open(const std::string& path,
                                                        const DatabaseOptions& options);
  ~SqliteDatabase() override;

  // PRAGMA user_version of the open file, and the newest this binary knows.
  int schema_version() const override { return schema_version_; }
  static int LatestSchemaVersion();

  Status Read(const std::function<Status(sql::Connection&)>& fn) override;
  Status Write(const std::function<Status(sql::Connection&)>& fn) override;
  const sql::Dialect& dialect() const override;
  std::string_view engine() const override { return "sqlite"; }

 private:
  SqliteDatabase(std::string path, DatabaseOptions options)
      : path_(std::move(path)), options_(options) {}
  Status Migrate();
  StatusOr<std::unique_ptr<SqliteConnection>> AcquireReader();
  void ReleaseReader(std::unique_ptr<SqliteConnection> conn);

  const std::string path_;
  const DatabaseOptions options_;
  int schema_version_ = 0;

  std::mutex writer_mu_;
  std::unique_ptr<SqliteConnection> writer_;  // guarded by writer_mu_

  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<SqliteConnection>> idle_readers_;  // guarded by readers_mu_
  int open_readers_ = 0;                                         // guarded by readers_mu_
};

}  // namespace glimmer::db::sqlite
