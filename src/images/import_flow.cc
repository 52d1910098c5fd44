#include "images/import_flow.h"

#include <algorithm>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "domain/image_attributes.h"
#include "images/format_acceptance.h"
#include "images/internal/stage_digest.h"
#include "images/internal/store_list_property.h"
#include "images/internal/upload_marks.h"

namespace glimmer::images {

namespace {

using domain::Image;
using domain::ImageStatus;
using internal::kUploadLocation;
using internal::SetStoreListProperty;
using internal::StoreListProperty;

constexpr int64_t kProgressEvery = 64 << 20;

std::string MiB(int64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

// Runs a plugin with an output limit; everything else goes to the task's context.
class LimitedPluginContext final : public PluginContext {
 public:
  LimitedPluginContext(tasks::TaskContext& inner, int64_t limit) : inner_(inner), limit_(limit) {}
  const domain::Task& task() const override { return inner_.task(); }
  void Progress(std::string message) override { inner_.Progress(std::move(message)); }
  Status Cancelled() const override { return inner_.Cancelled(); }
  int64_t max_output_bytes() const override { return limit_; }

 private:
  tasks::TaskContext& inner_;
  const int64_t limit_;
};

}  // namespace

int64_t PluginOutputLimit(const tasks::TaskContext& ctx, int64_t fallback) {
  if (const auto* p = dynamic_cast<const PluginContext*>(&ctx)) {
    return std::min(fallback, p->max_output_bytes());
  }
  return fallback;
}

// One run of one import task.
class ImportHandler::Flow {
 public:
  Flow(ImportHandler& h, tasks::TaskContext& ctx)
      : h_(h), env_(h.env_), data_(h.data_), imports_(h.imports_), ctx_(ctx), task_(ctx.task()) {}

  tasks::Outcome Go() {
    auto input = DecodeImportInput(task_.input_json);
    if (!input.ok()) return Failed(input.status().message(), /*touch_image=*/false);
    in_ = std::move(*input);
    copy_ = in_.request.method == "copy-image";
    auto image = env_.repo.Get(in_.image_id);
    if (!image.ok()) {
      (void)Staging().Remove(in_.image_id);
      return Failed("Image " + in_.image_id + " was deleted before the import finished",
                    false);
    }
    if (Lock(*image) != task_.id) {
      return Failed("The import lock of image " + in_.image_id + " is held by another task", false);
    }
    // A resumed run first removes data an interrupted run committed but never recorded.
    if (auto it = image->properties.find(std::string(kUploadLocation));
        it != image->properties.end()) {
      if (auto* s = env_.stores.ForLocation(it->second)) (void)s->Delete(it->second);
      Status st = Change([](Image& img) { img.properties.erase(std::string(kUploadLocation)); });
      if (!st.ok()) return Stop(st);
    }

    // web-download streams into the first store when nothing needs a staged file (the data is
    // written once); the other stores are then filled from that copy, as copy-image does.
    streamed_ = in_.request.method == "web-download" && StreamsDirectly();
    Status source = copy_ ? OkStatus() : streamed_ ? RunPlugins("") : PrepareStaged(*image);
    if (!source.ok()) return Stop(source);
    if (streamed_) {
      Status st = StreamDownloadTo(in_.backends.front());
      if (!st.ok()) return Stop(st);
      succeeded_.push_back(in_.backends.front());
    }

    for (const auto& store_id : in_.backends) {
      if (std::find(succeeded_.begin(), succeeded_.end(), store_id) != succeeded_.end()) continue;
      if (Status c = ctx_.Cancelled(); !c.ok()) return Stop(c);
      Status st = WriteTo(store_id);
      if (st.code() == StatusCode::kCancelled) return Stop(st);
      if (st.ok()) {
        succeeded_.push_back(store_id);
        continue;
      }
      spdlog::warn("task {}: import of image {} into store {} failed: {}", task_.id,
                   in_.image_id, store_id, RedactUrlsIn(st.ToString()));
      failed_.push_back(store_id);
      if (in_.request.all_stores_must_succeed || st.code() == StatusCode::kNotFound ||
          st.code() == StatusCode::kDeadlineExceeded ||
          st.code() == StatusCode::kResourceExhausted) {
        return Stop(st, store_id);
      }
      (void)Change([&](Image& img) {
        auto importing = StoreListProperty(img, kImportingToStores);
        std::erase(importing, store_id);
        SetStoreListProperty(img, kImportingToStores, importing);
        auto f = StoreListProperty(img, kFailedImport);
        if (std::find(f.begin(), f.end(), store_id) == f.end()) f.push_back(store_id);
        SetStoreListProperty(img, kFailedImport, f);
      });
    }
    if (succeeded_.empty()) {
      return Stop(InternalError("the image could not be written to any store"));
    }
    (void)Staging().Remove(in_.image_id);
    Status released = imports_.ReleaseImport(in_.image_id, task_.id, [&](Image& img) {
      img.properties.erase(std::string(kImportingToStores));
    });
    if (!released.ok()) {
      return Failed("The import finished but the image could not be unlocked: " +
                        released.message(),
                    false);
    }
    return {true, EncodeImportResult(in_.image_id), ""};
  }

