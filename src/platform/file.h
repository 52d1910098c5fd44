#pragma once
// Files and directories: the one seam between Glimmer and the operating system's file API, in
// the shape of leveldb's Env (include/leveldb/env.h) and rocksdb's FileSystem. Components take a
// FileSystem& (FileSystem::Default() is POSIX) so that a test can hand them a FileSystemWrapper
// that injects faults (platform/testing/fault_injection_file_system.h): ENOSPC on a write, a
// failing fsync or rename.
//
// Errors. An errno becomes a Status in exactly one place, PosixError() (posix_file.cc):
//   ENOENT, ENOTDIR                        -> NotFound
//   EEXIST, ENOTEMPTY                      -> AlreadyExists (an exclusive create, a no-replace
//                                             rename, a directory that exists)
//   ENOSPC, EDQUOT, EFBIG                  -> ResourceExhausted (disk, quota or file size full)
//   EACCES, EPERM, EROFS                   -> Unavailable (the service's own set-up; see
//                                             PosixError() for why not PermissionDenied)
//   EMFILE, ENFILE, ENOMEM, EAGAIN, EBUSY,
//   ETXTBSY, ETIMEDOUT, ESTALE, EINTR      -> Unavailable (transient: retrying may succeed)
//   EOPNOTSUPP, ENOSYS, EXDEV              -> Unimplemented (not supported by this filesystem,
//                                             or not across two filesystems)
//   EIO and anything else                  -> Internal
// Messages are "<context>: <strerror>". The context names the operation and the file's base
// name only ("write 0b9c6a1e-….part: No space left on device"), never a directory: messages
// travel up to API clients (the body of a 503 or 413), and server paths are not theirs to see.
// Callers add their own context with Annotate().
//
// Modes. Every call that creates a file or directory takes its permission bits explicitly;
// they are applied like open(2)/mkdir(2) do, less the process umask, unless stated otherwise.
//
// Thread-safety. A FileSystem may be used from any number of threads. A file object is used
// by one thread at a time, except RandomAccessFile::ReadAt and WritableFile::WriteAt, which may
// run concurrently (pread/pwrite). File objects do not reference their FileSystem: they may
// outlive it.
//
// All calls block on the disk: run them where blocking is allowed (not on an event loop).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace glimmer::platform {

// PosixError()
//
// The Status for a failed system call: `err` (an errno value) mapped as in the table above,
// with the message "<context>: <strerror_r(err)>". `context` must not contain a directory: use
// an operation and a base name ("fsync img.part"), or a component's label ("staging: write").
Status PosixError(std::string_view context, int err);

// BaseName()
//
// The last component of `path`, for messages: "/srv/glimmer/staging/abc" -> "abc",
// "dir/" -> "dir", "/" -> "/". A view into `path`.
std::string_view BaseName(std::string_view path);

// DirName()
//
// `path` without its last component: "/srv/glimmer/staging" -> "/srv/glimmer", "dir/" -> ".",
// "/a" -> "/", "name" -> ".". A view into `path` (or a literal).
std::string_view DirName(std::string_view path);

// Annotate()
//
// `status` with "<context>: " in front of its message and the same code; OK stays OK.
Status Annotate(std::string_view context, const Status& status);

// WriteFully()
//
// Writes all of `data` to the open descriptor `fd` (a terminal, a pipe, a file) from its
// current position, retrying short writes and EINTR. Errors: PosixError(context, errno).
Status WriteFully(int fd, std::span<const std::byte> data, std::string_view context);

// ScopedFd owns a file descriptor and closes it when destroyed (ignoring close()'s error: call
// Close() where it matters). Movable, not copyable. Not thread-safe.
class ScopedFd {
 public:
  ScopedFd() = default;
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(ScopedFd&& other) noexcept : fd_(other.release()) {}
  ScopedFd& operator=(ScopedFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives up ownership: the caller closes the returned descriptor.
  [[nodiscard]] int release() { return std::exchange(fd_, -1); }
  // Closes the owned descriptor (if any) and owns `fd` instead.
  void reset(int fd = -1);
  // Closes now and reports close()'s error, which can be a delayed write error (NFS, a full
  // thin volume): PosixError(context, errno). The descriptor is released even then (close is
  // never retried: on Linux the descriptor is gone after EINTR too). OK when none is owned.
  Status Close(std::string_view context);

 private:
  int fd_ = -1;
};

enum class FileType { kRegular, kDirectory, kSymlink, kBlockDevice, kOther };

// What stat(2) says about a file.
struct FileInfo {
  FileType type = FileType::kOther;
  int64_t size = 0;             // bytes; for a block device, its capacity
  int64_t allocated_bytes = 0;  // disk space in use (st_blocks * 512)
  uint32_t permissions = 0;     // st_mode & 07777 (permission, set-id and sticky bits)
  uint32_t owner = 0;           // st_uid
  uint64_t device = 0;          // (device, inode) identifies the file
  uint64_t inode = 0;
};

// Sequential reads of a file opened for reading (the kernel is told so: larger read-ahead).
// One thread at a time.
class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to out.size() bytes from the current position: fewer only at the end of the file,
  // 0 there. Errors: PosixError (Internal for EIO, ...).
  virtual StatusOr<size_t> Read(std::span<std::byte> out) = 0;
};

