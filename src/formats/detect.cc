#include "formats/detect.h"

#include <algorithm>

#include "formats/byte_order.h"

namespace glimmer::formats::internal {
namespace {

bool IsVhdFooter(std::span<const std::byte> b) {
  return b.size() >= 512 && Matches(b, 0, "conectix");
}

bool IsTextDescriptor(std::span<const std::byte> head) {
  size_t n = std::min<size_t>(head.size(), 512);
  if (n < 16) return false;
  for (size_t i = 0; i < n; ++i) {
    auto c = static_cast<uint8_t>(head[i]);
    if (c == 0 && i > 0) break;  // NUL padding after the text
    if (!(c == '\n' || c == '\r' || c == '\t' || (c >= 0x20 && c < 0x7f))) return false;
  }
  std::string text(reinterpret_cast<const char*>(head.data()), n);
  std::transform(text.begin(), text.end(), text.begin(), [](char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return text.find("# disk descriptorfile") != std::string::npos ||
         text.find("createtype") != std::string::npos;
}

bool IsIso(std::span<const std::byte> head) {
  for (size_t off = 32768; off + 6 <= head.size() && off < 32768 + 16 * 2048; off += 2048) {
    if (Matches(head, off + 1, "CD001") || Matches(head, off + 1, "NSR02") ||
        Matches(head, off + 1, "NSR03") || Matches(head, off + 1, "BEA01")) {
      return true;
    }
  }
  return false;
}

bool IsMbr(std::span<const std::byte> head) {
  if (head.size() < 512) return false;
  if (head[510] != std::byte{0x55} || head[511] != std::byte{0xAA}) return false;
  // A FAT volume boot record also ends in 55 AA: two FATs and media descriptor 0xF8.
  bool fat = head[0x10] == std::byte{2} && head[0x15] == std::byte{0xF8};
  return !fat;
}

}  // namespace

Detection Detect(std::span<const std::byte> head, std::span<const std::byte> tail, int64_t size) {
  Detection d;
  bool vhd_head = IsVhdFooter(head);
  bool vhd_tail = size >= 1024 && IsVhdFooter(tail) && tail.size() == 512;
  if (Matches(head, 0, "QFI\xfb")) d.matches.push_back("qcow2");
  if (Matches(head, 0, std::string_view("QED\0", 4))) d.matches.push_back("qed");
  if (vhd_head || vhd_tail) d.matches.push_back("vhd");
  if (Matches(head, 0, "vhdxfile")) d.matches.push_back("vhdx");
  if (Matches(head, 0, "KDMV") || IsTextDescriptor(head)) d.matches.push_back("vmdk");
  if (head.size() >= 0x44 && LE32(head, 0x40) == 0xbeda107fu) d.matches.push_back("vdi");
  if (Matches(head, 0, "LUKS\xba\xbe")) d.matches.push_back("luks");
  bool iso = IsIso(head);
  bool mbr = IsMbr(head);
  d.vhd_footer_at_start = vhd_head;

  std::vector<std::string> structured = d.matches;  // formats with a header of their own
  if (iso) d.matches.push_back("iso");
  if (mbr) d.matches.push_back("gpt");

  if (structured.empty()) {
    if (iso) {
      d.format = "iso";
      d.hybrid = mbr;  // hybrid ISO (isohybrid MBR or GPT): treated as iso, as Glance does
    } else if (mbr) {
      d.format = "gpt";
    } else {
      d.format = "raw";
    }
    return d;
  }
  if (structured.size() == 1) {
    d.format = structured[0];
    // A fixed VHD is raw data plus a footer at EOF: the data may itself be a partitioned disk or
    // an ISO. Any other structured format next to a raw-level signature is a polyglot.
    bool fixed_vhd = d.format == "vhd" && !vhd_head;
    if (fixed_vhd) {
      d.hybrid = iso || mbr;
      return d;
    }
    if (iso || mbr) {
      d.polyglot = "multiple formats detected: " + d.format + (iso ? " and iso" : "") +
                   (mbr ? " and an MBR/GPT partition table" : "");
    }
    return d;
  }
  d.format = structured[0];
  d.polyglot = "multiple formats detected:";
  for (auto& m : d.matches) d.polyglot += " " + m;
  return d;
}

}  // namespace glimmer::formats::internal