  // Undo for a task that will not run again (runner: too many interruptions).
  void Abandon(std::string_view reason) {
    auto input = DecodeImportInput(task_.input_json);
    if (!input.ok()) return;
    in_ = std::move(*input);
    copy_ = in_.request.method == "copy-image";
    (void)Cleanup(std::string(reason), "");
  }

 private:
  staging::StagingArea& Staging() { return imports_.staging(); }
  static std::string Lock(const Image& image) {
    auto it = image.properties.find(std::string(kImportTaskProperty));
    return it == image.properties.end() ? "" : it->second;
  }

  // Applies `change` to the image while this task holds its lock. `within_quota`: the change
  // grows the project's usage, and the quotas are checked in the same transaction
  // (ResourceExhausted, nothing written, when they would be exceeded).
  Status Change(const std::function<void(Image&)>& change, bool within_quota = false) {
    const domain::QuotaLimits& quotas = env_.options.quotas;
    for (int attempt = 0;; ++attempt) {
      ASSIGN_OR_RETURN(Image image, env_.repo.Get(in_.image_id));
      if (Lock(image) != task_.id) {
        return AbortedError("the import lock of image " + in_.image_id + " was taken over");
      }
      change(image);
      image.updated_at = env_.clock.Now();
      Status st = within_quota && !quotas.Unlimited()
                      ? env_.repo.UpdateIfPropertyWithinQuota(image, std::nullopt,
                                                               kImportTaskProperty, task_.id,
                                                               quotas)
                      : env_.repo.UpdateIfProperty(image, std::nullopt, kImportTaskProperty,
                                                    task_.id);
      if (st.code() == StatusCode::kAborted && attempt < 5) continue;
      return st;
    }
  }

  bool StageLimited() const { return env_.options.quotas.image_stage_total >= 0; }

  // The most this import may write into staging or a store: image_size_cap, and what the
  // project's image_size_total and image_stage_total leave for this image. Not atomic: the
  // writes that grow the usage check the quotas again in their own transaction (Reserve, the
  // activation), so this only stops a download early, with a clear message.
  StatusOr<int64_t> RoomLeft(std::string* why) {
    const domain::QuotaLimits& q = env_.options.quotas;
    int64_t room = env_.options.image_size_cap;
    if (why) *why = "the image size cap";
    if (q.image_size_total < 0 && q.image_stage_total < 0) return room;
    ASSIGN_OR_RETURN(Image image, env_.repo.Get(in_.image_id));
    if (!image.owner) return room;
    ASSIGN_OR_RETURN(auto usage, env_.repo.GetProjectUsage(*image.owner));
    auto limit = [&](int64_t left, const char* name) {
      left = std::max<int64_t>(0, left);
      if (left < room) {
        room = left;
        if (why) *why = std::string("the project's ") + name + " quota";
      }
    };
    if (q.image_size_total >= 0) limit(q.image_size_total - usage.image_size_total,
                                       "image_size_total");
    if (q.image_stage_total >= 0) {
      // The usage counts this image's own reservation (an earlier attempt's): not a neighbour.
      const bool counted = image.status == ImageStatus::kUploading ||
                           image.status == ImageStatus::kImporting;
      const int64_t own = counted ? image.size.value_or(0) : 0;
      limit(q.image_stage_total - (usage.image_stage_total - own), "image_stage_total");
    }
    return room;
  }

  // Grows this image's reservation in image_stage_total to at least `needed` bytes (its size
  // while it imports), quota-checked in the same transaction; asks for room ahead first (as
  // much again, at most 256 MiB) so that a large download costs few transactions.
  Status Reserve(int64_t needed, int64_t& reserved) {
    const int64_t ahead = std::min(env_.options.image_size_cap,
                                   needed + std::min(needed, int64_t{256} << 20));
    Status st = Change([&](Image& img) { img.size = ahead; }, /*within_quota=*/true);
    if (st.ok()) reserved = ahead;
    if (st.code() != StatusCode::kResourceExhausted || ahead == needed) return st;
    st = Change([&](Image& img) { img.size = needed; }, /*within_quota=*/true);
    if (st.ok()) reserved = needed;
    return st;
  }

