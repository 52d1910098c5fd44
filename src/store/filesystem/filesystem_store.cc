#include "store/filesystem/filesystem_store.h"

#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "platform/random.h"
#include "store/filesystem/errno_status.h"
#include "store/names.h"

namespace glimmer::store::filesystem {
namespace {

constexpr std::string_view kScheme = "file://";
constexpr uint32_t kFileMode = 0640;
constexpr uint32_t kDirMode = 0750;
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

class FilesystemWriter final : public Writer {
 public:
  FilesystemWriter(platform::FileSystem& fs, std::unique_ptr<platform::WritableFile> file,
                   std::string part_path, std::string dir, std::string final_path, bool fsync,
                   int64_t size_hint)
      : fs_(fs),
        file_(std::move(file)),
        part_path_(std::move(part_path)),
        dir_(std::move(dir)),
        final_path_(std::move(final_path)),
        fsync_(fsync),
        size_hint_(size_hint) {}
  ~FilesystemWriter() override { Abort(); }

  Status Append(std::span<const std::byte> data) override {
    if (file_ == nullptr) return FailedPreconditionError("image writer is finished");
    RETURN_IF_ERROR(Preallocate(file_->size() + static_cast<int64_t>(data.size())));
    return StoreError(file_->Append(data));
  }

  StatusOr<std::string> Commit() override {
    if (file_ == nullptr) return FailedPreconditionError("image writer is finished");
    Status status = Finalize();
    if (!status.ok()) {
      Abort();
      return StoreError(status);
    }
    return std::string(kScheme) + final_path_;
  }

  std::string location() const override { return std::string(kScheme) + final_path_; }

  void Abort() override {
    file_.reset();  // closes
    if (!part_path_.empty()) {
      (void)fs_.RemoveFile(part_path_);
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
    Status reserved = file_->Allocate(preallocated_, target - preallocated_);
    if (reserved.ok()) {
      preallocated_ = target;
      return OkStatus();
    }
    if (reserved.code() == StatusCode::kResourceExhausted) return StoreError(reserved);
    prealloc_supported_ = false;  // not supported here: it was only an optimisation
    return OkStatus();
  }

  // Makes the part file durable and visible under its final name; on error the caller aborts.
  Status Finalize() {
    // Give back blocks preallocated for a size hint that turned out too large.
    if (file_->size() < preallocated_) RETURN_IF_ERROR(file_->Truncate(file_->size()));
    if (fsync_) RETURN_IF_ERROR(file_->Sync());
    RETURN_IF_ERROR(file_->Close());
    file_.reset();

    // The final name was chosen when the writer was created (callers may have recorded it);
    // never replace existing data under it.
    RETURN_IF_ERROR(fs_.Rename(part_path_, final_path_, platform::RenameMode::kNoReplace));
    part_path_.clear();  // nothing left to remove on Abort()
    if (fsync_) {
      Status synced = fs_.SyncDir(dir_);
      if (!synced.ok()) {
        (void)fs_.RemoveFile(final_path_);  // not durable: do not leave it behind as committed
        return synced;
      }
    }
    return OkStatus();
  }

  platform::FileSystem& fs_;
  std::unique_ptr<platform::WritableFile> file_;  // null once committed or aborted
  std::string part_path_;                         // empty once renamed or removed
  std::string dir_;
  std::string final_path_;
  bool fsync_;
  int64_t size_hint_;         // 0 when unknown: nothing is preallocated
  int64_t preallocated_ = 0;  // end of the blocks reserved so far
  bool prealloc_supported_ = true;
};

class FilesystemReader final : public Reader {
 public:
  FilesystemReader(std::unique_ptr<platform::RandomAccessFile> file, int64_t size)
      : file_(std::move(file)), size_(size) {}

  int64_t size() const override { return size_; }

  StatusOr<size_t> ReadAt(int64_t offset, std::span<std::byte> out) override {
    if (offset < 0) return OutOfRangeError("negative read offset");
    StatusOr<size_t> n = file_->ReadAt(offset, out);
    if (!n.ok()) return StoreError(n.status());
    return n;
  }

  std::optional<int> file_descriptor() const override { return file_->file_descriptor(); }

