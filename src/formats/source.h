#pragma once
// Byte sources and sinks for the formats library.
//
// Source: random-access, read-only input (an image file, a stored object). Sink: the output of a
// conversion, written at offsets; regions never written read back as zeros (holes).
//
// Contracts:
//  - Source::ReadAt may return fewer bytes than asked only at end of data; it never reads past
//    size(). Errors (I/O) are returned as non-OK Status (kDataLoss / kInternal / kUnavailable).
//  - FileSource and FileSink do their I/O through platform/file.h (errno is mapped to Status
//    there, once; messages name no directory).
//  - A Source must tolerate concurrent ReadAt calls from several threads (FileSource uses pread).
//  - A Sink is used from one thread at a time. SetSize sets the length (ranges never written read
//    as zeros, holes where possible); WriteAt past the current length extends it.
//  - Implementations never throw.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "platform/file.h"

namespace glimmer::formats {

class Source {
 public:
  virtual ~Source() = default;
  // Total size in bytes of the input.
  virtual int64_t size() const = 0;
  // Reads up to out.size() bytes at `offset`; returns the count (short only at end of data).
  virtual StatusOr<size_t> ReadAt(int64_t offset, std::span<std::byte> out) = 0;
};

// Reads exactly out.size() bytes or fails with kDataLoss (truncated input).
Status ReadExact(Source& src, int64_t offset, std::span<std::byte> out);

// A Source over a file (a regular file or a block device). Thread-safe (pread).
class FileSource final : public Source {
 public:
  // Opens `path` read-only. NotFound if absent; otherwise platform::PosixError's codes
  // (Unavailable for permissions, Internal, ...).
  static StatusOr<std::unique_ptr<FileSource>> Open(
      const std::string& path, platform::FileSystem& fs = platform::FileSystem::Default());
  // Reads an open file; its size is taken now (a block device's is its capacity).
  static StatusOr<std::unique_ptr<FileSource>> FromFile(
      std::unique_ptr<platform::RandomAccessFile> file);
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  int64_t size() const override { return size_; }
  // InvalidArgument for a negative offset; platform::PosixError's codes when the file cannot be
  // read (Internal for EIO, ...).
  StatusOr<size_t> ReadAt(int64_t offset, std::span<std::byte> out) override;

 private:
  FileSource(std::unique_ptr<platform::RandomAccessFile> file, int64_t size)
      : file_(std::move(file)), size_(size) {}
  std::unique_ptr<platform::RandomAccessFile> file_;
  int64_t size_;
};

// A Source over bytes in memory (not owned). For tests and the streaming inspector.
class MemorySource final : public Source {
 public:
  explicit MemorySource(std::span<const std::byte> data) : data_(data) {}
  int64_t size() const override { return static_cast<int64_t>(data_.size()); }
  StatusOr<size_t> ReadAt(int64_t offset, std::span<std::byte> out) override;

 private:
  std::span<const std::byte> data_;
};

// Output of a conversion.
class Sink {
 public:
  virtual ~Sink() = default;
  // Sets the length; everything not written reads as zeros (a hole if possible).
  virtual Status SetSize(int64_t size) = 0;
  // Writes `data` at `offset` (extending the length if needed).
  virtual Status WriteAt(int64_t offset, std::span<const std::byte> data) = 0;
  // Makes the data durable if the sink supports it (FileSink: fsync when asked). Called once.
  virtual Status Finish() = 0;
  // True if WriteAt may be called from several threads at once (for disjoint ranges). The
  // converters then write from their worker threads.
  virtual bool SupportsConcurrentWrites() const { return false; }
};

// A Sink over a file: ftruncate for the size (so unwritten ranges stay holes) + pwrite.
class FileSink final : public Sink {
 public:
  // Creates or truncates `path`. `sync`: fsync in Finish(). `mode`: the permissions of a file
  // it creates (less the umask); an existing file keeps its own. Errors: platform::PosixError's
  // codes (ResourceExhausted when the disk is full, ...).
  static StatusOr<std::unique_ptr<FileSink>> Create(
      const std::string& path, bool sync = false, unsigned mode = 0644,
      platform::FileSystem& fs = platform::FileSystem::Default());
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  Status SetSize(int64_t size) override;
  Status WriteAt(int64_t offset, std::span<const std::byte> data) override;
  // Syncs (when asked) and closes the file, reporting either's error.
  Status Finish() override;
  bool SupportsConcurrentWrites() const override { return true; }  // pwrite

 private:
  FileSink(std::unique_ptr<platform::WritableFile> file, bool sync)
      : file_(std::move(file)), sync_(sync) {}
  std::unique_ptr<platform::WritableFile> file_;
  bool sync_;
};

// A Sink into a vector (tests).
class MemorySink final : public Sink {
 public:
  Status SetSize(int64_t size) override;
  Status WriteAt(int64_t offset, std::span<const std::byte> data) override;
  Status Finish() override { return OkStatus(); }
  const std::vector<std::byte>& data() const { return data_; }

 private:
  std::vector<std::byte> data_;
};

}  // namespace glimmer::formats
