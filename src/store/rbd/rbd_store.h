#pragma once
// RbdStore: image data in a Ceph RBD pool, laid out as Glance's `rbd` store does so that Nova and
// Cinder can make copy-on-write clones of it (librbd/librados C++ API; the librbd types stay in
// rbd_store.cc).
//
// Layout: each image is an RBD image (format 2, features = the cluster's rbd_default_features
// plus layering, object size = chunk_size_mib) named by the Glance image id, or
// `<image id>.<12 hex>` if that name is already taken (committed data is never overwritten: a
// crash may leave a committed image the database never heard of). Commit() creates the snapshot
// `snap` and protects it; the location is Glance's `rbd://<fsid>/<pool>/<image>/snap`
// (components percent-encoded as Glance does). While a write is in progress the image carries
// the image-metadata key `glimmer.incomplete` = node id; it is removed once `snap` is protected.
// Creating an image and marking it are two steps, so the intent comes first: before creating an
// image a node adds its name as a key to the omap of the RADOS object
// `glimmer_incomplete.<node id>` in the pool, and removes it once the image is committed or
// removed. A process killed anywhere in between leaves a key that CleanupIncomplete() follows,
// marked image or not.
//
// Locations are untrusted text (they come back from the database) and are parsed strictly (see
// rbd_location.h): `rbd://<fsid>/<pool>/<image>/<snap>` with fsid == this cluster's, pool == this
// store's, image and snap names of [A-Za-z0-9._-] not starting with '.', or Glance's legacy
// short form `rbd://<image>` (resolved against this store's pool, read at the image head).
// Anything else is InvalidArgument.
//
// Errors (rbd_errors.h is the one errno -> Status mapping): ENOSPC/EDQUOT -> ResourceExhausted;
// connection loss, timeouts, blocklisting, EACCES -> Unavailable; ENOENT -> NotFound; anything
// else -> Internal. No exception leaves this component: librados/librbd throws are caught and
// become Internal. The pool is used with "full try" (as `rbd rm` does): on a full pool or
// cluster writes fail at once with ResourceExhausted instead of blocking until space is freed,
// and Delete()/CleanupIncomplete() still work. Data operations on OSDs that stop answering
// block unless osd_op_timeout_seconds is set (librados' default).
//
// Memory: a Writer holds up to write_in_flight + 1 objects. A Reader reads ahead only for a
// consumer that keeps up (it has read 4 MiB sequentially, each time coming back for more within
// 50 ms; a slower one is served by direct reads of what it asks for, which hold nothing between
// calls), in units of up to 2 MiB, starting one unit ahead and going one deeper each time the
// consumer had to wait, up to read_ahead_objects objects; all the Readers of a store share
// read_ahead_budget_mib (a Reader that finds it used up reads directly). The Readers of one
// snapshot share one open librbd image (~0.4 MiB each otherwise). So 100 slow downloads of an
// image hold next to nothing, and a fast one reads at full speed.
//
// Ownership and thread-safety: Create() connects to the cluster; the connection is shared by the
// store and every Writer/Reader it returned (each may outlive the store; the connection closes
// when the last of them goes). All RbdStore methods may be called concurrently; a Writer or
// Reader by one thread at a time. librbd runs its own internal threads; this component starts
// none. Several Glimmer nodes may share one pool: each must have its own node_id.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "store/store.h"

