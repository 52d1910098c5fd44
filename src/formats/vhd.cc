// VHD (qemu: vpc): fixed (raw data + footer at EOF) and dynamic (footer copy at 0, "cxsparse"
// dynamic header, BAT of big-endian sector numbers, a sector bitmap before each block).
//
// Virtual size rule (docs/formats.md): as qemu-img, so that converted sizes agree: current_size
// (@48) when the creator application is one that sizes by it ("win ", "qem2", "d2v ", "CTXS") or
// the CHS geometry is the maximum; otherwise cylinders x heads x sectors x 512.

#include <algorithm>

#include "formats/byte_order.h"
#include "formats/image.h"

namespace glimmer::formats::internal {
namespace {

constexpr uint32_t kFixed = 2, kDynamic = 3, kDifferencing = 4;

bool ChecksumOk(std::span<const std::byte> b, size_t checksum_at) {
  uint32_t sum = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    if (i >= checksum_at && i < checksum_at + 4) continue;
    sum += static_cast<uint8_t>(b[i]);
  }
  return ~sum == BE32(b, checksum_at);
}

class VhdDynamicImage final : public Image {
 public:
  VhdDynamicImage(Source& src, int64_t vsize, int64_t block, int64_t bat_offset, int64_t entries,
                  RangeSet meta)
      : src_(src),
        vsize_(vsize),
        block_(block),
        bat_offset_(bat_offset),
        entries_(entries),
        meta_(std::move(meta)) {}

  Status Walk(const ExtentFn& fn) override {
    const int64_t file = src_.size();
    const int64_t bitmap = ((block_ / 512 / 8) + 511) / 512 * 512;
    const int64_t used = DivRoundUp(vsize_, block_);
    ASSIGN_OR_RETURN(auto bat,
                     ReadTable(src_, bat_offset_, entries_ * 4, int64_t{64} << 20, "bat", "BAT"));
    RangeSet all = meta_;
    for (int64_t i = 0; i < used; ++i) {
      uint32_t s = BE32(bat, static_cast<size_t>(i) * 4);
      if (s == 0xffffffffu) continue;
      int64_t off = int64_t{s} * 512;
      int64_t need = bitmap + std::min(block_, vsize_ - i * block_);
      if (!InFile(off, need, file)) {
        return Fail("bat", "BAT entry " + std::to_string(i) + " points beyond the end of the file");
      }
      if (const std::string* what = meta_.Find(off, bitmap + block_)) {
        return Fail("bat", "block " + std::to_string(i) + " overlaps the " + *what);
      }
      all.Add(off, need, "block " + std::to_string(i));
    }
    if (auto [a, b] = all.SortAndFindOverlap(); !a.empty())
      return Fail("bat", a + " overlaps " + b);
    Coalescer out(fn);
    for (int64_t i = 0; i < used; ++i) {
      uint32_t s = BE32(bat, static_cast<size_t>(i) * 4);
      Extent e;
      e.length = std::min(block_, vsize_ - i * block_);
      if (s != 0xffffffffu) {
        e.kind = Extent::Kind::kData;
        e.offset = int64_t{s} * 512 + bitmap;
      }
      RETURN_IF_ERROR(out.Add(i * block_, e));
    }
    return out.Flush();
  }

