#pragma once
// The image service: every rule of Glance's image lifecycle (fields, defaults, read-only and
// reserved attributes, status transitions, visibility, policy, upload and download) applied to
// typed requests. It knows nothing about HTTP or JSON: the API layer converts requests into the
// types below and Status codes into HTTP statuses.
//
// Thread-safety: all methods may be called concurrently.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "db/image_repository.h"
#include "db/task_repository.h"
#include "domain/context.h"
#include "domain/image.h"
#include "domain/list_query.h"
#include "domain/policy.h"
#include "domain/quota.h"
#include "domain/task.h"
#include "images/import.h"
#include "images/stream_to_store.h"
#include "platform/clock.h"
#include "policy/property_protections.h"
#include "platform/executor.h"
#include "platform/memory_budget.h"
#include "staging/staging_area.h"
#include "store/store.h"

namespace glimmer::images {

// A request value, typed by the API layer from JSON but not yet validated.
struct Value {
  enum class Kind { kNull, kBool, kInt, kNumber, kString, kStringList, kOther };
  Kind kind = Kind::kNull;
  bool b = false;
  int64_t i = 0;
  std::string s;
  std::vector<std::string> list;

  static Value String(std::string s) {
    Value v;
    v.kind = Kind::kString;
    v.s = std::move(s);
    return v;
  }
  static Value Int(int64_t i) {
    Value v;
    v.kind = Kind::kInt;
    v.i = i;
    return v;
  }
  static Value Bool(bool b) {
    Value v;
    v.kind = Kind::kBool;
    v.b = b;
    return v;
  }
};

struct PatchOp {
  enum class Op { kAdd, kReplace, kRemove };
  Op op = Op::kReplace;
  std::string field;  // the single JSON-pointer segment, already unescaped
  std::optional<Value> value;  // absent for kRemove
};

struct ServiceOptions {
  int64_t image_size_cap = 1099511627776;
  int image_property_quota = 128;
  int image_tag_quota = 128;
  int image_member_quota = 128;
  domain::QuotaLimits quotas;  // per-project limits (unlimited by default)
  // Property protections (Glance's property_protection_file); null = none. Not owned.
  const policy::PropertyProtections* property_protections = nullptr;
  std::vector<std::string> disk_formats;
  std::vector<std::string> container_formats;
  size_t upload_buffer_size = 4 << 20;  // x3 buffers in flight per upload
  // Process-wide bound on the memory of those buffers (borrowed; null = none): see
  // store::HashingPipeline::Options::budget.
  platform::MemoryBudget* upload_budget = nullptr;
  int64_t max_virtual_size = int64_t{1} << 44;  // images declaring more are refused (16 TiB)
  // This node's id among the nodes sharing the database. Uploads and stages in progress are
  // marked with it (os_glance_upload_node, os_glance_stage_host), so that a node's crash
  // recovery only resets its own, and a glance-direct import runs on the node holding the
  // staged data.
  std::string node_id;
};

// The stores the service writes to and reads from, in configuration order (enabled_backends);
// the default store is the one whose info().is_default is set (else the first).
struct StoreSet {
  std::vector<store::Store*> stores;
  bool multistore = false;  // several named stores configured (enabled_backends)
  store::Store* Default() const {
    for (auto* s : stores) {
      if (s->info().is_default) return s;
    }
    return stores.empty() ? nullptr : stores.front();
  }
  store::Store* ById(std::string_view id) const {
    for (auto* s : stores) {
      if (s->info().id == id) return s;
    }
    return nullptr;
  }
  store::Store* ForLocation(std::string_view url) const {
    for (auto* s : stores) {
      if (s->Owns(url)) return s;
    }
    return nullptr;
  }
};

class ImageService {
 public:
  ImageService(db::ImageRepository& repo, StoreSet stores, const domain::Policy& policy,
               platform::Executor& hash_pool, const platform::Clock& clock,
               ServiceOptions options);

  // POST /v2/images. Fields in request order.
  StatusOr<domain::Image> Create(const domain::RequestContext& ctx,
                                 const std::vector<std::pair<std::string, Value>>& fields);
  // GET /v2/images/{id}. NotFound when absent or not visible.
  StatusOr<domain::Image> Get(const domain::RequestContext& ctx, std::string_view id);
  // GET /v2/images. The service fills query.scope from ctx and the visibility request.
  StatusOr<std::vector<domain::Image>> List(const domain::RequestContext& ctx,
                                            domain::ListQuery query);
  // PATCH /v2/images/{id}. `legacy_add` = the v2.0 media type (add of an existing property
  // is a conflict).
  StatusOr<domain::Image> Update(const domain::RequestContext& ctx, std::string_view id,
                                 const std::vector<PatchOp>& ops, bool legacy_add);
  // Deletes the data in every store first, then the record. A store that refuses because the
  // data is in use (FailedPrecondition) stops the deletion: 409 "Image X could not be deleted
  // because it is in use: ...", the image stays, without the copies already deleted. Other store
  // errors stop it likewise, with their own code. Data already missing is not an error.
  Status Delete(const domain::RequestContext& ctx, std::string_view id);
  Status AddTag(const domain::RequestContext& ctx, std::string_view id, std::string_view tag);
  Status RemoveTag(const domain::RequestContext& ctx, std::string_view id, std::string_view tag);
  Status Deactivate(const domain::RequestContext& ctx, std::string_view id);
  Status Reactivate(const domain::RequestContext& ctx, std::string_view id);

