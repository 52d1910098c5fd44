// qcow2 (v2 "compat 0.10" and v3 "compat 1.1") reader: header, extensions, L1/L2, refcount and
// snapshot tables. Field offsets: docs/formats.md and qemu's docs/interop/qcow2.txt.

#include <algorithm>

#include "formats/byte_order.h"
#include "formats/image.h"

namespace glimmer::formats::internal {
namespace {

constexpr int64_t kMaxL1Bytes = int64_t{32} << 20;       // as qemu
constexpr int64_t kMaxRefTableBytes = int64_t{8} << 20;  // as qemu
constexpr int64_t kMaxSnapshotTableBytes = int64_t{64} << 20;
constexpr uint32_t kMaxSnapshots = 65536;
constexpr uint64_t kOffsetMask = 0x00fffffffffffe00ull;  // bits 9..55
constexpr uint64_t kCopied = 1ull << 63;
constexpr uint64_t kCompressed = 1ull << 62;

constexpr uint64_t kIncompatDirty = 1, kIncompatCorrupt = 2, kIncompatDataFile = 4,
                   kIncompatCompression = 8, kIncompatExtendedL2 = 16;

struct Header {
  uint32_t version = 0;
  uint32_t cluster_bits = 0;
  int64_t cluster = 0;
  uint64_t size = 0;
  uint32_t l1_size = 0;
  int64_t l1_offset = 0;
  int64_t reftable_offset = 0;
  uint32_t reftable_clusters = 0;
  uint32_t nb_snapshots = 0;
  int64_t snapshots_offset = 0;
  uint64_t incompat = 0, compat = 0, autoclear = 0;
  uint32_t refcount_order = 4;
  uint32_t header_length = 72;
  uint8_t compression_type = 0;
};

class Qcow2Image final : public Image {
 public:
  Qcow2Image(Source& src, const Header& h, RangeSet metadata)
      : src_(src), h_(h), metadata_(std::move(metadata)) {}

