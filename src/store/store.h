#pragma once
// The store interface: where image bytes live. Stores know nothing about images' metadata,
// hashing or size limits: those are applied by the caller (store/hashing_pipeline.h).
// Implementations: store/filesystem (default); S3 and RBD later.
//
// Thread-safety: a Store may be used concurrently; a Writer or Reader by one thread at a time.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace glimmer::store {

// Streaming write of one image's data. Data is invisible to readers until Commit() succeeds.
// Destroying a Writer that was not committed aborts it (removes partial data).
class Writer {
 public:
  virtual ~Writer() = default;
  // Appends bytes. Errors: ResourceExhausted (store full), Unavailable, Internal.
  virtual Status Append(std::span<const std::byte> data) = 0;
  // Makes the data durable (if the store was configured to) and visible under the returned
  // location URI. The Writer is finished afterwards.
  virtual StatusOr<std::string> Commit() = 0;
  // Discards everything written. Idempotent.
  virtual void Abort() = 0;
  // The location URI the data will have once committed, known from the start, so that callers
  // can record it before committing and remove the data if they crash in between. Empty when
  // the store cannot tell in advance.
  virtual std::string location() const { return {}; }
};

// Random-access read of stored data.
class Reader {
 public:
  virtual ~Reader() = default;
  virtual int64_t size() const = 0;
  // Reads up to out.size() bytes at `offset`; returns bytes read (0 at end).
  virtual StatusOr<size_t> ReadAt(int64_t offset, std::span<std::byte> out) = 0;
  // A file descriptor positioned-independent for sendfile(2), if the store is file-backed.
  // Owned by the Reader.
  virtual std::optional<int> file_descriptor() const { return std::nullopt; }
};

// One driver-specific property shown by GET /v2/info/stores/detail (Glance: e.g. data_dir,
// chunk_size, thin_provisioning for `file`; pool, fsid for `rbd`).
struct StoreProperty {
  std::string name;
  std::variant<std::string, int64_t, bool> value;
};

struct StoreInfo {
  std::string id;           // e.g. "file"
  std::string type;         // "file", "rbd", "s3"
  std::string description;  // empty = none configured
  bool is_default = false;
  // Relative preference for reading (Glance's per-store `weight`): locations are tried in
  // decreasing weight order; equal weights keep their recorded order.
  int64_t weight = 0;
  // The data lives on this node only (a local directory): another node sharing the database
  // can neither read nor remove what this node's store wrote. Shared stores (RBD, S3) leave it
  // false, so a surviving node may clean up after a dead one.
  bool node_local = false;
  std::vector<StoreProperty> properties;
};

class Store {
 public:
  virtual ~Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  virtual const StoreInfo& info() const = 0;
  // Starts writing data for `image_id`. size_hint (if known) may be used to preallocate.
  virtual StatusOr<std::unique_ptr<Writer>> NewWriter(std::string_view image_id,
                                                      std::optional<int64_t> size_hint) = 0;
  // Opens the data at `location` (a URI this store returned). NotFound if gone.
  virtual StatusOr<std::unique_ptr<Reader>> Open(std::string_view location) = 0;
  // Deletes the data at `location`. NotFound if already absent. FailedPrecondition when the
  // store refuses because the data is in use (e.g. an RBD image with snapshots or clones,
  // Glance's InUseByStore / HasSnapshot); nothing is deleted then and the message says why.
  virtual Status Delete(std::string_view location) = 0;
  // Whether `location` is a URI of this store.
  virtual bool Owns(std::string_view location) const = 0;
  // Removes leftovers of writes that never committed (called once at start-up).
  virtual Status CleanupIncomplete() = 0;
  // Takes the file at `path` (a local file the caller owns, e.g. a staged upload, already
  // made durable) as the data of `image_id` without copying it: the returned Writer accepts no
  // Append and commits like a written one (location() known in advance; Abort leaves `path`
  // as it was). Unimplemented when the store cannot (not a local store, another filesystem):
  // the caller then streams the file through NewWriter. The file must not change afterwards.
  virtual StatusOr<std::unique_ptr<Writer>> AdoptFile(std::string_view /*image_id*/,
                                                      const std::string& /*path*/) {
    return UnimplementedError("this store cannot adopt a file");
  }

 protected:
  Store() = default;
};

}  // namespace glimmer::store
