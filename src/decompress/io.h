#pragma once
// Internal: the files a decompression reads and writes, plus the per-codec entry points.
// IWYU pragma: private, include "decompress/decompress.h"
//
// The files go through platform/file.h (errno becomes a Status there; messages carry base
// names only). Nothing here throws.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "common/status.h"
#include "decompress/decompress.h"
#include "platform/file.h"

namespace glimmer::decompress::internal {

// Size of every streaming buffer (input and output).
inline constexpr size_t kBufferBytes = size_t{1} << 20;

// An uninitialised buffer of kBufferBytes.
class Buffer {
 public:
  Buffer() : data_(std::make_unique_for_overwrite<std::byte[]>(kBufferBytes)) {}
  std::span<std::byte> span() { return {data_.get(), kBufferBytes}; }
  std::byte* data() { return data_.get(); }

 private:
  std::unique_ptr<std::byte[]> data_;
};

// A read-only input file. Sequential Read() and positional ReadAt() do not affect each other.
class InputFile {
 public:
  // NotFound if absent; kInternal if not a regular file; platform::PosixError's codes otherwise.
  static StatusOr<std::unique_ptr<InputFile>> Open(platform::FileSystem& fs,
                                                   const std::string& path);
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  int64_t size() const { return info_.size; }
  // What identifies the file: (device, inode).
  const platform::FileInfo& info() const { return info_; }
  // Reads up to out.size() bytes at the current position; 0 means end of file.
  StatusOr<size_t> Read(std::span<std::byte> out);
  // Reads up to out.size() bytes at `offset`; fewer only at end of file.
  StatusOr<size_t> ReadAt(int64_t offset, std::span<std::byte> out);

 private:
  InputFile(std::unique_ptr<platform::RandomAccessFile> file, platform::FileInfo info)
      : file_(std::move(file)), info_(info) {}
  std::unique_ptr<platform::RandomAccessFile> file_;
  platform::FileInfo info_;
  int64_t position_ = 0;  // of Read()
};

// The decompressed output. Enforces the size cap before each write, reports progress, turns
// all-zero writes into holes. Destroyed without a successful Finish(), it removes its file.
// `fs` must outlive it.
class OutputFile {
 public:
  static StatusOr<std::unique_ptr<OutputFile>> Create(platform::FileSystem& fs,
                                                      const std::string& path,
                                                      std::string_view codec, int64_t max_bytes,
                                                      ProgressFn progress);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  // Appends `data`. kResourceExhausted (nothing written) if the cap would be passed, or when
  // the disk is full; kAborted if the progress callback cancels.
  Status Write(std::span<const std::byte> data);
  int64_t written() const { return written_; }
  // Sets the final size (trailing holes), fsyncs and closes. Call once, after the last Write.
  Status Finish();

 private:
  OutputFile(platform::FileSystem& fs, std::unique_ptr<platform::WritableFile> file,
             std::string path, std::string_view codec, int64_t max_bytes, ProgressFn progress)
      : fs_(fs),
        file_(std::move(file)),
        path_(std::move(path)),
        codec_(codec),
        max_bytes_(max_bytes),
        progress_(std::move(progress)) {}
  platform::FileSystem& fs_;
  std::unique_ptr<platform::WritableFile> file_;
  std::string path_;
  std::string_view codec_;
  int64_t max_bytes_;
  ProgressFn progress_;
  int64_t written_ = 0;
  int64_t next_progress_ = kProgressIntervalBytes;
  bool finished_ = false;
};

// "N bytes (X MiB)" for messages.
std::string DescribeBytes(int64_t bytes);

// Stream codecs: decode the whole of `in`, from its current position, into `out`.
Status DecompressGzip(InputFile& in, OutputFile& out);
Status DecompressZstd(InputFile& in, OutputFile& out);
Status DecompressXz(InputFile& in, OutputFile& out);

// Zip is random access: the central directory is checked before any output exists.
struct ZipMember {
  std::string display_name;  // sanitised, shortened name for messages
  uint16_t method = 0;       // 0 stored, 8 deflate
  uint32_t crc32 = 0;
  int64_t compressed_size = 0;
  int64_t uncompressed_size = 0;
  int64_t data_offset = 0;  // first byte of the member's data in the file
};
// Finds the one file member of the archive and validates it (method, encryption, bounds).
StatusOr<ZipMember> FindSingleZipMember(InputFile& in);
// Writes the member's data to `out`, checking its size and CRC-32.
Status ExtractZipMember(InputFile& in, const ZipMember& member, OutputFile& out);

}  // namespace glimmer::decompress::internal
