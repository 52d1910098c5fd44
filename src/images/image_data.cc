// ImageData: uploads, downloads, one store's copy deleted, and the data path they share with
// the import flow.
#include "images/image_data.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "formats/inspector.h"
#include "images/format_acceptance.h"
#include "images/format_check.h"
#include "images/internal/access.h"
#include "images/internal/locations.h"
#include "images/internal/stream_options.h"
#include "images/internal/upload_marks.h"

namespace glimmer::images {

using domain::Image;
using domain::ImageAction;
using domain::ImageStatus;
using domain::RequestContext;
using internal::kMaxUpdateRetries;
using internal::kUploadLocation;
using internal::kUploadNode;
using internal::ResetData;

ImageData::ImageData(const ImageEnv& env) : env_(env) {}

Status ImageData::Upload(const RequestContext& ctx, std::string_view id, const ReadFn& read,
                         std::optional<int64_t> size_hint, std::string_view store_id,
                         std::optional<std::string> expected_md5) {
  store::Store* chosen = store_id.empty() ? env_.stores.Default() : env_.stores.ById(store_id);
  if (!chosen) {
    if (!store_id.empty()) {
      return InvalidArgumentError("Store for identifier " + std::string(store_id) + " not found");
    }
    return UnavailableError("No store is configured");
  }
  ASSIGN_OR_RETURN(auto loaded, internal::LoadVisible(env_, ctx, id));
  RETURN_IF_ERROR(internal::Authorize(env_, ImageAction::kUploadImage, ctx, loaded));
  Image image = std::move(loaded.image);
  if (image.status != ImageStatus::kQueued) {
    return FailedPreconditionError("Image status transition from " +
                                   std::string(domain::ToString(image.status)) +
                                   " to saving is not allowed");
  }
  if (!image.disk_format || !image.container_format) {
    return InvalidArgumentError(
        "Properties disk_format, container_format must be set prior to saving data.");
  }
  if (size_hint && *size_hint > env_.options.image_size_cap) {
    return ResourceExhaustedError("Image exceeds the storage quota: image size " +
                                  std::to_string(*size_hint) + " is over the limit of " +
                                  std::to_string(env_.options.image_size_cap) + " bytes");
  }
  store::Store& target = *chosen;
  // Bytes this project may still store (the final activation re-checks exactly, atomically).
  int64_t max_bytes = env_.options.image_size_cap;
  if (env_.options.quotas.image_size_total >= 0 && image.owner) {
    ASSIGN_OR_RETURN(auto usage, env_.repo.GetProjectUsage(*image.owner));
    int64_t left =
        std::max<int64_t>(0, env_.options.quotas.image_size_total - usage.image_size_total);
    if (size_hint && *size_hint > left) {
      return ResourceExhaustedError(
          "image_size_total quota exceeded: " + std::to_string(*size_hint) + " bytes requested, " +
          std::to_string(left) + " bytes left");
    }
    max_bytes = std::min(max_bytes, left);
  }

  auto writer = target.NewWriter(id, size_hint);
  if (!writer.ok()) return writer.status();
  image.status = ImageStatus::kSaving;
  image.updated_at = env_.clock.Now();
  if (std::string pending = (*writer)->location(); !pending.empty()) {
    image.properties[std::string(kUploadLocation)] = pending;
  }
  if (!env_.options.node_id.empty()) {
    image.properties[std::string(kUploadNode)] = env_.options.node_id;
  }
  RETURN_IF_ERROR(internal::ClaimQueued(env_, image));

  // From here on, any failure must return the image to queued with no data kept.
  auto fail = [&](Status st) -> Status {
    Status rb = RollbackUpload(id);
    if (rb.code() == StatusCode::kNotFound) {
      return GoneError("Image " + std::string(id) + " was deleted during the upload");
    }
    if (!rb.ok()) spdlog::error("image {}: rollback failed: {}", id, rb.ToString());
    return st;
  };

  auto pumped = Pump(**writer, read, max_bytes, size_hint);
  if (!pumped.ok()) {
    (*writer)->Abort();
    return fail(pumped.status());
  }
  if (expected_md5 && pumped->md5_hex != *expected_md5) {
    (*writer)->Abort();
    return fail(InvalidArgumentError("Supplied checksum (" + *expected_md5 +
                                     ") and checksum generated from uploaded image (" +
                                     pumped->md5_hex + ") did not match."));
  }
  if (InspectsContainer(image.container_format) && !pumped->stream_failure.empty()) {
    (*writer)->Abort();
    return fail(SafetyCheckFailed(pumped->stream_failure));
  }
  auto location = (*writer)->Commit();
  if (!location.ok()) return fail(location.status());
  // The deep format check reads the stored copy's metadata (random access, bounded memory).
  Status checked = CheckFormat(target, *location, image, *pumped);
  if (!checked.ok()) {
    (void)target.Delete(*location);
    return fail(checked);
  }

  image.status = ImageStatus::kActive;
  ApplyPumped(*pumped, image);
  image.locations = {domain::Location{target.info().id, *location,
                                      internal::LocationMetadata(env_.stores, target)}};
  image.properties.erase(std::string(kUploadLocation));
  image.properties.erase(std::string(kUploadNode));
  image.updated_at = env_.clock.Now();
  Status done = env_.options.quotas.Unlimited()
                    ? env_.repo.Update(image, ImageStatus::kSaving)
                    : env_.repo.UpdateWithinQuota(image, ImageStatus::kSaving, env_.options.quotas);
  if (!done.ok()) {
    (void)target.Delete(*location);
    if (done.code() == StatusCode::kResourceExhausted) return fail(done);
    if (done.code() == StatusCode::kAborted || done.code() == StatusCode::kNotFound) {
      return GoneError("Image " + std::string(id) + " was deleted during the upload");
    }
    return fail(done);
  }
  return OkStatus();
}

StatusOr<ImageData::Download> ImageData::OpenDownload(const RequestContext& ctx,
                                                      std::string_view id,
                                                      const std::vector<std::string>& prefer) {
  ASSIGN_OR_RETURN(auto loaded, internal::LoadVisible(env_, ctx, id));
  domain::ImageTarget target{&loaded.image, loaded.caller_is_member};
  if (!env_.policy.Allowed(ImageAction::kDownloadImage, ctx, target)) {
    return PermissionDeniedError("You are not authorized to complete download_image action.");
  }
  if (loaded.image.status == ImageStatus::kDeactivated && !ctx.IsAdmin()) {
    return PermissionDeniedError(
        "The requested image has been deactivated. Image data download "
        "is forbidden.");
  }
  if (!prefer.empty()) {
    if (!env_.policy.Allowed(ImageAction::kDownloadFromStore, ctx, target)) {
      return PermissionDeniedError(
          "You are not authorized to complete download_from_store action.");
    }
    if (!env_.stores.multistore) {
      return InvalidArgumentError(
          "Store selection for download is not available when multiple "
          "backends are not enabled.");
    }
    for (const auto& s : prefer) {
      if (!env_.stores.ById(s)) return InvalidArgumentError("Store '" + s + "' is not configured.");
    }
    // The preferred stores' copies first, in the order asked; then the others, as they were.
    std::vector<domain::Location> ordered;
    for (size_t i = 0; i < prefer.size(); ++i) {
      const std::string& s = prefer[i];
      if (std::find(prefer.begin(), prefer.begin() + static_cast<std::ptrdiff_t>(i), s) !=
          prefer.begin() + static_cast<std::ptrdiff_t>(i)) {
        continue;  // named twice
      }
      for (const auto& loc : loaded.image.locations) {
        if (loc.store_id == s) ordered.push_back(loc);
      }
    }
    for (const auto& loc : loaded.image.locations) {
      if (std::find(prefer.begin(), prefer.end(), loc.store_id) == prefer.end()) {
        ordered.push_back(loc);
      }
    }
    loaded.image.locations = std::move(ordered);
  }
  Download d;
  d.image = std::move(loaded.image);
  if (d.image.locations.empty() ||
      d.image.status != ImageStatus::kActive && d.image.status != ImageStatus::kDeactivated) {
    return d;  // no data: 204
  }
  Status last = NotFoundError("Image data not found");
  for (const auto& loc : d.image.locations) {
    store::Store* store = env_.stores.ForLocation(loc.url);
    if (!store) continue;
    auto reader = store->Open(loc.url);
    if (reader.ok()) {
      d.reader = std::move(*reader);
      return d;
    }
    last = reader.status();
    spdlog::warn("image {}: cannot open {}: {}", id, loc.url, last.ToString());
  }
  if (last.code() == StatusCode::kNotFound) {
    return NotFoundError("Image data for " + std::string(id) + " is missing from the store");
  }
  return last;
}

Status ImageData::DeleteFromStore(const RequestContext& ctx, std::string_view store_id,
                                  std::string_view id) {
  if (!env_.stores.multistore) return NotFoundError("");
  store::Store* store = env_.stores.ById(store_id);
  if (!store) {
    return FailedPreconditionError("The selected store " + std::string(store_id) +
                                   " is not available on this node.");
  }
  domain::Location removed;
  size_t position = 0;
  for (int attempt = 0;; ++attempt) {
    auto loaded = internal::LoadVisible(env_, ctx, id);
    if (!loaded.ok()) {
      if (loaded.status().code() == StatusCode::kNotFound) {
        return NotFoundError("Failed to find image " + std::string(id));
      }
      return loaded.status();
    }
    RETURN_IF_ERROR(internal::Authorize(env_, ImageAction::kGetImageLocation, ctx, *loaded));
    RETURN_IF_ERROR(internal::Authorize(env_, ImageAction::kDeleteImageLocation, ctx, *loaded));
    const Image& image = loaded->image;
    if (image.status != ImageStatus::kActive) {
      return FailedPreconditionError(
          "It's not allowed to remove image data from store if image status is not 'active'");
    }
    if (image.locations.size() == 1) {
      return PermissionDeniedError(
          "Cannot delete image data from the only store containing it. "
          "Consider deleting the image instead.");
    }
    auto it = std::find_if(image.locations.begin(), image.locations.end(),
                           [&](const domain::Location& l) { return l.store_id == store_id; });
    if (it == image.locations.end()) {
      return NotFoundError("Image " + std::string(id) + " is not stored in store " +
                           std::string(store_id) + ".");
    }
    removed = *it;
    position = static_cast<size_t>(it - image.locations.begin());
    // The record first, atomically and only while another copy remains; then the data.
    Status st = env_.repo.RemoveLocation(id, removed.url, ImageStatus::kActive, env_.clock.Now());
    if (st.ok()) break;
    // Lost a race (status changed, copy removed or image deleted meanwhile): check again.
    if ((st.code() == StatusCode::kAborted || st.code() == StatusCode::kNotFound) &&
        attempt < kMaxUpdateRetries) {
      continue;
    }
    return st;
  }
  Status deleted = store->Delete(removed.url);
  if (deleted.ok()) return OkStatus();
  if (deleted.code() == StatusCode::kNotFound) {
    spdlog::warn(
        "image {}: the data at {} was already gone from store {}; its location is "
        "removed",
        id, removed.url, store_id);
    return OkStatus();
  }
  // The store kept the data: so does the record.
  spdlog::warn("image {}: store {} did not delete {}: {}", id, store_id, removed.url,
               deleted.ToString());
  Status restored;
  for (int attempt = 0; attempt < kMaxUpdateRetries; ++attempt) {
    auto image = env_.repo.Get(id);
    if (!image.ok()) {
      restored = image.status();
      break;
    }
    image->locations.insert(image->locations.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                           position, image->locations.size())),
                            removed);
    image->updated_at = env_.clock.Now();
    restored = env_.repo.Update(*image, image->status);
    if (restored.code() != StatusCode::kAborted) break;
  }
  if (!restored.ok()) {
    spdlog::error("image {}: could not record again the copy kept by store {} at {}: {}", id,
                  store_id, removed.url, restored.ToString());
  }
  if (deleted.code() == StatusCode::kFailedPrecondition) {
    return FailedPreconditionError(
        "The data for Image " + std::string(id) +
        " could not be deleted because it is in use: " + deleted.message());
  }
  return InternalError("deleting image " + std::string(id) + " from store " +
                       std::string(store_id) + ": " + deleted.ToString());
}

