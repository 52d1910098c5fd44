#include "formats/inspector.h"

#include <algorithm>

namespace glimmer::formats {
namespace {

uint64_t BigEndian(const std::vector<std::byte>& b, size_t offset, size_t width) {
  uint64_t v = 0;
  for (size_t i = 0; i < width; ++i) v = (v << 8) | static_cast<uint8_t>(b[offset + i]);
  return v;
}

}  // namespace

void StreamInspector::Feed(std::span<const std::byte> data) {
  if (!wants_more()) return;
  size_t take = std::min(data.size(), kHeaderBytes - header_.size());
  header_.insert(header_.end(), data.begin(), data.begin() + static_cast<ptrdiff_t>(take));
}

StreamInspector::Result StreamInspector::Finish(int64_t total_size) const {
  // qcow2: "QFI\xfb", version (2 or 3) at 4, virtual size at 24, all big-endian.
  if (header_.size() >= 32 && BigEndian(header_, 0, 4) == 0x514649fbu) {
    uint64_t version = BigEndian(header_, 4, 4);
    uint64_t size = BigEndian(header_, 24, 8);
    Result r{"qcow2", std::nullopt};
    if ((version == 2 || version == 3) && size <= static_cast<uint64_t>(INT64_MAX)) {
      r.virtual_size = static_cast<int64_t>(size);
    }
    return r;
  }
  return Result{"raw", total_size};
}

}  // namespace glimmer::formats
