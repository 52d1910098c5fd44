#pragma once
// The portable SQL layer under Glimmer's repositories. The repositories (db/sql/*_repository.cc)
// are written once against these interfaces and run unchanged on the embedded SQLite backend
// (db/sqlite) and on PostgreSQL (db/postgres). A backend provides:
//   - Database: transactions on pooled connections (Read = a consistent snapshot, Write = a
//     transaction whose changes commit together or not at all);
//   - Connection: prepared statements (cached per connection by SQL text) and the row count of
//     the last statement;
//   - Dialect: the few SQL fragments that differ between engines (row locks, planner hints).
//
// SQL texts use SQLite's placeholder syntax, `?N` (numbered) or `?` (next number), which the
// PostgreSQL backend rewrites to `$N`; everything else is SQL both engines accept.
//
// Thread-safety: Database::Read/Write may be called concurrently from any thread; a Connection
// and its Statements are used by one thread at a time (the callback's).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace glimmer::db::sql {

// A backend's prepared statement. Bind indexes are 1-based; columns 0-based.
class StatementImpl {
 public:
  virtual ~StatementImpl() = default;
  // `copy`: false when the caller keeps `text` alive until the statement is released.
  virtual void BindText(int index, std::string_view text, bool copy) = 0;
  virtual void BindInt(int index, int64_t value) = 0;
  virtual void BindNull(int index) = 0;
  // Executes on the first call after binding, then advances: true while a row is available.
  virtual StatusOr<bool> Step() = 0;
  // Rewinds so the statement can be stepped again; bindings are kept.
  virtual void Reset() = 0;
  // Ends one use: rewinds and clears the bindings (cached statements are reused).
  virtual void Release() = 0;
  virtual bool IsNull(int col) const = 0;
  virtual bool IsInteger(int col) const = 0;  // the column's value is an integer
  virtual int64_t Int(int col) const = 0;
  virtual std::string_view TextView(int col) const = 0;  // valid until the next Step/Reset
};

// A statement borrowed from a Connection (move-only). Released when it goes out of scope, so it
// can be prepared again by the next caller.
class Statement {
 public:
  // `impl` is owned by its connection's cache unless `owned` is given (uncached statements).
  Statement(StatementImpl* impl, std::unique_ptr<StatementImpl> owned)
      : impl_(impl), owned_(std::move(owned)) {}
  ~Statement() {
    if (impl_ != nullptr) impl_->Release();
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept : impl_(other.impl_), owned_(std::move(other.owned_)) {
    other.impl_ = nullptr;
  }

  // Text is copied unless BindStatic is used; then the caller keeps it alive until Step ends.
  Statement& Bind(int index, std::string_view text) {
    impl_->BindText(index, text, true);
    return *this;
  }
  Statement& Bind(int index, const std::string& text) { return Bind(index, std::string_view(text)); }
  Statement& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  Statement& BindStatic(int index, std::string_view text) {
    impl_->BindText(index, text, false);
    return *this;
  }
  Statement& Bind(int index, int64_t value) {
    impl_->BindInt(index, value);
    return *this;
  }
  Statement& Bind(int index, const std::optional<std::string>& text) {
    return text ? Bind(index, std::string_view(*text)) : BindNull(index);
  }
  Statement& Bind(int index, const std::optional<int64_t>& value) {
    return value ? Bind(index, *value) : BindNull(index);
  }
  Statement& BindNull(int index) {
    impl_->BindNull(index);
    return *this;
  }

  // True when a row is available, false when done.
  StatusOr<bool> Step() { return impl_->Step(); }
  // Runs to completion (statements returning no rows), then rewinds for re-binding.
  Status Run();
  void Reset() { impl_->Reset(); }

  bool IsNull(int col) const { return impl_->IsNull(col); }
  bool IsInteger(int col) const { return impl_->IsInteger(col); }
  int64_t Int(int col) const { return impl_->Int(col); }
  std::string_view TextView(int col) const { return impl_->TextView(col); }
  std::string Text(int col) const { return std::string(TextView(col)); }
  std::optional<std::string> OptText(int col) const {
    if (IsNull(col)) return std::nullopt;
    return Text(col);
  }
  std::optional<int64_t> OptInt(int col) const {
    if (IsNull(col)) return std::nullopt;
    return Int(col);
  }

 private:
  StatementImpl* impl_;
  std::unique_ptr<StatementImpl> owned_;
};

class Connection {
 public:
  virtual ~Connection() = default;
  // The cached prepared statement for `sql` (prepared on first use). The statement must not be
  // prepared again while the returned object is alive (no re-entrancy).
  // Errors: InvalidArgument/Internal for bad SQL, Unavailable when the server is gone.
  virtual StatusOr<Statement> Prepare(std::string_view sql) = 0;
  // Rows changed by the last statement run on this connection.
  virtual int64_t Changes() const = 0;
};

// What differs between the engines, as SQL fragments (see queries.h for where each goes).
struct Dialect {
  // Image list scope (image_list_sql.cc): SQLite needs planner hints (unary +) that PostgreSQL
  // does not accept.
  const char* scope_project_open;
  const char* scope_no_project;
  const char* hide_others_community;
  const char* hide_all_community;
  // Appended to the runnable-task SELECT of a claim (PostgreSQL: FOR UPDATE SKIP LOCKED).
  const char* claim_lock_suffix;
  // Statements run first in a write transaction that must not race with another node's:
  // lock one image row (?1 = id) before a compare-and-set, and serialize one owner's quota
  // check and write (?1 = owner). Empty when the engine serializes writers anyway (SQLite).
  const char* lock_image_row;
  const char* lock_owner_quota;
};

class Database {
 public:
  virtual ~Database() = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs `fn` in a read-only transaction that sees one consistent snapshot.
  // `fn` must not call Read/Write. Returns fn's status or the database's error.
  virtual Status Read(const std::function<Status(Connection&)>& fn) = 0;
  // Runs `fn` in a write transaction, committed when fn returns OK and rolled back otherwise.
  // `fn` may be run again when the engine reports a transient conflict (deadlock,
  // serialization failure), so it must only write through `conn` and to its own outputs.
  virtual Status Write(const std::function<Status(Connection&)>& fn) = 0;

  virtual const Dialect& dialect() const = 0;
  // Schema version of the open database and the newest this binary knows.
  virtual int schema_version() const = 0;
  // "sqlite" or "postgresql", for logs.
  virtual std::string_view engine() const = 0;

 protected:
  Database() = default;
};

}  // namespace glimmer::db::sql
