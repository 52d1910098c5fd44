#include "store/filesystem/filesystem_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "platform/random.h"
#include "store/filesystem/errno_status.h"
#include "store/names.h"

namespace glimmer::store::filesystem {
namespace {

constexpr std::string_view kScheme = "file://";
constexpr mode_t kFileMode = 0640;
constexpr mode_t kDirMode = 0750;
constexpr size_t kMaxImageIdLength = 200;
// Preallocation (fallocate, FALLOC_FL_KEEP_SIZE) keeps a large image in few extents and reports
// a full disk early. It follows the data instead of trusting the size hint: the hint comes
// from a header (x-openstack-image-size) that says nothing about what the client will send, so
// reserving it up front would let one connection that trickles a chunked body hold up to the
// size cap of disk (the caller only bounds the hint by the project's quota, and by nothing
// without one). Each time the data reaches the reserved end, the next reservation is at most
// what has been written so far (so at most as much again as the client really sent) and at
// most kMaxPreallocStep, and never beyond the hint. Blocks reserved beyond the end are given
// back at commit (ftruncate) and with the file on abort.
constexpr int64_t kMaxPreallocStep = int64_t{64} << 20;

// Lexically normalises an absolute path: collapses "//", ".", "..".
std::string NormalizeAbsolute(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(pos, end - pos);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    pos = end + 1;
  }
  std::string out;
  for (std::string_view part : parts) {
    out += '/';
    out += part;
  }
  return out.empty() ? "/" : out;
}

std::string MakeAbsolute(std::string_view path) {
  if (!path.empty() && path[0] == '/') return NormalizeAbsolute(path);
  char cwd[PATH_MAX];
  std::string base = getcwd(cwd, sizeof cwd) != nullptr ? cwd : "/";
  return NormalizeAbsolute(base + "/" + std::string(path));
}

// mkdir -p. Existing directories are fine.
Status MakeDirectories(const std::string& path) {
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    const std::string prefix = path.substr(0, pos);
    if (mkdir(prefix.c_str(), kDirMode) != 0 && errno != EEXIST) {
      return ErrnoToStatus(errno, "create image directory");
    }
  }
  return OkStatus();
}

Status FsyncDirectory(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, "open image directory");
  Status status;
  if (fsync(fd) != 0) status = ErrnoToStatus(errno, "fsync image directory");
  close(fd);
  return status;
}

class FilesystemWriter final : public Writer {
 public:
  FilesystemWriter(int fd, std::string part_path, std::string dir_prefix, std::string final_path,
                   bool fsync, int64_t size_hint)
      : fd_(fd),
        part_path_(std::move(part_path)),
        dir_prefix_(std::move(dir_prefix)),
        final_path_(std::move(final_path)),
        fsync_(fsync),
        size_hint_(size_hint) {}
  ~FilesystemWriter() override { Abort(); }