 private:
  std::unique_ptr<platform::RandomAccessFile> file_;
  int64_t size_;
};

}  // namespace

FilesystemStore::FilesystemStore(std::string store_id, std::string data_dir, bool fsync,
                                 platform::FileSystem& fs)
    : fs_(fs), dir_(MakeAbsolute(data_dir)), fsync_(fsync) {
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
                                                                   std::string data_dir, bool fsync,
                                                                   platform::FileSystem& fs) {
  auto store = std::make_unique<FilesystemStore>(store_id, data_dir, fsync, fs);
  RETURN_IF_ERROR(store->EnsureDirectories());
  StatusOr<std::string> resolved = fs.RealPath(store->dir_);
  if (!resolved.ok()) return StoreError(resolved.status());
  auto canonical =
      std::make_unique<FilesystemStore>(std::move(store_id), std::move(*resolved), fsync, fs);
  for (const std::string* dir : {&canonical->incoming_, &canonical->dir_}) {
    Status usable = fs.CheckAccess(*dir, platform::Access::kWrite | platform::Access::kExecute);
    if (!usable.ok()) return StoreError(usable);
  }
  return canonical;
}

Status FilesystemStore::EnsureDirectories() const {
  RETURN_IF_ERROR(StoreError(fs_.CreateDirs(dir_, kDirMode)));
  return StoreError(fs_.CreateDirs(incoming_, kDirMode));
}

StatusOr<std::unique_ptr<Writer>> FilesystemStore::NewWriter(std::string_view image_id,
                                                             std::optional<int64_t> size_hint) {
  if (!IsSafeDataName(image_id, kMaxImageIdLength)) {
    return InvalidArgumentError("image id is not usable as a file name");
  }
  const std::string id(image_id);
  const std::string part = incoming_ + "/" + id + "." + platform::RandomHex(8) + ".part";
  platform::WritableFileOptions options;
  options.mode = platform::OpenMode::kCreateExclusive;
  options.permissions = kFileMode;
  StatusOr<std::unique_ptr<platform::WritableFile>> file = fs_.NewWritableFile(part, options);
  if (!file.ok() && file.status().code() == StatusCode::kNotFound) {
    RETURN_IF_ERROR(EnsureDirectories());
    file = fs_.NewWritableFile(part, options);
  }
  if (!file.ok()) return StoreError(file.status());

  // Final name: <image id>, or <image id>.<random> when data of an earlier attempt (e.g. one a
  // crash interrupted before its metadata was recorded) still holds that name.
  std::string final_path = dir_prefix_ + id;
  if (fs_.Exists(final_path)) {
    final_path += '.';
    final_path += platform::RandomHex(6);
  }
  const int64_t hint = size_hint.has_value() && *size_hint > 0 ? *size_hint : 0;
  return std::unique_ptr<Writer>(std::make_unique<FilesystemWriter>(
      fs_, std::move(file).value(), part, dir_, final_path, fsync_, hint));
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
  StatusOr<std::unique_ptr<platform::RandomAccessFile>> file = fs_.NewRandomAccessFile(path);
  if (!file.ok()) return StoreError(file.status());
  StatusOr<platform::FileInfo> info = (*file)->Stat();
  if (!info.ok()) return StoreError(info.status());
  if (info->type != platform::FileType::kRegular) {
    return DataLossError("stored image data is not a regular file");
  }
  return std::unique_ptr<Reader>(
      std::make_unique<FilesystemReader>(std::move(file).value(), info->size));
}

Status FilesystemStore::Delete(std::string_view location) {
  ASSIGN_OR_RETURN(const std::string path, PathForLocation(location));
  return StoreError(fs_.RemoveFile(path));
}

Status FilesystemStore::CleanupIncomplete() {
  StatusOr<std::vector<std::string>> names = fs_.ListDir(incoming_);
  if (!names.ok()) {
    if (names.status().code() == StatusCode::kNotFound) return OkStatus();
    return StoreError(names.status());
  }
  Status first_error;
  for (const std::string& name : *names) {
    Status removed = fs_.RemoveFile(incoming_ + "/" + name);
    if (!removed.ok() && removed.code() != StatusCode::kNotFound && first_error.ok()) {
      first_error = StoreError(removed);
    }
  }
  return first_error;
}

}  // namespace glimmer::store::filesystem
