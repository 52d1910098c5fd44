// ImportCoordinator: staging and the start of interoperable imports (glance-api.md §7.3,
// §8.1). The import itself runs asynchronously in ImportHandler (import_flow.cc).
#include "images/import_coordinator.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "images/internal/access.h"
#include "images/internal/stage_digest.h"
#include "images/internal/store_list_property.h"
#include "images/internal/stream_options.h"
#include "images/internal/upload_marks.h"
#include "images/stream_to_store.h"
#include "platform/random.h"
#include "webdownload/url_filter.h"

namespace glimmer::images {
namespace {

using domain::Image;
using domain::ImageAction;
using domain::ImageStatus;
using domain::RequestContext;
using internal::kMaxUpdateRetries;

constexpr size_t kStageChunk = 1 << 20;
// A stage checks that its image still exists after each this many bytes.
constexpr int64_t kStageLiveCheckEvery = int64_t{64} << 20;
// The most a stage without a declared size reserves ahead in image_stage_total.
constexpr int64_t kStageReserveStep = int64_t{256} << 20;

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Hands the stage's bytes to the staging file from the hashing pipeline.
class StagingSink final : public store::Writer {
 public:
  explicit StagingSink(staging::StagingWriter& w) : w_(w) {}
  Status Append(std::span<const std::byte> data) override { return w_.Append(data); }
  StatusOr<std::string> Commit() override { return std::string(); }
  void Abort() override {}

