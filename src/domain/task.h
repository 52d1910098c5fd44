#pragma once
// An asynchronous task (Glance's /v2/tasks): today the interoperable-import flow
// (type api_image_import). Plain values; `input` and `result` are JSON documents by the API
// contract and are kept as opaque text here (the component that owns the task type encodes
// them).
//
// Runner fields (claimed_by, lease_expires_at, attempts) are Glimmer's: they let several nodes
// sharing one database run each task once, and let a survivor take over the tasks of a node
// that died (its lease expires).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/time.h"

namespace glimmer::domain {

enum class TaskStatus { kPending, kProcessing, kSuccess, kFailure };
std::string_view ToString(TaskStatus s);
std::optional<TaskStatus> ParseTaskStatus(std::string_view s);

struct Task {
  std::string id;
  std::string type;  // "api_image_import"
  TaskStatus status = TaskStatus::kPending;
  std::string owner;  // project id
  std::string input_json = "{}";
  std::optional<std::string> result_json;
  std::string message;
  std::optional<std::string> image_id;
  std::optional<std::string> request_id;
  std::optional<std::string> user_id;
  UnixMicros created_at = 0;
  UnixMicros updated_at = 0;
  std::optional<UnixMicros> expires_at;  // set when the task ends (task_time_to_live)

  // Runner bookkeeping.
  std::optional<std::string> claimed_by;  // node id running it
  std::optional<UnixMicros> lease_expires_at;
  int attempts = 0;  // times claimed
  // Only this node may start the task (it holds in-memory state the task needs, e.g. the
  // user's token for glance-download). A task whose node died is still taken over — to be
  // failed cleanly.
  std::optional<std::string> affinity;
};

}  // namespace glimmer::domain
