#pragma once
// Task repository: persistence of asynchronous tasks and the claim protocol that lets several
// Glimmer nodes share one database without running a task twice.
//
// Claim protocol: a runner calls Claim(node, now, lease) to take the oldest task that is
// pending, or processing with an expired lease (its node died or hung). The claim sets
// status=processing, claimed_by=node, lease_expires_at=now+lease and attempts+1 atomically
// (SQLite: one write transaction; PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED). While it
// runs, the runner renews the lease with Heartbeat; Finish records the outcome. Heartbeat and
// Finish only succeed while `node` still holds the claim (Aborted otherwise: the lease was
// lost and another node may have taken the task).
//
// Thread-safety: all methods may be called concurrently.
// Errors: NotFound (absent), AlreadyExists (duplicate id), Aborted (claim lost),
// Unavailable/Internal (database errors).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "domain/task.h"

namespace glimmer::db {

struct TaskListQuery {
  std::optional<std::string> owner;  // nullopt = every owner (admin)
  std::optional<domain::TaskStatus> status;
  std::optional<std::string> type;
  std::optional<std::string> marker;  // task id; NotFound if it is not in the listing
  int limit = 25;
  bool sort_ascending = false;  // by created_at, then id
  std::string sort_key = "created_at";  // created_at | updated_at | id | status | type
};

class TaskRepository {
 public:
  virtual ~TaskRepository() = default;
  TaskRepository(const TaskRepository&) = delete;
  TaskRepository& operator=(const TaskRepository&) = delete;

  virtual Status Create(const domain::Task& task) = 0;
  virtual StatusOr<domain::Task> Get(std::string_view id) = 0;
  virtual StatusOr<std::vector<domain::Task>> List(const TaskListQuery& query) = 0;
  // Every task of an image, oldest first.
  virtual StatusOr<std::vector<domain::Task>> ListForImage(std::string_view image_id) = 0;

  // Claims the oldest runnable task (see above); nullopt when there is none. A pending task
  // with an affinity is only claimed by that node.
  virtual StatusOr<std::optional<domain::Task>> Claim(std::string_view node, UnixMicros now,
                                                      UnixMicros lease) = 0;
  // Renews the lease and (when given) replaces the progress message.
  virtual Status Heartbeat(std::string_view id, std::string_view node, UnixMicros now,
                           UnixMicros lease, const std::optional<std::string>& message) = 0;
  // Ends a claimed task: status success or failure, with result and message; releases the
  // claim. expires_at = now + ttl.
  virtual Status Finish(std::string_view id, std::string_view node, domain::TaskStatus status,
                        const std::optional<std::string>& result_json, std::string_view message,
                        UnixMicros now, UnixMicros ttl) = 0;
  // Ends a task whatever its claim (a task that can no longer run, e.g. its image was deleted
  // before it started, or it was interrupted too many times). NotFound if absent; no-op on an
  // ended task.
  virtual Status FailUnclaimed(std::string_view id, std::string_view message, UnixMicros now,
                               UnixMicros ttl) = 0;
  // Expires the leases of every task `node` holds (the node restarted: none of them is running
  // any more), so they are claimed again at once. Returns how many.
  virtual StatusOr<int> ReleaseNode(std::string_view node, UnixMicros now) = 0;
  // Records that `node`'s runner is alive at `now` (called with every lease renewal).
  virtual Status NodeAlive(std::string_view node, UnixMicros now) = 0;
  // Claims (as Claim does, for `node`) the oldest pending task pinned to another node that has
  // shown no sign of life since `silent_since` (or never): that task can never run, and the
  // claimer abandons it. nullopt when there is none.
  virtual StatusOr<std::optional<domain::Task>> ClaimOrphan(std::string_view node, UnixMicros now,
                                                            UnixMicros lease,
                                                            UnixMicros silent_since) = 0;
  // The nodes whose last sign of life (NodeAlive) is before `silent_since`, by id. Nodes that
  // never recorded one are not listed: nothing is known of them (e.g. a `glimmer catalog load`
  // process, which runs no task runner).
  virtual StatusOr<std::vector<std::string>> SilentNodes(UnixMicros silent_since) = 0;
  // Removes ended tasks whose expires_at is before `now`; returns how many.
  virtual StatusOr<int> PurgeExpired(UnixMicros now) = 0;

 protected:
  TaskRepository() = default;
};

}  // namespace glimmer::db
