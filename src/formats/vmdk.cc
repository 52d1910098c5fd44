// VMDK hosted sparse extents (monolithicSparse, streamOptimized) with a strictly parsed embedded
// descriptor. Text-only descriptors and every other create type are rejected (host-file extents).

#include <algorithm>
#include <map>

#include "formats/byte_order.h"
#include "formats/image.h"

namespace glimmer::formats::internal {
namespace {

constexpr uint64_t kGdAtEnd = 0xffffffffffffffffull;
constexpr int64_t kMaxDescriptorBytes = (int64_t{1} << 20) - 512;
constexpr uint32_t kFlagZeroGrain = 1u << 2;
constexpr uint32_t kFlagCompressed = 1u << 16;

struct Header {
  uint32_t version = 0, flags = 0, gtes_per_gt = 0;
  uint64_t capacity = 0, grain = 0, desc_offset = 0, desc_size = 0, rgd_offset = 0, gd_offset = 0;
  uint16_t compress = 0;
};

Header ParseHeader(std::span<const std::byte> b) {
  Header h;
  h.version = LE32(b, 4);
  h.flags = LE32(b, 8);
  h.capacity = LE64(b, 12);
  h.grain = LE64(b, 20);
  h.desc_offset = LE64(b, 28);
  h.desc_size = LE64(b, 36);
  h.gtes_per_gt = LE32(b, 44);
  h.rgd_offset = LE64(b, 48);
  h.gd_offset = LE64(b, 56);
  h.compress = LE16(b, 77);
  return h;
}

// Strict descriptor parser: case-sensitive keys, no duplicates (in any case), exactly one SPARSE
// extent with a plain file name, no parent.
Status ParseDescriptor(std::string_view text, std::string* create_type, int64_t* extent_sectors) {
  std::map<std::string, std::string> seen_lower;
  int extents = 0;
  size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? text.size() - pos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
      line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line[0] == '#') continue;
    auto where = [&] { return "descriptor line " + std::to_string(line_no); };
    for (char c : line) {
      auto u = static_cast<unsigned char>(c);
      if (u < 0x20 && c != '\t')
        return Fail("descriptor", where() + " contains control characters");
      if (u >= 0x7f) return Fail("descriptor", where() + " contains non-ASCII bytes");
    }
    if (line.starts_with("RW ") || line.starts_with("RDONLY ") || line.starts_with("NOACCESS ")) {
      ++extents;
      if (line.find('/') != std::string_view::npos || line.find('\\') != std::string_view::npos) {
        return Fail("descriptor", where() + ": extent file name contains a path separator");
      }
      // <access> <sectors> <type> "<file>"  (no offset: a monolithic sparse extent)
      size_t s1 = line.find(' ');
      size_t s2 = line.find(' ', s1 + 1);
      if (s2 == std::string_view::npos)
        return Fail("descriptor", where() + ": malformed extent line");
      std::string_view sectors = line.substr(s1 + 1, s2 - s1 - 1);
      size_t s3 = line.find(' ', s2 + 1);
      if (s3 == std::string_view::npos)
        return Fail("descriptor", where() + ": malformed extent line");
      std::string_view type = line.substr(s2 + 1, s3 - s2 - 1);
      std::string_view name = line.substr(s3 + 1);
      if (type != "SPARSE")
        return Fail("descriptor",
                    where() + ": extent type " + std::string(type) + " is not allowed");
      if (name.size() < 2 || name.front() != '"' || name.back() != '"' ||
          name.substr(1, name.size() - 2).find('"') != std::string_view::npos) {
        return Fail("descriptor",
                    where() + ": extent file name must be one quoted name with no offset");
      }
      int64_t n = 0;
      if (sectors.empty() || sectors.size() > 18)
        return Fail("descriptor", where() + ": bad extent size");
      for (char c : sectors) {
        if (c < '0' || c > '9') return Fail("descriptor", where() + ": bad extent size");
        n = n * 10 + (c - '0');
      }
      *extent_sectors = n;
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos)
      return Fail("descriptor", where() + " is neither key=value nor an extent");
    std::string_view key = line.substr(0, eq);
    std::string_view value = line.substr(eq + 1);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.remove_suffix(1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    if (key.empty()) return Fail("descriptor", where() + " has an empty key");
    std::string lower(key);
    for (auto& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if (seen_lower.count(lower)) {
      return Fail("descriptor", where() + ": duplicate key '" + std::string(key) + "'");
    }
    seen_lower[lower] = std::string(key);
    static constexpr std::string_view kKnown[] = {
        "version",          "encoding",          "CID", "parentCID", "createType",
        "isNativeSnapshot", "parentFileNameHint"};
    for (auto k : kKnown) {
      std::string kl(k);
      for (auto& c : kl) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      if (kl == lower && k != key) {
        return Fail("descriptor", where() + ": key '" + std::string(key) + "' must be spelled '" +
                                      std::string(k) + "'");
      }
    }
    std::string v(value);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    if (key == "createType") *create_type = v;
    if (key == "parentFileNameHint") return Fail("backing_file", "vmdk image names a parent file");
    if (key == "parentCID" && v != "ffffffff")
      return Fail("backing_file", "vmdk image has a parent (parentCID)");
  }
  if (create_type->empty()) return Fail("descriptor", "descriptor has no createType");
  if (*create_type != "monolithicSparse" && *create_type != "streamOptimized") {
    return Fail("descriptor", "create type '" + *create_type + "' is not allowed");
  }
  if (extents != 1) {
    return Fail("descriptor",
                "descriptor has " + std::to_string(extents) + " extents, exactly 1 is allowed");
  }
  return OkStatus();
}

class VmdkImage final : public Image {
 public:
  VmdkImage(Source& src, const Header& h, int64_t gd_offset, int64_t gd_entries, RangeSet meta)
      : src_(src), h_(h), gd_offset_(gd_offset), gd_entries_(gd_entries), meta_(std::move(meta)) {}

