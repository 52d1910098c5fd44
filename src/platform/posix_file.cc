// The POSIX FileSystem, ScopedFd, and the one errno -> Status mapping (PosixError).

#include "platform/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace glimmer::platform {
namespace {

// strerror_r comes in two shapes: GNU's returns the message, XSI's fills the buffer.
[[maybe_unused]] const char* StrerrorResult(const char* message, const char* /*buffer*/) {
  return message;
}
[[maybe_unused]] const char* StrerrorResult(int rc, const char* buffer) {
  return rc == 0 ? buffer : "Unknown error";
}

std::string ErrnoText(int err) {
  char buf[256];
  buf[0] = '\0';
  return StrerrorResult(strerror_r(err, buf, sizeof buf), buf);
}

FileType TypeOf(mode_t mode) {
  if (S_ISREG(mode)) return FileType::kRegular;
  if (S_ISDIR(mode)) return FileType::kDirectory;
  if (S_ISLNK(mode)) return FileType::kSymlink;
  if (S_ISBLK(mode)) return FileType::kBlockDevice;
  return FileType::kOther;
}

FileInfo InfoOf(const struct stat& st) {
  FileInfo info;
  info.type = TypeOf(st.st_mode);
  info.size = static_cast<int64_t>(st.st_size);
  info.allocated_bytes = static_cast<int64_t>(st.st_blocks) * 512;
  info.permissions = static_cast<uint32_t>(st.st_mode & 07777);
  info.owner = static_cast<uint32_t>(st.st_uid);
  info.device = static_cast<uint64_t>(st.st_dev);
  info.inode = static_cast<uint64_t>(st.st_ino);
  return info;
}

// "<op> <base name>", the context of a file's errors.
std::string Context(std::string_view op, std::string_view path) {
  std::string out(op);
  out += ' ';
  out += BaseName(path);
  return out;
}

// pread until `out` is full or the end of the file.
StatusOr<size_t> PreadFully(int fd, int64_t offset, std::span<std::byte> out,
                            const std::string& name) {
  if (offset < 0) return InvalidArgumentError("read " + name + ": negative offset");
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(fd, out.data() + done, out.size() - done,
                              static_cast<off_t>(offset + static_cast<int64_t>(done)));
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError("read " + name, errno);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

// pwrite all of `data` at `offset`; `*written` counts the bytes that made it, even on error.
Status PwriteFully(int fd, int64_t offset, std::span<const std::byte> data, const std::string& name,
                   size_t* written) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done,
                               static_cast<off_t>(offset + static_cast<int64_t>(done)));
    if (n < 0) {
      if (errno == EINTR) continue;
      *written = done;
      return PosixError("write " + name, errno);
    }
    done += static_cast<size_t>(n);
  }
  *written = done;
  return OkStatus();
}

StatusOr<FileInfo> StatFd(int fd, const std::string& name) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return PosixError("stat " + name, errno);
  FileInfo info = InfoOf(st);
  if (info.type == FileType::kBlockDevice) {
    // st_size is 0 for a block device; its end is its capacity. (pread ignores the offset.)
    const off_t end = ::lseek(fd, 0, SEEK_END);
    if (end >= 0) info.size = static_cast<int64_t>(end);
  }
  return info;
}

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(ScopedFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name)) {}

  StatusOr<size_t> Read(std::span<std::byte> out) override {
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = ::read(fd_.get(), out.data() + done, out.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return PosixError("read " + name_, errno);
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }

 private:
  ScopedFd fd_;
  std::string name_;  // base name, for messages
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(ScopedFd fd, std::string name)
      : fd_(std::move(fd)), name_(std::move(name)) {}

  StatusOr<size_t> ReadAt(int64_t offset, std::span<std::byte> out) const override {
    return PreadFully(fd_.get(), offset, out, name_);
  }
  StatusOr<FileInfo> Stat() const override { return StatFd(fd_.get(), name_); }
  std::optional<int> file_descriptor() const override { return fd_.get(); }

 private:
  ScopedFd fd_;
  std::string name_;
};

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(ScopedFd fd, std::string name, int64_t size)
      : fd_(std::move(fd)), name_(std::move(name)), size_(size) {}

  Status Append(std::span<const std::byte> data) override {
    RETURN_IF_ERROR(CheckOpen());
    size_t written = 0;
    Status st = PwriteFully(fd_.get(), size_, data, name_, &written);
    size_ += static_cast<int64_t>(written);
    return st;
  }

  Status WriteAt(int64_t offset, std::span<const std::byte> data) override {
    RETURN_IF_ERROR(CheckOpen());
    if (offset < 0) return InvalidArgumentError("write " + name_ + ": negative offset");
    size_t written = 0;
    return PwriteFully(fd_.get(), offset, data, name_, &written);
  }

  Status Truncate(int64_t size) override {
    RETURN_IF_ERROR(CheckOpen());
    if (size < 0) return InvalidArgumentError("truncate " + name_ + ": negative size");
    if (::ftruncate(fd_.get(), static_cast<off_t>(size)) != 0) {
      return PosixError("truncate " + name_, errno);
    }
    size_ = size;
    return OkStatus();
  }

  Status Allocate(int64_t offset, int64_t length) override {
    RETURN_IF_ERROR(CheckOpen());
    if (offset < 0 || length <= 0) {
      return InvalidArgumentError("allocate " + name_ + ": bad range");
    }
    int rc;
    do {
      rc = ::fallocate(fd_.get(), FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                       static_cast<off_t>(length));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) return PosixError("allocate " + name_, errno);
    return OkStatus();
  }

  Status Sync() override {
    RETURN_IF_ERROR(CheckOpen());
    if (::fdatasync(fd_.get()) != 0) return PosixError("fsync " + name_, errno);
    return OkStatus();
  }

  Status Close() override {
    if (!fd_.valid()) return OkStatus();
    return fd_.Close("close " + name_);
  }

  int64_t size() const override { return size_; }

 private:
  Status CheckOpen() const {
    if (!fd_.valid()) return FailedPreconditionError(name_ + " is closed");
    return OkStatus();
  }

  ScopedFd fd_;
  std::string name_;
  int64_t size_;
};

