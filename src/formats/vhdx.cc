// VHDX: file identifier, two CRC32C-protected headers chosen by sequence number, region table,
// metadata table (file parameters, virtual disk size, logical sector size) and the BAT with
// interleaved sector-bitmap entries. Differencing disks and pending logs are rejected.

#include <algorithm>
#include <array>

#include "formats/byte_order.h"
#include "formats/crc32c.h"
#include "formats/image.h"

namespace glimmer::formats::internal {
namespace {

using Guid = std::array<uint8_t, 16>;

// GUIDs are stored with the first three fields little-endian.
constexpr Guid MakeGuid(uint32_t a, uint16_t b, uint16_t c, uint64_t d) {
  Guid g{};
  for (int i = 0; i < 4; ++i) g[i] = static_cast<uint8_t>(a >> (8 * i));
  for (int i = 0; i < 2; ++i) g[4 + i] = static_cast<uint8_t>(b >> (8 * i));
  for (int i = 0; i < 2; ++i) g[6 + i] = static_cast<uint8_t>(c >> (8 * i));
  for (int i = 0; i < 8; ++i) g[8 + i] = static_cast<uint8_t>(d >> (8 * (7 - i)));
  return g;
}
constexpr Guid kBatGuid = MakeGuid(0x2DC27766, 0xF623, 0x4200, 0x9D64115E9BFD4A08ull);
constexpr Guid kMetadataGuid = MakeGuid(0x8B7CA206, 0x4790, 0x4B9A, 0xB8FE575F050F886Eull);
constexpr Guid kFileParameters = MakeGuid(0xCAA16737, 0xFA36, 0x4D43, 0xB3B633F0AA44E76Bull);
constexpr Guid kVirtualDiskSize = MakeGuid(0x2FA54224, 0xCD1B, 0x4876, 0xB2115DBED83BF4B8ull);
constexpr Guid kLogicalSectorSize = MakeGuid(0x8141BF1D, 0xA96F, 0x4709, 0xBA47F233A8FAAB5Full);
constexpr Guid kPhysicalSectorSize = MakeGuid(0xCDA348C7, 0x445D, 0x4471, 0x9CC9E9885251C556ull);
constexpr Guid kPage83 = MakeGuid(0xBECA12AB, 0xB2E6, 0x4523, 0x93EFC309E000C746ull);
constexpr Guid kParentLocator = MakeGuid(0xA8D35F2D, 0xB30B, 0x454D, 0xABF7D3D84834AB0Cull);

constexpr int64_t kMiB = int64_t{1} << 20;

bool GuidAt(std::span<const std::byte> b, size_t o, const Guid& g) {
  return std::memcmp(b.data() + o, g.data(), 16) == 0;
}

// CRC32C of `b` with the 4-byte checksum field at `at` taken as zero.
bool CrcOk(std::span<const std::byte> b, size_t at) {
  std::vector<std::byte> copy(b.begin(), b.end());
  uint32_t stored = LE32(copy, at);
  std::memset(copy.data() + at, 0, 4);
  return Crc32c(copy) == stored;
}

class VhdxImage final : public Image {
 public:
  VhdxImage(Source& src, int64_t vsize, int64_t block, int64_t chunk_ratio, int64_t bat_offset,
            int64_t bat_entries, RangeSet meta)
      : src_(src),
        vsize_(vsize),
        block_(block),
        chunk_ratio_(chunk_ratio),
        bat_offset_(bat_offset),
        bat_entries_(bat_entries),
        meta_(std::move(meta)) {}

  Status Walk(const ExtentFn& fn) override {
    const int64_t file = src_.size();
    const int64_t blocks = DivRoundUp(vsize_, block_);
    ASSIGN_OR_RETURN(
        auto bat, ReadTable(src_, bat_offset_, bat_entries_ * 8, int64_t{256} << 20, "bat", "BAT"));
    RangeSet all = meta_;
    auto entry = [&](int64_t i) {
      return LE64(bat, static_cast<size_t>(i + i / chunk_ratio_) * 8);
    };
    for (int64_t i = 0; i < blocks; ++i) {
      uint64_t e = entry(i);
      uint32_t state = e & 7;
      if (state == 7)
        return Fail("bat",
                    "block " + std::to_string(i) + " is partially present (differencing disk)");
      if (state == 6) {
        if (e & 0xFFFF8ull)
          return Fail("bat", "BAT entry " + std::to_string(i) + " has reserved bits set");
        int64_t off = static_cast<int64_t>(e >> 20) * kMiB;
        int64_t need = std::min(block_, vsize_ - i * block_);
        if (off < kMiB || !InFile(off, need, file)) {
          return Fail("bat", "block " + std::to_string(i) + " lies outside the file");
        }
        if (const std::string* what = meta_.Find(off, block_)) {
          return Fail("bat", "block " + std::to_string(i) + " overlaps the " + *what);
        }
        all.Add(off, need, "block " + std::to_string(i));
      } else if (state != 0 && state != 1 && state != 2 && state != 3) {
        return Fail("bat", "BAT entry " + std::to_string(i) + " has invalid state " +
                               std::to_string(state));
      }
    }
    if (auto [a, b] = all.SortAndFindOverlap(); !a.empty())
      return Fail("bat", a + " overlaps " + b);
    Coalescer out(fn);
    for (int64_t i = 0; i < blocks; ++i) {
      uint64_t e = entry(i);
      Extent x;
      x.length = std::min(block_, vsize_ - i * block_);
      if ((e & 7) == 6) {
        x.kind = Extent::Kind::kData;
        x.offset = static_cast<int64_t>(e >> 20) * kMiB;
      }
      RETURN_IF_ERROR(out.Add(i * block_, x));
    }
    return out.Flush();
  }