// Positional reads of a file opened for reading.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to out.size() bytes at `offset`: fewer only at the end of the file, 0 at or past
  // it. InvalidArgument for a negative offset; PosixError for I/O errors. May be called from
  // several threads at once.
  virtual StatusOr<size_t> ReadAt(int64_t offset, std::span<std::byte> out) const = 0;
  // What fstat(2) says about the open file (the one opened, even if its name was replaced
  // since). A block device's size is its capacity.
  virtual StatusOr<FileInfo> Stat() const = 0;
  // The descriptor, for sendfile(2). Owned by the file; nullopt when there is none (a fake).
  virtual std::optional<int> file_descriptor() const { return std::nullopt; }
};

// Writes to a file opened for writing. Destroying it closes the file (errors ignored: call
// Close() to see them); it never removes the file.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Writes `data` at the append position (see size()) and advances it. On error a prefix of
  // `data` may have been written (a disk that fills up mid-way): size() counts it.
  // ResourceExhausted (ENOSPC, EDQUOT, EFBIG), Internal (EIO), ...; FailedPrecondition after
  // Close().
  virtual Status Append(std::span<const std::byte> data) = 0;
  // Writes `data` at `offset` (extending the file if needed); the append position does not
  // move. May be called from several threads at once for disjoint ranges. Errors as Append.
  virtual Status WriteAt(int64_t offset, std::span<const std::byte> data) = 0;
  // Sets the file's length (ftruncate): bytes past it are dropped, a longer file reads as zeros
  // there (a hole). The append position becomes `size`.
  virtual Status Truncate(int64_t size) = 0;
  // Reserves disk blocks for [offset, offset + length) without changing the length
  // (fallocate(FALLOC_FL_KEEP_SIZE)). ResourceExhausted when the disk is full; Unimplemented
  // when the filesystem cannot reserve (the caller may go on without).
  virtual Status Allocate(int64_t offset, int64_t length) = 0;
  // Makes the data written so far, and the length, durable (fdatasync). After an error the
  // data since the last successful Sync may be lost, whatever a read of the file shows.
  virtual Status Sync() = 0;
  // Closes the file, reporting close()'s error. Every later call fails (FailedPrecondition);
  // a second Close() is OK.
  virtual Status Close() = 0;
  // The append position: the length the file had when opened (0 for a new or truncated file),
  // plus what Append() wrote (a failed Append's partial write included), or what Truncate()
  // set last.
  virtual int64_t size() const = 0;
};

enum class OpenMode {
  kCreateExclusive,  // a new file: AlreadyExists if the name exists (O_EXCL: never follows a
                     // symlink, never opens someone else's file)
  kTruncate,         // create, or empty an existing file
  kAppend,           // create, or keep an existing file's data: Append() continues at its end
};

struct WritableFileOptions {
  OpenMode mode = OpenMode::kCreateExclusive;
  // Permission bits of a file this call creates, less the umask.
  uint32_t permissions = 0600;
  // Also give an existing file exactly `permissions` (fchmod), and a new one too whatever the
  // umask: a leftover of a crash keeps no looser mode.
  bool force_permissions = false;
};

enum class RenameMode {
  kReplace,    // rename(2): an existing `to` is replaced atomically
  kNoReplace,  // AlreadyExists if `to` exists (renameat2 RENAME_NOREPLACE, or link + unlink on
               // filesystems without it); an existing `to` is never touched
};

// Bits for FileSystem::CheckAccess.
enum class Access : unsigned { kExists = 0, kRead = 4, kWrite = 2, kExecute = 1 };
constexpr Access operator|(Access a, Access b) {
  return static_cast<Access>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}

// The file operations of the process. Methods may be called from any thread. Paths are
// absolute or relative to the current directory; messages only ever show base names.
class FileSystem {
 public:
  FileSystem() = default;
  virtual ~FileSystem() = default;
  FileSystem(const FileSystem&) = delete;
  FileSystem& operator=(const FileSystem&) = delete;

  // The POSIX file system. Process-wide, never destroyed; thread-safe.
  static FileSystem& Default();

