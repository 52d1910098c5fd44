#include "db/sqlite/database.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "db/sqlite/pragmas.h"

namespace glimmer::db::sqlite {

StatusOr<std::unique_ptr<SqliteDatabase>> SqliteDatabase::Open(const std::string& path) {
  return Open(path, DatabaseOptions{});
}

StatusOr<std::unique_ptr<SqliteDatabase>> SqliteDatabase::Open(const std::string& path,
                                                               const DatabaseOptions& options) {
  // The database holds password hashes and token digests: a new file is created owner-only
  // here rather than with SQLite's 0644, and SQLite gives its -wal, -shm and -journal files the
  // database file's mode. (An empty file is a new database to SQLite.)
  if (path != ":memory:" && !path.starts_with("file:")) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);  // on failure sqlite3_open_v2 reports the problem
  }
  std::unique_ptr<SqliteDatabase> db(new SqliteDatabase(path, options));
  ASSIGN_OR_RETURN(db->writer_,
                   SqliteConnection::Open(path, options.synchronous_full, options.busy_timeout_ms));
  {
    ASSIGN_OR_RETURN(sql::Statement wal, db->writer_->Prepare(pragmas::kJournalModeWal));
    ASSIGN_OR_RETURN(bool row, wal.Step());
    if (!row || wal.TextView(0) != "wal") {
      return UnavailableError("sqlite: cannot enable WAL mode on " + path);
    }
  }
  RETURN_IF_ERROR(db->Migrate());
  return db;
}

SqliteDatabase::~SqliteDatabase() {
  if (writer_ != nullptr) (void)writer_->Exec(pragmas::kOptimize);
}

int SqliteDatabase::LatestSchemaVersion() {
  const auto& migrations = EmbeddedMigrations();
  return migrations.empty() ? 0 : migrations.back().version;
}

namespace {

StatusOr<int> ReadUserVersion(SqliteConnection& conn) {
  ASSIGN_OR_RETURN(sql::Statement st, conn.Prepare(pragmas::kGetUserVersion));
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return InternalError("sqlite: PRAGMA user_version returned nothing");
  return static_cast<int>(st.Int(0));
}

}  // namespace

Status SqliteDatabase::Migrate() {
  const auto& migrations = EmbeddedMigrations();
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return InternalError("embedded migrations are not numbered 1..N");
    }
  }
  const int latest = LatestSchemaVersion();
  ASSIGN_OR_RETURN(int current, ReadUserVersion(*writer_));
  if (current > latest) {
    return FailedPreconditionError("database " + path_ + " has schema version " +
                                   std::to_string(current) + ", newer than this binary's " +
                                   std::to_string(latest));
  }
  for (const sql::Migration& m : migrations) {
    if (m.version <= current) continue;
    RETURN_IF_ERROR(writer_->Exec(pragmas::kBeginImmediate));
    // Another process may have migrated while we waited for the write lock.
    StatusOr<int> now = ReadUserVersion(*writer_);
    Status st = now.status();
    if (st.ok() && *now < m.version) {
      st = writer_->Exec(std::string(m.sql).c_str());
      if (st.ok()) {
        st = writer_->Exec(
            (std::string(pragmas::kSetUserVersionPrefix) + std::to_string(m.version)).c_str());
      }
    }
    if (!st.ok()) {
      (void)writer_->Exec(pragmas::kRollback);
      return Status(st.code(), "migration " + std::to_string(m.version) + "_" +
                                   std::string(m.name) + ": " + st.message());
    }
    RETURN_IF_ERROR(writer_->Exec(pragmas::kCommit));
  }
  ASSIGN_OR_RETURN(schema_version_, ReadUserVersion(*writer_));
  return OkStatus();
}

StatusOr<std::unique_ptr<SqliteConnection>> SqliteDatabase::AcquireReader() {
  {
    std::unique_lock lock(readers_mu_);
    readers_cv_.wait(lock, [&] {
      return !idle_readers_.empty() || open_readers_ < options_.max_readers;
    });
    if (!idle_readers_.empty()) {
      auto conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return conn;
    }
    ++open_readers_;
  }
  auto conn = SqliteConnection::Open(path_, options_.synchronous_full, options_.busy_timeout_ms);
  if (!conn.ok()) {
    std::lock_guard lock(readers_mu_);
    --open_readers_;
    readers_cv_.notify_one();
  }
  return conn;
}

void SqliteDatabase::ReleaseReader(std::unique_ptr<SqliteConnection> conn) {
  {
    std::lock_guard lock(readers_mu_);
    idle_readers_.push_back(std::move(conn));
  }
  readers_cv_.notify_one();
}

Status SqliteDatabase::Read(const std::function<Status(sql::Connection&)>& fn) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteConnection> conn, AcquireReader());
  Status st;
  {
    StatusOr<sql::Statement> begin = conn->Prepare(pragmas::kBegin);
    st = begin.status();
    if (st.ok()) st = begin->Run();
  }
  if (st.ok()) {
    st = fn(*conn);
    Status end_st;
    {
      StatusOr<sql::Statement> end = conn->Prepare(pragmas::kCommit);
      end_st = end.status();
      if (end_st.ok()) end_st = end->Run();
    }
    if (!end_st.ok()) {
      // Never hand a connection with an open transaction back to the pool.
      conn.reset();
      {
        std::lock_guard lock(readers_mu_);
        --open_readers_;
      }
      readers_cv_.notify_one();
      return st.ok() ? end_st : st;
    }
  }
  ReleaseReader(std::move(conn));
  return st;
}

Status SqliteDatabase::Write(const std::function<Status(sql::Connection&)>& fn) {
  std::lock_guard lock(writer_mu_);
  {
    ASSIGN_OR_RETURN(sql::Statement begin, writer_->Prepare(pragmas::kBeginImmediate));
    RETURN_IF_ERROR(begin.Run());
  }
  Status st = fn(*writer_);
  if (st.ok()) {
    StatusOr<sql::Statement> commit = writer_->Prepare(pragmas::kCommit);
    st = commit.status();
    if (st.ok()) st = commit->Run();
    if (st.ok()) return st;
  }
  {
    StatusOr<sql::Statement> rollback = writer_->Prepare(pragmas::kRollback);
    if (rollback.ok()) (void)rollback->Run();
  }
  return st;
}

const sql::Dialect& SqliteDatabase::dialect() const {
  // The unary + keeps SQLite from answering the scope's OR with a multi-index union plus a full
  // sort: walking the sort index and testing the scope per row is far cheaper for paged lists.
  // Writers are serialized by BEGIN IMMEDIATE, so no row locks are needed.
  static constexpr sql::Dialect kDialect{
      .scope_project_open =
          " AND (+i.owner = ? OR +i.visibility IN ('public', 'community') OR "
          "(+i.visibility = 'shared' AND EXISTS (SELECT 1 FROM image_members m "
          "WHERE m.image_id = i.id AND m.member = ?",
      .scope_no_project = " AND +i.visibility IN ('public', 'community')",
      .hide_others_community = " AND (+i.visibility != 'community' OR +i.owner = ?)",
      .hide_all_community = " AND +i.visibility != 'community'",
      .claim_lock_suffix = "",
      .lock_image_row = "",
      .lock_owner_quota = "",
  };
  return kDialect;
}

}  // namespace glimmer::db::sqlite
