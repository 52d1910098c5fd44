#include "formats/source.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace glimmer::formats {
namespace {

Status Errno(const std::string& what, int err) {
  std::string m = what + ": " + strerror(err);
  if (err == ENOENT) return NotFoundError(m);
  if (err == ENOSPC || err == EDQUOT) return ResourceExhaustedError(m);
  return InternalError(m);
}

}  // namespace

Status ReadExact(Source& src, int64_t offset, std::span<std::byte> out) {
  if (offset < 0 || offset > src.size() || static_cast<int64_t>(out.size()) > src.size() - offset) {
    return DataLossError("read of " + std::to_string(out.size()) + " bytes at " +
                         std::to_string(offset) + " is past the end of the input");
  }
  size_t done = 0;
  while (done < out.size()) {
    ASSIGN_OR_RETURN(size_t n, src.ReadAt(offset + static_cast<int64_t>(done), out.subspan(done)));
    if (n == 0) return DataLossError("input shorter than its size");
    done += n;
  }
  return OkStatus();
}

StatusOr<std::unique_ptr<FileSource>> FileSource::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open " + path, errno);
  return FromFd(fd, true);
}

StatusOr<std::unique_ptr<FileSource>> FileSource::FromFd(int fd, bool owned) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    if (owned) ::close(fd);
    return Errno("fstat", err);
  }
  int64_t size = st.st_size;
  if (S_ISBLK(st.st_mode)) {
    off_t end = lseek(fd, 0, SEEK_END);
    if (end >= 0) size = end;
  }
  return std::unique_ptr<FileSource>(new FileSource(fd, size, owned));
}

FileSource::~FileSource() {
  if (owned_) ::close(fd_);
}

StatusOr<size_t> FileSource::ReadAt(int64_t offset, std::span<std::byte> out) {
  if (offset < 0) return InvalidArgumentError("negative offset");
  if (offset >= size_) return size_t{0};
  size_t want =
      static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(out.size()), size_ - offset));
  size_t done = 0;
  while (done < want) {
    ssize_t n = ::pread(fd_, out.data() + done, want - done, offset + static_cast<int64_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return DataLossError(std::string("read: ") + strerror(errno));
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

StatusOr<size_t> MemorySource::ReadAt(int64_t offset, std::span<std::byte> out) {
  if (offset < 0) return InvalidArgumentError("negative offset");
  if (offset >= size()) return size_t{0};
  size_t n = std::min<size_t>(out.size(), data_.size() - static_cast<size_t>(offset));
  std::memcpy(out.data(), data_.data() + offset, n);
  return n;
}

StatusOr<std::unique_ptr<FileSink>> FileSink::Create(const std::string& path, bool sync,
                                                     unsigned mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                  static_cast<mode_t>(mode));
  if (fd < 0) return Errno("create " + path, errno);
  return std::unique_ptr<FileSink>(new FileSink(fd, sync));
}

FileSink::~FileSink() { ::close(fd_); }

Status FileSink::SetSize(int64_t size) {
  if (::ftruncate(fd_, size) != 0) return Errno("ftruncate", errno);
  return OkStatus();
}

Status FileSink::WriteAt(int64_t offset, std::span<const std::byte> data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        ::pwrite(fd_, data.data() + done, data.size() - done, offset + static_cast<int64_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write", errno);
    }
    done += static_cast<size_t>(n);
  }
  return OkStatus();
}

Status FileSink::Finish() {
  if (sync_ && ::fsync(fd_) != 0) return Errno("fsync", errno);
  return OkStatus();
}

Status MemorySink::SetSize(int64_t size) {
  if (size < 0 || size > (int64_t{1} << 32)) return InvalidArgumentError("MemorySink size");
  data_.assign(static_cast<size_t>(size), std::byte{0});
  return OkStatus();
}

Status MemorySink::WriteAt(int64_t offset, std::span<const std::byte> data) {
  if (offset < 0 || offset + static_cast<int64_t>(data.size()) > (int64_t{1} << 32)) {
    return OutOfRangeError("MemorySink write past 4 GiB");
  }
  if (offset + data.size() > data_.size()) data_.resize(offset + data.size());
  std::memcpy(data_.data() + offset, data.data(), data.size());
  return OkStatus();
}

}  // namespace glimmer::formats