  // Opens `path` for reading. NotFound if absent; PosixError otherwise. A directory opens (as
  // open(2) allows); reading it fails.
  virtual StatusOr<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) = 0;
  virtual StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) = 0;
  // Opens `path` for writing as `options` say. AlreadyExists (kCreateExclusive and the name
  // exists), NotFound (the directory does not exist), Unavailable (permissions), ...
  virtual StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path, const WritableFileOptions& options) = 0;

  // stat(2), following symlinks. NotFound if absent.
  virtual StatusOr<FileInfo> Stat(const std::string& path) = 0;
  // lstat(2): a symlink is described, not followed. NotFound if absent.
  virtual StatusOr<FileInfo> StatNoFollow(const std::string& path) = 0;
  // Names in the directory (not "." and ".."), in no particular order. NotFound if absent.
  virtual StatusOr<std::vector<std::string>> ListDir(const std::string& path) = 0;
  // mkdir(2) with `permissions` (less the umask). AlreadyExists if the name exists (whatever it
  // is), NotFound if the parent does not.
  virtual Status CreateDir(const std::string& path, uint32_t permissions) = 0;
  // chmod(2), following symlinks.
  virtual Status Chmod(const std::string& path, uint32_t permissions) = 0;
  // unlink(2). NotFound if absent.
  virtual Status RemoveFile(const std::string& path) = 0;
  // Renames a file or directory; see RenameMode. NotFound if `from` is absent.
  virtual Status Rename(const std::string& from, const std::string& to, RenameMode mode) = 0;
  // Gives the file `from` the second name `to` (a hard link; no data is copied). AlreadyExists
  // if `to` exists, NotFound if `from` does not; Unimplemented when `to` is on another
  // filesystem (EXDEV) or the filesystem has no hard links (the caller copies instead).
  virtual Status Link(const std::string& from, const std::string& to) = 0;
  // Makes the directory's entries durable (fsync of the directory): after a create, rename or
  // unlink in it that must survive a crash.
  virtual Status SyncDir(const std::string& path) = 0;
  // Makes a file's data durable by its name (opened read-only, fsync): for a file written
  // elsewhere (another component, another name) before it is published. NotFound if absent.
  virtual Status SyncFile(const std::string& path) = 0;
  // The absolute path with symlinks, "." and ".." resolved (realpath(3)). NotFound if absent.
  virtual StatusOr<std::string> RealPath(const std::string& path) = 0;
  // access(2) with `access`'s bits. Unavailable (EACCES, EROFS) when not allowed.
  virtual Status CheckAccess(const std::string& path, Access access) = 0;

  // Helpers built on the methods above (a FileSystemWrapper affects them too).

  // True if something exists at `path` (Stat succeeds).
  bool Exists(const std::string& path);
  // mkdir -p: creates each missing directory of `path` with `permissions` (less the umask);
  // existing ones are left as they are. OK if `path` exists already.
  Status CreateDirs(const std::string& path, uint32_t permissions);
};

// FileSystemWrapper forwards every call to a target FileSystem, so a subclass overrides only
// what it changes (leveldb's EnvWrapper). The target must outlive the wrapper.
class FileSystemWrapper : public FileSystem {
 public:
  explicit FileSystemWrapper(FileSystem& target) : target_(target) {}
  FileSystem& target() const { return target_; }

  StatusOr<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override {
    return target_.NewSequentialFile(path);
  }
  StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override {
    return target_.NewRandomAccessFile(path);
  }
  StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path, const WritableFileOptions& options) override {
    return target_.NewWritableFile(path, options);
  }
  StatusOr<FileInfo> Stat(const std::string& path) override { return target_.Stat(path); }
  StatusOr<FileInfo> StatNoFollow(const std::string& path) override {
    return target_.StatNoFollow(path);
  }
  StatusOr<std::vector<std::string>> ListDir(const std::string& path) override {
    return target_.ListDir(path);
  }
  Status CreateDir(const std::string& path, uint32_t permissions) override {
    return target_.CreateDir(path, permissions);
  }
  Status Chmod(const std::string& path, uint32_t permissions) override {
    return target_.Chmod(path, permissions);
  }
  Status RemoveFile(const std::string& path) override { return target_.RemoveFile(path); }
  Status Rename(const std::string& from, const std::string& to, RenameMode mode) override {
    return target_.Rename(from, to, mode);
  }
  Status Link(const std::string& from, const std::string& to) override {
    return target_.Link(from, to);
  }
  Status SyncDir(const std::string& path) override { return target_.SyncDir(path); }
  Status SyncFile(const std::string& path) override { return target_.SyncFile(path); }
  StatusOr<std::string> RealPath(const std::string& path) override {
    return target_.RealPath(path);
  }
  Status CheckAccess(const std::string& path, Access access) override {
    return target_.CheckAccess(path, access);
  }

 private:
  FileSystem& target_;
};

// ReadFileToString()
//
// The whole content of a (small) file. ResourceExhausted if it is larger than `max_bytes`;
// NotFound if absent; PosixError otherwise.
StatusOr<std::string> ReadFileToString(FileSystem& fs, const std::string& path, int64_t max_bytes);

// WriteFileAtomically()
//
// Replaces `path` with `contents`, never showing a partial file: writes `path`.tmp (created
// exclusively with `permissions` exactly, so it is never readable by others even briefly; a
// leftover of a crash is removed first), syncs it, renames it over `path`, and syncs the
// directory. On an error before the rename `path` is unchanged and the temporary file is
// removed; an error syncing the directory is reported with the new content in place (it may
// not survive a crash).
Status WriteFileAtomically(FileSystem& fs, const std::string& path, std::string_view contents,
                           uint32_t permissions);

}  // namespace glimmer::platform