  // Source step and plugins: leaves the image's bytes in the staging file.
  Status PrepareStaged(Image& image) {
    const std::string path = Staging().PathFor(in_.image_id);
    if (in_.request.method == "web-download") {
      RETURN_IF_ERROR(Download());
    } else if (in_.request.method == "glance-download") {
      RETURN_IF_ERROR(GlanceDownload());
    } else if (in_.request.method == "glance-direct") {
      ASSIGN_OR_RETURN(int64_t staged, Staging().Size(in_.image_id));
      if (staged == 0) {
        return FailedPreconditionError("no staged data found for image " + in_.image_id);
      }
    } else {
      return UnimplementedError("import method " + in_.request.method + " is not supported");
    }
    RETURN_IF_ERROR(RunPlugins(path));
    ASSIGN_OR_RETURN(staged_size_, Staging().Size(in_.image_id));
    if (StageLimited()) {
      // What waits in staging now (plugins may have grown it) is what counts as staged.
      RETURN_IF_ERROR(Change([&](Image& img) { img.size = staged_size_; }, /*within_quota=*/true));
    }
    return OkStatus();
  }

  // Whether every configured plugin changes metadata only (no_op, inject_image_metadata): the
  // import then needs no staged file. image_conversion and the other file plugins need one.
  bool PluginsNeedNoFile() const {
    for (const auto& name : imports_.options().plugins) {
      if (name != "no_op" && name != "inject_image_metadata") return false;
    }
    return true;
  }

  // web-download may go straight into the first store: no plugin needs the file, and a failure
  // of that first store ends the import anyway (a single store, or all_stores_must_succeed);
  // with all_stores_must_succeed=false the download is staged so that the other stores still
  // get the data when the first one fails.
  bool StreamsDirectly() const {
    return PluginsNeedNoFile() && !in_.backends.empty() &&
           (in_.backends.size() == 1 || in_.request.all_stores_must_succeed);
  }

  // The configured plugins, in order, over the staged file at `path` (empty when the import
  // has none: only metadata plugins may run then).
  Status RunPlugins(const std::string& path) {
    for (const auto& name : imports_.options().plugins) {
      if (Status c = ctx_.Cancelled(); !c.ok()) return c;
      if (name == "no_op") continue;
      if (name == "inject_image_metadata") {
        if (!in_.request.inject_metadata || imports_.options().inject.empty()) continue;
        RETURN_IF_ERROR(Change([&](Image& img) {
          for (const auto& [k, v] : imports_.options().inject) {
            if (!domain::IsServiceProperty(k)) img.properties[k] = v;
          }
        }));
        continue;
      }
      auto plugin = h_.plugins_.find(name);
      if (path.empty()) return InternalError("import plugin " + name + " needs a staged file");
      if (plugin == h_.plugins_.end()) {
        return InternalError("import plugin " + name + " is not available in this build");
      }
      ctx_.Progress("Running import plugin " + name);
      ASSIGN_OR_RETURN(Image current, env_.repo.Get(in_.image_id));
      Image changed = current;
      // A small compressed or sparse file may expand to far more than it is: the plugin's
      // output is capped at what the import may still store (security review F7).
      std::string why;
      ASSIGN_OR_RETURN(int64_t room, RoomLeft(&why));
      LimitedPluginContext plugin_ctx(ctx_, room);
      Status st = plugin->second(path, changed, plugin_ctx);
      if (!st.ok()) {
        if (Status c = ctx_.Cancelled(); !c.ok()) return c;
        if (st.code() == StatusCode::kCancelled || st.code() == StatusCode::kDeadlineExceeded) {
          return st;
        }
        std::string message = "import plugin " + name + ": " + st.message();
        if (st.code() == StatusCode::kResourceExhausted) message += " (" + why + ")";
        return Status(st.code(), message);
      }
      RETURN_IF_ERROR(Change([&](Image& img) {
        img.disk_format = changed.disk_format;
        img.container_format = changed.container_format;
        img.virtual_size = changed.virtual_size;
        for (const auto& [k, v] : changed.properties) {
          if (!domain::IsServiceProperty(k)) img.properties[k] = v;
        }
      }));
    }
    return OkStatus();
  }