  Status Walk(const ExtentFn& fn) override {
    const int64_t file = src_.size();
    const int64_t grain = static_cast<int64_t>(h_.grain) * 512;
    const int64_t gt_bytes = int64_t{h_.gtes_per_gt} * 4;
    const int64_t vsize = static_cast<int64_t>(h_.capacity) * 512;
    const bool compressed = h_.flags & kFlagCompressed;
    const bool zero_grain = h_.flags & kFlagZeroGrain;
    ASSIGN_OR_RETURN(auto gd, ReadTable(src_, gd_offset_, gd_entries_ * 4, int64_t{64} << 20,
                                        "grain_table", "grain directory"));
    // Grain tables: inside the file, disjoint from each other and from the metadata.
    RangeSet all = meta_;
    for (int64_t i = 0; i < gd_entries_; ++i) {
      int64_t gt = int64_t{LE32(gd, static_cast<size_t>(i) * 4)} * 512;
      if (gt == 0) continue;
      if (!InFile(gt, gt_bytes, file)) {
        return Fail("grain_table",
                    "grain table " + std::to_string(i) + " lies beyond the end of the file");
      }
      if (const std::string* what = meta_.Find(gt, gt_bytes)) {
        return Fail("grain_table", "grain table " + std::to_string(i) + " overlaps the " + *what);
      }
      all.Add(gt, gt_bytes, "grain table " + std::to_string(i));
    }
    if (auto [a, b] = all.SortAndFindOverlap(); !a.empty()) {
      return Fail("grain_table", a + " overlaps " + b);
    }
    // Grain tables are usually stored back to back: read them 1 MiB at a time.
    std::vector<std::byte> cache;
    int64_t cache_off = -1;
    auto load_gt = [&](int64_t gt) -> StatusOr<std::span<const std::byte>> {
      if (cache_off < 0 || gt < cache_off ||
          gt + gt_bytes > cache_off + static_cast<int64_t>(cache.size())) {
        int64_t n = std::max(gt_bytes, std::min<int64_t>(int64_t{1} << 20, file - gt));
        cache.resize(static_cast<size_t>(n));
        RETURN_IF_ERROR(ReadExact(src_, gt, cache));
        cache_off = gt;
      }
      return std::span<const std::byte>(cache).subspan(static_cast<size_t>(gt - cache_off),
                                                       static_cast<size_t>(gt_bytes));
    };
    std::vector<std::byte> marker(12);
    Coalescer out(fn);
    for (int64_t i = 0; i < gd_entries_; ++i) {
      int64_t base = i * grain * h_.gtes_per_gt;
      int64_t gt = int64_t{LE32(gd, static_cast<size_t>(i) * 4)} * 512;
      if (gt == 0) {
        Extent z;
        z.length = std::min(grain * h_.gtes_per_gt, vsize - base);
        RETURN_IF_ERROR(out.Add(base, z));
        continue;
      }
      ASSIGN_OR_RETURN(std::span<const std::byte> gtbuf, load_gt(gt));
      for (int64_t j = 0; j < h_.gtes_per_gt; ++j) {
        int64_t vaddr = base + j * grain;
        if (vaddr >= vsize) break;
        Extent ext;
        ext.length = std::min(grain, vsize - vaddr);
        int64_t sector = LE32(gtbuf, static_cast<size_t>(j) * 4);
        auto where = [&] { return "grain for guest offset " + std::to_string(vaddr); };
        if (sector == 0 || (sector == 1 && zero_grain)) {
          ext.kind = Extent::Kind::kZero;
        } else if (compressed) {
          int64_t off = sector * 512;
          if (!InFile(off, 12, file))
            return Fail("grain_table", where() + " lies beyond the end of the file");
          RETURN_IF_ERROR(ReadExact(src_, off, marker));
          uint64_t lba = LE64(marker, 0);
          int64_t size = LE32(marker, 8);
          if (lba != static_cast<uint64_t>(vaddr / 512)) {
            return Fail("grain_table",
                        where() + ": grain marker names sector " + std::to_string(lba));
          }
          if (size == 0 || size > 2 * grain + 1024 || !InFile(off + 12, size, file)) {
            return Fail("grain_table", where() + ": compressed grain size " + std::to_string(size) +
                                           " is invalid or runs beyond the end of the file");
          }
          if (const std::string* what = all.Find(off, 12 + size)) {
            return Fail("grain_table", where() + " overlaps the " + *what);
          }
          ext.kind = Extent::Kind::kZlib;
          ext.offset = off + 12;
          ext.stored = size;
          ext.decoded = grain;
        } else {
          int64_t off = sector * 512;
          if (!InFile(off, ext.length, file)) {
            return Fail("grain_table", where() + " lies beyond the end of the file");
          }
          if (const std::string* what = all.Find(off, grain)) {
            return Fail("grain_table", where() + " overlaps the " + *what);
          }
          ext.kind = Extent::Kind::kData;
          ext.offset = off;
        }
        RETURN_IF_ERROR(out.Add(vaddr, ext));
      }
    }
    return out.Flush();
  }

