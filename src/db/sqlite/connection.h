#pragma once
// Thin RAII layer over libsqlite3: one SqliteConnection owns one sqlite3 handle and a cache of
// prepared statements keyed by SQL text. A connection is used by one thread at a time (the
// SqliteDatabase pool guarantees this); it is not thread-safe by itself.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"
#include "db/sql/database.h"

struct sqlite3;
struct sqlite3_stmt;

namespace glimmer::db::sqlite {

// Maps an SQLite result code (extended codes understood) to a Status; `what` prefixes the text.
// Constraint (unique/primary key) → AlreadyExists, foreign key → NotFound, busy/locked →
// Unavailable, corrupt/notadb → DataLoss, everything else → Internal.
Status SqliteError(int rc, std::string_view what, sqlite3* db = nullptr);

class SqliteStatement final : public sql::StatementImpl {
 public:
  SqliteStatement(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
  ~SqliteStatement() override;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  void BindText(int index, std::string_view text, bool copy) override;
  void BindInt(int index, int64_t value) override;
  void BindNull(int index) override;
  StatusOr<bool> Step() override;
  void Reset() override;
  void Release() override;
  bool IsNull(int col) const override;
  bool IsInteger(int col) const override;
  int64_t Int(int col) const override;
  std::string_view TextView(int col) const override;

 private:
  sqlite3_stmt* stmt_;
  sqlite3* db_;
};

class SqliteConnection final : public sql::Connection {
 public:
  // Opens (creating if needed) the file at `path` and applies the per-connection pragmas.
  static StatusOr<std::unique_ptr<SqliteConnection>> Open(const std::string& path,
                                                          bool synchronous_full,
                                                          int busy_timeout_ms);
  ~SqliteConnection() override;
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  StatusOr<sql::Statement> Prepare(std::string_view sql) override;
  int64_t Changes() const override;
  // Executes one or more statements without caching (DDL, BEGIN/COMMIT).
  Status Exec(const char* sql);

 private:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  static constexpr size_t kMaxCachedStatements = 512;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

  sqlite3* db_;
  // Statements stay cached for the connection's life; beyond kMaxCachedStatements new SQL is
  // prepared per use (list queries with unusual filter combinations).
  std::unordered_map<std::string, std::unique_ptr<SqliteStatement>, Hash, std::equal_to<>> cache_;
};

}  // namespace glimmer::db::sqlite