 private:
  Source& src_;
  int64_t vsize_, block_, bat_offset_, entries_;
  RangeSet meta_;
};

Status Open(Source& src, const Limits& limits, bool footer_at_start, Opened* out) {
  Inspection& info = out->info;
  info.format = "vhd";
  info.qemu_format = "vpc";
  const int64_t file = src.size();
  if (file < 512) return Fail("footer", "file too small for a VHD footer");
  std::vector<std::byte> footer(512);
  RETURN_IF_ERROR(ReadExact(src, footer_at_start ? 0 : file - 512, footer));
  if (!Matches(footer, 0, "conectix")) return Fail("footer", "no VHD footer");
  if (!ChecksumOk(footer, 64)) return Fail("footer", "VHD footer checksum mismatch");
  uint32_t type = BE32(footer, 60);
  if (type == kDifferencing)
    return Fail("backing_file", "VHD image is a differencing disk (has a parent)");
  if (type != kFixed && type != kDynamic)
    return Fail("footer", "unknown VHD disk type " + std::to_string(type));
  uint64_t current = BE64(footer, 48);
  uint32_t cyls = BE16(footer, 56);
  uint32_t heads = static_cast<uint8_t>(footer[58]);
  uint32_t spt = static_cast<uint8_t>(footer[59]);
  int64_t chs = int64_t{cyls} * heads * spt;
  std::string creator(reinterpret_cast<const char*>(footer.data() + 28), 4);
  bool by_size = creator == "win " || creator == "qem2" || creator == "d2v " || creator == "CTXS" ||
                 chs == int64_t{65535} * 16 * 255;
  if (current > static_cast<uint64_t>(INT64_MAX / 2))
    return Fail("virtual_size", "VHD size out of range");
  int64_t vsize = by_size ? static_cast<int64_t>(current) : chs * 512;
  info.virtual_size = vsize;
  info.details.push_back({"subformat", std::string(type == kFixed ? "fixed" : "dynamic")});
  info.details.push_back({"creator", creator});
  if (vsize > limits.max_virtual_size) return OkStatus();  // reported by the caller

  if (type == kFixed) {
    if (footer_at_start) return Fail("footer", "fixed VHD with a footer copy at the start");
    if (vsize > file - 512) {
      return Fail("virtual_size", "fixed VHD declares " + std::to_string(vsize) +
                                      " bytes but holds " + std::to_string(file - 512));
    }
    out->image = std::make_unique<FlatImage>(0, vsize);
    return OkStatus();
  }
  // Dynamic.
  int64_t data_offset = static_cast<int64_t>(BE64(footer, 16) & 0x7fffffffffffffffull);
  if (!InFile(data_offset, 1024, file) || data_offset < 512) {
    return Fail("header", "VHD dynamic header offset " + std::to_string(data_offset) +
                              " is outside the file");
  }
  std::vector<std::byte> dh(1024);
  RETURN_IF_ERROR(ReadExact(src, data_offset, dh));
  if (!Matches(dh, 0, "cxsparse"))
    return Fail("header", "VHD dynamic header has no cxsparse cookie");
  if (!ChecksumOk(dh, 36)) return Fail("header", "VHD dynamic header checksum mismatch");
  int64_t bat_offset = static_cast<int64_t>(BE64(dh, 16) & 0x7fffffffffffffffull);
  int64_t entries = BE32(dh, 28);
  int64_t block = BE32(dh, 32);
  if (block < 512 || block > (int64_t{256} << 20) || (block & (block - 1)) != 0) {
    return Fail("header", "invalid VHD block size " + std::to_string(block));
  }
  info.cluster_size = block;
  if (entries * block < vsize) {
    return Fail("bat",
                "BAT has " + std::to_string(entries) + " entries, too few for the virtual size");
  }
  int64_t used = DivRoundUp(vsize, block);
  if (used * 4 > limits.max_table_bytes) return Fail("bat", "BAT too large");
  if (!InFile(bat_offset, used * 4, file))
    return Fail("bat", "BAT lies beyond the end of the file");
  RangeSet meta;
  meta.Add(0, 512, "footer copy");
  meta.Add(data_offset, 1024, "dynamic header");
  meta.Add(bat_offset, used * 4, "BAT");
  meta.Add(file - 512, 512, "footer");
  if (auto [a, b] = meta.SortAndFindOverlap(); !a.empty()) return Fail("bat", a + " overlaps " + b);
  out->image =
      std::make_unique<VhdDynamicImage>(src, vsize, block, bat_offset, used, std::move(meta));
  return OkStatus();
}

}  // namespace

Status OpenVhd(Source& src, const Limits& limits, bool footer_at_start, Opened* out) {
  Status st = Open(src, limits, footer_at_start, out);
  if (!st.ok()) out->image.reset();
  return RecordVerdict(st, &out->info);
}

}  // namespace glimmer::formats::internal
