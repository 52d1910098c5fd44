#pragma once
// Test-only (header-only; in no production target's sources): a FileSystem that forwards to a
// real one and makes chosen operations fail, so that the paths a full disk or a failing fsync
// take can be unit-tested (leveldb's SpecialEnv / FaultInjectionTestEnv idea).
//
// A fault is an errno value: the failing call returns PosixError(context, err), exactly what
// the POSIX file system returns when the kernel says so, so that callers' handling of the
// mapped Status is what is tested. Faults are looked up at each call (a file opened before a
// fault was armed is affected too) and stay armed until ClearFaults(); set_path_filter() limits
// them to some paths.
//
// Thread-safety: every method may be called from any thread; the files it returns follow the
// platform/file.h rules. Files may outlive the FaultInjectionFileSystem (they share its state).

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "platform/file.h"

namespace glimmer::platform::testing {

class FaultInjectionFileSystem final : public FileSystemWrapper {
 public:
  // `target` (the POSIX file system by default) must outlive this object.
  explicit FaultInjectionFileSystem(FileSystem& target = FileSystem::Default())
      : FileSystemWrapper(target), state_(std::make_shared<State>()) {}

  // Writes (Append, WriteAt) fail with `err` once `bytes` more bytes were written in all: the
  // bytes up to the limit are written first, as on a disk that fills up mid-way.
  void FailWritesAfter(int64_t bytes, int err = ENOSPC) {
    std::lock_guard lock(state_->mu);
    state_->write_budget = bytes;
    state_->write_error = err;
  }
  // WritableFile::Sync and FileSystem::SyncFile.
  void FailSync(int err = EIO) { Set(&State::sync_error, err); }
  void FailAllocate(int err = ENOSPC) { Set(&State::allocate_error, err); }
  void FailTruncate(int err = EIO) { Set(&State::truncate_error, err); }
  // WritableFile::Close: the descriptor is closed, then the error is reported (like NFS).
  void FailClose(int err = EIO) { Set(&State::close_error, err); }
  void FailReads(int err = EIO) { Set(&State::read_error, err); }  // Read, ReadAt
  void FailCreate(int err) { Set(&State::create_error, err); }     // NewWritableFile
  void FailRename(int err = EIO) { Set(&State::rename_error, err); }
  void FailSyncDir(int err = EIO) { Set(&State::sync_dir_error, err); }
  void FailLink(int err = EXDEV) { Set(&State::link_error, err); }
  void FailCreateDir(int err) { Set(&State::create_dir_error, err); }
  void FailRemove(int err) { Set(&State::remove_error, err); }
  // Disarms every fault (the path filter and the counters stay).
  void ClearFaults() {
    std::lock_guard lock(state_->mu);
    state_->ClearFaults();
  }
  // Only paths containing `fragment` are affected (empty, the default: every path).
  void set_path_filter(std::string fragment) {
    std::lock_guard lock(state_->mu);
    state_->path_filter = std::move(fragment);
  }

  struct Counters {
    int syncs = 0;              // WritableFile::Sync and SyncFile calls (failed ones included)
    int sync_dirs = 0;          // SyncDir calls
    int renames = 0;            // Rename calls
    int64_t bytes_written = 0;  // bytes that reached the target
  };
  Counters counters() const {
    std::lock_guard lock(state_->mu);
    return state_->counters;
  }

