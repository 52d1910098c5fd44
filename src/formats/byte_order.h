#pragma once
// Internal: unaligned little/big-endian loads and stores on byte spans. Callers bounds-check
// (the span accessors assert in debug builds only through std::span semantics; all parser call
// sites check sizes first).
// IWYU pragma: private

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace glimmer::formats::internal {

inline uint64_t LoadBE(const std::byte* p, int width) {
  uint64_t v = 0;
  for (int i = 0; i < width; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
inline uint64_t LoadLE(const std::byte* p, int width) {
  uint64_t v = 0;
  for (int i = width - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
inline uint16_t BE16(std::span<const std::byte> b, size_t o) {
  return static_cast<uint16_t>(LoadBE(&b[o], 2));
}
inline uint32_t BE32(std::span<const std::byte> b, size_t o) {
  return static_cast<uint32_t>(LoadBE(&b[o], 4));
}
inline uint64_t BE64(std::span<const std::byte> b, size_t o) { return LoadBE(&b[o], 8); }
inline uint16_t LE16(std::span<const std::byte> b, size_t o) {
  return static_cast<uint16_t>(LoadLE(&b[o], 2));
}
inline uint32_t LE32(std::span<const std::byte> b, size_t o) {
  return static_cast<uint32_t>(LoadLE(&b[o], 4));
}
inline uint64_t LE64(std::span<const std::byte> b, size_t o) { return LoadLE(&b[o], 8); }

inline void StoreBE(std::byte* p, uint64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = std::byte(static_cast<uint8_t>(v));
    v >>= 8;
  }
}
inline void StoreLE(std::byte* p, uint64_t v, int width) {
  for (int i = 0; i < width; ++i) {
    p[i] = std::byte(static_cast<uint8_t>(v));
    v >>= 8;
  }
}

// True if b[o, o+s.size()) equals s.
inline bool Matches(std::span<const std::byte> b, size_t o, std::string_view s) {
  return b.size() >= o + s.size() && std::memcmp(b.data() + o, s.data(), s.size()) == 0;
}

inline bool IsZero(const std::byte* p, size_t n) {
  // Word-wise scan; fast enough to run over every converted byte.
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    uint64_t a, b, c, d;
    std::memcpy(&a, p + i, 8);
    std::memcpy(&b, p + i + 8, 8);
    std::memcpy(&c, p + i + 16, 8);
    std::memcpy(&d, p + i + 24, 8);
    if (a | b | c | d) return false;
  }
  for (; i < n; ++i) {
    if (p[i] != std::byte{0}) return false;
  }
  return true;
}

inline int64_t DivRoundUp(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace glimmer::formats::internal
