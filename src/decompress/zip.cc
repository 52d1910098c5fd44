// Zip (PKWARE APPNOTE 6.3) reading limited to what image_decompression needs: one file member,
// stored or deflated. The central directory is authoritative: sizes and CRC-32 come from it, so
// members written with a data descriptor (flag bit 3, e.g. `zip - -` into a pipe or Python's
// zipfile on an unseekable file) need nothing special. Zip64 is handled (end of central
// directory record + locator, and the 0x0001 extra field of the central directory entry).
// Split archives, encryption and other methods are refused with a message saying so.
//
// Hostile input: every offset and size is checked against the file size before use, the
// central directory is read through a fixed buffer, and entries are counted, not stored.

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "decompress/io.h"

namespace glimmer::decompress::internal {
namespace {

constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kCentralHeaderSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kEnd64Sig = 0x06064b50;
constexpr uint32_t kEnd64LocatorSig = 0x07064b50;
constexpr size_t kEndSize = 22;
constexpr size_t kEnd64Size = 56;
constexpr size_t kEnd64LocatorSize = 20;
constexpr size_t kCentralHeaderSize = 46;
constexpr size_t kLocalHeaderSize = 30;
constexpr size_t kMaxCommentSize = 0xffff;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr uint16_t kFlagEncrypted = 1 << 0;
constexpr uint16_t kFlagStrongEncryption = 1 << 6;
constexpr uint16_t kMethodStored = 0;
constexpr uint16_t kMethodDeflate = 8;
constexpr uint16_t kMethodAesEncrypted = 99;
constexpr size_t kMaxDisplayName = 80;

uint16_t Le16(const std::byte* p) {
  return static_cast<uint16_t>(std::to_integer<uint16_t>(p[0]) | std::to_integer<uint16_t>(p[1])
                                                                     << 8);
}
uint32_t Le32(const std::byte* p) {
  return static_cast<uint32_t>(Le16(p)) | static_cast<uint32_t>(Le16(p + 2)) << 16;
}
uint64_t Le64(const std::byte* p) {
  return static_cast<uint64_t>(Le32(p)) | static_cast<uint64_t>(Le32(p + 4)) << 32;
}

Status Corrupt(const std::string& what) {
  return InvalidArgumentError("zip archive is corrupt: " + what);
}

std::string MethodName(uint16_t method) {
  switch (method) {
    case 1:
      return "shrink";
    case 6:
      return "implode";
    case 9:
      return "deflate64";
    case 12:
      return "bzip2";
    case 14:
      return "lzma";
    case 93:
      return "zstd";
    case 95:
      return "xz";
    case 96:
      return "jpeg";
    case 97:
      return "wavpack";
    case 98:
      return "ppmd";
    default:
      return "method " + std::to_string(method);
  }
}

// Length of the well-formed UTF-8 sequence at the start of `s` (RFC 3629), 0 if there is none.
size_t Utf8SequenceLength(std::span<const std::byte> s) {
  auto at = [&s](size_t i) { return std::to_integer<unsigned>(s[i]); };
  const unsigned c = at(0);
  if (c < 0x80) return 1;
  size_t len;
  unsigned lo = 0x80, hi = 0xbf;  // bounds of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0) lo = 0xa0;  // overlong
    if (c == 0xed) hi = 0x9f;  // surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0) lo = 0x90;  // overlong
    if (c == 0xf4) hi = 0x8f;  // above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < len || at(1) < lo || at(1) > hi) return 0;
  for (size_t i = 2; i < len; ++i) {
    if (at(i) < 0x80 || at(i) > 0xbf) return 0;
  }
  return len;
}

// A member name from the archive made fit for a message: valid UTF-8 without control
// characters (anything else becomes '?'), at most kMaxDisplayName characters.
std::string DisplayName(std::span<const std::byte> raw) {
  std::string s;
  size_t chars = 0;
  size_t i = 0;
  while (i < raw.size() && chars < kMaxDisplayName) {
    const size_t len = Utf8SequenceLength(raw.subspan(i));
    const unsigned c = std::to_integer<unsigned>(raw[i]);
    if (len == 0 || (len == 1 && (c < 0x20 || c == 0x7f))) {
      s += '?';
      i += 1;
    } else {
      s.append(reinterpret_cast<const char*>(raw.data() + i), len);
      i += len;
    }
    ++chars;
  }
  if (i < raw.size()) s += "...";
  return s;
}

// Reads exactly out.size() bytes at `offset`, failing with `what` if the file is shorter.
Status ReadExactAt(InputFile& in, int64_t offset, std::span<std::byte> out, const char* what) {
  if (offset < 0 || offset > in.size() || static_cast<int64_t>(out.size()) > in.size() - offset) {
    return Corrupt(std::string(what) + " lies beyond the end of the file (truncated archive?)");
  }
  ASSIGN_OR_RETURN(size_t n, in.ReadAt(offset, out));
  if (n != out.size()) return Corrupt(std::string(what) + " is truncated");
  return OkStatus();
}

// Reads the record at `offset` (which may be out of the file); true if it is all there and
// starts with `signature`.
StatusOr<bool> ReadSignedAt(InputFile& in, int64_t offset, std::span<std::byte> out,
                            uint32_t signature) {
  if (offset < 0 || offset > in.size() || static_cast<int64_t>(out.size()) > in.size() - offset) {
    return false;
  }
  ASSIGN_OR_RETURN(size_t n, in.ReadAt(offset, out));
  return n == out.size() && Le32(out.data()) == signature;
}

// Sequential reader over [begin, end) of the file through one fixed buffer.
class RangeReader {
 public:
  RangeReader(InputFile& in, int64_t begin, int64_t end) : in_(in), pos_(begin), end_(end) {}