  Status Append(std::span<const std::byte> data) override {
    if (fd_ < 0) return FailedPreconditionError("image writer is finished");
    RETURN_IF_ERROR(Preallocate(written_ + static_cast<int64_t>(data.size())));
    const std::byte* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      const ssize_t n = write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoToStatus(errno, "write image data");
      }
      p += n;
      left -= static_cast<size_t>(n);
      written_ += n;
    }
    return OkStatus();
  }

  StatusOr<std::string> Commit() override {
    if (fd_ < 0) return FailedPreconditionError("image writer is finished");
    Status status = Finalize();
    if (!status.ok()) {
      Abort();
      return status;
    }
    return std::string(kScheme) + final_path_;
  }

  std::string location() const override { return std::string(kScheme) + final_path_; }

  void Abort() override {
    if (fd_ >= 0) {
      close(fd_);
      fd_ = -1;
    }
    if (!part_path_.empty()) {
      unlink(part_path_.c_str());
      part_path_.clear();
    }
  }

 private:
  // Extends the reservation when `end` (the offset the next write reaches) passes it; see
  // kMaxPreallocStep. A full disk is an error now; a filesystem without fallocate stops it.
  Status Preallocate(int64_t end) {
    if (end <= preallocated_ || preallocated_ >= size_hint_ || !prealloc_supported_) {
      return OkStatus();
    }
    const int64_t target = std::min(size_hint_, end + std::min(end, kMaxPreallocStep));
    if (fallocate(fd_, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(preallocated_),
                  static_cast<off_t>(target - preallocated_)) == 0) {
      preallocated_ = target;
      return OkStatus();
    }
    if (errno == ENOSPC || errno == EDQUOT) return ErrnoToStatus(errno, "preallocate image data");
    prealloc_supported_ = false;  // not supported here: it was only an optimisation
    return OkStatus();
  }

  // Makes the part file durable and visible under its final name; on error the caller aborts.
  Status Finalize() {
    // Give back blocks preallocated for a size hint that turned out too large.
    if (written_ < preallocated_ && ftruncate(fd_, written_) != 0) {
      return ErrnoToStatus(errno, "truncate image data");
    }
    if (fsync_ && fsync(fd_) != 0) return ErrnoToStatus(errno, "fsync image data");
    const int fd = fd_;
    fd_ = -1;
    if (close(fd) != 0) return ErrnoToStatus(errno, "close image data");

    // The final name was chosen when the writer was created (callers may have recorded it);
    // never replace existing data under it.
    const std::string& target = final_path_;
    if (renameat2(AT_FDCWD, part_path_.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) !=
        0) {
      int err = errno;
      if (err == EINVAL || err == ENOSYS) {
        // Filesystem without RENAME_NOREPLACE: link() never replaces either.
        if (link(part_path_.c_str(), target.c_str()) != 0) {
          return ErrnoToStatus(errno, "rename image data");
        }
        unlink(part_path_.c_str());
      } else {
        return ErrnoToStatus(err, "rename image data");
      }
    }
    part_path_.clear();  // nothing left to remove on Abort()
    if (fsync_) {
      Status synced = FsyncDirectory(dir_prefix_);
      if (!synced.ok()) {
        unlink(final_path_.c_str());  // not durable: do not leave it behind as committed
        return synced;
      }
    }
    return OkStatus();
  }

  int fd_;
  std::string part_path_;  // empty once renamed or removed
  std::string dir_prefix_;
  std::string final_path_;
  bool fsync_;
  int64_t size_hint_;         // 0 when unknown: nothing is preallocated
  int64_t preallocated_ = 0;  // end of the blocks reserved so far
  bool prealloc_supported_ = true;
  int64_t written_ = 0;
};

class FilesystemReader final : public Reader {
 public:
  FilesystemReader(int fd, int64_t size) : fd_(fd), size_(size) {}
  ~FilesystemReader() override { close(fd_); }

  int64_t size() const override { return size_; }

  StatusOr<size_t> ReadAt(int64_t offset, std::span<std::byte> out) override {
    if (offset < 0) return OutOfRangeError("negative read offset");
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = pread(fd_, out.data() + done, out.size() - done,
                              static_cast<off_t>(offset + static_cast<int64_t>(done)));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoToStatus(errno, "read image data");
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }

  std::optional<int> file_descriptor() const override { return fd_; }

 private:
  int fd_;
  int64_t size_;
};

}  // namespace

FilesystemStore::FilesystemStore(std::string store_id, std::string data_dir, bool fsync)
    : dir_(MakeAbsolute(data_dir)), fsync_(fsync) {
  dir_prefix_ = dir_ == "/" ? dir_ : dir_ + "/";
  incoming_ = dir_prefix_ + ".incoming";
  info_.id = std::move(store_id);
  info_.type = "file";
  info_.node_local = true;  // may be a shared mount, but nothing says so: stay on the safe side
  // Glance's `file` properties in /v2/info/stores/detail: Glimmer writes whole files (its
  // chunk size is glance_store's default) and never thin-provisions.
  info_.properties = {{"data_dir", dir_}, {"chunk_size", int64_t{65536}},
                      {"thin_provisioning", false}};
}