  Status Walk(const ExtentFn& fn) override {
    const int64_t cluster = h_.cluster;
    const int64_t l2_entries = cluster / 8;
    const int64_t file = src_.size();
    ASSIGN_OR_RETURN(auto l1, ReadTable(src_, h_.l1_offset, int64_t{h_.l1_size} * 8, kMaxL1Bytes,
                                        "l1_table", "L1 table"));
    // Pass 1: L2 table offsets, checked against metadata and against each other.
    RangeSet all = metadata_;
    std::vector<int64_t> l2_offsets(h_.l1_size);
    int64_t needed = DivRoundUp(static_cast<int64_t>(h_.size), cluster * l2_entries);
    for (int64_t i = 0; i < static_cast<int64_t>(h_.l1_size); ++i) {
      uint64_t e = BE64(l1, static_cast<size_t>(i) * 8);
      uint64_t off = e & kOffsetMask;
      if (e & ~(kOffsetMask | kCopied)) {
        return Fail("l1_table", "L1 entry " + std::to_string(i) + " has reserved bits set");
      }
      if (off == 0) continue;
      if (i >= needed) continue;  // beyond the virtual size: never read (qemu ignores it too)
      if (off % static_cast<uint64_t>(cluster) != 0) {
        return Fail("l1_table", "L1 entry " + std::to_string(i) + " points to unaligned offset " +
                                    std::to_string(off));
      }
      if (!InFile(static_cast<int64_t>(off), cluster, file)) {
        return Fail("l1_table",
                    "L1 entry " + std::to_string(i) + " points beyond the end of the file");
      }
      if (const std::string* what = metadata_.Find(static_cast<int64_t>(off), cluster)) {
        return Fail("l1_table",
                    "L2 table of L1 entry " + std::to_string(i) + " overlaps the " + *what);
      }
      l2_offsets[i] = static_cast<int64_t>(off);
      all.Add(static_cast<int64_t>(off), cluster, "L2 table " + std::to_string(i));
    }
    if (auto [a, b] = all.SortAndFindOverlap(); !a.empty()) {
      return Fail("l1_table", a + " and " + b + " share a cluster");
    }
    // Pass 2: L2 entries.
    const uint32_t x = 62 - (h_.cluster_bits - 8);
    const uint64_t coff_mask = (uint64_t{1} << x) - 1;
    const uint64_t csec_mask = (uint64_t{1} << (h_.cluster_bits - 8)) - 1;
    const bool v3 = h_.version >= 3;
    const Extent::Kind ckind =
        h_.compression_type == 1 ? Extent::Kind::kZstd : Extent::Kind::kDeflate;
    std::vector<std::byte> l2(static_cast<size_t>(cluster));
    Coalescer out(fn);
    const int64_t vsize = static_cast<int64_t>(h_.size);
    for (int64_t i = 0; i < needed; ++i) {
      int64_t base = i * cluster * l2_entries;
      if (i >= static_cast<int64_t>(h_.l1_size) || l2_offsets[i] == 0) {
        Extent z;
        z.length = std::min(cluster * l2_entries, vsize - base);
        RETURN_IF_ERROR(out.Add(base, z));
        continue;
      }
      RETURN_IF_ERROR(ReadExact(src_, l2_offsets[i], l2));
      for (int64_t j = 0; j < l2_entries; ++j) {
        int64_t vaddr = base + j * cluster;
        if (vaddr >= vsize) break;
        Extent ext;
        ext.length = std::min(cluster, vsize - vaddr);
        uint64_t e = BE64(l2, static_cast<size_t>(j) * 8);
        auto where = [&] { return "L2 entry for guest offset " + std::to_string(vaddr); };
        if (e & kCompressed) {
          if (e & kCopied) return Fail("l2_table", where() + " is compressed and marked COPIED");
          int64_t coff = static_cast<int64_t>(e & coff_mask);
          int64_t nsec = static_cast<int64_t>((e >> x) & csec_mask) + 1;
          int64_t csize = nsec * 512 - (coff & 511);
          if (coff < cluster || coff >= file) {
            return Fail("l2_table", where() + ": compressed data offset " + std::to_string(coff) +
                                        " is outside the file");
          }
          ext.kind = ckind;
          ext.offset = coff;
          // The sector count may round past EOF for the last compressed cluster.
          ext.stored = std::min(csize, file - coff);
          ext.decoded = cluster;
          if (const std::string* what = all.Find(coff, ext.stored)) {
            return Fail("l2_table", where() + ": compressed data overlaps the " + *what);
          }
        } else {
          if (e & ~(kOffsetMask | kCopied | 1ull)) {
            return Fail("l2_table", where() + " has reserved bits set");
          }
          uint64_t off = e & kOffsetMask;
          if ((e & 1) && !v3) return Fail("l2_table", where() + " has the zero flag in a v2 image");
          if (off % static_cast<uint64_t>(cluster) != 0) {
            return Fail("l2_table", where() + " points to unaligned offset " + std::to_string(off));
          }
          if ((e & 1) || off == 0) {
            ext.kind = Extent::Kind::kZero;
          } else {
            if (!InFile(static_cast<int64_t>(off), ext.length, file)) {
              return Fail("l2_table", where() + " points beyond the end of the file");
            }
            if (const std::string* what = all.Find(static_cast<int64_t>(off), cluster)) {
              return Fail("l2_table", where() + ": data cluster overlaps the " + *what);
            }
            ext.kind = Extent::Kind::kData;
            ext.offset = static_cast<int64_t>(off);
          }
        }
        RETURN_IF_ERROR(out.Add(vaddr, ext));
      }
    }
    return out.Flush();
  }

