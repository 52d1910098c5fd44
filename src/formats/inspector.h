#pragma once
// Streaming disk-image inspection for the upload path: fed the bytes of an upload in order as they
// stream to the store, it detects the format and runs the header-level safety checks with the
// same code as Inspect() (detection and checks live in one place, see image.h).
//
// What it captures (bounded memory, at most ~3 MiB whatever the upload size):
//   - the first kHeaderBytes (1 MiB) of the stream;
//   - a few ranges planned from that head: the VHDX metadata region and the qcow2 snapshot table
//     (each at most 1 MiB);
//   - the last kTailBytes (fixed-VHD footer, streamOptimized VMDK footer).
// It does NOT walk block maps (qcow2 L1/L2, VHD/VHDX BAT, VMDK grain tables, VDI block map): run
// Inspect() on the stored data (random access) for the complete check before an image is used,
// e.g. before import/conversion. Result::header_checked is false when the header-level checks
// needed bytes that were not captured; Inspect() then decides.
//
// Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "formats/inspect.h"

namespace glimmer::formats {

class StreamInspector {
 public:
  static constexpr size_t kHeaderBytes = 1 << 20;
  static constexpr size_t kTailBytes = 4096;
  static constexpr size_t kMaxPlannedBytes = 1 << 20;

  explicit StreamInspector(Limits limits = {});

  // Feeds the next bytes of the stream. Cheap after the head: copies only planned ranges and the
  // rolling tail.
  void Feed(std::span<const std::byte> data);
  // Always true: the tail of the stream is needed too (fixed VHD footer). Kept for callers that
  // feed only while it is true.
  bool wants_more() const { return true; }

  struct Result {
    std::string format;                   // Glance disk_format name ("raw" when nothing matched)
    std::optional<int64_t> virtual_size;  // bytes, when the format defines one and it was read
    Verdict verdict;                      // header-level safety checks (ok() == passed)
    bool header_checked = true;           // false: needed bytes were not captured (see above)
    Inspection inspection;                // everything known (details, cluster size, ...)
  };
  // After the whole stream was fed; `total_size` = number of bytes of the stream.
  Result Finish(int64_t total_size) const;

 private:
  struct Range {
    int64_t offset;
    std::vector<std::byte> data;  // filled as the stream passes
    size_t filled = 0;
  };
  void Plan();

  Limits limits_;
  int64_t fed_ = 0;
  std::vector<std::byte> head_;
  std::vector<Range> planned_;
  bool planned_done_ = false;
  std::vector<std::byte> tail_;  // ring of the last kTailBytes
  size_t tail_pos_ = 0;
};

}  // namespace glimmer::formats
