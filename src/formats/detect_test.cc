// Unit tests that need no qemu-img: detection rules, CRC32C, check-failure statuses, range sets.

#include "formats/detect.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "formats/crc32c.h"
#include "formats/image.h"
#include "formats/inspect.h"
#include "formats/inspector.h"

namespace glimmer::formats {
namespace {

using internal::Detect;

std::vector<std::byte> Zeros(size_t n) { return std::vector<std::byte>(n); }

void Put(std::vector<std::byte>& b, size_t at, std::string_view s) {
  std::memcpy(b.data() + at, s.data(), s.size());
}

internal::Detection DetectBuf(const std::vector<std::byte>& b) {
  std::span<const std::byte> all(b);
  return Detect(all.first(std::min<size_t>(b.size(), internal::kDetectHeadBytes)),
                all.last(std::min<size_t>(b.size(), 512)), static_cast<int64_t>(b.size()));
}

TEST(Detect, RawIsoMbrHybridAndPolyglots) {
  auto raw = Zeros(1 << 20);
  EXPECT_EQ(DetectBuf(raw).format, "raw");

  auto iso = Zeros(1 << 20);
  Put(iso, 32769, "CD001");
  EXPECT_EQ(DetectBuf(iso).format, "iso");
  iso[510] = std::byte{0x55};
  iso[511] = std::byte{0xAA};
  auto hybrid = DetectBuf(iso);
  EXPECT_EQ(hybrid.format, "iso");
  EXPECT_TRUE(hybrid.hybrid);
  EXPECT_TRUE(hybrid.polyglot.empty());

  Put(iso, 0, "QFI\xfb");
  EXPECT_FALSE(DetectBuf(iso).polyglot.empty());

  auto fat = Zeros(4096);
  fat[510] = std::byte{0x55};
  fat[511] = std::byte{0xAA};
  EXPECT_EQ(DetectBuf(fat).format, "gpt");
  fat[0x10] = std::byte{2};
  fat[0x15] = std::byte{0xF8};
  EXPECT_EQ(DetectBuf(fat).format, "raw");  // a FAT boot sector is not a partition table
}

TEST(Detect, FixedVhdFromFooterAtEnd) {
  auto disk = Zeros(1 << 20);
  Put(disk, disk.size() - 512, "conectix");
  auto d = DetectBuf(disk);
  EXPECT_EQ(d.format, "vhd");
  EXPECT_FALSE(d.vhd_footer_at_start);
  disk[510] = std::byte{0x55};
  disk[511] = std::byte{0xAA};
  EXPECT_TRUE(DetectBuf(disk).polyglot.empty());  // an MBR disk inside a fixed VHD
  Put(disk, 0, "KDMV");
  EXPECT_FALSE(DetectBuf(disk).polyglot.empty());
}

TEST(Detect, VmdkTextDescriptorIsVmdkAndRejected) {
  std::string text =
      "# Disk DescriptorFile\nversion=1\ncreateType=\"monolithicFlat\"\nRW 10 FLAT \"/etc/passwd\" "
      "0\n";
  std::vector<std::byte> b(text.size());
  std::memcpy(b.data(), text.data(), text.size());
  MemorySource src(b);
  auto info = Inspect(src, {});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->format, "vmdk");
  EXPECT_EQ(info->verdict.check, "descriptor");
}

TEST(Crc32c, KnownVector) {
  std::string s = "123456789";
  EXPECT_EQ(internal::Crc32c({reinterpret_cast<const std::byte*>(s.data()), s.size()}),
            0xE3069283u);
}

TEST(CheckFailure, RoundTrip) {
  Status st = CheckFailure("l2_table", "bad entry: x");
  EXPECT_EQ(st.code(), StatusCode::kUnsupportedMedia);
  EXPECT_EQ(FailedCheck(st), "l2_table");
  EXPECT_EQ(FailedCheck(InternalError("l2_table: no")), "");
  EXPECT_EQ(GlanceFormatName("vpc"), "vhd");
  EXPECT_EQ(GlanceFormatName("bogus"), "");
}

TEST(RangeSet, OverlapsAndFind) {
  internal::RangeSet r;
  r.Add(0, 512, "header");
  r.Add(4096, 4096, "table");
  EXPECT_EQ(r.SortAndFindOverlap().first, "");
  EXPECT_EQ(r.Find(100, 10) ? *r.Find(100, 10) : "", "header");
  EXPECT_EQ(r.Find(512, 3584), nullptr);
  EXPECT_EQ(*r.Find(8000, 1000), "table");
  r.Add(8000, 10, "other");
  EXPECT_EQ(r.SortAndFindOverlap().second, "other");
}

TEST(StreamInspector, FixedVhdFooterFromTheTail) {
  // 2 MiB of data + a fixed VHD footer: detected only from the tail of the stream.
  std::vector<std::byte> img(2 * 1024 * 1024 + 512);
  auto* f = img.data() + img.size() - 512;
  std::memcpy(f, "conectix", 8);
  std::memcpy(f + 28, "win ", 4);
  uint64_t size = 2 * 1024 * 1024;
  for (int i = 0; i < 8; ++i) f[48 + i] = std::byte(static_cast<uint8_t>(size >> (56 - 8 * i)));
  f[63] = std::byte{2};  // fixed
  uint32_t sum = 0;
  for (int i = 0; i < 512; ++i) sum += static_cast<uint8_t>(f[i]);
  sum = ~sum;
  for (int i = 0; i < 4; ++i) f[64 + i] = std::byte(static_cast<uint8_t>(sum >> (24 - 8 * i)));
  StreamInspector si;
  for (size_t i = 0; i < img.size(); i += 100000)
    si.Feed(std::span(img).subspan(i, std::min<size_t>(100000, img.size() - i)));
  auto r = si.Finish(static_cast<int64_t>(img.size()));
  EXPECT_EQ(r.format, "vhd");
  EXPECT_TRUE(r.verdict.ok()) << r.verdict.message;
  EXPECT_EQ(r.virtual_size, int64_t(size));
}

}  // namespace
}  // namespace glimmer::formats