 private:
  staging::StagingWriter& w_;
};

}  // namespace

ImportCoordinator::ImportCoordinator(const ImageEnv& env, db::TaskRepository& tasks,
                                     staging::StagingArea& staging, ImportOptions options,
                                     std::function<void()> wake_runner)
    : env_(env),
      tasks_(tasks),
      staging_(staging),
      options_(std::move(options)),
      wake_runner_(std::move(wake_runner)) {}

bool ImportCoordinator::LockIsStale(const Image& image) const {
  auto it = image.properties.find(std::string(kImportTaskProperty));
  if (it == image.properties.end()) return true;
  auto task = tasks_.Get(it->second);
  if (!task.ok()) return task.status().code() == StatusCode::kNotFound;
  if (task->status == domain::TaskStatus::kSuccess ||
      task->status == domain::TaskStatus::kFailure) {
    return true;
  }
  const int64_t age_s = (env_.clock.Now() - task->updated_at) / 1'000'000;
  const int64_t limit =
      options_.stale_lock_seconds * (task->status == domain::TaskStatus::kPending ? 2 : 1);
  return age_s > limit;
}

Status ImportCoordinator::Stage(const RequestContext& ctx, std::string_view id, const ReadFn& read,
                                std::optional<int64_t> size_hint,
                                std::optional<int64_t> resume_offset) {
  if (!Contains(options_.enabled_methods, "glance-direct")) {
    return NotFoundError("The glance-direct import method is not enabled");
  }
  ASSIGN_OR_RETURN(auto loaded, internal::LoadVisible(env_, ctx, id));
  RETURN_IF_ERROR(internal::Authorize(env_, ImageAction::kUploadImage, ctx, loaded));
  Image image = std::move(loaded.image);
  if (image.status != ImageStatus::kQueued) {
    return FailedPreconditionError("Image status transition from " +
                                   std::string(domain::ToString(image.status)) +
                                   " to uploading is not allowed");
  }
  const int64_t offset = resume_offset.value_or(0);
  if (auto it = image.properties.find(std::string(kStageHostProperty));
      offset > 0 && it != image.properties.end() && it->second != env_.options.node_id) {
    return FailedPreconditionError("The staged data of image " + std::string(id) + " is on node " +
                                   it->second +
                                   ": resume the upload there, "
                                   "or PUT the whole file again");
  }
  ASSIGN_OR_RETURN(int64_t staged, staging_.Size(id));
  if (offset > 0 && offset != staged) {
    return FailedPreconditionError("Cannot resume staging at byte " + std::to_string(offset) +
                                   ": " + std::to_string(staged) + " bytes of image " +
                                   std::string(id) + " are staged");
  }
  // offset + size_hint may overflow (both come from headers, up to INT64_MAX): compare what is
  // left under the cap instead. offset is the staged size here, never above the cap unless the
  // cap was lowered since.
  if (size_hint &&
      (offset > env_.options.image_size_cap || *size_hint > env_.options.image_size_cap - offset)) {
    return ResourceExhaustedError("Image exceeds the storage quota: image size " +
                                  std::to_string(offset) + " + " + std::to_string(*size_hint) +
                                  " is over the limit of " +
                                  std::to_string(env_.options.image_size_cap) + " bytes");
  }
  // The stage counts in the project's quotas from the start, checked in the transaction that
  // moves the image to `uploading` (image_count_uploading, image_stage_total): concurrent stages
  // of one project cannot overshoot. With image_stage_total limited, the image's size is the
  // number of bytes the stage holds in it: what is staged already plus the declared rest, or,
  // without a declared size, reservations made as the data arrives (ReserveStaged).
  const bool stage_limited = env_.options.quotas.image_stage_total >= 0;
  int64_t reserved = offset + size_hint.value_or(0);  // <= image_size_cap, checked above
  image.status = ImageStatus::kUploading;
  image.updated_at = env_.clock.Now();
  if (stage_limited) image.size = reserved;
  image.properties.erase(std::string(kStageDigestProperty));  // the file changes from here on
  if (!env_.options.node_id.empty()) {
    image.properties[std::string(kStageHostProperty)] = env_.options.node_id;
  }
  RETURN_IF_ERROR(internal::ClaimQueued(env_, image));

  // Back to queued on any failure; what was received stays staged (resumable) but no longer
  // counts as staged (a queued image has no size).
  auto fail = [&](Status st) -> Status {
    for (int i = 0; i < kMaxUpdateRetries; ++i) {
      auto cur = env_.repo.Get(id);
      if (!cur.ok()) break;
      if (cur->status != ImageStatus::kUploading) break;
      cur->status = ImageStatus::kQueued;
      cur->size.reset();
      cur->updated_at = env_.clock.Now();
      if (env_.repo.Update(*cur, ImageStatus::kUploading).code() != StatusCode::kAborted) break;
    }
    return st;
  };
  auto writer = staging_.OpenWriter(id, offset);
  if (!writer.ok()) return fail(writer.status());
  // The bytes go through the upload data path (StreamToStore into the staging file): md5,
  // sha512 and the stream inspection are computed on the way, and kept for glance-direct when
  // the whole file was written in this one request.
  StagingSink sink(**writer);
  // Buffers of kStageChunk: what a cut-off stage keeps is what was received, less at most one
  // buffer lost to a crash (an interrupted request hands on its partly filled buffer).
  StreamToStore::Options stream_options =
      internal::StreamOptionsFor(env_.options, INT64_MAX, std::nullopt);
  stream_options.buffer_size = kStageChunk;
  StreamToStore hashed(sink, env_.hash_pool, stream_options);
  std::optional<StreamResult> digest;
  int64_t received = 0;
  int64_t next_check = kStageLiveCheckEvery;
  Status stream;
  for (;;) {
    std::span<std::byte> buf = hashed.Buffer();
    auto n = read(buf);
    if (!n.ok()) {
      stream = n.status();
      break;
    }
    if (*n == 0) break;
    const int64_t end = offset + received + static_cast<int64_t>(*n);
    if (end > env_.options.image_size_cap) {
      stream = ResourceExhaustedError("Image exceeds the storage quota: the image size cap is " +
                                      std::to_string(env_.options.image_size_cap) + " bytes");
      break;
    }
    if (size_hint && received + static_cast<int64_t>(*n) > *size_hint) {
      stream = InvalidArgumentError("Size mismatch: expected " + std::to_string(*size_hint) +
                                    " bytes, got more");
      break;
    }
    if (stage_limited && end > reserved) {
      stream = ReserveStaged(id, end, reserved);
      if (!stream.ok()) break;
    }
    stream = hashed.Commit(*n);
    if (!stream.ok()) break;
    received += static_cast<int64_t>(*n);
    if (received >= next_check) {
      // A long stage stops writing soon after its image is deleted (or taken back to queued
      // by another node that believed this one dead).
      next_check += kStageLiveCheckEvery;
      auto cur = env_.repo.Get(id);
      if (!cur.ok() && cur.status().code() == StatusCode::kNotFound) {
        stream = GoneError("Image " + std::string(id) + " was deleted during the upload");
        break;
      }
      if (cur.ok() && cur->status != ImageStatus::kUploading) {
        stream = FailedPreconditionError("Image " + std::string(id) +
                                         " is no longer "
                                         "uploading: it was changed during the upload");
        break;
      }
    }
  }
  if (stream.ok()) {
    auto r = hashed.Finish();  // waits for every write to the staging file
    if (r.ok()) {
      if (offset == 0 && r->size == (*writer)->size()) digest = std::move(*r);
    } else {
      stream = r.status();
    }
  } else {
    // What was accepted before the error is written (and stays staged, resumable).
    (void)hashed.Finish();
  }
  Status synced = (*writer)->Sync();
  if (stream.ok() && size_hint && received != *size_hint) {
    stream = InvalidArgumentError("Size mismatch: expected " + std::to_string(*size_hint) +
                                  " bytes, got " + std::to_string(received));
  }
  if (stream.ok()) stream = synced;
  if (!stream.ok()) {
    spdlog::info("image {}: stage stopped at {} bytes: {}", id, (*writer)->size(),
                 stream.ToString());
    if (stream.code() == StatusCode::kGone) {
      (void)staging_.Remove(id);
      return stream;
    }
    return fail(stream);
  }
  // Staged: the image stays `uploading` with its size known, ready for glance-direct (a
  // reservation beyond the data is given back).
  for (int attempt = 0;; ++attempt) {
    auto cur = env_.repo.Get(id);
    if (!cur.ok()) {
      (void)staging_.Remove(id);
      return GoneError("Image " + std::string(id) + " was deleted during the upload");
    }
    if (cur->status != ImageStatus::kUploading) {
      return FailedPreconditionError("Image " + std::string(id) +
                                     " is no longer uploading: it "
                                     "was changed during the upload");
    }
    cur->size = (*writer)->size();
    if (digest) {
      cur->properties[std::string(kStageDigestProperty)] = internal::EncodeStageDigest(*digest);
    } else {
      cur->properties.erase(std::string(kStageDigestProperty));
    }
    cur->updated_at = env_.clock.Now();
    Status st = env_.repo.Update(*cur, ImageStatus::kUploading);
    if (st.code() == StatusCode::kAborted && attempt < kMaxUpdateRetries) continue;
    return st;
  }
}

Status ImportCoordinator::ReserveStaged(std::string_view id, int64_t needed, int64_t& reserved) {
  // Ask for room ahead (as much again as the stage holds, at most kStageReserveStep), so that
  // a large stage costs few transactions; near the limit, ask for exactly what is needed.
  const int64_t ahead =
      std::min(env_.options.image_size_cap, needed + std::min(needed, kStageReserveStep));
  Status last;
  for (int64_t ask : {ahead, needed}) {
    if (ask == needed && ahead == needed && !last.ok()) break;  // asked already
    for (int attempt = 0; attempt < kMaxUpdateRetries; ++attempt) {
      auto cur = env_.repo.Get(id);
      if (!cur.ok()) {
        if (cur.status().code() == StatusCode::kNotFound) {
          return GoneError("Image " + std::string(id) + " was deleted during the upload");
        }
        return cur.status();
      }
      if (cur->status != ImageStatus::kUploading) {
        return FailedPreconditionError("Image " + std::string(id) +
                                       " is no longer uploading: "
                                       "it was changed during the upload");
      }
      cur->size = ask;
      cur->updated_at = env_.clock.Now();
      last = env_.repo.UpdateWithinQuota(*cur, ImageStatus::kUploading, env_.options.quotas);
      if (last.ok()) {
        reserved = ask;
        return OkStatus();
      }
      if (last.code() != StatusCode::kAborted) break;
    }
    if (last.code() != StatusCode::kResourceExhausted) return last;
  }
  return last;
}

StatusOr<int64_t> ImportCoordinator::StagedBytes(const RequestContext& ctx, std::string_view id) {
  if (!Contains(options_.enabled_methods, "glance-direct")) {
    return NotFoundError("The glance-direct import method is not enabled");
  }
  ASSIGN_OR_RETURN(auto loaded, internal::LoadVisible(env_, ctx, id));
  RETURN_IF_ERROR(internal::Authorize(env_, ImageAction::kUploadImage, ctx, loaded));
  return staging_.Size(id);
}

StatusOr<domain::Task> ImportCoordinator::StartImport(const RequestContext& ctx,
                                                      std::string_view id,
                                                      const ImportRequest& req) {
  const auto& methods = options_.enabled_methods;
  if (!Contains(methods, req.method)) {
    return InvalidArgumentError("Import method " + req.method +
                                " is not enabled. Enabled "
                                "methods: " +
                                internal::JoinList(methods));
  }
  const bool copy = req.method == "copy-image";
  if (req.method == "glance-download" &&
      !options_.glance_download_regions.count(req.glance_region)) {
    return InvalidArgumentError("glance-download: unknown region " + req.glance_region +
                                " (no image endpoint is configured for it)");
  }
  if (req.method == "web-download") {
    // Filtered before the task exists (400), and again at each redirect while downloading.
    Status valid = webdownload::ValidateUrl(req.uri, options_.fetch.url_filter);
    if (!valid.ok()) {
      return InvalidArgumentError("URI for web-download does not pass filtering: " +
                                  valid.message());
    }
  }
  if (!copy && !req.stores.empty() && !env_.stores.multistore) {
    // Accept the default store named explicitly; anything else needs multistore. all_stores
    // means the one store there is (Glance ignores it here, and Tempest's client sends it).
    if (req.stores.size() != 1 || !env_.stores.ById(req.stores[0]) ||
        env_.stores.ById(req.stores[0]) != env_.stores.Default()) {
      return InvalidArgumentError(
          "Import into specific stores needs several stores "
          "(enabled_backends) to be configured");
    }
  }
  if (!req.all_stores_must_succeed && !env_.stores.multistore) {
    return InvalidArgumentError(
        "all_stores_must_succeed=false needs several stores "
        "(enabled_backends) to be configured");
  }
  for (const auto& s : req.stores) {
    if (!env_.stores.ById(s)) return FailedPreconditionError("Unknown store: " + s);
  }

  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(auto loaded, internal::LoadVisible(env_, ctx, id));
    RETURN_IF_ERROR(internal::Authorize(
        env_, copy ? ImageAction::kCopyImage : ImageAction::kModifyImage, ctx, loaded));
    Image image = std::move(loaded.image);
    // glance-download takes both formats from the remote image.
    if ((!image.disk_format || !image.container_format) && req.method != "glance-download") {
      return FailedPreconditionError(
          "The 'disk_format' and 'container_format' properties must "
          "be set on image " +
          image.id + " before it is imported");
    }
    const ImageStatus needed = req.method == "glance-direct" ? ImageStatus::kUploading
                               : copy                        ? ImageStatus::kActive
                                                             : ImageStatus::kQueued;
    if (image.status != needed) {
      return FailedPreconditionError("Image status '" +
                                     std::string(domain::ToString(image.status)) +
                                     "' is not valid for import method " + req.method +
                                     " (it needs '" + std::string(domain::ToString(needed)) + "')");
    }
    // Staged data lives on the node that received it: the import runs there.
    std::optional<std::string> stage_node;
    if (auto it = image.properties.find(std::string(kStageHostProperty));
        req.method == "glance-direct" && it != image.properties.end() &&
        it->second != env_.options.node_id) {
      stage_node = it->second;
    }
    if (req.method == "glance-direct" && !stage_node) {
      ASSIGN_OR_RETURN(int64_t staged, staging_.Size(id));
      if (staged == 0) {
        return FailedPreconditionError("Image " + image.id +
                                       " has no staged data: PUT it to "
                                       "/v2/images/" +
                                       image.id + "/stage first");
      }
    }
    // Target stores.
    std::vector<std::string> targets;
    if (req.all_stores) {
      for (auto* s : env_.stores.stores) targets.push_back(s->info().id);
    } else if (!req.stores.empty()) {
      targets = req.stores;
    } else {
      targets.push_back(env_.stores.Default()->info().id);
    }
    if (copy) {
      std::vector<std::string> missing;
      for (const auto& t : targets) {
        bool has = std::any_of(image.locations.begin(), image.locations.end(),
                               [&](const domain::Location& l) { return l.store_id == t; });
        if (!has) {
          missing.push_back(t);
        } else if (!req.all_stores) {
          return InvalidArgumentError("Image " + image.id + " is already present in store " + t);
        }
      }
      targets = std::move(missing);
      if (targets.empty()) return domain::Task{};  // nothing to copy: accepted, no task
    }
    // The per-image lock.
    std::optional<std::string> held;
    if (auto it = image.properties.find(std::string(kImportTaskProperty));
        it != image.properties.end()) {
      held = it->second;
      if (!LockIsStale(image)) {
        return FailedPreconditionError("Image " + image.id + " is being imported by task " + *held +
                                       "; try again when it has finished");
      }
      spdlog::warn("image {}: taking over the stale import lock of task {}", image.id, *held);
    }
    domain::Task task;
    task.id = platform::NewUuid4();
    task.type = std::string(kImportTaskType);
    task.owner = ctx.project_id;
    ImportRequest recorded = req;
    recorded.inject_metadata = !std::any_of(options_.inject_ignore_user_roles.begin(),
                                            options_.inject_ignore_user_roles.end(),
                                            [&](const std::string& r) { return ctx.HasRole(r); });
    task.input_json = EncodeImportInput(image.id, recorded, targets);
    task.image_id = image.id;
    task.request_id = ctx.request_id;
    task.user_id = ctx.user_id;
    task.created_at = task.updated_at = env_.clock.Now();
    if (req.method == "glance-download") {
      // The user's token only lives in this process: only this node may start the task.
      task.affinity = env_.options.node_id;
      StashCredential(task.id, ctx.auth_token);
    }
    if (stage_node) task.affinity = *stage_node;
    if (!copy) image.status = ImageStatus::kImporting;
    image.properties[std::string(kImportTaskProperty)] = task.id;
    image.properties.erase(std::string(kStageHostProperty));
    if (env_.stores.multistore) {
      auto importing = internal::StoreListProperty(image, kImportingToStores);
      auto failed = internal::StoreListProperty(image, kFailedImport);
      for (const auto& t : targets) {
        if (!Contains(importing, t)) importing.push_back(t);
        failed.erase(std::remove(failed.begin(), failed.end(), t), failed.end());
      }
      internal::SetStoreListProperty(image, kImportingToStores, importing);
      internal::SetStoreListProperty(image, kFailedImport, failed);
    }
    image.updated_at = env_.clock.Now();
    // Moving a queued image to importing counts it in image_count_uploading: checked in the
    // same transaction (copy-image changes no usage).
    Status locked = copy || env_.options.quotas.Unlimited()
                        ? env_.repo.UpdateIfProperty(image, needed, kImportTaskProperty, held)
                        : env_.repo.UpdateIfPropertyWithinQuota(image, needed, kImportTaskProperty,
                                                                held, env_.options.quotas);
    if (locked.code() == StatusCode::kAborted && attempt < kMaxUpdateRetries) continue;
    if (locked.code() == StatusCode::kAborted) {
      return FailedPreconditionError("Image " + image.id +
                                     " is being changed by another "
                                     "request; try again");
    }
    RETURN_IF_ERROR(locked);
    Status created = tasks_.Create(task);
    if (!created.ok()) {
      DropCredential(task.id);
      // Undo the lock (best effort: a lock whose task does not exist is stale anyway).
      (void)ReleaseImport(image.id, task.id, [&](Image& img) {
        if (!copy) img.status = needed;
      });
      return created;
    }
    if (wake_runner_) wake_runner_();
    spdlog::info("image {}: import task {} created ({})", image.id, task.id, req.method);
    return task;
  }
}

