#pragma once
// ImageData: the image data path. Uploads (PUT /file) stream through StreamToStore into a store
// while md5 and sha512 are computed and the format is inspected, then the stored copy gets the
// deep format check; downloads open the first readable copy in location order; one store's copy
// can be deleted. The import flow writes to stores through the same public pieces (Pump,
// CheckFormat, ApplyPumped, LocationMetadata). Also the upload half of crash recovery.
//
// Thread-safety: all methods may be called concurrently.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "domain/context.h"
#include "domain/image.h"
#include "images/image_env.h"
#include "images/stream_to_store.h"
#include "store/store.h"

namespace glimmer::images {

class ImageData {
 public:
  // Borrows `env`.
  explicit ImageData(const ImageEnv& env);

  // PUT /v2/images/{id}/file. size_hint: x-openstack-image-size or Content-Length.
  // `store_id` (X-Image-Meta-Store, used with several stores only): the store to write to;
  // empty = the default store. InvalidArgument for an unknown store ("Store for identifier X
  // not found", as Glance). `expected_md5` (Images v1's x-image-meta-checksum, lowercase hex):
  // the data's md5 must be this, else InvalidArgument and nothing is kept.
  Status Upload(const domain::RequestContext& ctx, std::string_view id, const ReadFn& read,
                std::optional<int64_t> size_hint, std::string_view store_id = {},
                std::optional<std::string> expected_md5 = std::nullopt);

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
  const StoreSet& stores() const { return env_.stores; }

  // ---- The data path, for uploads and the import flow ----
  using Pumped = StreamResult;
  // Streams `read` into `writer` (not committed) while md5 and sha512 are computed in parallel
  // and the format is inspected (StreamToStore, which push-style callers use directly with
  // StreamOptions). The caller aborts the writer on error.
  StatusOr<Pumped> Pump(store::Writer& writer, const ReadFn& read, int64_t max_bytes,
                        std::optional<int64_t> size_hint) const;
  // StreamToStore's options for a stream of at most `max_bytes` (image_size_cap or less).
  StreamToStore::Options StreamOptions(int64_t max_bytes, std::optional<int64_t> size_hint) const;
  // Records size, checksums and virtual_size on `image`.
  static void ApplyPumped(const Pumped& pumped, domain::Image& image);
  // Glance's format rule with the native deep inspection, on the committed copy at `location`
  // (format_check.h); sets pumped.virtual_size. UnsupportedMedia when the data is refused.
  Status CheckFormat(store::Store& target, const std::string& location, const domain::Image& image,
                     Pumped& pumped) const;
  // With several stores: orders `image`'s locations by decreasing store weight, keeping the
  // recorded order among equals (Glance sorts them so whenever it loads an image).
  void SortLocations(domain::Image& image) const;
  // The location metadata Glance records with a copy: {"store": "<id>"} with several stores.
  std::string LocationMetadata(const store::Store& store) const;

  // ---- Crash recovery (uploads; ImportCoordinator has the stages and imports) ----
  // At start-up, before serving: stores drop data of writes that never committed, and this
  // node's uploads left in `saving` by a crash go back to `queued` (their pending data
  // deleted).
  Status RecoverAfterCrash();
  // Another node's crash recovery, for a node that never comes back: the uploads (`saving`,
  // os_glance_upload_node) of `nodes`, which have been silent for two leases, go back to
  // `queued`. Data an upload recorded in os_glance_upload_location is deleted when its store is
  // shared (RBD, S3); data on the dead node's own disk (filesystem store) is left for that
  // node's start-up clean-up. Each change is a compare-and-set on the status and the node mark:
  // an upload that moved on meanwhile is left alone. This node's own work is never touched.
  // Returns the first error, after trying every image.
  Status ReclaimUploadsOf(const std::vector<std::string>& nodes);

 private:
  // Back to queued with no data, if still `saving`.
  Status RollbackUpload(std::string_view id);

  const ImageEnv& env_;
};

}  // namespace glimmer::images