 private:
  Source& src_;
  Header h_;
  RangeSet metadata_;
};

// Reads and checks the snapshot table; adds it and the snapshots' L1 tables to `meta`.
Status CheckSnapshots(Source& src, const Header& h, RangeSet* meta) {
  if (h.nb_snapshots == 0) return OkStatus();
  if (h.nb_snapshots > kMaxSnapshots) {
    return Fail("snapshot_table", "too many snapshots: " + std::to_string(h.nb_snapshots));
  }
  const int64_t file = src.size();
  if (h.snapshots_offset % h.cluster != 0 || !InFile(h.snapshots_offset, 40, file)) {
    return Fail("snapshot_table", "snapshot table offset " + std::to_string(h.snapshots_offset) +
                                      " is unaligned or beyond the end of the file");
  }
  int64_t pos = h.snapshots_offset;
  std::vector<std::byte> fixed(40);
  for (uint32_t i = 0; i < h.nb_snapshots; ++i) {
    if (pos - h.snapshots_offset > kMaxSnapshotTableBytes || !InFile(pos, 40, file)) {
      return Fail("snapshot_table", "snapshot table runs beyond the end of the file or its limit");
    }
    RETURN_IF_ERROR(ReadExact(src, pos, fixed));
    int64_t l1_off = static_cast<int64_t>(BE64(fixed, 0));
    int64_t l1_size = BE32(fixed, 8);
    int64_t id_size = BE16(fixed, 12), name_size = BE16(fixed, 14);
    int64_t extra = BE32(fixed, 36);
    if (extra > 1024) return Fail("snapshot_table", "snapshot extra data too large");
    if (l1_size * 8 > kMaxL1Bytes || l1_off % h.cluster != 0 ||
        !InFile(l1_off, l1_size * 8, file)) {
      return Fail(
          "snapshot_table",
          "snapshot " + std::to_string(i) +
              " has an L1 table that is unaligned, too large or beyond the end of the file");
    }
    meta->Add(l1_off, l1_size * 8, "snapshot " + std::to_string(i) + " L1 table");
    int64_t len = 40 + extra + id_size + name_size;
    pos += (len + 7) & ~int64_t{7};
  }
  if (!InFile(h.snapshots_offset, pos - h.snapshots_offset, file)) {
    return Fail("snapshot_table", "snapshot table runs beyond the end of the file");
  }
  meta->Add(h.snapshots_offset, pos - h.snapshots_offset, "snapshot table");
  return OkStatus();
}

Status Open(Source& src, const Limits& limits, Opened* out) {
  Inspection& info = out->info;
  info.format = "qcow2";
  info.qemu_format = "qcow2";
  const int64_t file = src.size();
  if (file < 72) return Fail("header", "file too small for a qcow2 header");
  std::vector<std::byte> hb(static_cast<size_t>(std::min<int64_t>(file, 4096)));
  RETURN_IF_ERROR(ReadExact(src, 0, hb));
  Header h;
  h.version = BE32(hb, 4);
  if (h.version != 2 && h.version != 3) {
    return Fail("unknown_features", "unsupported qcow2 version " + std::to_string(h.version));
  }
  uint64_t backing_offset = BE64(hb, 8);
  h.cluster_bits = BE32(hb, 20);
  h.size = BE64(hb, 24);
  uint32_t crypt = BE32(hb, 32);
  h.l1_size = BE32(hb, 36);
  h.l1_offset = static_cast<int64_t>(BE64(hb, 40) & 0x7fffffffffffffffull);
  h.reftable_offset = static_cast<int64_t>(BE64(hb, 48) & 0x7fffffffffffffffull);
  h.reftable_clusters = BE32(hb, 56);
  h.nb_snapshots = BE32(hb, 60);
  h.snapshots_offset = static_cast<int64_t>(BE64(hb, 64) & 0x7fffffffffffffffull);
  if (h.version == 3) {
    if (file < 104) return Fail("header", "file too small for a qcow2 v3 header");
    h.incompat = BE64(hb, 72);
    h.compat = BE64(hb, 80);
    h.autoclear = BE64(hb, 88);
    h.refcount_order = BE32(hb, 96);
    h.header_length = BE32(hb, 100);
  }
  info.virtual_size = static_cast<int64_t>(std::min<uint64_t>(h.size, INT64_MAX));
  info.details.push_back({"compat", std::string(h.version == 2 ? "0.10" : "1.1")});

  // Safety checks first: they do not depend on the rest of the header being sane.
  if (backing_offset != 0) return Fail("backing_file", "qcow2 image has a backing file");
  if (h.incompat & kIncompatDataFile)
    return Fail("data_file", "qcow2 image has an external data file");
  if (crypt != 0) {
    return Fail("encryption", std::string("qcow2 image is encrypted (") +
                                  (crypt == 1   ? "AES"
                                   : crypt == 2 ? "LUKS"
                                                : "unknown method") +
                                  ")");
  }
  if (h.incompat & kIncompatExtendedL2) {
    return Fail("unknown_features", "qcow2 image uses extended L2 entries (subclusters)");
  }
  if (h.incompat & ~(kIncompatDirty | kIncompatCorrupt | kIncompatCompression)) {
    return Fail(
        "unknown_features", "qcow2 image has unknown incompatible features 0x" + [&] {
          char b[24];
          snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(h.incompat));
          return std::string(b);
        }());
  }
  if (h.incompat & kIncompatCorrupt) return Fail("corrupt", "qcow2 image is marked corrupt");