void ImportCoordinator::StashCredential(const std::string& task_id, const std::string& token) {
  std::lock_guard lock(credentials_mu_);
  credentials_[task_id] = token;
}

std::optional<std::string> ImportCoordinator::Credential(const std::string& task_id) const {
  std::lock_guard lock(credentials_mu_);
  auto it = credentials_.find(task_id);
  if (it == credentials_.end()) return std::nullopt;
  return it->second;
}

void ImportCoordinator::DropCredential(const std::string& task_id) {
  std::lock_guard lock(credentials_mu_);
  credentials_.erase(task_id);
}

Status ImportCoordinator::ReleaseImport(const std::string& image_id, const std::string& task_id,
                                        const std::function<void(Image&)>& change) {
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(Image image, env_.repo.Get(image_id));
    auto it = image.properties.find(std::string(kImportTaskProperty));
    if (it == image.properties.end() || it->second != task_id) {
      return AbortedError("image " + image_id + " is no longer locked by task " + task_id);
    }
    change(image);
    image.properties.erase(std::string(kImportTaskProperty));
    image.updated_at = env_.clock.Now();
    Status st = env_.repo.UpdateIfProperty(image, std::nullopt, kImportTaskProperty, task_id);
    if (st.code() == StatusCode::kAborted && attempt < kMaxUpdateRetries) continue;
    return st;
  }
}

