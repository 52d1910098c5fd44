#pragma once
// Thin RAII layer over libsqlite3: one Connection owns one sqlite3 handle and a cache of
// prepared statements keyed by SQL text. A Connection is used by one thread at a time (the
// Database pool guarantees this); it is not thread-safe by itself.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace glimmer::db::sqlite {

// Maps an SQLite result code (extended codes understood) to a Status; `what` prefixes the text.
// Constraint (unique/primary key) → AlreadyExists, foreign key → NotFound, busy/locked →
// Unavailable, corrupt/notadb → DataLoss, everything else → Internal.
Status SqliteError(int rc, std::string_view what, sqlite3* db = nullptr);

// A prepared statement borrowed from a Connection's cache. Resets and clears its bindings when
// it goes out of scope, so it can be reused by the next caller of Connection::Prepare.
class Statement {
 public:
  // `owned`: finalize instead of reset on destruction (statement not in the cache).
  Statement(sqlite3_stmt* stmt, sqlite3* db, bool owned) : stmt_(stmt), db_(db), owned_(owned) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept
      : stmt_(other.stmt_), db_(other.db_), owned_(other.owned_) {
    other.stmt_ = nullptr;
  }

  // Bind parameters are 1-based, like sqlite3_bind_*. Text is copied (SQLITE_TRANSIENT) unless
  // BindStatic is used, in which case the caller keeps the memory alive until Step finishes.
  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, const std::string& text) { return Bind(index, std::string_view(text)); }
  Statement& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  Statement& BindStatic(int index, std::string_view text);
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, const std::optional<std::string>& text);
  Statement& Bind(int index, const std::optional<int64_t>& value);
  Statement& BindNull(int index);

  // Returns true when a row is available, false when done.
  StatusOr<bool> Step();
  // Runs to completion (for statements returning no rows), then resets so the statement can be
  // re-bound and run again.
  Status Run();
  // Rewinds the statement to be stepped again; bindings are kept.
  void Reset();

  bool IsNull(int col) const;
  bool IsInteger(int col) const;
  int64_t Int(int col) const;
  std::string Text(int col) const;
  std::string_view TextView(int col) const;  // valid until the next Step/reset
  std::optional<std::string> OptText(int col) const;
  std::optional<int64_t> OptInt(int col) const;

 private:
  sqlite3_stmt* stmt_;
  sqlite3* db_;
  bool owned_;
};

class Connection {
 public:
  // Opens (creating if needed) the file at `path` and applies the per-connection pragmas.
  static StatusOr<std::unique_ptr<Connection>> Open(const std::string& path, bool synchronous_full,
                                                    int busy_timeout_ms);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Returns the cached prepared statement for `sql`, preparing it on first use. The statement
  // must not be prepared again while the returned object is alive (no re-entrancy).
  StatusOr<Statement> Prepare(std::string_view sql);
  // Executes one or more statements without caching (DDL, BEGIN/COMMIT).
  Status Exec(const char* sql);

  int64_t Changes() const;
  sqlite3* handle() { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  static constexpr size_t kMaxCachedStatements = 512;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

  sqlite3* db_;
  // Statements stay cached for the connection's life; beyond kMaxCachedStatements new SQL is
  // prepared per use (list queries with unusual filter combinations).
  std::unordered_map<std::string, sqlite3_stmt*, Hash, std::equal_to<>> cache_;
};

}  // namespace glimmer::db::sqlite
