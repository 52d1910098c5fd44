#pragma once
// Internal: format detection from the first bytes and the last bytes of an input. Shared by the
// random-access path (OpenImage) and the streaming inspector so that both decide identically.
// IWYU pragma: private

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace glimmer::formats::internal {

// Bytes detection looks at: the head (ISO volume descriptors reach 64 KiB) and the last 512.
inline constexpr size_t kDetectHeadBytes = 64 * 1024;
inline constexpr size_t kDetectTailBytes = 512;

struct Detection {
  std::string format;                // Glance name; "raw" when nothing matched
  std::vector<std::string> matches;  // every non-raw signature that matched (for messages)
  bool vhd_footer_at_start = false;  // vhd: a footer copy at offset 0 (dynamic) vs only at EOF
  bool hybrid = false;               // iso + gpt/mbr (hybrid ISO), or fixed vhd holding gpt/iso
  std::string polyglot;              // non-empty: several formats matched (the message)
};

// `head` = the first min(size, kDetectHeadBytes) bytes, `tail` = the last min(size, 512) bytes
// (may overlap head), `size` = the input size.
Detection Detect(std::span<const std::byte> head, std::span<const std::byte> tail, int64_t size);

}  // namespace glimmer::formats::internal
