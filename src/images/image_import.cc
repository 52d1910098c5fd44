// ImageService: staging and the start of interoperable imports (glance-api.md §7.3, §8.1).
// The import itself runs asynchronously in ImportHandler (import_flow.cc).
#include <algorithm>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "images/image_service.h"
#include "platform/random.h"
#include "webdownload/url_filter.h"

namespace glimmer::images {
namespace {

using domain::Image;
using domain::ImageAction;
using domain::ImageStatus;
using domain::RequestContext;

constexpr size_t kStageChunk = 1 << 20;
// A stage checks that its image still exists after each this many bytes.
constexpr int64_t kStageLiveCheckEvery = int64_t{64} << 20;
// The most a stage without a declared size reserves ahead in image_stage_total.
constexpr int64_t kStageReserveStep = int64_t{256} << 20;

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::vector<std::string> SplitList(const std::map<std::string, std::string>& props,
                                   std::string_view key) {
  std::vector<std::string> out;
  auto it = props.find(std::string(key));
  if (it == props.end()) return out;
  size_t start = 0;
  const std::string& v = it->second;
  while (start <= v.size()) {
    size_t comma = v.find(',', start);
    if (comma == std::string::npos) comma = v.size();
    if (comma > start) out.push_back(v.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

void SetList(std::map<std::string, std::string>& props, std::string_view key,
             const std::vector<std::string>& items) {
  if (items.empty()) {
    props.erase(std::string(key));
  } else {
    props[std::string(key)] = Join(items);
  }
}

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

std::string EncodeStageDigest(const StreamResult& r) {
  nlohmann::json j = {{"size", r.size}, {"md5", r.md5_hex}, {"sha512", r.sha512_hex},
                      {"format", r.format}, {"failure", r.stream_failure}};
  if (r.virtual_size) j["virtual_size"] = *r.virtual_size;
  return j.dump();
}

std::optional<StreamResult> DecodeStageDigest(const domain::Image& image) {
  auto it = image.properties.find(std::string(kStageDigestProperty));
  if (it == image.properties.end()) return std::nullopt;
  auto j = nlohmann::json::parse(it->second, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  try {
    StreamResult r;
    r.size = j.at("size").get<int64_t>();
    r.md5_hex = j.at("md5").get<std::string>();
    r.sha512_hex = j.at("sha512").get<std::string>();
    r.format = j.at("format").get<std::string>();
    r.stream_failure = j.at("failure").get<std::string>();
    if (j.contains("virtual_size")) r.virtual_size = j["virtual_size"].get<int64_t>();
    if (r.md5_hex.size() != 32 || r.sha512_hex.size() != 128) return std::nullopt;
    return r;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

std::vector<std::string> StoreListProperty(const domain::Image& image, std::string_view key) {
  return SplitList(image.properties, key);
}
void SetStoreListProperty(domain::Image& image, std::string_view key,
                          const std::vector<std::string>& items) {
  SetList(image.properties, key, items);
}

void ImageService::EnableImport(ImportSetup setup) { import_ = std::move(setup); }

std::vector<std::string> ImageService::ImportMethods() const {
  return import_ ? import_->options.enabled_methods : std::vector<std::string>{};
}

bool ImageService::LockIsStale(const Image& image) const {
  auto it = image.properties.find(std::string(kImportTaskProperty));
  if (it == image.properties.end()) return true;
  auto task = import_->tasks->Get(it->second);
  if (!task.ok()) return task.status().code() == StatusCode::kNotFound;
  if (task->status == domain::TaskStatus::kSuccess ||
      task->status == domain::TaskStatus::kFailure) {
    return true;
  }
  const int64_t age_s = (clock_.Now() - task->updated_at) / 1'000'000;
  const int64_t limit = import_->options.stale_lock_seconds *
                        (task->status == domain::TaskStatus::kPending ? 2 : 1);
  return age_s > limit;
}

Status ImageService::Stage(const RequestContext& ctx, std::string_view id, const ReadFn& read,
                           std::optional<int64_t> size_hint,
                           std::optional<int64_t> resume_offset) {
  if (!import_ || !Contains(import_->options.enabled_methods, "glance-direct")) {
    return NotFoundError("The glance-direct import method is not enabled");
  }
  ASSIGN_OR_RETURN(auto loaded, LoadVisible(ctx, id));
  RETURN_IF_ERROR(Authorize(ImageAction::kUploadImage, ctx, loaded));
  Image image = std::move(loaded.image);
  if (image.status != ImageStatus::kQueued) {
    return FailedPreconditionError("Image status transition from " +
                                   std::string(domain::ToString(image.status)) +
                                   " to uploading is not allowed");
  }
  const int64_t offset = resume_offset.value_or(0);
  if (auto it = image.properties.find(std::string(kStageHostProperty));
      offset > 0 && it != image.properties.end() && it->second != options_.node_id) {
    return FailedPreconditionError("The staged data of image " + std::string(id) +
                                   " is on node " + it->second + ": resume the upload there, "
                                   "or PUT the whole file again");
  }
  ASSIGN_OR_RETURN(int64_t staged, import_->staging->Size(id));
  if (offset > 0 && offset != staged) {
    return FailedPreconditionError("Cannot resume staging at byte " + std::to_string(offset) +
                                   ": " + std::to_string(staged) +
                                   " bytes of image " + std::string(id) + " are staged");
  }
  // offset + size_hint may overflow (both come from headers, up to INT64_MAX): compare what is
  // left under the cap instead. offset is the staged size here, never above the cap unless the
  // cap was lowered since.
  if (size_hint && (offset > options_.image_size_cap ||
                    *size_hint > options_.image_size_cap - offset)) {
    return ResourceExhaustedError("Image exceeds the storage quota: image size " +
                                  std::to_string(offset) + " + " + std::to_string(*size_hint) +
                                  " is over the limit of " +
                                  std::to_string(options_.image_size_cap) + " bytes");
  }
  // The stage counts in the project's quotas from the start, checked in the transaction that
  // moves the image to `uploading` (image_count_uploading, image_stage_total): concurrent stages
  // of one project cannot overshoot. With image_stage_total limited, the image's size is the
  // number of bytes the stage holds in it: what is staged already plus the declared rest, or,
  // without a declared size, reservations made as the data arrives (ReserveStaged).
  const bool stage_limited = options_.quotas.image_stage_total >= 0;
  int64_t reserved = offset + size_hint.value_or(0);  // <= image_size_cap, checked above
  image.status = ImageStatus::kUploading;
  image.updated_at = clock_.Now();
  if (stage_limited) image.size = reserved;
  image.properties.erase(std::string(kStageDigestProperty));  // the file changes from here on
  if (!options_.node_id.empty()) {
    image.properties[std::string(kStageHostProperty)] = options_.node_id;
  }
  Status claim = options_.quotas.Unlimited()
                     ? repo_.Update(image, ImageStatus::kQueued)
                     : repo_.UpdateWithinQuota(image, ImageStatus::kQueued, options_.quotas);
  if (claim.code() == StatusCode::kAborted) {
    return FailedPreconditionError("Image status transition to uploading is not allowed: the "
                                   "image is being changed by another request");
  }
  RETURN_IF_ERROR(claim);

  // Back to queued on any failure; what was received stays staged (resumable) but no longer
  // counts as staged (a queued image has no size).
  auto fail = [&](Status st) -> Status {
    for (int i = 0; i < kMaxUpdateRetries; ++i) {
      auto cur = repo_.Get(id);
      if (!cur.ok()) break;
      if (cur->status != ImageStatus::kUploading) break;
      cur->status = ImageStatus::kQueued;
      cur->size.reset();
      cur->updated_at = clock_.Now();
      if (repo_.Update(*cur, ImageStatus::kUploading).code() != StatusCode::kAborted) break;
    }
    return st;
  };
  auto writer = import_->staging->OpenWriter(id, offset);
  if (!writer.ok()) return fail(writer.status());
  // The bytes go through the upload data path (StreamToStore into the staging file): md5,
  // sha512 and the stream inspection are computed on the way, and kept for glance-direct when
  // the whole file was written in this one request.
  StagingSink sink(**writer);
  // Buffers of kStageChunk: what a cut-off stage keeps is what was received, less at most one
  // buffer lost to a crash (an interrupted request hands on its partly filled buffer).
  StreamToStore::Options stream_options = StreamOptions(INT64_MAX, std::nullopt);
  stream_options.buffer_size = kStageChunk;
  StreamToStore hashed(sink, hash_pool_, stream_options);
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
    if (end > options_.image_size_cap) {
      stream = ResourceExhaustedError("Image exceeds the storage quota: the image size cap is " +
                                      std::to_string(options_.image_size_cap) + " bytes");
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
      auto cur = repo_.Get(id);
      if (!cur.ok() && cur.status().code() == StatusCode::kNotFound) {
        stream = GoneError("Image " + std::string(id) + " was deleted during the upload");
        break;
      }
      if (cur.ok() && cur->status != ImageStatus::kUploading) {
        stream = FailedPreconditionError("Image " + std::string(id) + " is no longer "
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
      (void)import_->staging->Remove(id);
      return stream;
    }
    return fail(stream);
  }
  // Staged: the image stays `uploading` with its size known, ready for glance-direct (a
  // reservation beyond the data is given back).
  for (int attempt = 0;; ++attempt) {
    auto cur = repo_.Get(id);
    if (!cur.ok()) {
      (void)import_->staging->Remove(id);
      return GoneError("Image " + std::string(id) + " was deleted during the upload");
    }
    if (cur->status != ImageStatus::kUploading) {
      return FailedPreconditionError("Image " + std::string(id) + " is no longer uploading: it "
                                     "was changed during the upload");
    }
    cur->size = (*writer)->size();
    if (digest) {
      cur->properties[std::string(kStageDigestProperty)] = EncodeStageDigest(*digest);
    } else {
      cur->properties.erase(std::string(kStageDigestProperty));
    }
    cur->updated_at = clock_.Now();
    Status st = repo_.Update(*cur, ImageStatus::kUploading);
    if (st.code() == StatusCode::kAborted && attempt < kMaxUpdateRetries) continue;
    return st;
  }
}

Status ImageService::ReserveStaged(std::string_view id, int64_t needed, int64_t& reserved) {
  // Ask for room ahead (as much again as the stage holds, at most kStageReserveStep), so that
  // a large stage costs few transactions; near the limit, ask for exactly what is needed.
  const int64_t ahead =
      std::min(options_.image_size_cap, needed + std::min(needed, kStageReserveStep));
  Status last;
  for (int64_t ask : {ahead, needed}) {
    if (ask == needed && ahead == needed && !last.ok()) break;  // asked already
    for (int attempt = 0; attempt < kMaxUpdateRetries; ++attempt) {
      auto cur = repo_.Get(id);
      if (!cur.ok()) {
        if (cur.status().code() == StatusCode::kNotFound) {
          return GoneError("Image " + std::string(id) + " was deleted during the upload");
        }
        return cur.status();
      }
      if (cur->status != ImageStatus::kUploading) {
        return FailedPreconditionError("Image " + std::string(id) + " is no longer uploading: "
                                       "it was changed during the upload");
      }
      cur->size = ask;
      cur->updated_at = clock_.Now();
      last = repo_.UpdateWithinQuota(*cur, ImageStatus::kUploading, options_.quotas);
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

StatusOr<int64_t> ImageService::StagedBytes(const RequestContext& ctx, std::string_view id) {
  if (!import_ || !Contains(import_->options.enabled_methods, "glance-direct")) {
    return NotFoundError("The glance-direct import method is not enabled");
  }
  ASSIGN_OR_RETURN(auto loaded, LoadVisible(ctx, id));
  RETURN_IF_ERROR(Authorize(ImageAction::kUploadImage, ctx, loaded));
  return import_->staging->Size(id);
}

StatusOr<domain::Task> ImageService::StartImport(const RequestContext& ctx, std::string_view id,
                                                 const ImportRequest& req) {
  if (!import_) return NotFoundError("Image import is not enabled");
  const auto& methods = import_->options.enabled_methods;
  if (!Contains(methods, req.method)) {
    return InvalidArgumentError("Import method " + req.method + " is not enabled. Enabled "
                                "methods: " + Join(methods));
  }
  const bool copy = req.method == "copy-image";
  if (req.method == "glance-download" &&
      !import_->options.glance_download_regions.count(req.glance_region)) {
    return InvalidArgumentError("glance-download: unknown region " + req.glance_region +
                                " (no image endpoint is configured for it)");
  }
  if (req.method == "web-download") {
    // Filtered before the task exists (400), and again at each redirect while downloading.
    Status valid = webdownload::ValidateUrl(req.uri, import_->options.fetch.url_filter);
    if (!valid.ok()) {
      return InvalidArgumentError("URI for web-download does not pass filtering: " +
                                  valid.message());
    }
  }
  if (!copy && (!req.stores.empty() || req.all_stores) && !stores_.multistore) {
    // Accept the default store named explicitly; anything else needs multistore.
    if (req.all_stores || req.stores.size() != 1 ||
        !stores_.ById(req.stores[0]) || stores_.ById(req.stores[0]) != stores_.Default()) {
      return InvalidArgumentError("Import into specific stores needs several stores "
                                  "(enabled_backends) to be configured");
    }
  }
  if (!req.all_stores_must_succeed && !stores_.multistore) {
    return InvalidArgumentError("all_stores_must_succeed=false needs several stores "
                                "(enabled_backends) to be configured");
  }
  for (const auto& s : req.stores) {
    if (!stores_.ById(s)) return FailedPreconditionError("Unknown store: " + s);
  }

  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(auto loaded, LoadVisible(ctx, id));
    RETURN_IF_ERROR(
        Authorize(copy ? ImageAction::kCopyImage : ImageAction::kModifyImage, ctx, loaded));
    Image image = std::move(loaded.image);
    // glance-download takes both formats from the remote image.
    if ((!image.disk_format || !image.container_format) && req.method != "glance-download") {
      return FailedPreconditionError("The 'disk_format' and 'container_format' properties must "
                                     "be set on image " + image.id + " before it is imported");
    }
    const ImageStatus needed = req.method == "glance-direct" ? ImageStatus::kUploading
                               : copy                        ? ImageStatus::kActive
                                                             : ImageStatus::kQueued;
    if (image.status != needed) {
      return FailedPreconditionError("Image status '" +
                                     std::string(domain::ToString(image.status)) +
                                     "' is not valid for import method " + req.method +
                                     " (it needs '" + std::string(domain::ToString(needed)) +
                                     "')");
    }
    // Staged data lives on the node that received it: the import runs there.
    std::optional<std::string> stage_node;
    if (auto it = image.properties.find(std::string(kStageHostProperty));
        req.method == "glance-direct" && it != image.properties.end() &&
        it->second != options_.node_id) {
      stage_node = it->second;
    }
    if (req.method == "glance-direct" && !stage_node) {
      ASSIGN_OR_RETURN(int64_t staged, import_->staging->Size(id));
      if (staged == 0) {
        return FailedPreconditionError("Image " + image.id + " has no staged data: PUT it to "
                                       "/v2/images/" + image.id + "/stage first");
      }
    }
    // Target stores.
    std::vector<std::string> targets;
    if (req.all_stores) {
      for (auto* s : stores_.stores) targets.push_back(s->info().id);
    } else if (!req.stores.empty()) {
      targets = req.stores;
    } else {
      targets.push_back(stores_.Default()->info().id);
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
        return FailedPreconditionError("Image " + image.id + " is being imported by task " +
                                       *held + "; try again when it has finished");
      }
      spdlog::warn("image {}: taking over the stale import lock of task {}", image.id, *held);
    }
    domain::Task task;
    task.id = platform::NewUuid4();
    task.type = std::string(kImportTaskType);
    task.owner = ctx.project_id;
    ImportRequest recorded = req;
    recorded.inject_metadata =
        !std::any_of(import_->options.inject_ignore_user_roles.begin(),
                     import_->options.inject_ignore_user_roles.end(),
                     [&](const std::string& r) { return ctx.HasRole(r); });
    task.input_json = EncodeImportInput(image.id, recorded, targets);
    task.image_id = image.id;
    task.request_id = ctx.request_id;
    task.user_id = ctx.user_id;
    task.created_at = task.updated_at = clock_.Now();
    if (req.method == "glance-download") {
      // The user's token only lives in this process: only this node may start the task.
      task.affinity = options_.node_id;
      StashCredential(task.id, ctx.auth_token);
    }
    if (stage_node) task.affinity = *stage_node;
    if (!copy) image.status = ImageStatus::kImporting;
    image.properties[std::string(kImportTaskProperty)] = task.id;
    image.properties.erase(std::string(kStageHostProperty));
    if (stores_.multistore) {
      auto importing = SplitList(image.properties, kImportingToStores);
      auto failed = SplitList(image.properties, kFailedImport);
      for (const auto& t : targets) {
        if (!Contains(importing, t)) importing.push_back(t);
        failed.erase(std::remove(failed.begin(), failed.end(), t), failed.end());
      }
      SetList(image.properties, kImportingToStores, importing);
      SetList(image.properties, kFailedImport, failed);
    }
    image.updated_at = clock_.Now();
    // Moving a queued image to importing counts it in image_count_uploading: checked in the
    // same transaction (copy-image changes no usage).
    Status locked =
        copy || options_.quotas.Unlimited()
            ? repo_.UpdateIfProperty(image, needed, kImportTaskProperty, held)
            : repo_.UpdateIfPropertyWithinQuota(image, needed, kImportTaskProperty, held,
                                                options_.quotas);
    if (locked.code() == StatusCode::kAborted && attempt < kMaxUpdateRetries) continue;
    if (locked.code() == StatusCode::kAborted) {
      return FailedPreconditionError("Image " + image.id + " is being changed by another "
                                     "request; try again");
    }
    RETURN_IF_ERROR(locked);
    Status created = import_->tasks->Create(task);
    if (!created.ok()) {
      DropCredential(task.id);
      // Undo the lock (best effort: a lock whose task does not exist is stale anyway).
      (void)ReleaseImport(image.id, task.id, [&](Image& img) {
        if (!copy) img.status = needed;
      });
      return created;
    }
    if (import_->wake_runner) import_->wake_runner();
    spdlog::info("image {}: import task {} created ({})", image.id, task.id, req.method);
    return task;
  }
}

void ImageService::StashCredential(const std::string& task_id, const std::string& token) {
  std::lock_guard lock(credentials_mu_);
  credentials_[task_id] = token;
}

std::optional<std::string> ImageService::Credential(const std::string& task_id) const {
  std::lock_guard lock(credentials_mu_);
  auto it = credentials_.find(task_id);
  if (it == credentials_.end()) return std::nullopt;
  return it->second;
}

void ImageService::DropCredential(const std::string& task_id) {
  std::lock_guard lock(credentials_mu_);
  credentials_.erase(task_id);
}

Status ImageService::ReleaseImport(const std::string& image_id, const std::string& task_id,
                                   const std::function<void(Image&)>& change) {
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(Image image, repo_.Get(image_id));
    auto it = image.properties.find(std::string(kImportTaskProperty));
    if (it == image.properties.end() || it->second != task_id) {
      return AbortedError("image " + image_id + " is no longer locked by task " + task_id);
    }
    change(image);
    image.properties.erase(std::string(kImportTaskProperty));
    image.updated_at = clock_.Now();
    Status st = repo_.UpdateIfProperty(image, std::nullopt, kImportTaskProperty, task_id);
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

StatusOr<std::vector<domain::Task>> ImageService::ImageTasks(const RequestContext& ctx,
                                                             std::string_view id) {
  ASSIGN_OR_RETURN(auto loaded, LoadVisible(ctx, id));
  if (!import_) return std::vector<domain::Task>{};
  ASSIGN_OR_RETURN(auto tasks, import_->tasks->ListForImage(id));
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

StatusOr<domain::Task> ImageService::GetTask(const RequestContext& ctx, std::string_view id) {
  if (!policy_.Allowed(ImageAction::kTasksApiAccess, ctx, {})) {
    return PermissionDeniedError("You are not authorized to complete tasks_api_access action.");
  }
  if (!import_) return NotFoundError("Task with the given id " + std::string(id) + " not found");
  ASSIGN_OR_RETURN(auto task, import_->tasks->Get(id));
  RedactTaskFor(ctx, task);
  return task;
}

StatusOr<std::vector<domain::Task>> ImageService::ListTasks(const RequestContext& ctx,
                                                            db::TaskListQuery query) {
  if (!policy_.Allowed(ImageAction::kTasksApiAccess, ctx, {})) {
    return PermissionDeniedError("You are not authorized to complete tasks_api_access action.");
  }
  if (!import_) return std::vector<domain::Task>{};
  ASSIGN_OR_RETURN(auto tasks, import_->tasks->List(query));
  for (auto& t : tasks) RedactTaskFor(ctx, t);
  return tasks;
}

}  // namespace glimmer::images