Status ImageData::AuthorizeStoresDetail(const RequestContext& ctx) const {
  if (!env_.policy.Allowed(ImageAction::kStoresInfoDetail, ctx, {})) {
    return PermissionDeniedError("You are not authorized to complete stores_info_detail action.");
  }
  return OkStatus();
}

StatusOr<ImageData::Pumped> ImageData::Pump(store::Writer& writer, const ReadFn& read,
                                            int64_t max_bytes,
                                            std::optional<int64_t> size_hint) const {
  StreamToStore stream(writer, env_.hash_pool, StreamOptions(max_bytes, size_hint));
  for (;;) {
    auto n = read(stream.Buffer());
    if (!n.ok()) {
      stream.Cancel();
      return n.status();
    }
    if (*n == 0) break;
    RETURN_IF_ERROR(stream.Commit(*n));
  }
  return stream.Finish();
}

StreamToStore::Options ImageData::StreamOptions(int64_t max_bytes,
                                                std::optional<int64_t> size_hint) const {
  return internal::StreamOptionsFor(env_.options, max_bytes, size_hint);
}

void ImageData::ApplyPumped(const Pumped& pumped, Image& image) {
  image.size = pumped.size;
  image.checksum = pumped.md5_hex;
  image.os_hash_algo = "sha512";
  image.os_hash_value = pumped.sha512_hex;
  image.virtual_size = pumped.virtual_size;
}