  // glance-download: the image's metadata and data from another region's Glance-compatible
  // endpoint, with the importing user's token (held in memory on this node only).
  Status GlanceDownload() {
    auto token = imports_.Credential(task_.id);
    if (!token) {
      return FailedPreconditionError(
          "glance-download needs the importing user's credentials, which only the node that "
          "accepted the import held; that node restarted or stopped. Start the import again");
    }
    const auto& regions = imports_.options().glance_download_regions;
    auto ep = regions.find(in_.request.glance_region);
    if (ep == regions.end()) {
      return InvalidArgumentError("glance-download: unknown region " + in_.request.glance_region);
    }
    std::string base = ep->second;
    while (!base.empty() && base.back() == '/') base.pop_back();
    const std::string image_url = base + "/v2/images/" + in_.request.glance_image_id;
    // The endpoint is the operator's: any port, private addresses allowed, no redirects (the
    // token must not travel elsewhere).
    webdownload::FetchOptions opts = imports_.options().fetch;
    opts.url_filter = webdownload::UrlFilterOptions{};
    opts.url_filter.allowed_ports.clear();
    opts.address_policy.allow_private_addresses = true;
    opts.max_redirects = 0;
    opts.headers = {"X-Auth-Token: " + *token, "Accept: application/json"};
    opts.max_bytes = 4 << 20;
    std::string meta;
    auto got = h_.fetcher_.Fetch(image_url, opts, [&](std::span<const std::byte> d) -> Status {
      meta.append(reinterpret_cast<const char*>(d.data()), d.size());
      return OkStatus();
    });
    if (!got.ok()) {
      return Status(got.status().code(), "glance-download: cannot read image " +
                                             in_.request.glance_image_id + " in region " +
                                             in_.request.glance_region + ": " +
                                             got.status().message());
    }
    auto remote = nlohmann::json::parse(meta, nullptr, false);
    if (!remote.is_object()) return InvalidArgumentError("glance-download: the remote answer is not an image");
    const std::string status = remote.value("status", "");
    if (status != "active") {
      return FailedPreconditionError("glance-download: the remote image is '" + status +
                                     "', not active");
    }
    RETURN_IF_ERROR(Change([&](Image& img) {
      if (remote.contains("disk_format") && remote["disk_format"].is_string()) {
        img.disk_format = remote["disk_format"].get<std::string>();
      }
      if (remote.contains("container_format") && remote["container_format"].is_string()) {
        img.container_format = remote["container_format"].get<std::string>();
      }
      for (const auto& [k, v] : remote.items()) {
        // The remote's attributes as its schema shows them are not properties.
        const domain::AttributeSpec* attr = domain::FindAttribute(k);
        if ((attr && attr->visible()) || domain::IsServiceProperty(k) || !v.is_string()) continue;
        for (const auto& prefix : imports_.options().glance_download_properties) {
          if (k.rfind(prefix, 0) == 0) {
            img.properties[k] = v.get<std::string>();
            break;
          }
        }
      }
    }));
    opts.headers = {"X-Auth-Token: " + *token};
    std::string why;
    ASSIGN_OR_RETURN(int64_t room, RoomLeft(&why));
    opts.max_bytes = std::min(imports_.options().fetch.max_bytes, room);
    return FetchToStaging(image_url + "/file", opts,
                          "glance-download of image " + in_.request.glance_image_id, why);
  }

  // Streams `url` into the image's staging file (from byte 0), reporting progress and stopping
  // when the task is cancelled. `what` prefixes error messages.
  // `limit_reason` names what set opts.max_bytes (shown when the source is larger). With
  // image_stage_total limited, the staged bytes are reserved (Reserve) before they are written.
  Status FetchToStaging(const std::string& url, const webdownload::FetchOptions& opts,
                        const std::string& what, const std::string& limit_reason) {
    ASSIGN_OR_RETURN(auto writer, Staging().OpenWriter(in_.image_id, 0));
    int64_t next_report = kProgressEvery;
    int64_t reserved = 0;
    auto fetched = h_.fetcher_.Fetch(url, opts, [&](std::span<const std::byte> data) -> Status {
      RETURN_IF_ERROR(ctx_.Cancelled());
      const int64_t end = writer->size() + static_cast<int64_t>(data.size());
      if (StageLimited() && end > reserved) RETURN_IF_ERROR(Reserve(end, reserved));
      RETURN_IF_ERROR(writer->Append(data));
      if (writer->size() >= next_report) {
        ctx_.Progress("Downloaded " + MiB(writer->size()));
        next_report += kProgressEvery;
      }
      return OkStatus();
    });
    if (!fetched.ok()) {
      RETURN_IF_ERROR(ctx_.Cancelled());
      std::string message = what + " failed: " + fetched.status().message();
      if (fetched.status().code() == StatusCode::kResourceExhausted && !limit_reason.empty()) {
        message += " (" + limit_reason + ")";
      }
      return Status(fetched.status().code(), message);
    }
    RETURN_IF_ERROR(writer->Sync());
    if (fetched->bytes == 0) return InvalidArgumentError(what + " returned no data");
    return OkStatus();
  }

