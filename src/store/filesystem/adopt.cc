// FilesystemStore::AdoptFile: a staged file becomes an image's data without a second copy.
//
// The steps mirror FilesystemWriter's commit, through the store's platform::FileSystem: the data
// is first hard-linked under .incoming (removed at start-up after a crash, like any unfinished
// write), then fsynced and renamed into its final name without replacing anything, and the
// directory fsynced before Commit() returns. Errors are the store's (StoreError).
#include <string>
#include <utility>

#include "platform/file.h"
#include "platform/random.h"
#include "store/filesystem/errno_status.h"
#include "store/filesystem/filesystem_store.h"
#include "store/names.h"

namespace glimmer::store::filesystem {
namespace {

constexpr std::string_view kScheme = "file://";
constexpr size_t kMaxImageIdLength = 200;

class AdoptedWriter final : public Writer {
 public:
  AdoptedWriter(platform::FileSystem& fs, std::string part, std::string dir,
                std::string final_path, bool fsync)
      : fs_(fs),
        part_(std::move(part)),
        dir_(std::move(dir)),
        final_(std::move(final_path)),
        fsync_(fsync) {}
  ~AdoptedWriter() override { Abort(); }

  Status Append(std::span<const std::byte>) override {
    return FailedPreconditionError("an adopted file takes no more data");
  }

  StatusOr<std::string> Commit() override {
    if (part_.empty()) return FailedPreconditionError("image writer is finished");
    Status st = fsync_ ? fs_.SyncFile(part_) : OkStatus();
    if (st.ok()) st = fs_.Rename(part_, final_, platform::RenameMode::kNoReplace);
    if (!st.ok()) {
      Abort();
      return StoreError(st);
    }
    part_.clear();
    if (fsync_) {
      Status synced = fs_.SyncDir(dir_);
      if (!synced.ok()) {
        (void)fs_.RemoveFile(final_);  // not durable: not committed
        return StoreError(synced);
      }
    }
    return std::string(kScheme) + final_;
  }

  void Abort() override {
    if (!part_.empty()) {
      (void)fs_.RemoveFile(part_);
      part_.clear();
    }
  }

  std::string location() const override { return std::string(kScheme) + final_; }

 private:
  platform::FileSystem& fs_;
  std::string part_;  // empty once renamed or removed
  std::string dir_;
  std::string final_;
  bool fsync_;
};

}  // namespace

StatusOr<std::unique_ptr<Writer>> FilesystemStore::AdoptFile(std::string_view image_id,
                                                             const std::string& path) {
  if (!IsSafeDataName(image_id, kMaxImageIdLength)) {
    return InvalidArgumentError("image id is not usable as a file name");
  }
  const std::string id(image_id);
  const std::string part = incoming_ + "/" + id + "." + platform::RandomHex(8) + ".part";
  Status linked = fs_.Link(path, part);
  if (linked.code() == StatusCode::kNotFound && fs_.Exists(path)) {
    // The file is there: .incoming is not (removed since the store opened).
    RETURN_IF_ERROR(EnsureDirectories());
    linked = fs_.Link(path, part);
  }
  if (!linked.ok()) {
    // Another filesystem (EXDEV), links refused (EPERM), ...: the caller copies instead.
    return UnimplementedError("cannot link the file into the store: " + linked.message());
  }
  std::string final_path = dir_prefix_ + id;
  if (fs_.StatNoFollow(final_path).ok()) {
    final_path += '.';
    final_path += platform::RandomHex(6);
  }
  return std::unique_ptr<Writer>(
      std::make_unique<AdoptedWriter>(fs_, part, dir_, std::move(final_path), fsync_));
}

}  // namespace glimmer::store::filesystem