Status ImageData::CheckFormat(store::Store& target, const std::string& location, const Image& image,
                              Pumped& pumped) const {
  pumped.virtual_size.reset();
  if (!InspectsContainer(image.container_format)) return OkStatus();
  ASSIGN_OR_RETURN(auto reader, target.Open(location));
  FormatCheckOptions opts;
  opts.max_virtual_size = env_.options.max_virtual_size;
  ASSIGN_OR_RETURN(pumped.virtual_size, CheckStoredFormat(*reader, image, opts));
  return OkStatus();
}

void ImageData::SortLocations(Image& image) const { internal::SortLocations(env_.stores, image); }

std::string ImageData::LocationMetadata(const store::Store& store) const {
  return internal::LocationMetadata(env_.stores, store);
}

Status ImageData::RollbackUpload(std::string_view id) {
  for (int attempt = 0; attempt < kMaxUpdateRetries; ++attempt) {
    auto image = env_.repo.Get(id);
    if (!image.ok()) return image.status();
    if (image->status != ImageStatus::kSaving) return OkStatus();
    image->status = ImageStatus::kQueued;
    ResetData(*image);
    image->updated_at = env_.clock.Now();
    Status st = env_.repo.Update(*image, ImageStatus::kSaving);
    if (st.code() != StatusCode::kAborted) return st;
  }
  return AbortedError("could not roll back upload");
}

