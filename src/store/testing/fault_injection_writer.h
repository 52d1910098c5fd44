#pragma once
// Test-only Writers (header-only; not part of any production target's sources):
//   MemoryWriter         - keeps appended bytes in memory (for assertions).
//   NullWriter           - discards bytes, counts them (for benchmarks).
//   FaultInjectionWriter - decorator that forwards to a base Writer and fails with a chosen
//                          Status once more than `fail_after_bytes` bytes were appended.
//
// Thread-safety: like any Writer, one thread at a time.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "store/store.h"

namespace glimmer::store::testing {

class MemoryWriter final : public Writer {
 public:
  Status Append(std::span<const std::byte> data) override {
    if (committed_ || aborted_) return FailedPreconditionError("writer finished");
    bytes_.insert(bytes_.end(), data.begin(), data.end());
    ++appends_;
    return OkStatus();
  }
  StatusOr<std::string> Commit() override {
    if (committed_ || aborted_) return FailedPreconditionError("writer finished");
    committed_ = true;
    return std::string("memory://test");
  }
  void Abort() override {
    if (!committed_) {
      aborted_ = true;
      bytes_.clear();
    }
  }

  const std::vector<std::byte>& bytes() const { return bytes_; }
  int appends() const { return appends_; }
  bool committed() const { return committed_; }
  bool aborted() const { return aborted_; }

 private:
  std::vector<std::byte> bytes_;
  int appends_ = 0;
  bool committed_ = false;
  bool aborted_ = false;
};

class NullWriter final : public Writer {
 public:
  Status Append(std::span<const std::byte> data) override {
    size_ += static_cast<int64_t>(data.size());
    return OkStatus();
  }
  StatusOr<std::string> Commit() override { return std::string("null://"); }
  void Abort() override {}
  int64_t size() const { return size_; }

 private:
  int64_t size_ = 0;
};

class FaultInjectionWriter final : public Writer {
 public:
  // `base` must outlive this writer. Appends that would take the total past fail_after_bytes
  // forward the bytes up to the limit, then return `error` (and so does every later Append).
  FaultInjectionWriter(Writer* base, int64_t fail_after_bytes, Status error)
      : base_(base), fail_after_bytes_(fail_after_bytes), error_(std::move(error)) {}

  Status Append(std::span<const std::byte> data) override {
    if (failed_) return error_;
    const int64_t room = fail_after_bytes_ - written_;
    if (static_cast<int64_t>(data.size()) <= room) {
      written_ += static_cast<int64_t>(data.size());
      return base_->Append(data);
    }
    failed_ = true;
    if (room > 0) {
      written_ += room;
      RETURN_IF_ERROR(base_->Append(data.first(static_cast<size_t>(room))));
    }
    return error_;
  }
  StatusOr<std::string> Commit() override {
    if (failed_) return error_;
    return base_->Commit();
  }
  void Abort() override { base_->Abort(); }

  bool failed() const { return failed_; }
  int64_t written() const { return written_; }

 private:
  Writer* base_;
  int64_t fail_after_bytes_;
  Status error_;
  int64_t written_ = 0;
  bool failed_ = false;
};

}  // namespace glimmer::store::testing