  // PUT /v2/images/{id}/file. `read` fills a buffer from the request body (0 = end).
  // size_hint: x-openstack-image-size or Content-Length. `store_id` (X-Image-Meta-Store, used
  // with several stores only): the store to write to; empty = the default store.
  // InvalidArgument for an unknown store ("Store for identifier X not found", as Glance).
  using ReadFn = std::function<StatusOr<size_t>(std::span<std::byte>)>;
  Status Upload(const domain::RequestContext& ctx, std::string_view id, const ReadFn& read,
                std::optional<int64_t> size_hint, std::string_view store_id = {});

  // GET /v2/images/{id}/file. reader is null when the image has no data (204). Locations are
  // tried in order (store weight, then recorded order) until one opens. `prefer` (?prefer=a,b):
  // stores to try first, in that order; the other locations follow, so an image with no copy
  // in them is still served. With a non-empty `prefer`: PermissionDenied unless the
  // download_from_store policy allows it; InvalidArgument with a single store configured or
  // for a store that is not configured (Glance's 400s).
  struct Download {
    domain::Image image;
    std::unique_ptr<store::Reader> reader;
  };
  StatusOr<Download> OpenDownload(const domain::RequestContext& ctx, std::string_view id,
                                  const std::vector<std::string>& prefer = {});

  // DELETE /v2/stores/{store_id}/{image_id}: removes the image's copy in one store (its
  // location, then the data), leaving the others. Glance's checks, in its order: NotFound with
  // a single store configured (empty message); FailedPrecondition for a store that is not
  // configured; NotFound for an image the caller cannot see; PermissionDenied unless the
  // get_image_location and delete_image_location policies allow it (admin only by default);
  // FailedPrecondition unless the image is active; PermissionDenied for its only location;
  // NotFound when it has no copy in that store. If the store refuses because the data is in use
  // (FailedPrecondition), the location is put back and FailedPrecondition returned; other store
  // errors likewise (as Internal). Data already missing from the store is not an error.
  Status DeleteFromStore(const domain::RequestContext& ctx, std::string_view store_id,
                         std::string_view id);

  // GET /v2/info/stores/detail: the stores_info_detail policy (admin or service by default).
  Status AuthorizeStoresDetail(const domain::RequestContext& ctx) const;

  // Members (sharing, glance-api.md §5). Only `shared` images have members; new members are
  // pending; only the member's project may accept or reject; only the owner adds or removes.
  StatusOr<domain::Member> AddMember(const domain::RequestContext& ctx, std::string_view id,
                                     std::string_view member_id);
  // The owner (or admin) sees every member; a member sees only its own row.
  StatusOr<std::vector<domain::Member>> ListMembers(const domain::RequestContext& ctx,
                                                    std::string_view id);
  // Every denial is NotFound, as in Glance.
  StatusOr<domain::Member> GetMember(const domain::RequestContext& ctx, std::string_view id,
                                     std::string_view member_id);
  StatusOr<domain::Member> UpdateMember(const domain::RequestContext& ctx, std::string_view id,
                                        std::string_view member_id, domain::MemberStatus status);
  Status RemoveMember(const domain::RequestContext& ctx, std::string_view id,
                      std::string_view member_id);

  // GET /v2/info/usage: the caller's project usage and its limits.
  struct Usage {
    domain::ProjectUsage usage;
    domain::QuotaLimits limits;
  };
  StatusOr<Usage> GetUsage(const domain::RequestContext& ctx);

  // ---- Interoperable import (image_import.cc; glance-api.md §2.2, §7.3, §8) ----
  struct ImportSetup {
    db::TaskRepository* tasks = nullptr;       // not owned
    staging::StagingArea* staging = nullptr;   // not owned
    std::function<void()> wake_runner;         // called after a task is created
    ImportOptions options;
  };
  // Without it, stage and import answer 404 (Glance with import disabled).
  void EnableImport(ImportSetup setup);
  // The enabled import methods ([] when import is not enabled).
  std::vector<std::string> ImportMethods() const;
  const StoreSet& stores() const { return stores_; }

  // PUT /v2/images/{id}/stage. `resume_offset` (Glimmer's resumable staging, header
  // Upload-Offset): append to a partial stage of that many bytes instead of starting over.
  // An interrupted stage keeps what was received; the image returns to queued.
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