class PosixFileSystem final : public FileSystem {
 public:
  StatusOr<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override {
    ASSIGN_OR_RETURN(ScopedFd fd, OpenForReading(path));
    (void)::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);  // read-ahead; a hint only
    return std::unique_ptr<SequentialFile>(
        std::make_unique<PosixSequentialFile>(std::move(fd), std::string(BaseName(path))));
  }

  StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override {
    ASSIGN_OR_RETURN(ScopedFd fd, OpenForReading(path));
    return std::unique_ptr<RandomAccessFile>(
        std::make_unique<PosixRandomAccessFile>(std::move(fd), std::string(BaseName(path))));
  }

  StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path, const WritableFileOptions& options) override {
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC;
    switch (options.mode) {
      case OpenMode::kCreateExclusive:
        flags |= O_EXCL;
        break;
      case OpenMode::kTruncate:
        flags |= O_TRUNC;
        break;
      case OpenMode::kAppend:
        break;
    }
    const std::string name(BaseName(path));
    ScopedFd fd(Retry([&] { return ::open(path.c_str(), flags, options.permissions & 07777); }));
    if (!fd.valid()) {
      return PosixError((options.mode == OpenMode::kCreateExclusive ? "create " : "open ") + name,
                        errno);
    }
    if (options.force_permissions && ::fchmod(fd.get(), options.permissions & 07777) != 0) {
      return PosixError("chmod " + name, errno);
    }
    int64_t size = 0;
    if (options.mode == OpenMode::kAppend) {
      struct stat st;
      if (::fstat(fd.get(), &st) != 0) return PosixError("stat " + name, errno);
      size = static_cast<int64_t>(st.st_size);
    }
    return std::unique_ptr<WritableFile>(
        std::make_unique<PosixWritableFile>(std::move(fd), name, size));
  }

  StatusOr<FileInfo> Stat(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError(Context("stat", path), errno);
    return InfoOf(st);
  }

  StatusOr<FileInfo> StatNoFollow(const std::string& path) override {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return PosixError(Context("stat", path), errno);
    return InfoOf(st);
  }

  StatusOr<std::vector<std::string>> ListDir(const std::string& path) override {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return PosixError(Context("list", path), errno);
    std::vector<std::string> names;
    errno = 0;
    while (const struct dirent* entry = ::readdir(dir)) {
      const std::string_view name = entry->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
      errno = 0;
    }
    const int err = errno;
    ::closedir(dir);
    if (err != 0) return PosixError(Context("list", path), err);
    return names;
  }

  Status CreateDir(const std::string& path, uint32_t permissions) override {
    if (::mkdir(path.c_str(), permissions & 07777) != 0) {
      return PosixError(Context("mkdir", path), errno);
    }
    return OkStatus();
  }

  Status Chmod(const std::string& path, uint32_t permissions) override {
    if (::chmod(path.c_str(), permissions & 07777) != 0) {
      return PosixError(Context("chmod", path), errno);
    }
    return OkStatus();
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError(Context("remove", path), errno);
    return OkStatus();
  }

  Status Rename(const std::string& from, const std::string& to, RenameMode mode) override {
    const std::string context = Context("rename", from) + " to " + std::string(BaseName(to));
    if (mode == RenameMode::kReplace) {
      if (::rename(from.c_str(), to.c_str()) != 0) return PosixError(context, errno);
      return OkStatus();
    }
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
      return OkStatus();
    }
    const int err = errno;
    if (err != EINVAL && err != ENOSYS) return PosixError(context, err);
    // A filesystem without RENAME_NOREPLACE: link() never replaces either.
    if (::link(from.c_str(), to.c_str()) != 0) return PosixError(context, errno);
    if (::unlink(from.c_str()) != 0) {
      const int unlink_err = errno;
      ::unlink(to.c_str());  // undo: `from` keeps the only name
      return PosixError(context, unlink_err);
    }
    return OkStatus();
  }

  Status Link(const std::string& from, const std::string& to) override {
    if (::link(from.c_str(), to.c_str()) != 0) {
      return PosixError(Context("link", from) + " to " + std::string(BaseName(to)), errno);
    }
    return OkStatus();
  }

  Status SyncDir(const std::string& path) override {
    ScopedFd fd(Retry([&] { return ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); }));
    if (!fd.valid()) return PosixError(Context("open", path), errno);
    if (::fsync(fd.get()) != 0) return PosixError(Context("fsync", path), errno);
    return OkStatus();
  }

  Status SyncFile(const std::string& path) override {
    ASSIGN_OR_RETURN(ScopedFd fd, OpenForReading(path));
    if (::fsync(fd.get()) != 0) return PosixError(Context("fsync", path), errno);
    return OkStatus();
  }

  StatusOr<std::string> RealPath(const std::string& path) override {
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved) == nullptr) {
      return PosixError(Context("resolve", path), errno);
    }
    return std::string(resolved);
  }

  Status CheckAccess(const std::string& path, Access access) override {
    if (::access(path.c_str(), static_cast<int>(access)) != 0) {
      return PosixError(Context("access", path), errno);
    }
    return OkStatus();
  }

 private:
  // open(2) may be interrupted (a FIFO, NFS with intr): retried.
  template <typename F>
  static int Retry(F&& open_call) {
    int fd;
    do {
      fd = open_call();
    } while (fd < 0 && errno == EINTR);
    return fd;
  }

  static StatusOr<ScopedFd> OpenForReading(const std::string& path) {
    ScopedFd fd(Retry([&] { return ::open(path.c_str(), O_RDONLY | O_CLOEXEC); }));
    if (!fd.valid()) return PosixError(Context("open", path), errno);
    return fd;
  }
};

}  // namespace