  if (h.cluster_bits < 9 || h.cluster_bits > 21) {
    return Fail("header", "invalid cluster_bits " + std::to_string(h.cluster_bits));
  }
  h.cluster = int64_t{1} << h.cluster_bits;
  info.cluster_size = h.cluster;
  if (h.version == 3 &&
      (h.header_length < 104 || h.header_length > h.cluster || h.header_length > hb.size())) {
    return Fail("header", "invalid header length " + std::to_string(h.header_length));
  }
  if (h.version == 3 && h.header_length > 104) h.compression_type = static_cast<uint8_t>(hb[104]);
  if (h.compression_type > 1) {
    return Fail("unknown_features",
                "unknown compression type " + std::to_string(h.compression_type));
  }
  if ((h.compression_type != 0) != ((h.incompat & kIncompatCompression) != 0)) {
    return Fail("header", "compression type and its incompatible-feature bit disagree");
  }
  if (h.refcount_order > 6)
    return Fail("refcount_table", "invalid refcount order " + std::to_string(h.refcount_order));
  if (h.size > static_cast<uint64_t>(INT64_MAX) / 2)
    return Fail("virtual_size", "virtual size out of range");
  info.details.push_back(
      {"compression-type", std::string(h.compression_type == 1 ? "zstd" : "zlib")});
  info.details.push_back({"lazy-refcounts", static_cast<bool>(h.compat & 1)});
  info.details.push_back({"refcount-bits", int64_t{1} << h.refcount_order});
  info.details.push_back({"corrupt", false});
  info.details.push_back({"extended-l2", false});
  if (h.incompat & kIncompatDirty) info.details.push_back({"dirty-flag", true});
  if (h.nb_snapshots) info.details.push_back({"snapshots", int64_t{h.nb_snapshots}});

  // Header extensions: inside cluster 0, after the header.
  {
    int64_t pos = h.version == 3 ? h.header_length : 72;
    int64_t end = std::min<int64_t>(h.cluster, file);
    std::vector<std::byte> ext(8);
    for (int n = 0; pos + 8 <= end; ++n) {
      if (n > 4096) return Fail("header", "too many header extensions");
      RETURN_IF_ERROR(ReadExact(src, pos, ext));
      uint32_t type = BE32(ext, 0);
      int64_t len = BE32(ext, 4);
      if (type == 0) break;
      if (len > end - pos - 8)
        return Fail("header", "header extension runs past the first cluster");
      if (type == 0x0537BE77) return Fail("encryption", "qcow2 image has a crypto header");
      if (type == 0x44415441) return Fail("data_file", "qcow2 image names an external data file");
      if (type == 0xE2792ACA)
        return Fail("backing_file", "qcow2 image names a backing file format");
      pos += 8 + ((len + 7) & ~int64_t{7});
    }
  }