 private:
  Source& src_;
  int64_t vsize_, block_, chunk_ratio_, bat_offset_, bat_entries_;
  RangeSet meta_;
};

Status Open(Source& src, const Limits& limits, Opened* out) {
  Inspection& info = out->info;
  info.format = "vhdx";
  info.qemu_format = "vhdx";
  const int64_t file = src.size();
  if (file < 5 * 64 * 1024)
    return Fail("header", "file too small for VHDX headers and region tables");
  // Headers at 64 KiB and 128 KiB: the valid one with the larger sequence number wins.
  std::vector<std::byte> hdr[2];
  bool valid[2];
  uint64_t seq[2] = {0, 0};
  for (int i = 0; i < 2; ++i) {
    hdr[i].resize(4096);
    RETURN_IF_ERROR(ReadExact(src, 65536 * (i + 1), hdr[i]));
    valid[i] = Matches(hdr[i], 0, "head") && CrcOk(hdr[i], 4);
    if (valid[i]) seq[i] = LE64(hdr[i], 8);
  }
  if (!valid[0] && !valid[1])
    return Fail("crc", "neither VHDX header has a valid signature and CRC32C");
  int cur = !valid[0] ? 1 : !valid[1] ? 0 : (seq[1] > seq[0] ? 1 : 0);
  if (valid[0] && valid[1] && seq[0] == seq[1] &&
      std::memcmp(hdr[0].data() + 8, hdr[1].data() + 8, 4096 - 8) != 0) {
    return Fail("header", "both VHDX headers have the same sequence number but differ");
  }
  const auto& h = hdr[cur];
  if (LE16(h, 66) != 1)
    return Fail("header", "unsupported VHDX version " + std::to_string(LE16(h, 66)));
  int64_t log_length = LE32(h, 68);
  int64_t log_offset = static_cast<int64_t>(LE64(h, 72) & 0x7fffffffffffffffull);
  if (log_length % kMiB != 0 || log_offset % kMiB != 0 ||
      (log_length && !InFile(log_offset, log_length, file))) {
    return Fail("log", "VHDX log area is unaligned or outside the file");
  }
  bool log_guid_set = !IsZero(h.data() + 48, 16);
  if (log_guid_set && log_length > 0) {
    // A log entry with this header's log GUID means writes were not flushed: the data is not
    // consistent until the log is replayed (not supported: rejected).
    std::vector<std::byte> le(4096);
    for (int64_t off = log_offset; off < log_offset + log_length; off += 4096) {
      RETURN_IF_ERROR(ReadExact(src, off, le));
      if (Matches(le, 0, "loge") && std::memcmp(le.data() + 32, h.data() + 48, 16) == 0) {
        return Fail("log", "VHDX image has a log that needs to be replayed");
      }
    }
  }

  // Region table (64 KiB at 192 KiB; the copy at 256 KiB is used if the first is damaged).
  std::vector<std::byte> rt(65536);
  RETURN_IF_ERROR(ReadExact(src, 192 * 1024, rt));
  if (!Matches(rt, 0, "regi") || !CrcOk(rt, 4)) {
    RETURN_IF_ERROR(ReadExact(src, 256 * 1024, rt));
    if (!Matches(rt, 0, "regi") || !CrcOk(rt, 4)) {
      return Fail("crc", "both VHDX region tables have an invalid signature or CRC32C");
    }
  }
  uint32_t count = LE32(rt, 8);
  if (count > 2047)
    return Fail("region_table", "VHDX region table has " + std::to_string(count) + " entries");
  int64_t bat_off = -1, bat_len = 0, meta_off = -1, meta_len = 0;
  RangeSet meta;
  meta.Add(0, 5 * 64 * 1024, "headers and region tables");
  if (log_length) meta.Add(log_offset, log_length, "log");
  for (uint32_t i = 0; i < count; ++i) {
    size_t e = 16 + size_t{i} * 32;
    int64_t off = static_cast<int64_t>(LE64(rt, e + 16));
    int64_t len = LE32(rt, e + 24);
    bool required = LE32(rt, e + 28) & 1;
    if (off % kMiB != 0 || len % kMiB != 0 || off < kMiB || !InFile(off, len, file)) {
      return Fail("region_table",
                  "region " + std::to_string(i) + " is unaligned or outside the file");
    }
    if (GuidAt(rt, e, kBatGuid)) {
      if (bat_off >= 0) return Fail("region_table", "duplicate BAT region");
      bat_off = off;
      bat_len = len;
      meta.Add(off, len, "BAT region");
    } else if (GuidAt(rt, e, kMetadataGuid)) {
      if (meta_off >= 0) return Fail("region_table", "duplicate metadata region");
      meta_off = off;
      meta_len = len;
      meta.Add(off, len, "metadata region");
    } else if (required) {
      return Fail("region_table", "unknown required region " + std::to_string(i));
    }
  }
  if (bat_off < 0 || meta_off < 0)
    return Fail("region_table", "VHDX has no BAT or no metadata region");
  if (auto [a, b] = meta.SortAndFindOverlap(); !a.empty())
    return Fail("region_table", a + " overlaps " + b);

  // Metadata table: the first 64 KiB of the metadata region.
  std::vector<std::byte> mt(65536);
  if (meta_len < 65536) return Fail("metadata", "metadata region too small");
  RETURN_IF_ERROR(ReadExact(src, meta_off, mt));
  if (!Matches(mt, 0, "metadata")) return Fail("metadata", "metadata table has no signature");
  uint16_t items = LE16(mt, 10);
  if (items > 2047)
    return Fail("metadata", "metadata table has " + std::to_string(items) + " entries");
  int64_t block = -1, vsize = -1, logical = -1;
  bool has_parent = false;
  uint32_t param_flags = 0;
  for (uint16_t i = 0; i < items; ++i) {
    size_t e = 32 + size_t{i} * 32;
    int64_t off = LE32(mt, e + 16), len = LE32(mt, e + 20);
    uint32_t flags = LE32(mt, e + 24);
    if (len == 0) continue;
    if (off < 65536 || len > 65536 || !InFile(off, len, meta_len)) {
      return Fail("metadata",
                  "metadata item " + std::to_string(i) + " lies outside the metadata region");
    }
    std::vector<std::byte> v(static_cast<size_t>(len));
    RETURN_IF_ERROR(ReadExact(src, meta_off + off, v));
    auto need = [&](int64_t n) -> Status {
      if (len < n) return Fail("metadata", "metadata item " + std::to_string(i) + " is too short");
      return OkStatus();
    };
    if (GuidAt(mt, e, kFileParameters)) {
      RETURN_IF_ERROR(need(8));
      block = LE32(v, 0);
      param_flags = LE32(v, 4);
      has_parent = param_flags & 2;
    } else if (GuidAt(mt, e, kVirtualDiskSize)) {
      RETURN_IF_ERROR(need(8));
      uint64_t s = LE64(v, 0);
      if (s > static_cast<uint64_t>(INT64_MAX / 2))
        return Fail("virtual_size", "VHDX size out of range");
      vsize = static_cast<int64_t>(s);
    } else if (GuidAt(mt, e, kLogicalSectorSize)) {
      RETURN_IF_ERROR(need(4));
      logical = LE32(v, 0);
    } else if (GuidAt(mt, e, kParentLocator)) {
      has_parent = true;
    } else if (GuidAt(mt, e, kPhysicalSectorSize) || GuidAt(mt, e, kPage83)) {
      // informational
    } else if (flags & 4) {
      return Fail("metadata", "unknown required metadata item " + std::to_string(i));
    }
  }
  if (has_parent) return Fail("backing_file", "VHDX image is a differencing disk (has a parent)");
  if (block < 0 || vsize < 0 || logical < 0)
    return Fail("metadata", "VHDX metadata lacks a required item");
  info.virtual_size = vsize;
  if (block < kMiB || block > 256 * kMiB || (block & (block - 1)) != 0) {
    return Fail("metadata", "invalid VHDX block size " + std::to_string(block));
  }
  if (logical != 512 && logical != 4096)
    return Fail("metadata", "invalid logical sector size " + std::to_string(logical));
  if (vsize % logical != 0)
    return Fail("virtual_size", "VHDX size is not a multiple of the sector size");
  info.cluster_size = block;
  info.details.push_back({"logical-sector-size", logical});
  if (vsize > limits.max_virtual_size) return OkStatus();  // reported by the caller
  int64_t chunk_ratio = ((int64_t{1} << 23) * logical) / block;
  int64_t blocks = DivRoundUp(vsize, block);
  int64_t entries = blocks == 0 ? 0 : blocks + (blocks - 1) / chunk_ratio;
  if (entries * 8 > bat_len) return Fail("bat", "BAT region too small for the virtual size");
  if (entries * 8 > limits.max_table_bytes) return Fail("bat", "BAT too large");
  out->image = std::make_unique<VhdxImage>(src, vsize, block, chunk_ratio, bat_off, entries,
                                           std::move(meta));
  return OkStatus();
}

}  // namespace

Status OpenVhdx(Source& src, const Limits& limits, Opened* out) {
  Status st = Open(src, limits, out);
  if (!st.ok()) out->image.reset();
  return RecordVerdict(st, &out->info);
}

}  // namespace glimmer::formats::internal
