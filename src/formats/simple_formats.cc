// raw, iso, gpt/MBR, luks and qed: formats without block maps.

#include <algorithm>

#include "formats/byte_order.h"
#include "formats/image.h"

namespace glimmer::formats::internal {

Status OpenRaw(Source& src, const Limits&, Opened* out) {
  out->info.format = "raw";
  out->info.qemu_format = "raw";
  out->info.virtual_size = src.size();
  out->image = std::make_unique<FlatImage>(0, src.size());
  return OkStatus();
}

Status OpenQed(Source& src, const Limits&, Opened* out) {
  out->info.format = "qed";
  out->info.qemu_format = "qed";
  std::vector<std::byte> h(static_cast<size_t>(std::min<int64_t>(src.size(), 48)));
  RETURN_IF_ERROR(ReadExact(src, 0, h));
  if (h.size() >= 48)
    out->info.virtual_size = static_cast<int64_t>(std::min<uint64_t>(LE64(h, 40), INT64_MAX));
  out->info.verdict = {"banned", "qed images are not allowed"};
  return OkStatus();
}

Status OpenIso(Source& src, const Limits&, Opened* out) {
  out->info.format = "iso";
  out->info.qemu_format = "raw";
  const int64_t file = src.size();
  out->info.virtual_size = file;
  std::vector<std::byte> vd(2048);
  for (int64_t off = 32768; off + 2048 <= std::min<int64_t>(file, 32768 + 16 * 2048); off += 2048) {
    RETURN_IF_ERROR(ReadExact(src, off, vd));
    if (vd[0] == std::byte{1} && Matches(vd, 1, "CD001")) {  // primary volume descriptor
      int64_t blocks = LE32(vd, 80);
      int64_t block = LE16(vd, 128);
      int64_t size = blocks * block;
      if (block != 512 && block != 1024 && block != 2048) {
        out->info.verdict = {"header",
                             "invalid ISO 9660 logical block size " + std::to_string(block)};
        return OkStatus();
      }
      if (size > file) {
        out->info.verdict = {"virtual_size", "ISO volume of " + std::to_string(size) +
                                                 " bytes is larger than the file (" +
                                                 std::to_string(file) + ")"};
        return OkStatus();
      }
      out->info.virtual_size = size;
      break;
    }
    if (vd[0] == std::byte{0xff}) break;  // terminator
  }
  out->image = std::make_unique<FlatImage>(0, file);
  out->image_size = file;  // converted as the whole file, like qemu's raw driver
  return OkStatus();
}

Status OpenGpt(Source& src, const Limits&, Opened* out) {
  out->info.format = "gpt";
  out->info.qemu_format = "raw";
  out->info.virtual_size = src.size();
  std::vector<std::byte> mbr(512);
  RETURN_IF_ERROR(ReadExact(src, 0, mbr));
  int used = 0;
  bool protective = false;
  for (int i = 0; i < 4; ++i) {
    auto pte = std::span<const std::byte>(mbr).subspan(446 + 16 * i, 16);
    uint8_t boot = static_cast<uint8_t>(pte[0]);
    uint8_t type = static_cast<uint8_t>(pte[4]);
    if (boot != 0 && boot != 0x80) {
      out->info.verdict = {"mbr", "partition " + std::to_string(i) + " has an invalid boot flag"};
      return OkStatus();
    }
    if (type == 0) continue;
    ++used;
    if (type == 0xEE) {
      protective = true;
      if (pte[1] != std::byte{0} || pte[2] != std::byte{2} || pte[3] != std::byte{0} ||
          LE32(pte, 8) != 1) {
        out->info.verdict = {"mbr", "protective MBR partition must start at CHS 0/0/2, LBA 1"};
        return OkStatus();
      }
    }
  }
  if (used == 0) {
    out->info.verdict = {"mbr", "MBR has no partitions"};
    return OkStatus();
  }
  if (protective && used != 1) {
    out->info.verdict = {"mbr", "protective MBR must hold exactly one partition"};
    return OkStatus();
  }
  out->info.details.push_back({"partition-table", std::string(protective ? "gpt" : "mbr")});
  out->image = std::make_unique<FlatImage>(0, src.size());
  return OkStatus();
}

Status OpenLuks(Source& src, const Limits&, Opened* out) {
  out->info.format = "luks";
  out->info.qemu_format = "luks";
  const int64_t file = src.size();
  if (file < 208) {
    out->info.verdict = {"header", "file too small for a LUKS header"};
    return OkStatus();
  }
  std::vector<std::byte> h(208);
  RETURN_IF_ERROR(ReadExact(src, 0, h));
  uint16_t version = BE16(h, 6);
  if (version != 1) {
    out->info.verdict = {"version",
                         "LUKS version " + std::to_string(version) + " is not supported"};
    return OkStatus();
  }
  int64_t payload = int64_t{BE32(h, 104)} * 512;
  if (payload > file) {
    out->info.verdict = {"header", "LUKS payload offset lies beyond the end of the file"};
    return OkStatus();
  }
  out->info.virtual_size = file - payload;
  // Encrypted payload: inspectable, not convertible without a key (no image).
  return OkStatus();
}

}  // namespace glimmer::formats::internal