  // L1 table geometry.
  const int64_t l2_entries = h.cluster / 8;
  const int64_t needed = DivRoundUp(static_cast<int64_t>(h.size), h.cluster * l2_entries);
  if (static_cast<int64_t>(h.l1_size) < needed) {
    return Fail("l1_table", "L1 table has " + std::to_string(h.l1_size) +
                                " entries, the virtual size needs " + std::to_string(needed));
  }
  if (int64_t{h.l1_size} * 8 > kMaxL1Bytes) return Fail("l1_table", "L1 table too large");
  if (h.l1_size > 0 && (h.l1_offset % h.cluster != 0 || h.l1_offset == 0 ||
                        !InFile(h.l1_offset, int64_t{h.l1_size} * 8, file))) {
    return Fail("l1_table", "L1 table offset " + std::to_string(h.l1_offset) +
                                " is unaligned or the table lies beyond the end of the file");
  }
  // Refcount table.
  int64_t reftable_bytes = int64_t{h.reftable_clusters} * h.cluster;
  if (h.reftable_clusters == 0 || reftable_bytes > kMaxRefTableBytes ||
      h.reftable_offset % h.cluster != 0 || h.reftable_offset == 0 ||
      !InFile(h.reftable_offset, reftable_bytes, file)) {
    return Fail("refcount_table",
                "refcount table (offset " + std::to_string(h.reftable_offset) + ", " +
                    std::to_string(h.reftable_clusters) +
                    " clusters) is unaligned, too large or beyond the end of the file");
  }
  RangeSet meta;
  meta.Add(0, h.cluster, "header");
  meta.Add(h.l1_offset, int64_t{h.l1_size} * 8, "L1 table");
  meta.Add(h.reftable_offset, reftable_bytes, "refcount table");
  RETURN_IF_ERROR(CheckSnapshots(src, h, &meta));
  if (limits.deep) {
    ASSIGN_OR_RETURN(auto rt, ReadTable(src, h.reftable_offset, reftable_bytes, kMaxRefTableBytes,
                                        "refcount_table", "refcount table"));
    for (int64_t i = 0; i < reftable_bytes / 8; ++i) {
      uint64_t e = BE64(rt, static_cast<size_t>(i) * 8);
      if (e == 0) continue;
      if (e % static_cast<uint64_t>(h.cluster) != 0 || e > static_cast<uint64_t>(file) ||
          !InFile(static_cast<int64_t>(e), h.cluster, file)) {
        return Fail("refcount_table", "refcount block " + std::to_string(i) +
                                          " is unaligned or beyond the end of the file");
      }
      meta.Add(static_cast<int64_t>(e), h.cluster, "refcount block " + std::to_string(i));
    }
  }
  if (auto [a, b] = meta.SortAndFindOverlap(); !a.empty()) {
    std::string check =
        (a.find("L1") != std::string::npos || b.find("L1") != std::string::npos)
            ? (a.find("snapshot") != std::string::npos || b.find("snapshot") != std::string::npos
                   ? "snapshot_table"
                   : "l1_table")
        : (a.find("snapshot") != std::string::npos || b.find("snapshot") != std::string::npos)
            ? "snapshot_table"
            : "refcount_table";
    return Fail(check, a + " overlaps " + b);
  }
  out->image = std::make_unique<Qcow2Image>(src, h, std::move(meta));
  return OkStatus();
}

}  // namespace

Status OpenQcow2(Source& src, const Limits& limits, Opened* out) {
  Status st = Open(src, limits, out);
  if (!st.ok()) out->image.reset();
  return RecordVerdict(st, &out->info);
}

}  // namespace glimmer::formats::internal