Status PosixError(std::string_view context, int err) {
  std::string message(context);
  message += ": ";
  message += ErrnoText(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return NotFoundError(std::move(message));
    case EEXIST:
    case ENOTEMPTY:
      return AlreadyExistsError(std::move(message));
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return ResourceExhaustedError(std::move(message));
    // Not PermissionDenied: in abseil's guide that code says *the caller* lacks a permission.
    // When the process is refused its own data or staging directory (wrong owner or mode, a
    // read-only mount), the API client asked for something it may do; the service's set-up is
    // at fault, and the same call succeeds once an operator fixes it. That is Unavailable,
    // which is also what Glance answers (StorageWriteDenied: 503). PermissionDenied would send
    // a 403, telling the client that its credentials are the problem.
    case EACCES:
    case EPERM:
    case EROFS:
    // Transient: out of descriptors or memory, a busy or timed-out (network) filesystem.
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case EAGAIN:
    case EBUSY:
    case ETXTBSY:
    case ETIMEDOUT:
    case ESTALE:
    case EINTR:
      return UnavailableError(std::move(message));
    case EOPNOTSUPP:
#if EOPNOTSUPP != ENOTSUP
    case ENOTSUP:
#endif
    case ENOSYS:
    case EXDEV:  // a rename or link across two filesystems: the caller copies instead
      return UnimplementedError(std::move(message));
    default:  // EIO (the device failed: data may be lost) and what should not happen
      return InternalError(std::move(message));
  }
}

void ScopedFd::reset(int fd) {
  if (fd_ >= 0 && fd_ != fd) ::close(fd_);
  fd_ = fd;
}

Status ScopedFd::Close(std::string_view context) {
  if (fd_ < 0) return OkStatus();
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0 && errno != EINTR) return PosixError(context, errno);
  return OkStatus();
}

Status WriteFully(int fd, std::span<const std::byte> data, std::string_view context) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError(context, errno);
    }
    if (n == 0) return PosixError(context, EIO);
    done += static_cast<size_t>(n);
  }
  return OkStatus();
}

FileSystem& FileSystem::Default() {
  static PosixFileSystem* const fs = new PosixFileSystem();  // never destroyed
  return *fs;
}

}  // namespace glimmer::platform
