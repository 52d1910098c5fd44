#include "db/sqlite/connection.h"

#include <sqlite3.h>

#include <string>

#include "db/sqlite/pragmas.h"

namespace glimmer::db::sqlite {

Status SqliteError(int rc, std::string_view what, sqlite3* db) {
  std::string msg(what);
  msg += ": ";
  msg += (db != nullptr) ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE:
      return AlreadyExistsError(std::move(msg));
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return NotFoundError(std::move(msg));
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
      return UnavailableError(std::move(msg));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLossError(std::move(msg));
    default:
      return InternalError(std::move(msg));
  }
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

void SqliteStatement::BindText(int index, std::string_view text, bool copy) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                    copy ? SQLITE_TRANSIENT : SQLITE_STATIC);
}
void SqliteStatement::BindInt(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
void SqliteStatement::BindNull(int index) { sqlite3_bind_null(stmt_, index); }

StatusOr<bool> SqliteStatement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  rc = sqlite3_extended_errcode(db_);
  return SqliteError(rc, "sqlite step", db_);
}

void SqliteStatement::Reset() { sqlite3_reset(stmt_); }
void SqliteStatement::Release() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool SqliteStatement::IsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}
bool SqliteStatement::IsInteger(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_INTEGER;
}
int64_t SqliteStatement::Int(int col) const { return sqlite3_column_int64(stmt_, col); }
std::string_view SqliteStatement::TextView(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  if (p == nullptr) return {};
  return std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

StatusOr<std::unique_ptr<SqliteConnection>> SqliteConnection::Open(const std::string& path,
                                                                   bool synchronous_full,
                                                                   int busy_timeout_ms) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status st = SqliteError(rc, "open " + path, db);
    sqlite3_close_v2(db);
    return st;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, busy_timeout_ms);
  std::unique_ptr<SqliteConnection> conn(new SqliteConnection(db));
  RETURN_IF_ERROR(conn->Exec(pragmas::kForeignKeysOn));
  RETURN_IF_ERROR(conn->Exec(synchronous_full ? pragmas::kSynchronousFull
                                              : pragmas::kSynchronousNormal));
  RETURN_IF_ERROR(conn->Exec(pragmas::kTempStoreMemory));
  RETURN_IF_ERROR(conn->Exec(pragmas::kCacheSize));
  RETURN_IF_ERROR(conn->Exec(pragmas::kMmapSize));
  return conn;
}

SqliteConnection::~SqliteConnection() {
  cache_.clear();  // finalizes the statements before the handle closes
  sqlite3_close_v2(db_);
}

StatusOr<sql::Statement> SqliteConnection::Prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return sql::Statement(it->second.get(), nullptr);
  sqlite3_stmt* stmt = nullptr;
  const bool cache = cache_.size() < kMaxCachedStatements;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              cache ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteError(sqlite3_extended_errcode(db_), "sqlite prepare", db_);
  if (stmt == nullptr) return InternalError("sqlite prepare: empty statement");
  auto impl = std::make_unique<SqliteStatement>(stmt, db_);
  if (!cache) {
    SqliteStatement* raw = impl.get();
    return sql::Statement(raw, std::move(impl));
  }
  SqliteStatement* raw = impl.get();
  cache_.emplace(std::string(sql), std::move(impl));
  return sql::Statement(raw, nullptr);
}

Status SqliteConnection::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return OkStatus();
  std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  Status st = SqliteError(sqlite3_extended_errcode(db_), "sqlite exec");
  return Status(st.code(), "sqlite exec: " + msg);
}

int64_t SqliteConnection::Changes() const { return sqlite3_changes64(db_); }

}  // namespace glimmer::db::sqlite