  Status Download() {
    webdownload::FetchOptions opts = imports_.options().fetch;
    std::string why;
    ASSIGN_OR_RETURN(int64_t room, RoomLeft(&why));
    opts.max_bytes = std::min(opts.max_bytes, room);
    // Messages and logs never show the URL's query (presigned URLs carry secrets there).
    const std::string shown = RedactUrl(in_.request.uri);
    ctx_.Progress("Downloading from " + shown);
    return FetchToStaging(in_.request.uri, opts, "web-download of " + shown, why);
  }

  // web-download without staging: streams the URL into `store_id` through the upload data path
  // (hashing and inspecting on the way), under the same limits as FetchToStaging (image size
  // cap, image_size_total, image_stage_total reserved as the bytes arrive), then commits,
  // checks the format on the stored copy and activates the image, as WriteTo does. Partial data
  // is aborted on every failure; the pending location is recorded first, so that a crash leaves
  // nothing behind either (the next run, or start-up, removes it).
  Status StreamDownloadTo(const std::string& store_id) {
    store::Store* target = env_.stores.ById(store_id);
    if (!target) return NotFoundError("store " + store_id + " is not configured");
    ASSIGN_OR_RETURN(Image image, env_.repo.Get(in_.image_id));
    webdownload::FetchOptions opts = imports_.options().fetch;
    std::string why;
    ASSIGN_OR_RETURN(int64_t room, RoomLeft(&why));
    opts.max_bytes = std::min(opts.max_bytes, room);
    // Messages and logs never show the URL's query (presigned URLs carry secrets there).
    const std::string shown = RedactUrl(in_.request.uri);
    const std::string what = "web-download of " + shown;
    ctx_.Progress("Downloading from " + shown);
    ASSIGN_OR_RETURN(auto writer, target->NewWriter(in_.image_id, std::nullopt));
    RETURN_IF_ERROR(RecordPending(*writer));
    StreamToStore stream(*writer, env_.hash_pool,
                         data_.StreamOptions(opts.max_bytes, std::nullopt));
    int64_t next_report = kProgressEvery;
    int64_t reserved = 0;
    auto fetched =
        h_.fetcher_.Fetch(in_.request.uri, opts, [&](std::span<const std::byte> data) -> Status {
          RETURN_IF_ERROR(ctx_.Cancelled());
          const int64_t end = stream.bytes() + static_cast<int64_t>(data.size());
          if (StageLimited() && end > reserved) RETURN_IF_ERROR(Reserve(end, reserved));
          RETURN_IF_ERROR(stream.Write(data));
          if (stream.bytes() >= next_report) {
            ctx_.Progress("Downloaded " + MiB(stream.bytes()) + " into store " + store_id);
            next_report += kProgressEvery;
          }
          return OkStatus();
        });
    if (!fetched.ok() || fetched->bytes == 0) {
      stream.Cancel();
      writer->Abort();
      RETURN_IF_ERROR(ctx_.Cancelled());
      if (fetched.ok()) return InvalidArgumentError(what + " returned no data");
      std::string message = what + " failed: " + fetched.status().message();
      if (fetched.status().code() == StatusCode::kResourceExhausted && !why.empty()) {
        message += " (" + why + ")";
      }
      return Status(fetched.status().code(), message);
    }
    auto pumped = stream.Finish();
    if (!pumped.ok()) {
      writer->Abort();
      return pumped.status();
    }
    return CommitAndRecord(*target, store_id, image, *writer, *pumped);
  }

