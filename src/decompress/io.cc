#include "decompress/io.h"

#include <cstring>

namespace glimmer::decompress::internal {
namespace {

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

StatusOr<std::unique_ptr<InputFile>> InputFile::Open(platform::FileSystem& fs,
                                                     const std::string& path) {
  StatusOr<std::unique_ptr<platform::RandomAccessFile>> file = fs.NewRandomAccessFile(path);
  if (!file.ok()) return platform::Annotate("decompression", file.status());
  StatusOr<platform::FileInfo> info = (*file)->Stat();
  if (!info.ok()) return platform::Annotate("decompression", info.status());
  if (info->type != platform::FileType::kRegular) {
    return InternalError("cannot decompress " + std::string(platform::BaseName(path)) +
                         ": not a regular file");
  }
  return std::unique_ptr<InputFile>(new InputFile(std::move(file).value(), *info));
}

StatusOr<size_t> InputFile::Read(std::span<std::byte> out) {
  ASSIGN_OR_RETURN(size_t n, ReadAt(position_, out));
  position_ += static_cast<int64_t>(n);
  return n;
}

StatusOr<size_t> InputFile::ReadAt(int64_t offset, std::span<std::byte> out) {
  StatusOr<size_t> n = file_->ReadAt(offset, out);
  if (!n.ok()) return platform::Annotate("read of the compressed file failed", n.status());
  return n;
}

// OutputFile

StatusOr<std::unique_ptr<OutputFile>> OutputFile::Create(platform::FileSystem& fs,
                                                         const std::string& path,
                                                         std::string_view codec, int64_t max_bytes,
                                                         ProgressFn progress) {
  // Decompressed image data is as private as the file it comes from (staged files are 0600):
  // created 0600, and a file left there before (a crash) is made 0600 too.
  platform::WritableFileOptions options;
  options.mode = platform::OpenMode::kTruncate;
  options.permissions = 0600;
  options.force_permissions = true;
  StatusOr<std::unique_ptr<platform::WritableFile>> file = fs.NewWritableFile(path, options);
  if (!file.ok()) {
    return platform::Annotate(std::string(codec) + ": cannot create the decompressed image",
                              file.status());
  }
  return std::unique_ptr<OutputFile>(
      new OutputFile(fs, std::move(file).value(), path, codec, max_bytes, std::move(progress)));
}

OutputFile::~OutputFile() {
  if (finished_) return;
  file_.reset();
  (void)fs_.RemoveFile(path_);
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
    Status st = file_->WriteAt(written_, data);
    if (!st.ok()) {
      return platform::Annotate(std::string(codec_) + ": cannot write the decompressed image", st);
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
  Status st = file_->Truncate(written_);
  if (st.ok()) st = file_->Sync();
  if (st.ok()) st = file_->Close();
  if (!st.ok()) return platform::Annotate(what, st);  // the destructor removes the file
  finished_ = true;
  return OkStatus();
}

}  // namespace glimmer::decompress::internal