  // Copies the next out.size() bytes; false if the range (or the file) ends first.
  StatusOr<bool> Next(std::span<std::byte> out) {
    size_t done = 0;
    while (done < out.size()) {
      if (head_ == fill_) {
        const int64_t left = end_ - pos_;
        if (left <= 0) return false;
        const size_t want = static_cast<size_t>(std::min<int64_t>(left, kBufferBytes));
        ASSIGN_OR_RETURN(size_t n, in_.ReadAt(pos_, buf_.span().first(want)));
        if (n == 0) return false;
        pos_ += static_cast<int64_t>(n);
        head_ = 0;
        fill_ = n;
      }
      const size_t take = std::min(out.size() - done, fill_ - head_);
      std::memcpy(out.data() + done, buf_.data() + head_, take);
      head_ += take;
      done += take;
    }
    return true;
  }

 private:
  InputFile& in_;
  Buffer buf_;
  int64_t pos_;
  int64_t end_;
  size_t head_ = 0;
  size_t fill_ = 0;
};

struct Directory {
  uint64_t entries = 0;
  int64_t offset = 0;  // of the first central directory entry
  int64_t size = 0;
};

// Locates the end of central directory record (and its zip64 twin) in the file's tail.
StatusOr<Directory> ReadEndOfCentralDirectory(InputFile& in) {
  const int64_t file_size = in.size();
  if (file_size < static_cast<int64_t>(kEndSize)) {
    return InvalidArgumentError("zip archive is truncated: it is too short to hold a directory");
  }
  const size_t tail_size =
      static_cast<size_t>(std::min<int64_t>(file_size, kEndSize + kMaxCommentSize));
  std::vector<std::byte> tail(tail_size);  // at most 64 KiB + 22
  const int64_t tail_offset = file_size - static_cast<int64_t>(tail_size);
  RETURN_IF_ERROR(ReadExactAt(in, tail_offset, tail, "the end of the archive"));

  // The record whose comment ends exactly at the end of the file; failing that, the last one
  // (some tools leave padding after the archive).
  std::optional<size_t> found;
  for (size_t pos = tail_size - kEndSize + 1; pos-- > 0;) {
    if (Le32(&tail[pos]) != kEndSig) continue;
    if (pos + kEndSize + Le16(&tail[pos + 20]) == tail_size) {
      found = pos;
      break;
    }
    if (!found) found = pos;
  }
  if (!found) {
    return InvalidArgumentError(
        "zip archive is truncated or corrupt: its end of central directory record is missing");
  }
  const std::byte* end = &tail[*found];
  const int64_t end_offset = tail_offset + static_cast<int64_t>(*found);
  const uint16_t disk = Le16(end + 4);
  const uint16_t directory_disk = Le16(end + 6);
  const uint16_t entries_on_disk = Le16(end + 8);
  Directory dir{Le16(end + 10), Le32(end + 16), Le32(end + 12)};
  int64_t directory_end = end_offset;

  // Zip64: a locator right before the record points at the zip64 end of central directory.
  std::byte locator[kEnd64LocatorSize];
  ASSIGN_OR_RETURN(const bool has_locator,
                   ReadSignedAt(in, end_offset - static_cast<int64_t>(kEnd64LocatorSize), locator,
                                kEnd64LocatorSig));
  if (has_locator) {
    if (Le32(locator + 4) != 0 || Le32(locator + 16) > 1) {
      return UnsupportedMediaError("split (multi-volume) zip archives are not supported");
    }
    // Usually right before the locator; the offset the locator holds is the fallback.
    std::byte rec[kEnd64Size];
    int64_t rec_offset = end_offset - static_cast<int64_t>(kEnd64LocatorSize + kEnd64Size);
    ASSIGN_OR_RETURN(bool ok, ReadSignedAt(in, rec_offset, rec, kEnd64Sig));
    if (!ok && Le64(locator + 8) < static_cast<uint64_t>(end_offset)) {
      rec_offset = static_cast<int64_t>(Le64(locator + 8));
      ASSIGN_OR_RETURN(ok, ReadSignedAt(in, rec_offset, rec, kEnd64Sig));
    }
    if (!ok) return Corrupt("the zip64 end of central directory record is missing");
    if (Le32(rec + 16) != 0 || Le32(rec + 20) != 0 || Le64(rec + 24) != Le64(rec + 32)) {
      return UnsupportedMediaError("split (multi-volume) zip archives are not supported");
    }
    const uint64_t size = Le64(rec + 40);
    const uint64_t offset = Le64(rec + 48);
    if (size > static_cast<uint64_t>(file_size) || offset > static_cast<uint64_t>(file_size)) {
      return Corrupt("the central directory lies beyond the end of the file");
    }
    dir = {Le64(rec + 32), static_cast<int64_t>(offset), static_cast<int64_t>(size)};
    directory_end = rec_offset;
  } else {
    if (disk != 0 || directory_disk != 0 || entries_on_disk != dir.entries) {
      return UnsupportedMediaError("split (multi-volume) zip archives are not supported");
    }
    if (dir.entries == 0xffff || dir.offset == 0xffffffff || dir.size == 0xffffffff) {
      return Corrupt("the zip64 end of central directory record is missing");
    }
  }
  if (dir.offset > directory_end || dir.size > directory_end - dir.offset) {
    return Corrupt("the central directory lies beyond its end record");
  }
  return dir;
}

// Replaces saturated 32-bit fields with their values from a zip64 (0x0001) extra field.
Status ApplyZip64Extra(std::span<const std::byte> extra, uint64_t& uncompressed,
                       uint64_t& compressed, uint64_t& local_offset) {
  const bool need_u = uncompressed == 0xffffffff;
  const bool need_c = compressed == 0xffffffff;
  const bool need_o = local_offset == 0xffffffff;
  if (!need_u && !need_c && !need_o) return OkStatus();
  size_t pos = 0;
  while (extra.size() - pos >= 4) {
    const uint16_t id = Le16(&extra[pos]);
    const uint16_t len = Le16(&extra[pos + 2]);
    pos += 4;
    if (len > extra.size() - pos) return Corrupt("an extra field overruns its entry");
    if (id == kZip64ExtraId) {
      std::span<const std::byte> field = extra.subspan(pos, len);
      size_t at = 0;
      for (auto [needed, value] : {std::pair{need_u, &uncompressed}, std::pair{need_c, &compressed},
                                   std::pair{need_o, &local_offset}}) {
        if (!needed) continue;
        if (field.size() - at < 8) return Corrupt("a zip64 extra field is too short");
        *value = Le64(&field[at]);
        at += 8;
      }
      return OkStatus();
    }
    pos += len;
  }
  return Corrupt("a zip64 entry lacks its zip64 extra field");
}

}  // namespace

StatusOr<ZipMember> FindSingleZipMember(InputFile& in) {
  ASSIGN_OR_RETURN(Directory dir, ReadEndOfCentralDirectory(in));

  RangeReader reader(in, dir.offset, dir.offset + dir.size);
  std::vector<std::byte> var(3 * size_t{0xffff});  // name + extra + comment, fixed bound
  std::optional<ZipMember> member;
  uint16_t member_flags = 0;
  uint64_t member_local_offset = 0;
  int64_t members = 0;
  for (uint64_t i = 0; i < dir.entries; ++i) {
    std::byte h[kCentralHeaderSize];
    ASSIGN_OR_RETURN(bool got, reader.Next(h));
    if (!got || Le32(h) != kCentralHeaderSig) {
      return Corrupt("the central directory is truncated or damaged (entry " +
                     std::to_string(i + 1) + " of " + std::to_string(dir.entries) + ")");
    }
    const uint16_t name_len = Le16(h + 28);
    const uint16_t extra_len = Le16(h + 30);
    const uint16_t comment_len = Le16(h + 32);
    std::span<std::byte> rest(var.data(), size_t{name_len} + extra_len + comment_len);
    ASSIGN_OR_RETURN(got, reader.Next(rest));
    if (!got) return Corrupt("the central directory is truncated");
    std::span<const std::byte> name = rest.first(name_len);
    uint64_t uncompressed = Le32(h + 24);
    uint64_t compressed = Le32(h + 20);
    // A directory entry ("d/" with no data, as `zip -r` writes) is not a member.
    if (!name.empty() && name.back() == std::byte{'/'} && uncompressed == 0 && compressed == 0) {
      continue;
    }
    if (++members > 1) continue;  // keep counting for the message
    uint64_t local_offset = Le32(h + 42);
    RETURN_IF_ERROR(
        ApplyZip64Extra(rest.subspan(name_len, extra_len), uncompressed, compressed, local_offset));
    constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    if (uncompressed > kMax || compressed > kMax || local_offset > kMax) {
      return Corrupt("a size or offset in the central directory is out of range");
    }
    member = ZipMember{DisplayName(name),
                       Le16(h + 10),
                       Le32(h + 16),
                       static_cast<int64_t>(compressed),
                       static_cast<int64_t>(uncompressed),
                       0};
    member_flags = Le16(h + 8);
    member_local_offset = local_offset;
  }
  if (members != 1) {
    return InvalidArgumentError("zip archive has " + std::to_string(members) +
                                " members; image_decompression needs exactly one");
  }

  ZipMember& m = *member;
  if ((member_flags & (kFlagEncrypted | kFlagStrongEncryption)) != 0 ||
      m.method == kMethodAesEncrypted) {
    return UnsupportedMediaError("zip member '" + m.display_name +
                                 "' is encrypted; encrypted zip archives are not supported");
  }
  if (m.method != kMethodStored && m.method != kMethodDeflate) {
    return UnsupportedMediaError("zip member '" + m.display_name + "' is compressed with " +
                                 MethodName(m.method) +
                                 "; only stored and deflate zip members are supported");
  }
  if (m.method == kMethodStored && m.compressed_size != m.uncompressed_size) {
    return Corrupt("stored member '" + m.display_name + "' has different packed and real sizes");
  }

  // The local header only tells where the data starts; its sizes may be zero (bit 3).
  std::byte local[kLocalHeaderSize];
  const auto local_offset = static_cast<int64_t>(member_local_offset);
  RETURN_IF_ERROR(ReadExactAt(in, local_offset, local, "the member's local header"));
  if (Le32(local) != kLocalHeaderSig) return Corrupt("the member's local header is missing");
  if (Le16(local + 8) != m.method) {
    return Corrupt("the member's local header and central directory disagree on its method");
  }
  m.data_offset =
      local_offset + static_cast<int64_t>(kLocalHeaderSize) + Le16(local + 26) + Le16(local + 28);
  if (m.data_offset > dir.offset || m.compressed_size > dir.offset - m.data_offset) {
    return Corrupt("the data of member '" + m.display_name +
                   "' overlaps the central directory (truncated archive?)");
  }
  return m;
}

Status ExtractZipMember(InputFile& in, const ZipMember& m, OutputFile& out) {
  const std::string who = "member '" + m.display_name + "'";
  Buffer in_buf;
  Buffer out_buf;
  uLong crc = crc32(0, nullptr, 0);
  int64_t offset = m.data_offset;
  int64_t left = m.compressed_size;
  // Writes decoded bytes, refusing to go past the size the directory declared.
  auto emit = [&](std::span<const std::byte> data) -> Status {
    if (static_cast<int64_t>(data.size()) > m.uncompressed_size - out.written()) {
      return InvalidArgumentError("zip data is corrupt: " + who +
                                  " holds more data than its declared size of " +
                                  DescribeBytes(m.uncompressed_size));
    }
    crc = crc32_z(crc, reinterpret_cast<const Bytef*>(data.data()), data.size());
    return out.Write(data);
  };
  auto read_next = [&]() -> StatusOr<std::span<std::byte>> {
    const size_t want = static_cast<size_t>(std::min<int64_t>(left, kBufferBytes));
    ASSIGN_OR_RETURN(size_t n, in.ReadAt(offset, in_buf.span().first(want)));
    if (n != want) return InvalidArgumentError("zip data is truncated: " + who + " ends early");
    offset += static_cast<int64_t>(n);
    left -= static_cast<int64_t>(n);
    return in_buf.span().first(n);
  };

  if (m.method == kMethodStored) {
    while (left > 0) {
      ASSIGN_OR_RETURN(std::span<std::byte> chunk, read_next());
      RETURN_IF_ERROR(emit(chunk));
    }
  } else {
    z_stream zs{};
    if (inflateInit2(&zs, -15) != Z_OK) return InternalError("zip: cannot initialise zlib");
    struct Closer {
      z_stream* zs;
      ~Closer() { inflateEnd(zs); }
    } closer{&zs};
    for (;;) {
      if (zs.avail_in == 0 && left > 0) {
        ASSIGN_OR_RETURN(std::span<std::byte> chunk, read_next());
        zs.next_in = reinterpret_cast<Bytef*>(chunk.data());
        zs.avail_in = static_cast<uInt>(chunk.size());
      }
      zs.next_out = reinterpret_cast<Bytef*>(out_buf.data());
      zs.avail_out = static_cast<uInt>(kBufferBytes);
      const int rc = inflate(&zs, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
        if (rc == Z_MEM_ERROR) return InternalError("zip: out of memory in the zlib decoder");
        return InvalidArgumentError("zip data is corrupt: " + who + ": " +
                                    (zs.msg != nullptr ? zs.msg : "invalid deflate data"));
      }
      RETURN_IF_ERROR(emit(out_buf.span().first(kBufferBytes - zs.avail_out)));
      if (rc == Z_STREAM_END) break;
      if (rc == Z_BUF_ERROR && zs.avail_in == 0 && left == 0) {
        return InvalidArgumentError("zip data is truncated: the deflate data of " + who +
                                    " ends early");
      }
    }
  }
  if (out.written() != m.uncompressed_size) {
    return InvalidArgumentError("zip data is corrupt: " + who + " decompressed to " +
                                DescribeBytes(out.written()) + " instead of " +
                                DescribeBytes(m.uncompressed_size));
  }
  if (crc != m.crc32) {
    return InvalidArgumentError("zip data is corrupt: CRC-32 mismatch in " + who);
  }
  return OkStatus();
}

}  // namespace glimmer::decompress::internal