  // glance-direct into a store that can take the staged file as it is (the filesystem store on
  // the staging area's filesystem: a hard link, no copy), with the digests and the stream
  // inspection recorded when the stage was written in one go. nullopt when that does not apply
  // (no digest, a resumed stage, a size that differs, another filesystem, another store): the
  // caller reads the staged file as before. The deep format check runs on the stored copy.
  std::optional<Status> AdoptStaged(store::Store& target, const std::string& store_id,
                                    const Image& image) {
    std::optional<ImageData::Pumped> digest = internal::DecodeStageDigest(image);
    if (!digest || digest->size != staged_size_ || staged_size_ <= 0) return std::nullopt;
    int64_t max_bytes = env_.options.image_size_cap;
    if (env_.options.quotas.image_size_total >= 0 && image.owner) {
      auto usage = env_.repo.GetProjectUsage(*image.owner);
      if (!usage.ok()) return usage.status();
      max_bytes = std::min(max_bytes, std::max<int64_t>(0, env_.options.quotas.image_size_total -
                                                               usage->image_size_total));
    }
    if (digest->size > max_bytes) {
      return max_bytes < env_.options.image_size_cap
                 ? ResourceExhaustedError("image_size_total quota exceeded: the project may "
                                          "store " + std::to_string(max_bytes) + " more bytes")
                 : ResourceExhaustedError("Image exceeds the storage quota: the image size cap "
                                          "is " + std::to_string(max_bytes) + " bytes");
    }
    auto writer = target.AdoptFile(in_.image_id, Staging().PathFor(in_.image_id));
    if (!writer.ok()) {
      if (writer.status().code() != StatusCode::kUnimplemented) {
        spdlog::info("task {}: staged file of image {} not adopted by store {}: {}", task_.id,
                     in_.image_id, store_id, writer.status().ToString());
      }
      return std::nullopt;
    }
    RETURN_IF_ERROR(RecordPending(**writer));
    ctx_.Progress("Moving the staged data into store " + store_id);
    return CommitAndRecord(target, store_id, image, **writer, *digest);
  }

  // Records where `writer` will commit (os_glance_upload_location) before anything is
  // committed; aborts the writer when that fails.
  Status RecordPending(store::Writer& writer) {
    if (std::string pending = writer.location(); !pending.empty()) {
      Status st = Change([&](Image& img) { img.properties[std::string(kUploadLocation)] = pending; });
      if (!st.ok()) {
        writer.Abort();
        return st;
      }
    }
    return OkStatus();
  }

  // Writes the image into one store and records the location (activating the image on the
  // first store).
  Status WriteTo(const std::string& store_id) {
    store::Store* target = env_.stores.ById(store_id);
    if (!target) return NotFoundError("store " + store_id + " is not configured");
    ASSIGN_OR_RETURN(Image image, env_.repo.Get(in_.image_id));

    if (!copy_ && !streamed_ && succeeded_.empty() && in_.request.method == "glance-direct" &&
        PluginsNeedNoFile()) {
      auto adopted = AdoptStaged(*target, store_id, image);
      if (adopted) return *adopted;
    }
    // The source: the staged file, or (copy-image) an existing copy.
    std::unique_ptr<platform::SequentialFile> file;
    std::unique_ptr<store::Reader> source;
    int64_t source_offset = 0;
    std::optional<int64_t> size_hint;
    if (copy_ || streamed_) {
      data_.SortLocations(image);  // read the copy downloads would read (store weights)
      for (const auto& loc : image.locations) {
        if (auto* s = env_.stores.ForLocation(loc.url)) {
          auto r = s->Open(loc.url);
          if (r.ok()) {
            source = std::move(*r);
            break;
          }
        }
      }
      if (!source) return NotFoundError("no readable copy of image " + in_.image_id + " to copy");
      size_hint = source->size();
    } else {
      auto opened = h_.files_.NewSequentialFile(Staging().PathFor(in_.image_id));
      if (!opened.ok()) {
        return NotFoundError("the staged data of image " + in_.image_id + " has disappeared");
      }
      file = std::move(*opened);
      size_hint = staged_size_;
    }
    ASSIGN_OR_RETURN(auto writer, target->NewWriter(in_.image_id, size_hint));
    RETURN_IF_ERROR(RecordPending(*writer));
    int64_t done = 0, next_report = kProgressEvery;
    auto read = [&](std::span<std::byte> out) -> StatusOr<size_t> {
      RETURN_IF_ERROR(ctx_.Cancelled());
      StatusOr<size_t> n = file ? file->Read(out) : source->ReadAt(source_offset, out);
      if (file && !n.ok()) return platform::Annotate("cannot read staged data", n.status());
      if (n.ok()) {
        source_offset += static_cast<int64_t>(*n);
        done += static_cast<int64_t>(*n);
        if (done >= next_report) {
          ctx_.Progress("Copied " + MiB(done) + " to store " + store_id);
          next_report += kProgressEvery;
        }
      }
      return n;
    };
    // The project's image_size_total quota bounds the write, as for uploads.
    int64_t max_bytes = env_.options.image_size_cap;
    if (env_.options.quotas.image_size_total >= 0 && image.owner) {
      auto usage = env_.repo.GetProjectUsage(*image.owner);
      if (!usage.ok()) {
        writer->Abort();
        return usage.status();
      }
      max_bytes = std::min(max_bytes, std::max<int64_t>(0, env_.options.quotas.image_size_total -
                                                               usage->image_size_total));
    }
    auto pumped = data_.Pump(*writer, read, max_bytes, size_hint);
    if (!pumped.ok()) {
      writer->Abort();
      if (pumped.status().code() == StatusCode::kResourceExhausted &&
          max_bytes < env_.options.image_size_cap) {
        return ResourceExhaustedError("image_size_total quota exceeded: the project may store " +
                                      std::to_string(max_bytes) + " more bytes");
      }
      return pumped.status();
    }
    if ((copy_ || streamed_) && image.checksum && *image.checksum != pumped->md5_hex) {
      writer->Abort();
      return DataLossError("the copy read from the source store does not match the image's "
                           "checksum");
    }
    return CommitAndRecord(*target, store_id, image, *writer, *pumped);
  }

