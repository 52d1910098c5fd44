#pragma once
// Node-local staging for interoperable import: the bytes of `PUT /v2/images/{id}/stage`
// (glance-direct) and of web-download / copy-image sources wait here, one file per image
// (<dir>/<image id>), until the import task moves them into a store.
//
// Resumable staging: a staged file may be partial. Its size is the resume offset a client
// continues from (see OpenWriter). Partial data is kept until the image is deleted, the stage
// is restarted from 0, or the import consumes it.
//
// Thread-safety: methods may be called concurrently for different images; callers serialize
// writers of one image (the image status does: only one stage request can hold `uploading`).
// Errors: InvalidArgument for an id that is not a plain file name; FailedPrecondition when a
// resume offset does not match the staged size; Unavailable/Internal for I/O errors.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace glimmer::staging {

class StagingWriter {
 public:
  virtual ~StagingWriter() = default;
  virtual Status Append(std::span<const std::byte> data) = 0;
  // Flushes what was appended to stable storage (the resume offset never exceeds durable data).
  virtual Status Sync() = 0;
  virtual int64_t size() const = 0;  // bytes staged so far, including earlier sessions
};

class StagingArea {
 public:
  // Creates `dir` if needed.
  static StatusOr<std::unique_ptr<StagingArea>> Open(std::string dir);

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
  explicit StagingArea(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace glimmer::staging
