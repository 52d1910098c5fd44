#pragma once
// Thin layer over libpq: one PgConnection owns one PGconn and a cache of prepared statements
// keyed by SQL text (in the portable `?N` syntax, rewritten to `$N` once, on first use). A
// connection is used by one thread at a time (the PostgresDatabase pool guarantees this).
//
// Parameters are sent as text with their type (int8 for integers, text for text) so that the
// server never has to guess an integer's width; NULLs take their type from the context.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "db/sql/database.h"

struct pg_conn;
struct pg_result;

namespace glimmer::db::postgres {

// `?N` / `?` placeholders (SQLite syntax, outside quotes) → `$N`. `referenced[i]` is set for
// every parameter number i+1 the text uses; the parameter count is referenced.size().
std::string RewritePlaceholders(std::string_view sql, std::vector<bool>& referenced);

class PgConnection;

class PgStatement final : public sql::StatementImpl {
 public:
  // `prepare`: use a server-side prepared statement (cached statements) rather than a one-off.
  PgStatement(PgConnection& conn, std::string_view portable_sql, bool prepare);
  ~PgStatement() override;
  PgStatement(const PgStatement&) = delete;
  PgStatement& operator=(const PgStatement&) = delete;

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
  enum class Type : char { kUnknown = '?', kText = 't', kInt = 'i' };
  Status Execute();
  void ClearResult();

  PgConnection& conn_;
  std::vector<bool> referenced_;    // by parameter number - 1 (filled by sql_'s initializer)
  const std::string sql_;           // with $N placeholders
  const bool prepare_;
  std::vector<std::optional<std::string>> values_;
  std::vector<Type> types_;
  // Server-side statement names by parameter type signature (one per combination used).
  std::unordered_map<std::string, std::string> prepared_;
  pg_result* result_ = nullptr;
  int rows_ = 0;
  int row_ = -1;  // current row; -1 before the first Step
  bool executed_ = false;
};

class PgConnection final : public sql::Connection {
 public:
  // Connects with a libpq connection string or postgresql:// URI. With `schema`, every
  // statement of this connection works in that schema (created when `create_schema`).
  // Unavailable when the server cannot be reached or refuses the login.
  static StatusOr<std::unique_ptr<PgConnection>> Open(const std::string& dsn,
                                                      const std::string& schema,
                                                      bool create_schema);
  ~PgConnection() override;
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  StatusOr<sql::Statement> Prepare(std::string_view sql) override;
  int64_t Changes() const override { return changes_; }

  // Runs statements without parameters or caching (transaction control, DDL scripts).
  Status Exec(const char* sql);
  // False once the connection to the server is lost (the pool then drops it).
  bool healthy() const;
  // Whether the last error was a transient conflict (serialization failure, deadlock) after
  // which the whole transaction may be retried; reading clears it.
  bool TakeRetryable() {
    bool r = retryable_;
    retryable_ = false;
    return r;
  }

 private:
  friend class PgStatement;
  explicit PgConnection(pg_conn* conn) : conn_(conn) {}
  // Status of a failed result (NULL = connection-level failure), mapped from its SQLSTATE.
  Status ResultError(pg_result* result, std::string_view what);
  std::string NextStatementName() { return "g" + std::to_string(++statement_counter_); }

  static constexpr size_t kMaxCachedStatements = 512;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

  pg_conn* conn_;
  int64_t changes_ = 0;
  bool retryable_ = false;
  int64_t statement_counter_ = 0;
  std::unordered_map<std::string, std::unique_ptr<PgStatement>, Hash, std::equal_to<>> cache_;
};

}  // namespace glimmer::db::postgres