  // The end of a write into a store: refuses an unsafe header, commits, runs the deep format
  // check on the first copy and records the location (activating the image on the first).
  Status CommitAndRecord(store::Store& store, const std::string& store_id, const Image& image,
                         store::Writer& writer_ref, ImageData::Pumped& pumped_ref) {
    store::Writer* writer = &writer_ref;
    store::Store* target = &store;
    ImageData::Pumped* pumped = &pumped_ref;
    if (!copy_ && InspectsContainer(image.container_format) && !pumped->stream_failure.empty()) {
      writer->Abort();
      return SafetyCheckFailed(pumped->stream_failure);
    }
    auto location = writer->Commit();
    if (!location.ok()) return location.status();
    written_.push_back(*location);
    if (!copy_ && succeeded_.empty()) {
      // The same data goes to every store: one deep format check, on the first copy.
      Status checked = data_.CheckFormat(*target, *location, image, *pumped);
      if (!checked.ok()) return checked;
    }
    const bool first = !copy_ && succeeded_.empty();
    Status recorded = Change([&](Image& img) {
      if (first) {
        ImageData::ApplyPumped(*pumped, img);
        img.properties.erase(std::string(kStageDigestProperty));
        img.status = ImageStatus::kActive;
        img.locations.clear();
      }
      img.locations.push_back(
          domain::Location{store_id, *location, data_.LocationMetadata(*target)});
      img.properties.erase(std::string(kUploadLocation));
      auto importing = StoreListProperty(img, kImportingToStores);
      std::erase(importing, store_id);
      SetStoreListProperty(img, kImportingToStores, importing);
    }, /*within_quota=*/first);  // activation: image_size_total re-checked atomically
    if (!recorded.ok()) {
      (void)target->Delete(*location);
      written_.pop_back();
      return recorded;
    }
    ctx_.Progress("Imported " + MiB(pumped->size) + " to store " + store_id);
    return OkStatus();
  }

  // Ends the run: interrupted (shutdown, lost lease) -> nothing undone, resumed later;
  // anything else -> cleaned up and failed.
  tasks::Outcome Stop(const Status& st, std::string_view store_id = "") {
    if (st.code() == StatusCode::kCancelled) return {false, std::nullopt, st.message()};
    std::string reason = st.message();
    if (!store_id.empty() && env_.stores.multistore) {
      reason = "store " + std::string(store_id) + ": " + reason;
    }
    return Failed(Cleanup(reason, store_id), false);
  }

