#include "staging/staging_area.h"

#include <cctype>
#include <utility>

namespace glimmer::staging {
namespace {

// The context of every I/O error: the messages of platform/file.h name the operation and the
// image id (the file's base name), never the staging directory.
constexpr std::string_view kContext = "staging area";

Status IoError(const Status& file_status) { return platform::Annotate(kContext, file_status); }

// Staged data is users' uploads before any check: owner-only.
constexpr uint32_t kDirMode = 0700;
constexpr uint32_t kFileMode = 0600;

bool ValidId(std::string_view id) {
  if (id.empty() || id.size() > 64 || id[0] == '.') return false;
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  }
  return true;
}

class FileWriter final : public StagingWriter {
 public:
  explicit FileWriter(std::unique_ptr<platform::WritableFile> file)
      : file_(std::move(file)), durable_size_(file_->size()) {}

  Status Append(std::span<const std::byte> data) override { return IoError(file_->Append(data)); }

  Status Sync() override {
    Status synced = file_->Sync();
    if (synced.ok()) {
      durable_size_ = file_->size();
      return OkStatus();
    }
    // What was written since the last Sync may be lost: do not let it count as staged.
    (void)file_->Truncate(durable_size_);
    return IoError(synced);
  }

  int64_t size() const override { return file_->size(); }

 private:
  std::unique_ptr<platform::WritableFile> file_;
  int64_t durable_size_;  // what the open (an earlier session's Sync) or the last Sync made durable
};

}  // namespace

StatusOr<std::unique_ptr<StagingArea>> StagingArea::Open(std::string dir,
                                                         platform::FileSystem& fs) {
  // Parents as mkdir -p makes them (their mode is not ours to choose); an error shows below.
  (void)fs.CreateDirs(std::string(platform::DirName(dir)), 0777);
  Status created = fs.CreateDir(dir, kDirMode);
  if (!created.ok() && created.code() != StatusCode::kAlreadyExists) return IoError(created);
  return std::unique_ptr<StagingArea>(new StagingArea(std::move(dir), fs));
}

std::string StagingArea::PathFor(std::string_view image_id) const {
  return dir_ + "/" + std::string(image_id);
}

StatusOr<int64_t> StagingArea::Size(std::string_view image_id) const {
  if (!ValidId(image_id)) return InvalidArgumentError("bad image id");
  StatusOr<platform::FileInfo> info = fs_.Stat(PathFor(image_id));
  if (!info.ok()) {
    if (info.status().code() == StatusCode::kNotFound) return int64_t{0};
    return IoError(info.status());
  }
  return info->size;
}

bool StagingArea::Exists(std::string_view image_id) const {
  return ValidId(image_id) && fs_.Exists(PathFor(image_id));
}

StatusOr<std::unique_ptr<StagingWriter>> StagingArea::OpenWriter(std::string_view image_id,
                                                                  int64_t offset) {
  if (!ValidId(image_id)) return InvalidArgumentError("bad image id");
  if (offset < 0) return InvalidArgumentError("negative staging offset");
  platform::WritableFileOptions options;
  options.mode = offset == 0 ? platform::OpenMode::kTruncate : platform::OpenMode::kAppend;
  options.permissions = kFileMode;
  StatusOr<std::unique_ptr<platform::WritableFile>> file =
      fs_.NewWritableFile(PathFor(image_id), options);
  if (!file.ok()) return IoError(file.status());
  if ((*file)->size() != offset) {
    return FailedPreconditionError("The staged data of image " + std::string(image_id) + " has " +
                                   std::to_string((*file)->size()) + " bytes; cannot resume at " +
                                   std::to_string(offset));
  }
  return std::unique_ptr<StagingWriter>(std::make_unique<FileWriter>(std::move(file).value()));
}

Status StagingArea::Remove(std::string_view image_id) {
  if (!ValidId(image_id)) return InvalidArgumentError("bad image id");
  Status removed = fs_.RemoveFile(PathFor(image_id));
  if (!removed.ok() && removed.code() != StatusCode::kNotFound) return IoError(removed);
  return OkStatus();
}

StatusOr<std::vector<std::string>> StagingArea::List() const {
  StatusOr<std::vector<std::string>> names = fs_.ListDir(dir_);
  if (!names.ok()) return IoError(names.status());
  std::vector<std::string> ids;
  for (std::string& name : *names) {
    if (ValidId(name)) ids.push_back(std::move(name));
  }
  return ids;
}

}  // namespace glimmer::staging
