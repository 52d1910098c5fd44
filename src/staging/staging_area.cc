#include "staging/staging_area.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

namespace glimmer::staging {
namespace {

Status IoError(std::string_view what, const std::string& path, int err) {
  std::string m = std::string(what) + " " + path + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return ResourceExhaustedError("staging area is full: " + m);
  return UnavailableError(m);
}

bool ValidId(std::string_view id) {
  if (id.empty() || id.size() > 64 || id[0] == '.') return false;
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  }
  return true;
}

class FileWriter final : public StagingWriter {
 public:
  FileWriter(int fd, std::string path, int64_t size) : fd_(fd), path_(std::move(path)), size_(size) {}
  ~FileWriter() override { ::close(fd_); }
  Status Append(std::span<const std::byte> data) override {
    const std::byte* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = ::pwrite(fd_, p, left, size_);
      if (n < 0) {
        if (errno == EINTR) continue;
        return IoError("cannot write", path_, errno);
      }
      p += n;
      left -= static_cast<size_t>(n);
      size_ += n;
    }
    return OkStatus();
  }
  Status Sync() override {
    if (::fdatasync(fd_) != 0) return IoError("cannot sync", path_, errno);
    return OkStatus();
  }
  int64_t size() const override { return size_; }

 private:
  int fd_;
  std::string path_;
  int64_t size_;
};

}  // namespace

StatusOr<std::unique_ptr<StagingArea>> StagingArea::Open(std::string dir) {
  // Owner-only: staged data is users' uploads before any check (the files are 0600 too).
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(dir).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return IoError("cannot create staging directory", dir, errno);
  }
  return std::unique_ptr<StagingArea>(new StagingArea(std::move(dir)));
}

std::string StagingArea::PathFor(std::string_view image_id) const {
  return dir_ + "/" + std::string(image_id);
}

StatusOr<int64_t> StagingArea::Size(std::string_view image_id) const {
  if (!ValidId(image_id)) return InvalidArgumentError("bad image id");
  struct stat st;
  if (::stat(PathFor(image_id).c_str(), &st) != 0) {
    if (errno == ENOENT) return int64_t{0};
    return IoError("cannot stat", PathFor(image_id), errno);
  }
  return static_cast<int64_t>(st.st_size);
}

bool StagingArea::Exists(std::string_view image_id) const {
  return ValidId(image_id) && ::access(PathFor(image_id).c_str(), F_OK) == 0;
}

StatusOr<std::unique_ptr<StagingWriter>> StagingArea::OpenWriter(std::string_view image_id,
                                                                  int64_t offset) {
  if (!ValidId(image_id)) return InvalidArgumentError("bad image id");
  if (offset < 0) return InvalidArgumentError("negative staging offset");
  const std::string path = PathFor(image_id);
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (offset == 0 ? O_TRUNC : 0);
  int fd = ::open(path.c_str(), flags, 0600);
  if (fd < 0) return IoError("cannot open", path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return IoError("cannot stat", path, err);
  }
  if (st.st_size != offset) {
    ::close(fd);
    return FailedPreconditionError("The staged data of image " + std::string(image_id) + " has " +
                                   std::to_string(st.st_size) + " bytes; cannot resume at " +
                                   std::to_string(offset));
  }
  return std::unique_ptr<StagingWriter>(new FileWriter(fd, path, offset));
}

Status StagingArea::Remove(std::string_view image_id) {
  if (!ValidId(image_id)) return InvalidArgumentError("bad image id");
  if (::unlink(PathFor(image_id).c_str()) != 0 && errno != ENOENT) {
    return IoError("cannot remove", PathFor(image_id), errno);
  }
  return OkStatus();
}

StatusOr<std::vector<std::string>> StagingArea::List() const {
  std::vector<std::string> ids;
  DIR* d = ::opendir(dir_.c_str());
  if (!d) return IoError("cannot list", dir_, errno);
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (ValidId(name)) ids.emplace_back(name);
  }
  ::closedir(d);
  return ids;
}

}  // namespace glimmer::staging
