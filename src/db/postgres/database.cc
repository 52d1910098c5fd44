#include "db/postgres/database.h"

#include <string>
#include <utility>

namespace glimmer::db::postgres {
namespace {

constexpr char kBeginRead[] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
constexpr char kBeginWrite[] = "BEGIN";
constexpr char kCommit[] = "COMMIT";
constexpr char kRollback[] = "ROLLBACK";

// The migration history lives in the schema it describes.
constexpr char kCreateMigrationsTable[] =
    "CREATE TABLE IF NOT EXISTS glimmer_schema_migrations ("
    " version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL,"
    " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())";
constexpr char kCurrentVersion[] =
    "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM glimmer_schema_migrations";
constexpr char kRecordMigration[] =
    "INSERT INTO glimmer_schema_migrations (version, name) VALUES (?1, ?2)";
// One migrator per schema at a time, whichever node it runs on.
constexpr char kLockMigrations[] =
    "SELECT pg_advisory_lock(hashtextextended('glimmer-migrate:' || current_schema(), 0))";
constexpr char kUnlockMigrations[] =
    "SELECT pg_advisory_unlock(hashtextextended('glimmer-migrate:' || current_schema(), 0))";

StatusOr<int> CurrentVersion(PgConnection& conn) {
  ASSIGN_OR_RETURN(sql::Statement st, conn.Prepare(kCurrentVersion));
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return InternalError("postgres: no schema version row");
  return static_cast<int>(st.Int(0));
}

}  // namespace

StatusOr<std::unique_ptr<PostgresDatabase>> PostgresDatabase::Open(
    const PostgresOptions& options) {
  if (options.dsn.empty()) return InvalidArgumentError("postgres: empty connection string");
  std::unique_ptr<PostgresDatabase> db(new PostgresDatabase(options));
  RETURN_IF_ERROR(db->Migrate());
  return db;
}

PostgresDatabase::~PostgresDatabase() = default;

int PostgresDatabase::LatestSchemaVersion() {
  const auto& migrations = EmbeddedMigrations();
  return migrations.empty() ? 0 : migrations.back().version;
}

Status PostgresDatabase::Migrate() {
  const auto& migrations = EmbeddedMigrations();
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return InternalError("embedded migrations are not numbered 1..N");
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn,
                   PgConnection::Open(options_.dsn, options_.schema, options_.create_schema));
  RETURN_IF_ERROR(conn->Exec(kLockMigrations));
  auto migrate = [&]() -> Status {
    RETURN_IF_ERROR(conn->Exec(kCreateMigrationsTable));
    ASSIGN_OR_RETURN(int current, CurrentVersion(*conn));
    const int latest = LatestSchemaVersion();
    if (current > latest) {
      return FailedPreconditionError("database has schema version " + std::to_string(current) +
                                     ", newer than this binary's " + std::to_string(latest));
    }
    for (const sql::Migration& m : migrations) {
      if (m.version <= current) continue;
      RETURN_IF_ERROR(conn->Exec(kBeginWrite));
      Status st = conn->Exec(std::string(m.sql).c_str());
      if (st.ok()) {
        StatusOr<sql::Statement> record = conn->Prepare(kRecordMigration);
        st = record.status();
        if (st.ok()) {
          st = record->Bind(1, int64_t{m.version}).Bind(2, std::string_view(m.name)).Run();
        }
      }
      if (st.ok()) st = conn->Exec(kCommit);
      if (!st.ok()) {
        (void)conn->Exec(kRollback);
        return Status(st.code(), "migration " + std::to_string(m.version) + "_" +
                                     std::string(m.name) + ": " + st.message());
      }
    }
    ASSIGN_OR_RETURN(schema_version_, CurrentVersion(*conn));
    return OkStatus();
  };
  Status st = migrate();
  (void)conn->Exec(kUnlockMigrations);
  if (!st.ok()) return st;
  Release(std::move(conn));
  return OkStatus();
}

StatusOr<std::unique_ptr<PgConnection>> PostgresDatabase::Acquire() {
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || open_ < options_.max_connections; });
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    ++open_;
  }
  auto conn = PgConnection::Open(options_.dsn, options_.schema, /*create_schema=*/false);
  if (!conn.ok()) {
    std::lock_guard lock(mu_);
    --open_;
    cv_.notify_one();
  }
  return conn;
}

void PostgresDatabase::Release(std::unique_ptr<PgConnection> conn) {
  {
    std::lock_guard lock(mu_);
    if (conn->healthy()) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;  // lost its server: the next Acquire opens a fresh one
    }
  }
  cv_.notify_one();
}

Status PostgresDatabase::RunTransaction(const char* begin,
                                        const std::function<Status(sql::Connection&)>& fn,
                                        bool& retryable, bool& started) {
  retryable = false;
  started = false;
  ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn, Acquire());
  (void)conn->TakeRetryable();
  Status st = conn->Exec(begin);
  if (st.ok()) {
    started = true;
    st = fn(*conn);
    if (st.ok()) {
      st = conn->Exec(kCommit);
    } else {
      (void)conn->Exec(kRollback);
    }
  }
  retryable = conn->TakeRetryable();
  Release(std::move(conn));
  return st;
}

Status PostgresDatabase::Read(const std::function<Status(sql::Connection&)>& fn) {
  bool retryable = false, started = false;
  Status st = RunTransaction(kBeginRead, fn, retryable, started);
  // A read never conflicts. A pooled connection whose server went away (PostgreSQL restarted)
  // fails at BEGIN, before `fn` ran: that is retried once, on a fresh connection.
  if (!started && st.code() == StatusCode::kUnavailable) {
    st = RunTransaction(kBeginRead, fn, retryable, started);
  }
  return st;
}

Status PostgresDatabase::Write(const std::function<Status(sql::Connection&)>& fn) {
  Status st;
  for (int attempt = 0; attempt < std::max(1, options_.write_retries); ++attempt) {
    bool retryable = false, started = false;
    st = RunTransaction(kBeginWrite, fn, retryable, started);
    if (!started && st.code() == StatusCode::kUnavailable) retryable = true;  // stale connection
    if (st.ok() || !retryable) return st;
  }
  return st;
}

const sql::Dialect& PostgresDatabase::dialect() const {
  static constexpr sql::Dialect kDialect{
      .scope_project_open =
          " AND (i.owner = ? OR i.visibility IN ('public', 'community') OR "
          "(i.visibility = 'shared' AND EXISTS (SELECT 1 FROM image_members m "
          "WHERE m.image_id = i.id AND m.member = ?",
      .scope_no_project = " AND i.visibility IN ('public', 'community')",
      .hide_others_community = " AND (i.visibility != 'community' OR i.owner = ?)",
      .hide_all_community = " AND i.visibility != 'community'",
      // Two nodes claiming at once take different tasks instead of waiting for each other.
      .claim_lock_suffix = " FOR UPDATE SKIP LOCKED",
      .lock_image_row = "SELECT 1 FROM images WHERE id = ?1 FOR UPDATE",
      .lock_owner_quota = "SELECT pg_advisory_xact_lock(hashtextextended('quota:' || ?1, 0))",
  };
  return kDialect;
}

}  // namespace glimmer::db::postgres
