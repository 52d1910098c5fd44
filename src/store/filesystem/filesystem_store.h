#pragma once
// FilesystemStore: image data as one plain file per image in a data directory, compatible with
// Glance's `file` store (locations are `file://<absolute path>`).
//
// Layout: <dir>/<image_id> (or <dir>/<image_id>.<random> if that name is taken: committed data
// is never overwritten); uploads in progress live in <dir>/.incoming/<image_id>.<random>.part and
// are renamed into place on Commit().
//
// Locations are untrusted text (they come back from the database): only `file://<dir>/<name>`
// where <name> is a single path component not starting with '.' is accepted, so no location can
// reach outside the data directory or into .incoming.
//
// Files go through a platform::FileSystem (platform/file.h: errno is mapped to Status there,
// once; tests inject ENOSPC or fsync failures with platform/testing/). Errors: ResourceExhausted
// "Image storage media is full" (ENOSPC, EDQUOT: Glance's 413), Unavailable (EACCES, EPERM,
// EROFS: Glance's StorageWriteDenied, 503; or a transient EMFILE...), NotFound, Internal (EIO,
// ...); see errno_status.h. Locations not of this store -> InvalidArgument. Messages name no
// directory of the server.
//
// Thread-safety: all methods may be called concurrently; a Writer/Reader by one thread at a
// time. Writers and Readers do not reference the store and may outlive it (not its FileSystem).

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "platform/file.h"
#include "store/store.h"

namespace glimmer::store::filesystem {

class FilesystemStore final : public Store {
 public:
  // No filesystem changes: directories are created by Create() or on the first NewWriter().
  // A relative `data_dir` is made absolute against the current directory. With `fsync`, Commit()
  // fsyncs the file and the directory before returning. `fs` must outlive the store and every
  // Writer and Reader it returns.
  FilesystemStore(std::string store_id, std::string data_dir, bool fsync,
                  platform::FileSystem& fs = platform::FileSystem::Default());

  // Creates `data_dir` (and parents) and its .incoming directory if missing (mode 0750),
  // resolves symlinks, and checks the directory is writable. Unavailable (permissions),
  // Internal.
  static StatusOr<std::unique_ptr<FilesystemStore>> Create(
      std::string store_id, std::string data_dir, bool fsync,
      platform::FileSystem& fs = platform::FileSystem::Default());

  // Call before sharing the store.
  void set_description(std::string description) { info_.description = std::move(description); }
  void set_is_default(bool is_default) { info_.is_default = is_default; }
  void set_weight(int64_t weight) { info_.weight = weight; }

  const StoreInfo& info() const override { return info_; }
  // InvalidArgument for an image id that is not a safe file name ([A-Za-z0-9._-], not starting
  // with '.', at most 200 chars). The data goes to .incoming/<id>.<random>.part (mode 0640),
  // renamed into place by Commit(); a failed Append or Commit leaves nothing behind once the
  // writer is aborted or destroyed (Commit aborts by itself). Append: ResourceExhausted when
  // the disk is full (reserving ahead of the data included).
  StatusOr<std::unique_ptr<Writer>> NewWriter(std::string_view image_id,
                                              std::optional<int64_t> size_hint) override;
  // NotFound if gone; InvalidArgument if not a location of this store.
  StatusOr<std::unique_ptr<Reader>> Open(std::string_view location) override;
  // NotFound if already absent; InvalidArgument if not a location of this store.
  Status Delete(std::string_view location) override;
  bool Owns(std::string_view location) const override;
  // Removes every entry of <dir>/.incoming. Must not run while writers are open.
  Status CleanupIncomplete() override;
  // Hard-links `path` into .incoming (no copy; the caller keeps its own name until it removes
  // it), then commits like NewWriter's writers (fsync, rename into place, directory fsync).
  // Unimplemented when `path` is on another filesystem or links are refused (adopt.cc).
  StatusOr<std::unique_ptr<Writer>> AdoptFile(std::string_view image_id,
                                              const std::string& path) override;

  const std::string& data_dir() const { return dir_; }
  // The file a location designates, or InvalidArgument.
  StatusOr<std::string> PathForLocation(std::string_view location) const;

 private:
  Status EnsureDirectories() const;

  platform::FileSystem& fs_;
  StoreInfo info_;
  std::string dir_;          // absolute, normalised, no trailing slash (except "/")
  std::string dir_prefix_;   // dir_ with exactly one trailing slash
  std::string incoming_;     // dir_prefix_ + ".incoming"
  bool fsync_;
};

}  // namespace glimmer::store::filesystem
