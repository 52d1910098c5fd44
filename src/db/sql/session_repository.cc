#include "db/sql/session_repository.h"

#include <optional>
#include <string>

#include "db/sql/queries.h"

namespace glimmer::db::sql {
namespace {

class SqlSessionRepository final : public SessionRepository {
 public:
  explicit SqlSessionRepository(Database& db) : db_(db) {}

  Status Create(const DashboardSessionRecord& r) override {
    Status st = db_.Write([&](Connection& conn) -> Status {
      ASSIGN_OR_RETURN(Statement s, conn.Prepare(queries::kInsertDashboardSession));
      s.Bind(1, r.id_digest).Bind(2, r.sealed_token).Bind(3, r.nonce).Bind(4, r.csrf_digest);
      s.Bind(5, r.user_id).Bind(6, r.project_id).Bind(7, r.created_at).Bind(8, r.expires_at);
      return s.Run();
    });
    if (st.code() == StatusCode::kAlreadyExists) {
      return AlreadyExistsError("dashboard session already exists");
    }
    return st;
  }

  StatusOr<DashboardSessionRecord> Get(std::string_view id_digest) override {
    std::optional<DashboardSessionRecord> out;
    RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> Status {
      ASSIGN_OR_RETURN(Statement s, conn.Prepare(queries::kSelectDashboardSession));
      s.Bind(1, id_digest);
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return OkStatus();
      DashboardSessionRecord r;
      r.id_digest = s.Text(0);
      r.sealed_token = s.Text(1);
      r.nonce = s.Text(2);
      r.csrf_digest = s.Text(3);
      r.user_id = s.Text(4);
      r.project_id = s.Text(5);
      r.created_at = s.Int(6);
      r.expires_at = s.Int(7);
      out = std::move(r);
      return OkStatus();
    }));
    if (!out) return NotFoundError("dashboard session not found");
    return std::move(*out);
  }

  Status Delete(std::string_view id_digest) override {
    return db_.Write([&](Connection& conn) -> Status {
      ASSIGN_OR_RETURN(Statement s, conn.Prepare(queries::kDeleteDashboardSession));
      s.Bind(1, id_digest);
      return s.Run();
    });
  }

  StatusOr<int> PurgeExpired(UnixMicros now) override {
    int64_t removed = 0;
    RETURN_IF_ERROR(db_.Write([&](Connection& conn) -> Status {
      ASSIGN_OR_RETURN(Statement s, conn.Prepare(queries::kPurgeExpiredDashboardSessions));
      s.Bind(1, now);
      RETURN_IF_ERROR(s.Run());
      removed = conn.Changes();
      return OkStatus();
    }));
    return static_cast<int>(removed);
  }

 private:
  Database& db_;
};

}  // namespace

std::unique_ptr<SessionRepository> NewSessionRepository(Database& db) {
  return std::make_unique<SqlSessionRepository>(db);
}

}  // namespace glimmer::db::sql