namespace {

// What a caller outside the task's project may read of it: the web-download URL without its
// query, fragment and userinfo (presigned URLs carry their signature there), in the input and
// in the message. The task's own project sees the input as it was given.
void RedactTaskFor(const RequestContext& ctx, domain::Task& task) {
  if (task.owner == ctx.project_id && !ctx.project_id.empty()) return;
  task.input_json = RedactImportInput(task.input_json);
  task.message = RedactUrlsIn(task.message);
}

}  // namespace

StatusOr<std::vector<domain::Task>> ImportCoordinator::ImageTasks(const RequestContext& ctx,
                                                                  std::string_view id) {
  ASSIGN_OR_RETURN(auto loaded, internal::LoadVisible(env_, ctx, id));
  ASSIGN_OR_RETURN(auto tasks, tasks_.ListForImage(id));
  // Glance's _is_task_visible: an admin sees every task, anyone else only its own project's
  // (and ownerless ones). Seeing the image is not enough: a community or public image's tasks
  // name the importing user and the source URL.
  if (!ctx.IsAdmin()) {
    std::erase_if(tasks, [&](const domain::Task& t) {
      return !t.owner.empty() && t.owner != ctx.project_id;
    });
  }
  for (auto& t : tasks) RedactTaskFor(ctx, t);
  return tasks;
}

