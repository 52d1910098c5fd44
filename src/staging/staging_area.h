#pragma once
// Node-local staging for interoperable import: the bytes of `PUT /v2/images/{id}/stage`
// (glance-direct) and of web-download / copy-image sources wait here, one file per image
// (<dir>/<image id>), until the import task moves them into a store.
//
// Resumable staging: a staged file may be partial. Its size is the resume offset a client
// continues from (see OpenWriter). Partial data is kept until the image is deleted, the stage
// is restarted from 0, or the import consumes it.
//
// Failures: a write that fills the disk (or the quota) fails with ResourceExhausted and keeps
// what was written before it (the client may resume once there is room); a failed Sync() cuts
// the file back to what the previous Sync() made durable, so the resume offset never counts
// bytes a crash could lose.
//
// Files and directories go through a platform::FileSystem (platform/file.h), which maps errno
// to Status once; tests inject faults with platform/testing/fault_injection_file_system.h.
// Error messages ("staging area: write <image id>: No space left on device") never contain the
// staging directory: they reach API clients.
//
// Thread-safety: methods may be called concurrently for different images; callers serialize
// writers of one image (the image status does: only one stage request can hold `uploading`).
// Errors: InvalidArgument for an id that is not a plain file name; FailedPrecondition when a
// resume offset does not match the staged size; ResourceExhausted when the disk or quota is
// full; Unavailable (permissions, out of descriptors) and Internal (EIO, ...) for other I/O
// errors (see platform/file.h for the whole mapping).

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "platform/file.h"

namespace glimmer::staging {

// Writes one image's staged data. Used by one thread at a time; the StagingArea's FileSystem
// must outlive it.
class StagingWriter {
 public:
  virtual ~StagingWriter() = default;
  // Appends at the end. On error a prefix of `data` may have been written and stays staged
  // (size() counts it). ResourceExhausted when the disk or quota is full.
  virtual Status Append(std::span<const std::byte> data) = 0;
  // Flushes what was appended to stable storage (the resume offset never exceeds durable data):
  // on failure the file is cut back to what was durable before, and size() with it.
  virtual Status Sync() = 0;
  virtual int64_t size() const = 0;  // bytes staged so far, including earlier sessions
};

class StagingArea {
 public:
  // Creates `dir` (owner-only, 0700) and its parents if needed. `fs` must outlive the area and
  // its writers.
  static StatusOr<std::unique_ptr<StagingArea>> Open(
      std::string dir, platform::FileSystem& fs = platform::FileSystem::Default());

  const std::string& dir() const { return dir_; }
  std::string PathFor(std::string_view image_id) const;

  // Bytes staged for the image; 0 when nothing is staged.
  StatusOr<int64_t> Size(std::string_view image_id) const;
  bool Exists(std::string_view image_id) const;

  // Opens the image's staging file for writing at `offset`: 0 starts over (truncates);
  // a positive offset resumes and must equal Size() (FailedPrecondition otherwise).
  StatusOr<std::unique_ptr<StagingWriter>> OpenWriter(std::string_view image_id, int64_t offset);

  // Removes the staged data (OK when there is none).
  Status Remove(std::string_view image_id);

  // Image ids that have staged data (start-up cleanup of orphans).
  StatusOr<std::vector<std::string>> List() const;

 private:
  StagingArea(std::string dir, platform::FileSystem& fs) : dir_(std::move(dir)), fs_(fs) {}
  std::string dir_;
  platform::FileSystem& fs_;
};

}  // namespace glimmer::staging
