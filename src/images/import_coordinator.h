#pragma once
// ImportCoordinator: staging and the start of interoperable imports (glance-api.md §2.2, §7.3,
// §8): PUT/HEAD /stage, POST /import (checks, the image's import lock, the task), the tasks
// API, the import methods, and the pieces the import flow (ImportHandler) needs: the lock's
// release, the glance-download credential, the staging area and the import options. Also the
// stage and import half of crash recovery. The import itself runs asynchronously in
// ImportHandler.
//
// Thread-safety: all methods may be called concurrently.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "db/task_repository.h"
#include "domain/context.h"
#include "domain/image.h"
#include "domain/task.h"
#include "images/image_env.h"
#include "images/import.h"
#include "staging/staging_area.h"

namespace glimmer::images {

class ImportCoordinator {
 public:
  // Borrows `env`, `tasks` and `staging`. `wake_runner` (may be empty) is called after a task
  // is created.
  ImportCoordinator(const ImageEnv& env, db::TaskRepository& tasks, staging::StagingArea& staging,
                    ImportOptions options, std::function<void()> wake_runner = {});

  // The enabled import methods (GET /v2/info/import, OpenStack-image-import-methods).
  const std::vector<std::string>& ImportMethods() const { return options_.enabled_methods; }
  const ImportOptions& options() const { return options_; }
  staging::StagingArea& staging() const { return staging_; }

  // PUT /v2/images/{id}/stage. `resume_offset` (Glimmer's resumable staging, header
  // Upload-Offset): append to a partial stage of that many bytes instead of starting over.
  // An interrupted stage keeps what was received; the image returns to queued. NotFound when
  // glance-direct is not enabled.
  Status Stage(const domain::RequestContext& ctx, std::string_view id, const ReadFn& read,
               std::optional<int64_t> size_hint, std::optional<int64_t> resume_offset);
  // HEAD /v2/images/{id}/stage: bytes staged so far (the offset to resume from).
  StatusOr<int64_t> StagedBytes(const domain::RequestContext& ctx, std::string_view id);
  // POST /v2/images/{id}/import: checks, takes the image's import lock, creates the task.
  StatusOr<domain::Task> StartImport(const domain::RequestContext& ctx, std::string_view id,
                                     const ImportRequest& request);
  // GET /v2/images/{id}/tasks.
  StatusOr<std::vector<domain::Task>> ImageTasks(const domain::RequestContext& ctx,
                                                 std::string_view id);
  // GET /v2/tasks/{id} and /v2/tasks (tasks_api_access policy).
  StatusOr<domain::Task> GetTask(const domain::RequestContext& ctx, std::string_view id);
  StatusOr<std::vector<domain::Task>> ListTasks(const domain::RequestContext& ctx,
                                                db::TaskListQuery query);

  // ---- For the import flow ----
  // Applies `change` to the image and releases its import lock, if `task_id` still holds it
  // (Aborted otherwise; NotFound when the image is gone).
  Status ReleaseImport(const std::string& image_id, const std::string& task_id,
                       const std::function<void(domain::Image&)>& change);
  // glance-download credentials: the user's token, in memory only, per task.
  std::optional<std::string> Credential(const std::string& task_id) const;
  void DropCredential(const std::string& task_id);

  // ---- Crash recovery (stages and imports; ImageData has the uploads) ----
  // At start-up, before serving: this node's stages cut by the crash go back to queued (what was
  // staged stays, for resumption); images whose import task has ended or vanished go back to
  // queued; staged data of images that are gone is removed.
  Status RecoverAfterCrash();
  // Stages (`uploading` without an import lock, os_glance_stage_host) of `nodes`, silent for two
  // leases, go back to `queued`; the stage keeps its host so that it can be resumed there.
  // Compare-and-set on the status and the mark. Returns the first error, after trying every
  // image.
  Status ReclaimStagesOf(const std::vector<std::string>& nodes);

 private:
  // Whether an import lock may be taken over: its task ended, vanished, or has not been updated
  // for stale_lock_seconds (twice that while pending).
  bool LockIsStale(const domain::Image& image) const;
  // Stage: grows the image's reservation in image_stage_total to at least `needed` bytes
  // (quota-checked, atomically); `reserved` is updated. ResourceExhausted when the quota has no
  // room; Gone when the image was deleted; FailedPrecondition when it left `uploading`.
  Status ReserveStaged(std::string_view id, int64_t needed, int64_t& reserved);
  void StashCredential(const std::string& task_id, const std::string& token);

  const ImageEnv& env_;
  db::TaskRepository& tasks_;
  staging::StagingArea& staging_;
  const ImportOptions options_;
  const std::function<void()> wake_runner_;
  mutable std::mutex credentials_mu_;
  std::map<std::string, std::string> credentials_;  // guarded by credentials_mu_
};

}  // namespace glimmer::images