StatusOr<domain::Task> ImportCoordinator::GetTask(const RequestContext& ctx, std::string_view id) {
  if (!env_.policy.Allowed(ImageAction::kTasksApiAccess, ctx, {})) {
    return PermissionDeniedError("You are not authorized to complete tasks_api_access action.");
  }
  ASSIGN_OR_RETURN(auto task, tasks_.Get(id));
  RedactTaskFor(ctx, task);
  return task;
}

StatusOr<std::vector<domain::Task>> ImportCoordinator::ListTasks(const RequestContext& ctx,
                                                                 db::TaskListQuery query) {
  if (!env_.policy.Allowed(ImageAction::kTasksApiAccess, ctx, {})) {
    return PermissionDeniedError("You are not authorized to complete tasks_api_access action.");
  }
  ASSIGN_OR_RETURN(auto tasks, tasks_.List(query));
  for (auto& t : tasks) RedactTaskFor(ctx, t);
  return tasks;
}

Status ImportCoordinator::RecoverAfterCrash() {
  // A stage cut by the crash: back to queued; what was staged stays for resumption.
  // An import whose task has ended or vanished: back to queued (running tasks are resumed by
  // the task runner and keep their images).
  ASSIGN_OR_RETURN(auto importing,
                   env_.repo.ListByStatus({ImageStatus::kUploading, ImageStatus::kImporting}));
  for (auto& image : importing) {
    const bool stage = image.status == ImageStatus::kUploading &&
                       !image.properties.count(std::string(kImportTaskProperty));
    if (!stage && !LockIsStale(image)) continue;
    if (stage && internal::MarkedByOtherNode(image, kStageHostProperty, env_.options.node_id)) {
      continue;
    }
    ImageStatus was = image.status;
    if (was == ImageStatus::kUploading && stage) {
      spdlog::warn("image {}: staging was interrupted; returning it to queued", image.id);
    } else if (was == ImageStatus::kImporting) {
      spdlog::warn("image {}: its import task has ended; returning it to queued", image.id);
      internal::ResetData(image);
      (void)staging_.Remove(image.id);
    } else {
      continue;
    }
    image.status = ImageStatus::kQueued;
    image.properties.erase(std::string(kImportTaskProperty));
    image.properties.erase(std::string(kImportingToStores));
    image.updated_at = env_.clock.Now();
    Status st = env_.repo.Update(image, was);
    if (!st.ok() && st.code() != StatusCode::kAborted && st.code() != StatusCode::kNotFound) {
      return st;
    }
  }
  // Staged data of images that are gone.
  ASSIGN_OR_RETURN(auto staged, staging_.List());
  for (const auto& id : staged) {
    auto image = env_.repo.Get(id);
    if (image.status().code() == StatusCode::kNotFound) (void)staging_.Remove(id);
  }
  return OkStatus();
}

Status ImportCoordinator::ReclaimStagesOf(const std::vector<std::string>& nodes) {
  ASSIGN_OR_RETURN(auto images, env_.repo.ListByStatus({ImageStatus::kUploading}));
  Status first_error;
  for (Image& image : images) {
    // uploading: a stage in progress or staged data awaiting glance-direct (an import holds the
    // lock once it started; the task runner deals with those).
    if (image.properties.count(std::string(kImportTaskProperty))) continue;
    auto node =
        internal::MarkedBySilentNode(image, kStageHostProperty, env_.options.node_id, nodes);
    if (!node) continue;
    spdlog::warn(
        "image {}: its staged data is on node {}, silent for two leases; returning it "
        "to queued (stage it again, or resume on that node when it is back)",
        image.id, *node);
    image.status = ImageStatus::kQueued;
    image.size.reset();
    image.updated_at = env_.clock.Now();
    Status st =
        env_.repo.UpdateIfProperty(image, ImageStatus::kUploading, kStageHostProperty, *node);
    if (!st.ok() && st.code() != StatusCode::kAborted && st.code() != StatusCode::kNotFound &&
        first_error.ok()) {
      first_error = st;
    }
  }
  return first_error;
}

}  // namespace glimmer::images
