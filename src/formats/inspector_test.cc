#include "formats/inspector.h"

#include <gtest/gtest.h>

namespace glimmer::formats {
namespace {

std::vector<std::byte> Qcow2Header(uint32_t version, uint64_t size) {
  std::vector<std::byte> h(512);
  const uint8_t magic[] = {'Q', 'F', 'I', 0xfb};
  for (int i = 0; i < 4; ++i) h[i] = std::byte{magic[i]};
  for (int i = 0; i < 4; ++i) h[4 + i] = std::byte(static_cast<uint8_t>(version >> (24 - 8 * i)));
  for (int i = 0; i < 8; ++i) h[24 + i] = std::byte(static_cast<uint8_t>(size >> (56 - 8 * i)));
  return h;
}

TEST(StreamInspector, Qcow2VirtualSizeAcrossSmallFeeds) {
  auto h = Qcow2Header(3, 64ull << 20);
  h.resize(196616);  // the whole (all-zero beyond the header) stream is fed
  StreamInspector in;
  for (size_t i = 0; i < h.size(); i += 7) {
    in.Feed(std::span(h).subspan(i, std::min<size_t>(7, h.size() - i)));
  }
  auto r = in.Finish(196616);
  EXPECT_EQ(r.format, "qcow2");
  EXPECT_EQ(r.virtual_size, 64ll << 20);
}

TEST(StreamInspector, RawAndBadVersions) {
  std::vector<std::byte> zeros(100);
  StreamInspector raw;
  raw.Feed(zeros);
  EXPECT_EQ(raw.Finish(100).format, "raw");
  EXPECT_EQ(raw.Finish(100).virtual_size, 100);
  StreamInspector bad;
  bad.Feed(Qcow2Header(9, 1 << 20));
  EXPECT_EQ(bad.Finish(512).format, "qcow2");
  EXPECT_FALSE(bad.Finish(512).virtual_size);
  // A truncated qcow2 header is still detected as qcow2 (by its magic) and fails "header".
  StreamInspector truncated;
  auto h = Qcow2Header(3, 1 << 20);
  truncated.Feed(std::span(h).first(20));
  auto t = truncated.Finish(20);
  EXPECT_EQ(t.format, "qcow2");
  EXPECT_EQ(t.verdict.check, "header");
}

}  // namespace
}  // namespace glimmer::formats