  StatusOr<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override {
    ASSIGN_OR_RETURN(auto file, target().NewSequentialFile(path));
    return std::unique_ptr<SequentialFile>(
        std::make_unique<FaultSequentialFile>(std::move(file), path, state_));
  }
  StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override {
    ASSIGN_OR_RETURN(auto file, target().NewRandomAccessFile(path));
    return std::unique_ptr<RandomAccessFile>(
        std::make_unique<FaultRandomAccessFile>(std::move(file), path, state_));
  }
  StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path, const WritableFileOptions& options) override {
    if (auto err = state_->Armed(&State::create_error, path)) {
      return PosixError("create " + std::string(BaseName(path)), *err);
    }
    ASSIGN_OR_RETURN(auto file, target().NewWritableFile(path, options));
    return std::unique_ptr<WritableFile>(
        std::make_unique<FaultWritableFile>(std::move(file), path, state_));
  }
  Status CreateDir(const std::string& path, uint32_t permissions) override {
    if (auto err = state_->Armed(&State::create_dir_error, path)) {
      return PosixError("mkdir " + std::string(BaseName(path)), *err);
    }
    return target().CreateDir(path, permissions);
  }
  Status RemoveFile(const std::string& path) override {
    if (auto err = state_->Armed(&State::remove_error, path)) {
      return PosixError("remove " + std::string(BaseName(path)), *err);
    }
    return target().RemoveFile(path);
  }
  Status Rename(const std::string& from, const std::string& to, RenameMode mode) override {
    state_->Count([](Counters& c) { ++c.renames; });
    if (auto err = state_->Armed(&State::rename_error, from)) {
      return PosixError("rename " + std::string(BaseName(from)), *err);
    }
    return target().Rename(from, to, mode);
  }
  Status Link(const std::string& from, const std::string& to) override {
    if (auto err = state_->Armed(&State::link_error, from)) {
      return PosixError("link " + std::string(BaseName(from)), *err);
    }
    return target().Link(from, to);
  }
  Status SyncDir(const std::string& path) override {
    state_->Count([](Counters& c) { ++c.sync_dirs; });
    if (auto err = state_->Armed(&State::sync_dir_error, path)) {
      return PosixError("fsync " + std::string(BaseName(path)), *err);
    }
    return target().SyncDir(path);
  }
  Status SyncFile(const std::string& path) override {
    state_->Count([](Counters& c) { ++c.syncs; });
    if (auto err = state_->Armed(&State::sync_error, path)) {
      return PosixError("fsync " + std::string(BaseName(path)), *err);
    }
    return target().SyncFile(path);
  }

 private:
  struct State {
    mutable std::mutex mu;
    std::string path_filter;
    std::optional<int64_t> write_budget;
    int write_error = 0;
    std::optional<int> sync_error, allocate_error, truncate_error, close_error, read_error,
        create_error, rename_error, sync_dir_error, create_dir_error, remove_error, link_error;
    Counters counters;

    void ClearFaults() {
      write_budget.reset();
      for (auto* e :
           {&sync_error, &allocate_error, &truncate_error, &close_error, &read_error, &create_error,
            &rename_error, &sync_dir_error, &create_dir_error, &remove_error, &link_error}) {
        e->reset();
      }
    }
    bool Matches(const std::string& path) const {
      return path_filter.empty() || path.find(path_filter) != std::string::npos;
    }
    std::optional<int> Armed(std::optional<int> State::*fault, const std::string& path) const {
      std::lock_guard lock(mu);
      if (!Matches(path)) return std::nullopt;
      return this->*fault;
    }
    template <typename F>
    void Count(F&& f) {
      std::lock_guard lock(mu);
      f(counters);
    }
    // How many of `want` bytes may be written to `path` now, and the error for the rest.
    std::pair<size_t, int> TakeWriteBudget(const std::string& path, size_t want) {
      std::lock_guard lock(mu);
      if (!write_budget.has_value() || !Matches(path)) return {want, 0};
      const auto room = static_cast<size_t>(std::max<int64_t>(0, *write_budget));
      if (want <= room) {
        *write_budget -= static_cast<int64_t>(want);
        return {want, 0};
      }
      *write_budget = 0;
      return {room, write_error};
    }
  };

  void Set(std::optional<int> State::*fault, int err) {
    std::lock_guard lock(state_->mu);
    (*state_).*fault = err;
  }

