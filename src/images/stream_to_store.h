#pragma once
// StreamToStore: the data path shared by uploads, stages and imports, push-style. Bytes given to
// it go, in order, to a store::Writer (not committed) while MD5 and SHA-512 are computed in
// parallel (store::HashingPipeline) and the disk format is inspected (formats::StreamInspector).
//
// Two ways to give it bytes:
//   - Write(data): copies `data` (any size) into the pipeline's buffers; a buffer is handed on
//     when full, so small pieces (an HTTP client's 16 KiB callbacks) cost no more than large ones;
//   - Buffer() + Commit(n): the caller fills the pipeline's next buffer itself (no copy), e.g.
//     from a socket or file read. Buffer() hands the unfilled rest of the current buffer.
// Then Finish() waits for the writes and hashes and returns the result; the caller commits or
// aborts the writer. After an error, Cancel() (or destruction) stops the pipeline; the caller
// aborts the writer.
//
// Errors (Write, Commit, Finish): ResourceExhausted when more than max_bytes arrive (the message
// names the quota or the size cap, as uploads answer); InvalidArgument when a size_hint was given
// and the total differs (Finish); any writer Append error.
//
// Not thread-safe: one thread drives it. The writer and the executor must outlive it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "common/status.h"
#include "formats/inspector.h"
#include "platform/executor.h"
#include "store/hashing_pipeline.h"
#include "store/store.h"

namespace glimmer::images {

// What a stream of image data turned out to be.
struct StreamResult {
  int64_t size = 0;
  std::string md5_hex, sha512_hex;
  std::string format;  // detected while streaming (header-level)
  std::optional<int64_t> virtual_size;
  // The streaming inspector's header-level verdict: "" when passed, else "<check>: <why>".
  // An unsafe header is refused before the data is committed; the deep check follows.
  std::string stream_failure;
};

class StreamToStore {
 public:
  struct Options {
    size_t buffer_size = size_t{4} << 20;  // x3 buffers in flight
    int64_t max_bytes = INT64_MAX;          // the most this stream may hold
    // What max_bytes stands for in the ResourceExhausted message: when max_bytes is below the
    // size cap, the project's image_size_total quota; else the size cap.
    int64_t image_size_cap = INT64_MAX;
    std::optional<int64_t> size_hint;  // exact size expected, when announced
    platform::MemoryBudget* budget = nullptr;  // see store::HashingPipeline::Options::budget
  };

  StreamToStore(store::Writer& writer, platform::Executor& pool, Options options);
  ~StreamToStore();
  StreamToStore(const StreamToStore&) = delete;
  StreamToStore& operator=(const StreamToStore&) = delete;

  Status Write(std::span<const std::byte> data);
  // The unfilled part of the current buffer (never empty); fill a prefix, then Commit(n).
  std::span<std::byte> Buffer();
  Status Commit(size_t n);
  // Hands on the last, partly filled buffer and waits for everything to be written and hashed.
  StatusOr<StreamResult> Finish();
  // Stops the pipeline (see HashingPipeline::Cancel). Idempotent.
  void Cancel();

  // Bytes accepted so far.
  int64_t bytes() const { return bytes_; }

 private:
  Status Fail(Status st);
  Status TooLarge() const;
  Status Flush();  // hands on the current buffer as filled so far

  Options options_;
  store::HashingPipeline pipeline_;
  formats::StreamInspector inspector_;
  std::span<std::byte> buf_;  // the acquired buffer; empty when none is held
  size_t filled_ = 0;         // bytes of buf_ filled
  int64_t bytes_ = 0;
  Status error_;
  bool done_ = false;
};

}  // namespace glimmer::images
