#include "db/sql/task_repository.h"

#include <functional>
#include <string>
#include <utility>

#include "db/sql/queries.h"

namespace glimmer::db::sql {
namespace {

using domain::Task;
using domain::TaskStatus;

Task ReadTask(const Statement& st) {
  Task t;
  t.id = st.Text(0);
  t.type = st.Text(1);
  t.status = domain::ParseTaskStatus(st.TextView(2)).value_or(TaskStatus::kFailure);
  t.owner = st.Text(3);
  t.input_json = st.Text(4);
  t.result_json = st.OptText(5);
  t.message = st.Text(6);
  t.image_id = st.OptText(7);
  t.request_id = st.OptText(8);
  t.user_id = st.OptText(9);
  t.created_at = st.Int(10);
  t.updated_at = st.Int(11);
  t.expires_at = st.OptInt(12);
  t.claimed_by = st.OptText(13);
  t.lease_expires_at = st.OptInt(14);
  t.attempts = static_cast<int>(st.Int(15));
  t.affinity = st.OptText(16);
  return t;
}

Status TaskNotFound(std::string_view id) {
  return NotFoundError("Task with the given id " + std::string(id) + " not found");
}

StatusOr<Task> GetIn(Connection& conn, std::string_view id) {
  ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kSelectTask));
  st.Bind(1, id);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return TaskNotFound(id);
  return ReadTask(st);
}

// Column name for a validated sort key (never user text in SQL).
const char* SortColumn(const std::string& key) {
  if (key == "updated_at") return "updated_at";
  if (key == "id") return "id";
  if (key == "status") return "status";
  if (key == "type") return "type";
  return "created_at";
}

class SqlTaskRepository final : public TaskRepository {
 public:
  explicit SqlTaskRepository(Database& db)
      : db_(db),
        claim_sql_(std::string(queries::kSelectRunnableTask) + db.dialect().claim_lock_suffix),
        orphan_sql_(std::string(queries::kSelectOrphanTask) + db.dialect().claim_lock_suffix) {}