namespace glimmer::store::rbd {

namespace internal {
struct Cluster;  // the librados connection and pool I/O context (rbd_store.cc)
}  // namespace internal

struct RbdStoreOptions {
  std::string store_id = "rbd";  // name in enabled_backends
  std::string description;  // store_description (empty: none, as Glance shows it)
  std::string conf_file = "/etc/ceph/ceph.conf";  // rbd_store_ceph_conf
  std::string user = "client.admin";              // rbd_store_user; "admin" means client.admin
  std::string pool = "images";                    // rbd_store_pool
  int chunk_size_mib = 8;                         // rbd_store_chunk_size: power of 2, 1..32
  bool thin_provisioning = true;                  // rbd_thin_provisioning: skip all-zero objects
  // rados_connect_timeout: bounds connecting (client_mount_timeout) and every monitor operation
  // (rados_mon_op_timeout), so that a dead cluster fails with Unavailable instead of hanging.
  int connect_timeout_seconds = 30;
  // rados_osd_op_timeout for data operations; 0 = wait for the OSDs as long as it takes.
  int osd_op_timeout_seconds = 0;
  // This Glimmer process (unique among the nodes sharing the pool): marks its uploads in
  // progress so that CleanupIncomplete() removes only its own leftovers. Required.
  std::string node_id;
  int write_in_flight = 4;     // object-sized aio writes in flight per Writer (>= 1)
  int read_ahead_objects = 3;  // the deepest read-ahead of a Reader, in objects (0..64)
  int read_ahead_budget_mib = 64;  // read-ahead data all the Readers may hold at once (0..4096)
  // Tests only: called at named points of NewWriter, so that a test can kill the process there:
  // "created" (the RBD image exists, its intent is recorded, it is not marked yet).
  std::function<void(std::string_view point)> test_hook;
};

class RbdStore final : public Store {
 public:
  // Validates the options, connects (bounded by connect_timeout_seconds), opens the pool and
  // reads the cluster fsid. InvalidArgument (bad options, unreadable conf file), Unavailable
  // (cluster unreachable, authentication refused), NotFound (no such pool), Internal.
  static StatusOr<std::unique_ptr<RbdStore>> Create(RbdStoreOptions options);
  ~RbdStore() override;

  // Call before sharing the store.
  void set_is_default(bool is_default) { info_.is_default = is_default; }
  void set_description(std::string description) { info_.description = std::move(description); }
  void set_weight(int64_t weight) { info_.weight = weight; }

  const StoreInfo& info() const override { return info_; }
  // Records the intent, creates the RBD image (size = size_hint, or 0) and marks it incomplete
  // (see the layout above). The image grows as
  // data arrives; Commit() sets its exact size, creates and protects `snap`, and returns the
  // location. Memory per Writer is bounded by (write_in_flight + 1) objects. InvalidArgument
  // for an image id that is not [A-Za-z0-9._-]{1,80} not starting with '.' or for a negative
  // size_hint; ResourceExhausted, Unavailable, Internal.
  StatusOr<std::unique_ptr<Writer>> NewWriter(std::string_view image_id,
                                              std::optional<int64_t> size_hint) override;
  // Opens the image read-only at the location's snapshot (short form: at the head). Sequential
  // ReadAt calls of a consumer that keeps up are served by read-ahead (see Memory above); other
  // reads are direct. NotFound if the image or snapshot is gone; InvalidArgument if not a
  // location of this store; Unavailable, Internal.
  StatusOr<std::unique_ptr<Reader>> Open(std::string_view location) override;
  // Unprotects and removes the snapshot (`snap` for the short form), then removes the image.
  // Refused with nothing changed: FailedPrecondition ("image is in use by N clone(s)") if the
  // snapshot has clones (Glance's InUseByStore), Unavailable if another client keeps the image
  // open read-write (watchers) over a few brief retries (~1.5 s; Readers, being read-only, do not
  // count). FailedPrecondition if the image has other snapshots (after removing `snap`);
  // NotFound if already gone; InvalidArgument if not a location of this store.
  Status Delete(std::string_view location) override;
  bool Owns(std::string_view location) const override;
  // Removes the images of this pool that have no protected snapshot and either carry this
  // node's `glimmer.incomplete` mark or are named in this node's intent object without another
  // node's mark (a process killed between creating an image and marking it); then forgets the
  // intents that were dealt with. Other nodes' uploads in progress are never touched; must not
  // run while this node has Writers open. Returns the first error (and goes on with the others).
  Status CleanupIncomplete() override;

  const std::string& fsid() const;
  const std::string& pool() const;

 private:
  RbdStore(RbdStoreOptions options, std::shared_ptr<internal::Cluster> cluster);

  RbdStoreOptions options_;
  StoreInfo info_;
  std::shared_ptr<internal::Cluster> cluster_;
};

}  // namespace glimmer::store::rbd
