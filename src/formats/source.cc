#include "formats/source.h"

#include <algorithm>
#include <cstring>

namespace glimmer::formats {

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

StatusOr<std::unique_ptr<FileSource>> FileSource::Open(const std::string& path,
                                                       platform::FileSystem& fs) {
  ASSIGN_OR_RETURN(std::unique_ptr<platform::RandomAccessFile> file, fs.NewRandomAccessFile(path));
  return FromFile(std::move(file));
}

StatusOr<std::unique_ptr<FileSource>> FileSource::FromFile(
    std::unique_ptr<platform::RandomAccessFile> file) {
  ASSIGN_OR_RETURN(platform::FileInfo info, file->Stat());
  return std::unique_ptr<FileSource>(new FileSource(std::move(file), info.size));
}

StatusOr<size_t> FileSource::ReadAt(int64_t offset, std::span<std::byte> out) {
  if (offset < 0) return InvalidArgumentError("negative offset");
  if (offset >= size_) return size_t{0};
  const auto want =
      static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(out.size()), size_ - offset));
  return file_->ReadAt(offset, out.first(want));
}

StatusOr<size_t> MemorySource::ReadAt(int64_t offset, std::span<std::byte> out) {
  if (offset < 0) return InvalidArgumentError("negative offset");
  if (offset >= size()) return size_t{0};
  size_t n = std::min<size_t>(out.size(), data_.size() - static_cast<size_t>(offset));
  std::memcpy(out.data(), data_.data() + offset, n);
  return n;
}

StatusOr<std::unique_ptr<FileSink>> FileSink::Create(const std::string& path, bool sync,
                                                     unsigned mode, platform::FileSystem& fs) {
  platform::WritableFileOptions options;
  options.mode = platform::OpenMode::kTruncate;
  options.permissions = mode;
  ASSIGN_OR_RETURN(std::unique_ptr<platform::WritableFile> file, fs.NewWritableFile(path, options));
  return std::unique_ptr<FileSink>(new FileSink(std::move(file), sync));
}

Status FileSink::SetSize(int64_t size) { return file_->Truncate(size); }

Status FileSink::WriteAt(int64_t offset, std::span<const std::byte> data) {
  return file_->WriteAt(offset, data);
}

Status FileSink::Finish() {
  if (sync_) RETURN_IF_ERROR(file_->Sync());
  return file_->Close();
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