  class FaultSequentialFile final : public SequentialFile {
   public:
    FaultSequentialFile(std::unique_ptr<SequentialFile> base, std::string path,
                        std::shared_ptr<State> state)
        : base_(std::move(base)), path_(std::move(path)), state_(std::move(state)) {}
    StatusOr<size_t> Read(std::span<std::byte> out) override {
      if (auto err = state_->Armed(&State::read_error, path_)) {
        return PosixError("read " + std::string(BaseName(path_)), *err);
      }
      return base_->Read(out);
    }

   private:
    std::unique_ptr<SequentialFile> base_;
    std::string path_;
    std::shared_ptr<State> state_;
  };

  class FaultRandomAccessFile final : public RandomAccessFile {
   public:
    FaultRandomAccessFile(std::unique_ptr<RandomAccessFile> base, std::string path,
                          std::shared_ptr<State> state)
        : base_(std::move(base)), path_(std::move(path)), state_(std::move(state)) {}
    StatusOr<size_t> ReadAt(int64_t offset, std::span<std::byte> out) const override {
      if (auto err = state_->Armed(&State::read_error, path_)) {
        return PosixError("read " + std::string(BaseName(path_)), *err);
      }
      return base_->ReadAt(offset, out);
    }
    StatusOr<FileInfo> Stat() const override { return base_->Stat(); }
    std::optional<int> file_descriptor() const override { return base_->file_descriptor(); }

   private:
    std::unique_ptr<RandomAccessFile> base_;
    std::string path_;
    std::shared_ptr<State> state_;
  };

  class FaultWritableFile final : public WritableFile {
   public:
    FaultWritableFile(std::unique_ptr<WritableFile> base, std::string path,
                      std::shared_ptr<State> state)
        : base_(std::move(base)), path_(std::move(path)), state_(std::move(state)) {}

    Status Append(std::span<const std::byte> data) override {
      auto [allowed, err] = state_->TakeWriteBudget(path_, data.size());
      if (allowed > 0) {
        const int64_t before = base_->size();
        Status st = base_->Append(data.first(allowed));
        Written(base_->size() - before);
        RETURN_IF_ERROR(st);
      }
      if (err != 0) return PosixError(Context("write"), err);
      return OkStatus();
    }
    Status WriteAt(int64_t offset, std::span<const std::byte> data) override {
      auto [allowed, err] = state_->TakeWriteBudget(path_, data.size());
      if (allowed > 0) {
        RETURN_IF_ERROR(base_->WriteAt(offset, data.first(allowed)));
        Written(static_cast<int64_t>(allowed));
      }
      if (err != 0) return PosixError(Context("write"), err);
      return OkStatus();
    }
    Status Truncate(int64_t size) override {
      if (auto err = state_->Armed(&State::truncate_error, path_)) {
        return PosixError(Context("truncate"), *err);
      }
      return base_->Truncate(size);
    }
    Status Allocate(int64_t offset, int64_t length) override {
      if (auto err = state_->Armed(&State::allocate_error, path_)) {
        return PosixError(Context("allocate"), *err);
      }
      return base_->Allocate(offset, length);
    }
    Status Sync() override {
      state_->Count([](Counters& c) { ++c.syncs; });
      if (auto err = state_->Armed(&State::sync_error, path_)) {
        return PosixError(Context("fsync"), *err);
      }
      return base_->Sync();
    }
    Status Close() override {
      Status st = base_->Close();
      if (auto err = state_->Armed(&State::close_error, path_); err && st.ok() && !closed_) {
        st = PosixError(Context("close"), *err);
      }
      closed_ = true;
      return st;
    }
    int64_t size() const override { return base_->size(); }

   private:
    std::string Context(std::string_view op) const {
      return std::string(op) + " " + std::string(BaseName(path_));
    }
    void Written(int64_t n) {
      state_->Count([n](Counters& c) { c.bytes_written += n; });
    }

    std::unique_ptr<WritableFile> base_;
    std::string path_;
    std::shared_ptr<State> state_;
    bool closed_ = false;
  };

  std::shared_ptr<State> state_;
};

}  // namespace glimmer::platform::testing