  // Undoes the import; returns the task's failure message.
  std::string Cleanup(const std::string& reason, std::string_view /*store_id*/) {
    for (const auto& loc : written_) {
      if (auto* s = env_.stores.ForLocation(loc)) (void)s->Delete(loc);
    }
    (void)Staging().Remove(in_.image_id);
    std::vector<std::string> targets = in_.backends;
    Status st = imports_.ReleaseImport(in_.image_id, task_.id, [&](Image& img) {
      if (auto it = img.properties.find(std::string(kUploadLocation)); it != img.properties.end()) {
        if (auto* s = env_.stores.ForLocation(it->second)) (void)s->Delete(it->second);
        img.properties.erase(it);
      }
      std::erase_if(img.locations, [&](const domain::Location& l) {
        return std::find(written_.begin(), written_.end(), l.url) != written_.end();
      });
      if (!copy_) {
        img.status = ImageStatus::kQueued;
        img.size.reset();
        img.virtual_size.reset();
        img.checksum.reset();
        img.os_hash_algo.reset();
        img.os_hash_value.reset();
        img.locations.clear();
      }
      img.properties.erase(std::string(kImportingToStores));
      img.properties.erase(std::string(kStageDigestProperty));  // the staged file is gone
      if (env_.stores.multistore) {
        auto failed = StoreListProperty(img, kFailedImport);
        for (const auto& t : targets) {
          if (std::find(failed.begin(), failed.end(), t) == failed.end()) failed.push_back(t);
        }
        SetStoreListProperty(img, kFailedImport, failed);
      }
    });
    if (!st.ok() && st.code() != StatusCode::kNotFound && st.code() != StatusCode::kAborted) {
      spdlog::error("task {}: could not return image {} to its previous state: {}", task_.id,
                    in_.image_id, st.ToString());
    }
    return reason;
  }

  // The message is shown to the task's owner and logged: URLs in it (the fetcher's errors name
  // redirect targets) lose their query strings.
  tasks::Outcome Failed(std::string message, bool) {
    return {false, std::nullopt, RedactUrlsIn(message)};
  }

  ImportHandler& h_;
  const ImageEnv& env_;
  ImageData& data_;
  ImportCoordinator& imports_;
  tasks::TaskContext& ctx_;
  const domain::Task& task_;
  DecodedImportInput in_;
  bool copy_ = false;
  bool streamed_ = false;  // web-download written straight into the first store
  int64_t staged_size_ = 0;
  std::vector<std::string> succeeded_, failed_, written_;
};

ImportHandler::ImportHandler(const ImageEnv& env, ImageData& data, ImportCoordinator& imports,
                             const webdownload::HttpFetcher& fetcher, platform::FileSystem& files)
    : env_(env), data_(data), imports_(imports), fetcher_(fetcher), files_(files) {}

void ImportHandler::AddPlugin(std::string name, StagedPlugin plugin) {
  plugins_[std::move(name)] = std::move(plugin);
}

tasks::Outcome ImportHandler::Run(tasks::TaskContext& ctx) {
  tasks::Outcome outcome = Flow(*this, ctx).Go();
  // glance-download credentials are dropped when the task ends; an interrupted run keeps them
  // (this node may resume it).
  if (ctx.Cancelled().code() != StatusCode::kCancelled) {
    imports_.DropCredential(ctx.task().id);
  }
  return outcome;
}

namespace {
// A TaskContext for Abandon: nothing runs, so nothing is reported.
class IdleContext final : public tasks::TaskContext {
 public:
  explicit IdleContext(const domain::Task& t) : t_(t) {}
  const domain::Task& task() const override { return t_; }
  void Progress(std::string) override {}
  Status Cancelled() const override { return OkStatus(); }

 private:
  const domain::Task& t_;
};
}  // namespace

Status ImportHandler::StillWanted(const domain::Task& task) {
  if (!task.image_id) return OkStatus();
  auto image = env_.repo.Get(*task.image_id);
  if (!image.ok()) {
    if (image.status().code() == StatusCode::kNotFound) {
      return AbortedError("Image " + *task.image_id + " was deleted before the import finished");
    }
    return OkStatus();  // the database may be back at the next renewal
  }
  auto it = image->properties.find(std::string(kImportTaskProperty));
  if (it == image->properties.end() || it->second != task.id) {
    return AbortedError("The import lock of image " + *task.image_id +
                        " was released or taken over by another task");
  }
  return OkStatus();
}

void ImportHandler::NodesSilent(const std::vector<std::string>& nodes) {
  Status uploads = data_.ReclaimUploadsOf(nodes);
  Status stages = imports_.ReclaimStagesOf(nodes);
  Status st = uploads.ok() ? stages : uploads;
  if (!st.ok()) spdlog::warn("uploads of silent nodes: {}", st.ToString());
}

void ImportHandler::Abandon(const domain::Task& task, std::string_view reason) {
  imports_.DropCredential(task.id);
  IdleContext ctx(task);
  Flow(*this, ctx).Abandon(reason);
}

}  // namespace glimmer::images