  // At start-up, before serving: images left in `saving` by a crash go back to `queued`,
  // and stores drop data of writes that never committed.
  Status RecoverAfterCrash();
  // Another node's crash recovery, for a node that never comes back: the uploads (`saving`,
  // os_glance_upload_node) and stages (`uploading` without an import lock,
  // os_glance_stage_host) of `nodes`, which have been silent for two leases, go back to
  // `queued`. Data an upload recorded in os_glance_upload_location is deleted when its store is
  // shared (RBD, S3); data on the dead node's own disk (filesystem store, staging) is left for
  // that node's start-up clean-up, and a stage keeps its host so that it can be resumed there.
  // Each change is a compare-and-set on the status and the node mark: an upload that moved on
  // meanwhile is left alone. This node's own work is never touched.
  Status ReclaimFromSilentNodes(const std::vector<std::string>& nodes);

 private:
  struct Loaded {
    domain::Image image;
    bool caller_is_member = false;
  };
  StatusOr<Loaded> LoadVisible(const domain::RequestContext& ctx, std::string_view id);
  // With several stores: orders `image`'s locations by decreasing store weight, keeping the
  // recorded order among equals (Glance sorts them so whenever it loads an image).
  void SortLocations(domain::Image& image) const;
  // The location metadata Glance records with a copy: {"store": "<id>"} with several stores.
  std::string LocationMetadata(const store::Store& store) const;
  Status Authorize(domain::ImageAction action, const domain::RequestContext& ctx,
                   const Loaded& loaded) const;
  Status SetField(const domain::RequestContext& ctx, domain::Image& image,
                  const std::string& field, const Value& value, bool creating) const;
  Status ApplyOp(const domain::RequestContext& ctx, domain::Image& image, const PatchOp& op,
                 bool legacy_add) const;
  Status CheckQuotas(const domain::Image& image) const;
  Status RollbackUpload(std::string_view id);
  // The data path shared by uploads and imports: streams `read` into `writer` (not committed)
  // while md5 and sha512 are computed in parallel and the format is inspected
  // (StreamToStore, which push-style callers use directly). The caller aborts the writer on
  // error.
  using Pumped = StreamResult;
  StatusOr<Pumped> Pump(store::Writer& writer, const ReadFn& read, int64_t max_bytes,
                        std::optional<int64_t> size_hint);
  // StreamToStore's options for a stream of at most `max_bytes` (image_size_cap or less).
  StreamToStore::Options StreamOptions(int64_t max_bytes, std::optional<int64_t> size_hint) const;
  // Records size, checksums and virtual_size on `image`.
  void ApplyPumped(const Pumped& pumped, domain::Image& image) const;
  // Glance's format rule with the native deep inspection, on the committed copy at `location`
  // (format_check.h); sets pumped.virtual_size. UnsupportedMedia when the data is refused.
  Status CheckFormat(store::Store& target, const std::string& location,
                     const domain::Image& image, Pumped& pumped) const;
  // Property protections: may the caller do `op` on custom property `name`?
  bool PropertyAllowed(policy::PropertyProtections::Operation op, const std::string& name,
                       const domain::RequestContext& ctx) const;
  // Drops the custom properties the caller may not read.
  void Redact(const domain::RequestContext& ctx, domain::Image& image) const;

  friend class ImportHandler;
  static constexpr int kMaxUpdateRetries = 5;  // optimistic-concurrency retries of one change
  // Import helpers (image_import.cc).
  Status ReleaseImport(const std::string& image_id, const std::string& task_id,
                       const std::function<void(domain::Image&)>& change);
  bool LockIsStale(const domain::Image& image) const;
  // Stage: grows the image's reservation in image_stage_total to at least `needed` bytes
  // (quota-checked, atomically); `reserved` is updated. ResourceExhausted when the quota has no
  // room; Gone when the image was deleted; FailedPrecondition when it left `uploading`.
  Status ReserveStaged(std::string_view id, int64_t needed, int64_t& reserved);
  // glance-download credentials: the user's token, in memory only, per task.
  void StashCredential(const std::string& task_id, const std::string& token);
  std::optional<std::string> Credential(const std::string& task_id) const;
  void DropCredential(const std::string& task_id);
  mutable std::mutex credentials_mu_;
  std::map<std::string, std::string> credentials_;  // guarded by credentials_mu_

  db::ImageRepository& repo_;
  StoreSet stores_;
  std::optional<ImportSetup> import_;
  const domain::Policy& policy_;
  platform::Executor& hash_pool_;
  const platform::Clock& clock_;
  ServiceOptions options_;
};

// The stage digest property (kStageDigestProperty) of a stage written in one go; nullopt when
// absent or unreadable (the import then reads the staged file).
std::string EncodeStageDigest(const StreamResult& r);
std::optional<StreamResult> DecodeStageDigest(const domain::Image& image);

// True for a lowercase or uppercase hyphenated UUID (8-4-4-4-12 hex).
bool IsUuid(std::string_view s);

}  // namespace glimmer::images
