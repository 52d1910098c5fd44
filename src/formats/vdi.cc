// VDI (VirtualBox) v1.1: dynamic and fixed images, 1 MiB blocks, u32 LE block map.

#include <algorithm>

#include "formats/byte_order.h"
#include "formats/image.h"

namespace glimmer::formats::internal {
namespace {

constexpr uint32_t kUnallocated = 0xffffffffu, kDiscarded = 0xfffffffeu;

class VdiImage final : public Image {
 public:
  VdiImage(Source& src, int64_t vsize, int64_t block, int64_t bmap_offset, int64_t data_offset,
           int64_t blocks, int64_t allocated)
      : src_(src),
        vsize_(vsize),
        block_(block),
        bmap_offset_(bmap_offset),
        data_offset_(data_offset),
        blocks_(blocks),
        allocated_(allocated) {}

  Status Walk(const ExtentFn& fn) override {
    const int64_t file = src_.size();
    const int64_t used = DivRoundUp(vsize_, block_);
    ASSIGN_OR_RETURN(auto map, ReadTable(src_, bmap_offset_, used * 4, int64_t{64} << 20,
                                         "block_map", "block map"));
    // Each allocated block index must be < blocks_allocated and used once.
    std::vector<bool> taken(static_cast<size_t>(std::min(allocated_, used)), false);
    Coalescer out(fn);
    for (int64_t i = 0; i < used; ++i) {
      uint32_t e = LE32(map, static_cast<size_t>(i) * 4);
      Extent x;
      x.length = std::min(block_, vsize_ - i * block_);
      if (e != kUnallocated && e != kDiscarded) {
        if (e >= allocated_ || e >= static_cast<uint32_t>(taken.size())) {
          return Fail("block_map", "block map entry " + std::to_string(i) + " = " +
                                       std::to_string(e) + " is out of range (" +
                                       std::to_string(allocated_) + " blocks allocated)");
        }
        if (taken[e]) return Fail("block_map", "block " + std::to_string(e) + " is mapped twice");
        taken[e] = true;
        int64_t off = data_offset_ + int64_t{e} * block_;
        if (!InFile(off, x.length, file)) {
          return Fail("block_map",
                      "block " + std::to_string(i) + " lies beyond the end of the file");
        }
        x.kind = Extent::Kind::kData;
        x.offset = off;
      }
      RETURN_IF_ERROR(out.Add(i * block_, x));
    }
    return out.Flush();
  }

 private:
  Source& src_;
  int64_t vsize_, block_, bmap_offset_, data_offset_, blocks_, allocated_;
};

Status Open(Source& src, const Limits& limits, Opened* out) {
  Inspection& info = out->info;
  info.format = "vdi";
  info.qemu_format = "vdi";
  const int64_t file = src.size();
  if (file < 512) return Fail("header", "file too small for a VDI header");
  std::vector<std::byte> h(512);
  RETURN_IF_ERROR(ReadExact(src, 0, h));
  uint32_t version = LE32(h, 0x44);
  if (version != 0x00010001)
    return Fail("header", "unsupported VDI version 0x" + std::to_string(version));
  uint32_t header_size = LE32(h, 0x48);
  if (header_size < 0x180 || header_size > 512 - 0x48)
    return Fail("header", "invalid VDI header size");
  uint32_t type = LE32(h, 0x4C);
  int64_t bmap = LE32(h, 0x154), data = LE32(h, 0x158);
  uint32_t sector = LE32(h, 0x168);
  uint64_t disk = LE64(h, 0x170);
  int64_t block = LE32(h, 0x178), extra = LE32(h, 0x17C);
  int64_t blocks = LE32(h, 0x180), allocated = LE32(h, 0x184);
  if (disk > static_cast<uint64_t>(INT64_MAX / 2))
    return Fail("virtual_size", "VDI size out of range");
  info.virtual_size = static_cast<int64_t>(disk);
  if (type == 3 || type == 4 || !IsZero(h.data() + 0x1B8, 16)) {
    return Fail("backing_file", "VDI image is an undo/differencing image (has a parent)");
  }
  if (type != 1 && type != 2)
    return Fail("header", "unknown VDI image type " + std::to_string(type));
  info.details.push_back({"subformat", std::string(type == 1 ? "dynamic" : "fixed")});
  if (sector != 512) return Fail("header", "unsupported VDI sector size " + std::to_string(sector));
  if (block != (int64_t{1} << 20) || extra != 0)
    return Fail("header", "unsupported VDI block size");
  info.cluster_size = block;
  if (disk > static_cast<uint64_t>(blocks) * static_cast<uint64_t>(block)) {
    return Fail("block_map", "VDI block map has too few entries for the virtual size");
  }
  if (allocated > blocks) return Fail("block_map", "more blocks allocated than exist");
  if (info.virtual_size > limits.max_virtual_size) return OkStatus();  // reported by the caller
  int64_t used = DivRoundUp(info.virtual_size, block);
  if (used * 4 > limits.max_table_bytes) return Fail("block_map", "block map too large");
  if (bmap < 512 || bmap % 512 != 0 || !InFile(bmap, used * 4, file)) {
    return Fail("block_map", "block map lies outside the file");
  }
  if (data % 512 != 0 || data < bmap + blocks * 4 || data > file) {
    return Fail("block_map", "data offset overlaps the block map or lies outside the file");
  }
  out->image =
      std::make_unique<VdiImage>(src, info.virtual_size, block, bmap, data, blocks, allocated);
  return OkStatus();
}

}  // namespace

Status OpenVdi(Source& src, const Limits& limits, Opened* out) {
  Status st = Open(src, limits, out);
  if (!st.ok()) out->image.reset();
  return RecordVerdict(st, &out->info);
}

}  // namespace glimmer::formats::internal