Status ImageData::RecoverAfterCrash() {
  for (auto* s : env_.stores.stores) RETURN_IF_ERROR(s->CleanupIncomplete());
  // Only this node's interrupted work: other nodes sharing the database may be uploading or
  // staging right now (images without a node mark predate it and are taken as this node's).
  ASSIGN_OR_RETURN(auto interrupted, env_.repo.ListByStatus({ImageStatus::kSaving}));
  for (const auto& image : interrupted) {
    if (internal::MarkedByOtherNode(image, kUploadNode, env_.options.node_id)) continue;
    spdlog::warn("image {}: upload was interrupted; returning it to queued", image.id);
    if (auto it = image.properties.find(std::string(kUploadLocation));
        it != image.properties.end()) {
      if (auto* store = env_.stores.ForLocation(it->second)) {
        Status st = store->Delete(it->second);
        if (!st.ok() && st.code() != StatusCode::kNotFound) RETURN_IF_ERROR(st);
      }
    }
    RETURN_IF_ERROR(RollbackUpload(image.id));
  }
  return OkStatus();
}

Status ImageData::ReclaimUploadsOf(const std::vector<std::string>& nodes) {
  ASSIGN_OR_RETURN(auto images, env_.repo.ListByStatus({ImageStatus::kSaving}));
  Status first_error;
  for (Image& image : images) {
    auto node = internal::MarkedBySilentNode(image, kUploadNode, env_.options.node_id, nodes);
    if (!node) continue;
    if (auto it = image.properties.find(std::string(kUploadLocation));
        it != image.properties.end()) {
      store::Store* store = env_.stores.ForLocation(it->second);
      if (store && !store->info().node_local) {
        Status st = store->Delete(it->second);
        if (!st.ok() && st.code() != StatusCode::kNotFound) {
          // Tried again at the next check rather than forgotten with the image reset.
          spdlog::warn("image {}: cannot delete {} left by node {}: {}", image.id, it->second,
                       *node, st.ToString());
          if (first_error.ok()) first_error = st;
          continue;
        }
      }
    }
    spdlog::warn(
        "image {}: its upload on node {} stopped (the node has been silent for two "
        "leases); returning it to queued",
        image.id, *node);
    image.status = ImageStatus::kQueued;
    ResetData(image);
    image.updated_at = env_.clock.Now();
    Status st = env_.repo.UpdateIfProperty(image, ImageStatus::kSaving, kUploadNode, *node);
    if (!st.ok() && st.code() != StatusCode::kAborted && st.code() != StatusCode::kNotFound &&
        first_error.ok()) {
      first_error = st;
    }
  }
  return first_error;
}

}  // namespace glimmer::images