  Status Create(const Task& t) override {
    return db_.Write([&](Connection& conn) -> Status {
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kInsertTask));
      st.Bind(1, t.id).Bind(2, t.type).Bind(3, domain::ToString(t.status)).Bind(4, t.owner);
      st.Bind(5, t.input_json).Bind(6, t.result_json).Bind(7, t.message).Bind(8, t.image_id);
      st.Bind(9, t.request_id).Bind(10, t.user_id).Bind(11, t.created_at).Bind(12, t.updated_at);
      st.Bind(13, t.expires_at).Bind(14, t.claimed_by).Bind(15, t.lease_expires_at);
      st.Bind(16, static_cast<int64_t>(t.attempts)).Bind(17, t.affinity);
      return st.Run();
    });
  }

  StatusOr<Task> Get(std::string_view id) override {
    std::optional<Task> task;
    RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> Status {
      ASSIGN_OR_RETURN(task, GetIn(conn, id));
      return OkStatus();
    }));
    return std::move(*task);
  }

  StatusOr<std::vector<Task>> List(const TaskListQuery& q) override {
    const std::string col = SortColumn(q.sort_key);
    const char* cmp = q.sort_ascending ? ">" : "<";
    const char* dir = q.sort_ascending ? "ASC" : "DESC";
    std::string sql = std::string("SELECT ") + queries::kTaskColumns +
                      " FROM tasks WHERE (CAST(?1 AS TEXT) IS NULL OR owner = ?1)"
                      " AND (CAST(?2 AS TEXT) IS NULL OR status = ?2)"
                      " AND (CAST(?3 AS TEXT) IS NULL OR type = ?3)";
    if (q.marker) {
      sql += " AND (" + col + ", id) " + cmp + " (SELECT " + col + ", id FROM tasks WHERE id = ?4)";
    }
    sql += " ORDER BY " + col + " " + dir + ", id " + dir + " LIMIT ?5";
    std::vector<Task> out;
    RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> Status {
      if (q.marker) {
        ASSIGN_OR_RETURN(Task m, GetIn(conn, *q.marker));
        if (q.owner && m.owner != *q.owner) return TaskNotFound(*q.marker);
      }
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(sql));
      st.Bind(1, q.owner);
      if (q.status) {
        st.Bind(2, domain::ToString(*q.status));
      } else {
        st.BindNull(2);
      }
      st.Bind(3, q.type);
      if (q.marker) st.Bind(4, *q.marker);
      st.Bind(5, static_cast<int64_t>(q.limit));
      for (;;) {
        ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        out.push_back(ReadTask(st));
      }
      return OkStatus();
    }));
    return out;
  }

  StatusOr<std::vector<Task>> ListForImage(std::string_view image_id) override {
    std::vector<Task> out;
    RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> Status {
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kSelectTasksForImage));
      st.Bind(1, image_id);
      for (;;) {
        ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        out.push_back(ReadTask(st));
      }
      return OkStatus();
    }));
    return out;
  }

  StatusOr<std::optional<Task>> Claim(std::string_view node, UnixMicros now,
                                      UnixMicros lease) override {
    return ClaimWith(claim_sql_, node, now, lease, [&](Statement& st) {
      st.Bind(1, now).Bind(2, node);
    });
  }

  StatusOr<std::optional<Task>> ClaimOrphan(std::string_view node, UnixMicros now,
                                            UnixMicros lease, UnixMicros silent_since) override {
    return ClaimWith(orphan_sql_, node, now, lease, [&](Statement& st) {
      st.Bind(1, silent_since).Bind(2, node);
    });
  }

  Status NodeAlive(std::string_view node, UnixMicros now) override {
    return db_.Write([&](Connection& conn) -> Status {
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kNodeAlive));
      return st.Bind(1, node).Bind(2, now).Run();
    });
  }

  StatusOr<std::vector<std::string>> SilentNodes(UnixMicros silent_since) override {
    std::vector<std::string> out;
    RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> Status {
      out.clear();
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kSelectSilentNodes));
      st.Bind(1, silent_since);
      for (;;) {
        ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) return OkStatus();
        out.push_back(st.Text(0));
      }
    }));
    return out;
  }

  Status Heartbeat(std::string_view id, std::string_view node, UnixMicros now, UnixMicros lease,
                   const std::optional<std::string>& message) override {
    return db_.Write([&](Connection& conn) -> Status {
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kHeartbeatTask));
      RETURN_IF_ERROR(
          st.Bind(1, id).Bind(2, node).Bind(3, now + lease).Bind(4, now).Bind(5, message).Run());
      if (conn.Changes() == 0) return ClaimLost(conn, id);
      return OkStatus();
    });
  }

  Status Finish(std::string_view id, std::string_view node, TaskStatus status,
                const std::optional<std::string>& result_json, std::string_view message,
                UnixMicros now, UnixMicros ttl) override {
    return db_.Write([&](Connection& conn) -> Status {
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kFinishTask));
      st.Bind(1, id).Bind(2, node).Bind(3, domain::ToString(status)).Bind(4, result_json);
      RETURN_IF_ERROR(st.Bind(5, message).Bind(6, now).Bind(7, now + ttl).Run());
      if (conn.Changes() == 0) return ClaimLost(conn, id);
      return OkStatus();
    });
  }

  Status FailUnclaimed(std::string_view id, std::string_view message, UnixMicros now,
                       UnixMicros ttl) override {
    return db_.Write([&](Connection& conn) -> Status {
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kFailTask));
      RETURN_IF_ERROR(st.Bind(1, id).Bind(2, message).Bind(3, now).Bind(4, now + ttl).Run());
      if (conn.Changes() == 0) return GetIn(conn, id).status();  // NotFound or already ended
      return OkStatus();
    });
  }

  StatusOr<int> ReleaseNode(std::string_view node, UnixMicros now) override {
    int n = 0;
    RETURN_IF_ERROR(db_.Write([&](Connection& conn) -> Status {
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kReleaseNodeTasks));
      RETURN_IF_ERROR(st.Bind(1, node).Bind(2, now).Run());
      n = static_cast<int>(conn.Changes());
      return OkStatus();
    }));
    return n;
  }

  StatusOr<int> PurgeExpired(UnixMicros now) override {
    int n = 0;
    RETURN_IF_ERROR(db_.Write([&](Connection& conn) -> Status {
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kPurgeExpiredTasks));
      RETURN_IF_ERROR(st.Bind(1, now).Run());
      n = static_cast<int>(conn.Changes());
      return OkStatus();
    }));
    return n;
  }

 private:
  // One claim transaction: `select_sql` (bound by `bind`) picks a task id, which is then marked
  // processing by `node` with a lease.
  StatusOr<std::optional<Task>> ClaimWith(const std::string& select_sql, std::string_view node,
                                          UnixMicros now, UnixMicros lease,
                                          const std::function<void(Statement&)>& bind) {
    std::optional<Task> claimed;
    RETURN_IF_ERROR(db_.Write([&](Connection& conn) -> Status {
      claimed.reset();
      std::string id;
      {
        ASSIGN_OR_RETURN(Statement st, conn.Prepare(select_sql));
        bind(st);
        ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) return OkStatus();
        id = st.Text(0);
      }
      {
        ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kClaimTask));
        RETURN_IF_ERROR(st.Bind(1, id).Bind(2, node).Bind(3, now + lease).Bind(4, now).Run());
      }
      ASSIGN_OR_RETURN(claimed, GetIn(conn, id));
      return OkStatus();
    }));
    return claimed;
  }

  static Status ClaimLost(Connection& conn, std::string_view id) {
    RETURN_IF_ERROR(GetIn(conn, id).status());
    return AbortedError("task " + std::string(id) + " is no longer claimed by this node");
  }

  Database& db_;
  const std::string claim_sql_;
  const std::string orphan_sql_;
};

}  // namespace

std::unique_ptr<TaskRepository> NewTaskRepository(Database& db) {
  return std::make_unique<SqlTaskRepository>(db);
}

}  // namespace glimmer::db::sql
