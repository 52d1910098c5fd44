#pragma once
// HashingPipeline: streams an upload into a store Writer while computing its size, MD5
// (Glance `checksum`) and SHA-512 (Glance `os_hash_value`), with the three stages overlapping.
//
// The caller (an API handler thread) loops:
//   std::span<std::byte> buf = pipeline.AcquireBuffer();   // blocks until a buffer is free
//   ... fill the first n bytes of buf from the request body ...
//   RETURN_IF_ERROR(pipeline.Submit(n));
// and then calls Finish(), and commits (or aborts) the sink itself: the pipeline never commits
// or aborts the sink.
//
// Each submitted chunk is handed to three stages: MD5, SHA-512 and sink->Append(). Every stage
// sees chunks strictly in submission order, while different stages (and the caller filling the
// next buffer) run concurrently on the Executor's threads. Memory is constant: `buffers` buffers
// of `buffer_size` bytes, whatever the upload size.
//
// Progress never depends on the Executor: a caller blocked in AcquireBuffer() or Finish() runs
// pending stage work itself, so a pool that is busy (or is the pool the caller runs on) slows the
// upload down but cannot deadlock it. Posted jobs keep only shared internal state alive, so the
// pipeline may be destroyed while jobs are still queued on the Executor; the sink and the
// buffers are never touched after Cancel()/Finish()/destruction returns.
//
// Thread-safety: one caller thread drives a pipeline; methods must not be called concurrently.
// The sink must outlive the pipeline's Finish()/Cancel()/destructor and must not be used by
// anyone else meanwhile. The Executor must outlive the pipeline.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "common/status.h"
#include "platform/executor.h"
#include "platform/memory_budget.h"
#include "store/store.h"

namespace glimmer::store {

class HashingPipeline {
 public:
  struct Options {
    size_t buffer_size = size_t{1} << 20;  // bytes per buffer; > 0
    int buffers = 3;                        // >= 1; 3 lets fill, hash and write overlap
    std::optional<int64_t> max_bytes;       // total size cap (image_size_cap / quota)
    // Process-wide bound on buffer memory (borrowed; null = none). The first buffer waits for
    // the budget (a fiber suspended); further buffers are taken only when the budget has room,
    // else the upload makes do with the buffers it has. So memory stays bounded however many
    // uploads run, and a slow disk slows them instead of growing it.
    platform::MemoryBudget* budget = nullptr;
  };
  struct Result {
    int64_t size = 0;
    std::string md5_hex;     // lowercase hex, 32 chars
    std::string sha512_hex;  // lowercase hex, 128 chars
  };

  HashingPipeline(Writer& sink, platform::Executor& pool, Options options);
  HashingPipeline(Writer& sink, platform::Executor& pool)
      : HashingPipeline(sink, pool, Options()) {}
  // Cancels (see Cancel()) unless Finish() has completed.
  ~HashingPipeline();
  HashingPipeline(const HashingPipeline&) = delete;
  HashingPipeline& operator=(const HashingPipeline&) = delete;

  // Returns a buffer of options.buffer_size bytes, blocking until one is free. Precondition:
  // every previously acquired buffer has been handed back with Submit(); not finished.
  std::span<std::byte> AcquireBuffer();

  // Hands over the first n bytes of the buffer returned by the last AcquireBuffer() (n == 0 just
  // returns the buffer). Returns the first error seen so far, possibly from earlier chunks:
  //   ResourceExhausted  - the total would exceed max_bytes (the chunk is not processed);
  //   any sink Append() error (ResourceExhausted, Unavailable, Internal, ...);
  //   Internal           - a digest failed;
  //   InvalidArgument    - n > buffer_size; FailedPrecondition - no buffer acquired.
  // After an error, further chunks are dropped; the caller should Cancel() and abort the sink.
  Status Submit(size_t n);

  // Waits for all submitted chunks to be hashed and written, then finalises the digests.
  // Returns the first error seen (see Submit), Aborted after Cancel(), FailedPrecondition if
  // called twice. Does not commit the sink.
  StatusOr<Result> Finish();

  // Stops processing: drops queued chunks and waits for stage work already running (e.g. a sink
  // Append in progress) to return. Idempotent; the pipeline may be destroyed afterwards.
  void Cancel();

  // Total bytes accepted by Submit() so far.
  int64_t submitted_bytes() const;

  struct State;  // internal, shared with jobs posted to the Executor

 private:
  std::shared_ptr<State> state_;
};

}  // namespace glimmer::store
