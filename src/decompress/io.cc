#include "decompress/io.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace glimmer::decompress::internal {
namespace {

Status Errno(const std::string& what, int err) {
  std::string m = what + ": " + strerror(err);
  if (err == ENOENT) return NotFoundError(std::move(m));
  if (err == ENOSPC || err == EDQUOT) return ResourceExhaustedError(std::move(m));
  return InternalError(std::move(m));
}

bool AllZero(std::span<const std::byte> data) {
  return data.empty() || (data[0] == std::byte{0} &&
                          std::memcmp(data.data(), data.data() + 1, data.size() - 1) == 0);
}

}  // namespace

std::string DescribeBytes(int64_t bytes) {
  std::string s = std::to_string(bytes) + " bytes";
  if (bytes >= (int64_t{1} << 20)) s += " (" + std::to_string(bytes >> 20) + " MiB)";
  return s;
}

// InputFile

StatusOr<std::unique_ptr<InputFile>> InputFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open " + path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return Errno("cannot stat " + path, err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return InternalError("cannot decompress " + path + ": not a regular file");
  }
  return std::unique_ptr<InputFile>(new InputFile(fd, st.st_size, st.st_dev, st.st_ino));
}

InputFile::~InputFile() { ::close(fd_); }

StatusOr<size_t> InputFile::Read(std::span<std::byte> out) {
  for (;;) {
    ssize_t n = ::read(fd_, out.data(), out.size());
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return Errno("read of the compressed file failed", errno);
  }
}

StatusOr<size_t> InputFile::ReadAt(int64_t offset, std::span<std::byte> out) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd_, out.data() + done, out.size() - done,
                        static_cast<off_t>(offset + static_cast<int64_t>(done)));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("read of the compressed file failed", errno);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

// OutputFile

StatusOr<std::unique_ptr<OutputFile>> OutputFile::Create(const std::string& path,
                                                         std::string_view codec, int64_t max_bytes,
                                                         ProgressFn progress) {
  // Decompressed image data is as private as the file it comes from (staged files are 0600):
  // created 0600, and a file left there before (a crash) is made 0600 too.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create " + path, errno);
  if (::fchmod(fd, 0600) != 0) {
    int err = errno;
    ::close(fd);
    return Errno("cannot set the permissions of " + path, err);
  }
  return std::unique_ptr<OutputFile>(
      new OutputFile(fd, path, codec, max_bytes, std::move(progress)));
}

OutputFile::~OutputFile() {
  if (finished_) return;
  ::close(fd_);
  ::unlink(path_.c_str());
}

Status OutputFile::Write(std::span<const std::byte> data) {
  if (data.empty()) return OkStatus();
  const auto size = static_cast<int64_t>(data.size());
  if (size > max_bytes_ - written_) {
    return ResourceExhaustedError(std::string(codec_) +
                                  ": the decompressed image is larger than the limit of " +
                                  DescribeBytes(max_bytes_));
  }
  // Zero chunks are skipped (left as holes); Finish() extends the file to its full size.
  if (!AllZero(data)) {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done,
                           static_cast<off_t>(written_ + static_cast<int64_t>(done)));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno(std::string(codec_) + ": cannot write the decompressed image", errno);
      }
      done += static_cast<size_t>(n);
    }
  }
  written_ += size;
  if (progress_ && written_ >= next_progress_) {
    next_progress_ = (written_ / kProgressIntervalBytes + 1) * kProgressIntervalBytes;
    if (!progress_(written_)) {
      return AbortedError(std::string(codec_) + ": decompression was cancelled after " +
                          DescribeBytes(written_));
    }
  }
  return OkStatus();
}

Status OutputFile::Finish() {
  const std::string what = std::string(codec_) + ": cannot complete the decompressed image";
  if (::ftruncate(fd_, static_cast<off_t>(written_)) != 0) return Errno(what, errno);
  if (::fsync(fd_) != 0) return Errno(what, errno);
  finished_ = true;
  if (::close(fd_) != 0) {
    int err = errno;
    ::unlink(path_.c_str());
    return Errno(what, err);
  }
  return OkStatus();
}

}  // namespace glimmer::decompress::internal
