#pragma once
// Internal: the parsed-image model shared by inspection and conversion.
//
// Each format parser (qcow2.cc, vmdk.cc, vhd.cc, vhdx.cc, vdi.cc, simple_formats.cc) turns a
// Source into an Inspection (header-level checks done) and an Image whose Walk() enumerates the
// virtual disk as extents in address order, validating every table entry it visits. The deep
// check is a Walk with a callback that does nothing; conversion is a Walk whose callback reads.
// Check failures are Status(kUnsupportedMedia, "<check>: <message>") (see CheckFailure).
// IWYU pragma: private

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "formats/inspect.h"
#include "formats/source.h"

namespace glimmer::formats::internal {

struct Extent {
  enum class Kind : uint8_t {
    kZero,     // reads as zeros (unallocated, zero flag, hole)
    kData,     // `length` bytes stored at file `offset`
    kDeflate,  // raw deflate (qcow2 zlib), `stored` bytes at `offset`, decodes to `decoded` bytes
    kZlib,     // zlib-wrapped deflate (vmdk streamOptimized grains)
    kZstd,     // zstd frame (qcow2 compression_type=zstd)
  };
  Kind kind = Kind::kZero;
  int64_t length = 0;   // virtual bytes covered
  int64_t offset = 0;   // file offset of data / compressed bytes
  int64_t stored = 0;   // compressed: bytes available at offset (may include padding)
  int64_t decoded = 0;  // compressed: exact size the stream must decode to (cluster/grain)
                        // (vmdk: at least `length`)
  bool compressed() const { return kind != Kind::kZero && kind != Kind::kData; }
};

// Receives (virtual address, extent). Returning an error stops the walk with that error.
using ExtentFn = std::function<Status(int64_t vaddr, const Extent&)>;

class Image {
 public:
  virtual ~Image() = default;
  // Visits extents covering [0, virtual_size) in order, checking every table entry on the way.
  virtual Status Walk(const ExtentFn& fn) = 0;
};

// A whole-file raw image: one data extent [0, size) at `offset`.
class FlatImage final : public Image {
 public:
  FlatImage(int64_t offset, int64_t size) : offset_(offset), size_(size) {}
  Status Walk(const ExtentFn& fn) override {
    if (size_ == 0) return OkStatus();
    Extent e;
    e.kind = Extent::Kind::kData;
    e.length = size_;
    e.offset = offset_;
    return fn(0, e);
  }

 private:
  int64_t offset_, size_;
};

// Merges adjacent zero extents and file-contiguous data extents before passing them on.
class Coalescer {
 public:
  explicit Coalescer(const ExtentFn& out) : out_(out) {}
  Status Add(int64_t vaddr, const Extent& e);
  Status Flush();

 private:
  const ExtentFn& out_;
  bool have_ = false;
  int64_t vaddr_ = 0;
  Extent cur_;
};

// Sorted set of named file ranges (metadata), for overlap checks.
class RangeSet {
 public:
  void Add(int64_t offset, int64_t length, std::string what);
  // Sorts; returns the names of the first two overlapping ranges, if any ("" otherwise).
  std::pair<std::string, std::string> SortAndFindOverlap();
  // After SortAndFindOverlap: the name of a range overlapping [offset, offset+length), or nullptr.
  const std::string* Find(int64_t offset, int64_t length) const;
  size_t size() const { return ranges_.size(); }

 private:
  struct Range {
    int64_t begin, end;
    std::string what;
  };
  std::vector<Range> ranges_;
  int64_t max_len_ = 0;
};

Status Fail(std::string_view check, std::string message);

// Reads [offset, offset+length) into a new buffer after checking it lies inside the source and
// that length <= cap; failing either is check `check`.
StatusOr<std::vector<std::byte>> ReadTable(Source& src, int64_t offset, int64_t length, int64_t cap,
                                           std::string_view check, std::string_view what);

// True if [offset, offset+length) lies inside [0, size) with no overflow.
inline bool InFile(int64_t offset, int64_t length, int64_t size) {
  return offset >= 0 && length >= 0 && offset <= size && length <= size - offset;
}

// Per-format openers. Each fills `info` (format, virtual size, details, verdict for
// header-level failures) and, when the header is acceptable, `image`. They return a non-OK
// Status only for I/O errors; check failures set info->verdict.
struct Opened {
  Inspection info;
  std::unique_ptr<Image> image;
  int64_t image_size = -1;  // bytes the Image covers when not info.virtual_size (iso: whole file)
  int64_t size() const { return image_size >= 0 ? image_size : info.virtual_size; }
};
Status OpenQcow2(Source& src, const Limits& limits, Opened* out);
Status OpenVmdk(Source& src, const Limits& limits, Opened* out);
Status OpenVhd(Source& src, const Limits& limits, bool footer_at_start, Opened* out);
Status OpenVhdx(Source& src, const Limits& limits, Opened* out);
Status OpenVdi(Source& src, const Limits& limits, Opened* out);
Status OpenIso(Source& src, const Limits& limits, Opened* out);
Status OpenGpt(Source& src, const Limits& limits, Opened* out);
Status OpenLuks(Source& src, const Limits& limits, Opened* out);
Status OpenQed(Source& src, const Limits& limits, Opened* out);
Status OpenRaw(Source& src, const Limits& limits, Opened* out);

// Detection + open (+ deep walk when limits.deep). The single place where format and safety
// decisions are made, shared by Inspect(), the converters and the streaming inspector.
// `forced`: Glance format name or empty.
StatusOr<Opened> OpenImage(Source& src, const Limits& limits, std::string_view forced);

// Records a failed check on `info` from a check-failure Status; returns other Statuses unchanged
// (I/O errors), OkStatus() if it recorded a verdict.
Status RecordVerdict(const Status& st, Inspection* info);

}  // namespace glimmer::formats::internal