 private:
  Source& src_;
  Header h_;
  int64_t gd_offset_, gd_entries_;
  RangeSet meta_;
};

Status Open(Source& src, const Limits& limits, Opened* out) {
  Inspection& info = out->info;
  info.format = "vmdk";
  info.qemu_format = "vmdk";
  const int64_t file = src.size();
  if (file < 512) return Fail("descriptor", "vmdk file without a sparse extent header");
  std::vector<std::byte> hb(512);
  RETURN_IF_ERROR(ReadExact(src, 0, hb));
  if (!Matches(hb, 0, "KDMV")) {
    return Fail("descriptor", "text-only vmdk descriptor: its extents are separate (host) files");
  }
  Header h = ParseHeader(hb);
  if (h.version < 1 || h.version > 3)
    return Fail("header", "unsupported vmdk version " + std::to_string(h.version));
  if (h.capacity == 0)
    return Fail("header", "vmdk capacity is 0 (descriptor-defined extents are not allowed)");
  if (h.capacity > static_cast<uint64_t>(INT64_MAX / 1024))
    return Fail("virtual_size", "vmdk capacity out of range");
  info.virtual_size = static_cast<int64_t>(h.capacity) * 512;
  if (info.virtual_size > limits.max_virtual_size) return OkStatus();  // reported by the caller
  if (h.grain < 1 || h.grain > 2048 || (h.grain & (h.grain - 1)) != 0) {
    return Fail("header", "invalid grain size " + std::to_string(h.grain) + " sectors");
  }
  info.cluster_size = static_cast<int64_t>(h.grain) * 512;
  if (h.gtes_per_gt < 1 || h.gtes_per_gt > 4096) {
    return Fail("header", "invalid number of grain table entries " + std::to_string(h.gtes_per_gt));
  }
  if (h.desc_offset != 1 || h.desc_size == 0 ||
      h.desc_size > static_cast<uint64_t>(kMaxDescriptorBytes) / 512) {  // no wrap-around
    return Fail("descriptor",
                "embedded descriptor must start at sector 1 and be smaller than 1 MiB");
  }
  int64_t desc_bytes = static_cast<int64_t>(h.desc_size) * 512;
  if (!InFile(512, desc_bytes, file))
    return Fail("descriptor", "descriptor lies beyond the end of the file");
  std::vector<std::byte> db(static_cast<size_t>(desc_bytes));
  RETURN_IF_ERROR(ReadExact(src, 512, db));
  std::string_view text(reinterpret_cast<const char*>(db.data()), db.size());
  text = text.substr(0, text.find('\0'));
  std::string create_type;
  int64_t extent_sectors = -1;
  RETURN_IF_ERROR(ParseDescriptor(text, &create_type, &extent_sectors));
  info.details.push_back({"create-type", create_type});
  if (extent_sectors != static_cast<int64_t>(h.capacity)) {
    return Fail("descriptor", "extent size " + std::to_string(extent_sectors) +
                                  " sectors differs from the header capacity");
  }
  bool stream = create_type == "streamOptimized";
  if (stream != static_cast<bool>(h.flags & kFlagCompressed)) {
    return Fail("descriptor",
                "create type " + create_type + " disagrees with the header's compression flag");
  }
  if (stream && h.compress != 1)
    return Fail("header", "unknown grain compression " + std::to_string(h.compress));
  if (stream) info.details.push_back({"compressed", true});

  uint64_t gd_sector = h.gd_offset;
  if (h.gd_offset == kGdAtEnd) {
    // streamOptimized with the grain directory at the end: footer marker, footer, EOS marker.
    if (file < 512 * 4) return Fail("footer", "file too small for a vmdk footer");
    std::vector<std::byte> tail(1536);
    RETURN_IF_ERROR(ReadExact(src, file - 1536, tail));
    auto marker = std::span<const std::byte>(tail).subspan(0, 512);
    auto footer = std::span<const std::byte>(tail).subspan(512, 512);
    auto eos = std::span<const std::byte>(tail).subspan(1024, 512);
    // Footer marker: numSectors (0 or 1), size 0, type 3 (MARKER_FOOTER), zero padding.
    if (LE64(marker, 0) > 1 || LE32(marker, 8) != 0 || LE32(marker, 12) != 3 ||
        !IsZero(marker.data() + 16, 496)) {
      return Fail("footer", "invalid footer marker");
    }
    if (!IsZero(eos.data(), 512)) return Fail("footer", "invalid end-of-stream marker");
    if (!Matches(footer, 0, "KDMV")) return Fail("footer", "footer has no KDMV signature");
    Header f = ParseHeader(footer);
    if (f.version != h.version || f.desc_offset != h.desc_offset || f.desc_size != h.desc_size ||
        f.capacity != h.capacity || f.grain != h.grain || f.gtes_per_gt != h.gtes_per_gt) {
      return Fail("footer", "footer does not match the header");
    }
    if (f.gd_offset == kGdAtEnd) return Fail("footer", "footer points to another footer");
    gd_sector = f.gd_offset;
  }
  int64_t grain = static_cast<int64_t>(h.grain) * 512;
  int64_t gd_entries = DivRoundUp(info.virtual_size, grain * h.gtes_per_gt);
  if (gd_entries * 4 > limits.max_table_bytes)
    return Fail("grain_table", "grain directory too large");
  if (gd_sector > static_cast<uint64_t>(file / 512) ||
      !InFile(static_cast<int64_t>(gd_sector) * 512, gd_entries * 4, file)) {
    return Fail("grain_table", "grain directory lies beyond the end of the file");
  }
  RangeSet meta;
  meta.Add(0, 512, "header");
  meta.Add(512, desc_bytes, "descriptor");
  meta.Add(static_cast<int64_t>(gd_sector) * 512, gd_entries * 4, "grain directory");
  if (h.gd_offset == kGdAtEnd) meta.Add(file - 1536, 1536, "footer");
  if (auto [a, b] = meta.SortAndFindOverlap(); !a.empty())
    return Fail("grain_table", a + " overlaps " + b);
  out->image = std::make_unique<VmdkImage>(src, h, static_cast<int64_t>(gd_sector) * 512,
                                           gd_entries, std::move(meta));
  return OkStatus();
}

}  // namespace

Status OpenVmdk(Source& src, const Limits& limits, Opened* out) {
  Status st = Open(src, limits, out);
  if (!st.ok()) out->image.reset();
  return RecordVerdict(st, &out->info);
}

}  // namespace glimmer::formats::internal
