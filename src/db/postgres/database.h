#pragma once
// Glimmer's metadata in PostgreSQL, shared by every node of a deployment: a pool of libpq
// connections, the PostgreSQL migrations (the same history as SQLite's), and the dialect that
// makes the repositories' read-then-write sequences safe across nodes (row locks, SKIP LOCKED
// task claims, per-owner advisory locks for quota checks).
//
// Ownership: created by PostgresDatabase::Open; repositories built from it borrow it and must
// be destroyed first.
// Thread-safety: Read and Write may be called concurrently from any number of threads; each
// call takes its own connection from the pool (waiting when all `max_connections` are busy).
// Read runs in a REPEATABLE READ READ ONLY transaction (one snapshot), Write in a READ
// COMMITTED transaction, retried up to a few times when PostgreSQL reports a deadlock or a
// serialization failure. A connection that lost its server is dropped and replaced.
// Errors: Open returns Unavailable when the server cannot be reached, FailedPrecondition when
// the database's schema is newer than this binary, Internal when a migration fails.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "db/postgres/connection.h"
#include "db/sql/database.h"
#include "db/sql/migrations.h"

namespace glimmer::db::postgres {

// The PostgreSQL migrations (migrations/*.sql), generated at build time.
const std::vector<sql::Migration>& EmbeddedMigrations();

struct PostgresOptions {
  std::string dsn;             // libpq connection string or postgresql:// URI
  std::string schema;          // empty: the connection's default search_path
  bool create_schema = false;  // CREATE SCHEMA IF NOT EXISTS (tests)
  int max_connections = 10;    // pool size (oslo.db's max_pool_size)
  int write_retries = 5;       // attempts of a Write after deadlocks/serialization failures
};

class PostgresDatabase final : public sql::Database {
 public:
  // Connects, then applies pending migrations under an advisory lock, so that several nodes
  // starting at once migrate exactly once.
  static StatusOr<std::unique_ptr<PostgresDatabase>> Open(const PostgresOptions& options);
  ~PostgresDatabase() override;

  int schema_version() const override { return schema_version_; }
  static int LatestSchemaVersion();

  Status Read(const std::function<Status(sql::Connection&)>& fn) override;
  Status Write(const std::function<Status(sql::Connection&)>& fn) override;
  const sql::Dialect& dialect() const override;
  std::string_view engine() const override { return "postgresql"; }

 private:
  explicit PostgresDatabase(PostgresOptions options) : options_(std::move(options)) {}
  Status Migrate();
  StatusOr<std::unique_ptr<PgConnection>> Acquire();
  void Release(std::unique_ptr<PgConnection> conn);
  // Runs fn between `begin` and COMMIT (ROLLBACK on error); `retryable` tells whether the
  // failure was a transient conflict, `started` whether fn ran at all.
  Status RunTransaction(const char* begin, const std::function<Status(sql::Connection&)>& fn,
                        bool& retryable, bool& started);

  const PostgresOptions options_;
  int schema_version_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConnection>> idle_;  // guarded by mu_
  int open_ = 0;                                     // guarded by mu_
};

}  // namespace glimmer::db::postgres
