#pragma once
// Streaming disk-image inspection: fed the first bytes of an upload as they stream past, it
// reports the detected format and virtual size. This first version knows raw and qcow2 headers;
// the full hostile-input format library (vmdk, vhd, vhdx, vdi, iso, gpt, luks, safety checks)
// grows behind this interface (docs: ../shared/reference/formats.md).
//
// Bounded memory: keeps at most kHeaderBytes of the stream. Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace glimmer::formats {

class StreamInspector {
 public:
  static constexpr size_t kHeaderBytes = 4096;

  // Feeds the next bytes of the stream (only the first kHeaderBytes are looked at).
  void Feed(std::span<const std::byte> data);
  bool wants_more() const { return header_.size() < kHeaderBytes; }

  // After the whole stream was fed: the detected format ("qcow2", or "raw" when nothing else
  // matched) and its virtual size in bytes, if the format defines one.
  struct Result {
    std::string format;
    std::optional<int64_t> virtual_size;
  };
  Result Finish(int64_t total_size) const;

 private:
  std::vector<std::byte> header_;
};

}  // namespace glimmer::formats
