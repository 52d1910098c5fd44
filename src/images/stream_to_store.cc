#include "images/stream_to_store.h"

#include <algorithm>
#include <cstring>

namespace glimmer::images {
namespace {

store::HashingPipeline::Options PipelineOptions(const StreamToStore::Options& o) {
  store::HashingPipeline::Options p;
  p.buffer_size = o.buffer_size;
  p.max_bytes = o.max_bytes;
  p.budget = o.budget;
  return p;
}

}  // namespace

StreamToStore::StreamToStore(store::Writer& writer, platform::Executor& pool, Options options)
    : options_(options), pipeline_(writer, pool, PipelineOptions(options)) {}

StreamToStore::~StreamToStore() { Cancel(); }

Status StreamToStore::TooLarge() const {
  return ResourceExhaustedError(
      options_.max_bytes < options_.image_size_cap
          ? "image_size_total quota exceeded: the project may store " +
                std::to_string(options_.max_bytes) + " more bytes"
          : "Image exceeds the storage quota: the image size cap is " +
                std::to_string(options_.image_size_cap) + " bytes");
}

Status StreamToStore::Fail(Status st) {
  if (error_.ok()) error_ = st;
  Cancel();
  return error_;
}

std::span<std::byte> StreamToStore::Buffer() {
  if (buf_.empty()) {
    buf_ = pipeline_.AcquireBuffer();
    filled_ = 0;
  }
  return buf_.subspan(filled_);
}

Status StreamToStore::Flush() {
  if (buf_.empty()) return OkStatus();
  const size_t n = filled_;
  buf_ = {};
  filled_ = 0;
  Status st = pipeline_.Submit(n);
  if (!st.ok()) {
    if (st.code() == StatusCode::kResourceExhausted && bytes_ > options_.max_bytes) {
      st = TooLarge();
    }
    return Fail(st);
  }
  return OkStatus();
}

Status StreamToStore::Commit(size_t n) {
  if (!error_.ok()) return error_;
  if (done_) return FailedPreconditionError("stream is finished");
  if (buf_.empty() || n > buf_.size() - filled_) {
    return Fail(InvalidArgumentError("StreamToStore::Commit: more bytes than the buffer holds"));
  }
  // Refused at once rather than at the next hand-over: a stream over its limit stops early.
  if (static_cast<int64_t>(n) > options_.max_bytes - bytes_) {
    bytes_ += static_cast<int64_t>(n);
    return Fail(TooLarge());
  }
  inspector_.Feed(buf_.subspan(filled_, n));
  filled_ += n;
  bytes_ += static_cast<int64_t>(n);
  if (filled_ == buf_.size()) return Flush();
  return OkStatus();
}

Status StreamToStore::Write(std::span<const std::byte> data) {
  while (!data.empty()) {
    if (!error_.ok()) return error_;
    std::span<std::byte> room = Buffer();
    const size_t n = std::min(room.size(), data.size());
    std::memcpy(room.data(), data.data(), n);
    RETURN_IF_ERROR(Commit(n));
    data = data.subspan(n);
  }
  return error_;
}

StatusOr<StreamResult> StreamToStore::Finish() {
  if (!error_.ok()) return error_;
  if (done_) return FailedPreconditionError("stream is finished");
  RETURN_IF_ERROR(Flush());
  done_ = true;
  auto result = pipeline_.Finish();
  if (!result.ok()) return Fail(result.status());
  if (options_.size_hint && result->size != *options_.size_hint) {
    return Fail(InvalidArgumentError("Size mismatch: expected " +
                                     std::to_string(*options_.size_hint) + " bytes, got " +
                                     std::to_string(result->size)));
  }
  auto inspected = inspector_.Finish(result->size);
  StreamResult r;
  r.size = result->size;
  r.md5_hex = std::move(result->md5_hex);
  r.sha512_hex = std::move(result->sha512_hex);
  r.format = inspected.format;
  r.virtual_size = inspected.virtual_size;
  if (!inspected.verdict.ok()) {
    r.stream_failure = inspected.verdict.check + ": " + inspected.verdict.message;
  }
  return r;
}

void StreamToStore::Cancel() {
  buf_ = {};
  filled_ = 0;
  pipeline_.Cancel();
}

}  // namespace glimmer::images