StatusOr<std::unique_ptr<FilesystemStore>> FilesystemStore::Create(std::string store_id,
                                                                   std::string data_dir,
                                                                   bool fsync) {
  auto store = std::make_unique<FilesystemStore>(store_id, data_dir, fsync);
  RETURN_IF_ERROR(store->EnsureDirectories());
  char resolved[PATH_MAX];
  if (realpath(store->dir_.c_str(), resolved) == nullptr) {
    return ErrnoToStatus(errno, "resolve image directory");
  }
  auto canonical = std::make_unique<FilesystemStore>(std::move(store_id), resolved, fsync);
  if (access(canonical->incoming_.c_str(), W_OK | X_OK) != 0 ||
      access(canonical->dir_.c_str(), W_OK | X_OK) != 0) {
    return ErrnoToStatus(errno, "access image directory");
  }
  return canonical;
}

Status FilesystemStore::EnsureDirectories() const {
  RETURN_IF_ERROR(MakeDirectories(dir_));
  if (mkdir(incoming_.c_str(), kDirMode) != 0 && errno != EEXIST) {
    return ErrnoToStatus(errno, "create incoming directory");
  }
  return OkStatus();
}

StatusOr<std::unique_ptr<Writer>> FilesystemStore::NewWriter(std::string_view image_id,
                                                             std::optional<int64_t> size_hint) {
  if (!IsSafeDataName(image_id, kMaxImageIdLength)) {
    return InvalidArgumentError("image id is not usable as a file name");
  }
  const std::string id(image_id);
  const std::string part = incoming_ + "/" + id + "." + platform::RandomHex(8) + ".part";
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
  int fd = open(part.c_str(), flags, kFileMode);
  if (fd < 0 && errno == ENOENT) {
    RETURN_IF_ERROR(EnsureDirectories());
    fd = open(part.c_str(), flags, kFileMode);
  }
  if (fd < 0) return ErrnoToStatus(errno, "create image data file");

  // Final name: <image id>, or <image id>.<random> when data of an earlier attempt (e.g. one a
  // crash interrupted before its metadata was recorded) still holds that name.
  std::string final_path = dir_prefix_ + id;
  if (access(final_path.c_str(), F_OK) == 0) final_path += "." + platform::RandomHex(6);
  const int64_t hint = size_hint.has_value() && *size_hint > 0 ? *size_hint : 0;
  return std::unique_ptr<Writer>(std::make_unique<FilesystemWriter>(fd, part, dir_prefix_,
                                                                    final_path, fsync_, hint));
}

StatusOr<std::string> FilesystemStore::PathForLocation(std::string_view location) const {
  if (location.starts_with(kScheme)) {
    std::string_view path = location.substr(kScheme.size());
    if (path.starts_with(dir_prefix_)) {
      std::string_view name = path.substr(dir_prefix_.size());
      if (IsSafeDataName(name, NAME_MAX)) return std::string(path);
    }
  }
  return InvalidArgumentError("location is not in this image store");
}

bool FilesystemStore::Owns(std::string_view location) const {
  return PathForLocation(location).ok();
}

StatusOr<std::unique_ptr<Reader>> FilesystemStore::Open(std::string_view location) {
  ASSIGN_OR_RETURN(const std::string path, PathForLocation(location));
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, "open image data");
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    return ErrnoToStatus(err, "stat image data");
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return DataLossError("stored image data is not a regular file");
  }
  return std::unique_ptr<Reader>(std::make_unique<FilesystemReader>(fd, st.st_size));
}

Status FilesystemStore::Delete(std::string_view location) {
  ASSIGN_OR_RETURN(const std::string path, PathForLocation(location));
  if (unlink(path.c_str()) != 0) return ErrnoToStatus(errno, "delete image data");
  return OkStatus();
}

Status FilesystemStore::CleanupIncomplete() {
  DIR* dir = opendir(incoming_.c_str());
  if (dir == nullptr) {
    if (errno == ENOENT) return OkStatus();
    return ErrnoToStatus(errno, "open incoming directory");
  }
  Status first_error;
  const int dir_fd = dirfd(dir);
  errno = 0;
  while (struct dirent* entry = readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (unlinkat(dir_fd, entry->d_name, 0) != 0 && errno != ENOENT && first_error.ok()) {
      first_error = ErrnoToStatus(errno, "remove incomplete upload");
    }
    errno = 0;
  }
  if (errno != 0 && first_error.ok()) first_error = ErrnoToStatus(errno, "list incoming directory");
  closedir(dir);
  return first_error;
}

}  // namespace glimmer::store::filesystem
