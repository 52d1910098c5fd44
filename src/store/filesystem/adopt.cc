// FilesystemStore::AdoptFile: a staged file becomes an image's data without a second copy.
//
// This uses the system calls directly (linkat, renameat2, fsync) rather than platform::FileSystem,
// which has no link operation yet; it is a small, separate file so that moving it onto that
// layer later touches nothing else. The steps mirror FilesystemWriter's commit: the data is
// first linked under .incoming (removed at start-up after a crash, like any unfinished write),
// then fsynced and renamed into its final name without replacing anything, and the directory
// fsynced before Commit() returns.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "platform/random.h"
#include "store/filesystem/filesystem_store.h"
#include "store/names.h"

namespace glimmer::store::filesystem {
namespace {

constexpr std::string_view kScheme = "file://";
constexpr size_t kMaxImageIdLength = 200;

Status SyncPath(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return InternalError(std::string("adopt: open: ") + std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return InternalError(std::string("adopt: fsync: ") + std::strerror(err));
  return OkStatus();
}

class AdoptedWriter final : public Writer {
 public:
  AdoptedWriter(std::string part, std::string dir, std::string final_path, bool fsync)
      : part_(std::move(part)), dir_(std::move(dir)), final_(std::move(final_path)),
        fsync_(fsync) {}
  ~AdoptedWriter() override { Abort(); }

  Status Append(std::span<const std::byte>) override {
    return FailedPreconditionError("an adopted file takes no more data");
  }

  StatusOr<std::string> Commit() override {
    if (part_.empty()) return FailedPreconditionError("image writer is finished");
    Status st = fsync_ ? SyncPath(part_, O_RDONLY) : OkStatus();
    if (st.ok() && ::renameat2(AT_FDCWD, part_.c_str(), AT_FDCWD, final_.c_str(),
                               RENAME_NOREPLACE) != 0) {
      st = InternalError(std::string("adopt: rename: ") + std::strerror(errno));
    }
    if (!st.ok()) {
      Abort();
      return st;
    }
    part_.clear();
    if (fsync_) {
      Status synced = SyncPath(dir_, O_RDONLY | O_DIRECTORY);
      if (!synced.ok()) {
        ::unlink(final_.c_str());  // not durable: not committed
        return synced;
      }
    }
    return std::string(kScheme) + final_;
  }

  void Abort() override {
    if (!part_.empty()) {
      ::unlink(part_.c_str());
      part_.clear();
    }
  }

  std::string location() const override { return std::string(kScheme) + final_; }

 private:
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
  if (::linkat(AT_FDCWD, path.c_str(), AT_FDCWD, part.c_str(), 0) != 0) {
    int err = errno;
    if (err == ENOENT && ::access(path.c_str(), F_OK) == 0) {
      RETURN_IF_ERROR(EnsureDirectories());
      if (::linkat(AT_FDCWD, path.c_str(), AT_FDCWD, part.c_str(), 0) == 0) err = 0;
      else err = errno;
    }
    if (err != 0) {
      // EXDEV (another filesystem), EPERM (links refused), ...: the caller copies instead.
      return UnimplementedError(std::string("cannot link the file into the store: ") +
                                std::strerror(err));
    }
  }
  std::string final_path = dir_prefix_ + id;
  struct stat st;
  if (::lstat(final_path.c_str(), &st) == 0) {
    final_path += '.';
    final_path += platform::RandomHex(6);
  }
  return std::unique_ptr<Writer>(
      std::make_unique<AdoptedWriter>(part, dir_, std::move(final_path), fsync_));
}

}  // namespace glimmer::store::filesystem
