// gzip (RFC 1952) through zlib's inflate. Members are decoded one after another like `gzip -d`
// does; zero padding after the last member is ignored (as gzip and Python do), any other
// trailing data is an error. zlib verifies each member's CRC-32 and length trailer.

#include <zlib.h>

#include <string>

#include "decompress/io.h"

namespace glimmer::decompress::internal {
namespace {

constexpr int kGzipWindowBits = 15 + 16;  // 32 KiB window, gzip wrapper only.

std::string MemberSuffix(int64_t member) {
  return member > 0 ? " (in member " + std::to_string(member + 1) + ")" : "";
}

// zlib's messages, with the two that mean a failed integrity check spelled out.
std::string DescribeZlibError(const char* msg) {
  if (msg == nullptr) return "invalid data";
  const std::string m = msg;
  if (m == "incorrect data check") return "CRC-32 mismatch (incorrect data check)";
  if (m == "incorrect length check") return "size mismatch (incorrect length check)";
  return m;
}

}  // namespace

Status DecompressGzip(InputFile& in, OutputFile& out) {
  z_stream zs{};
  if (inflateInit2(&zs, kGzipWindowBits) != Z_OK) {
    return InternalError("gzip: cannot initialise the zlib decoder");
  }
  struct Closer {
    z_stream* zs;
    ~Closer() { inflateEnd(zs); }
  } closer{&zs};

  Buffer in_buf;
  Buffer out_buf;
  bool eof = false;
  bool in_member = true;  // Sniff() saw a gzip magic at offset 0.
  int64_t members = 0;    // members completed
  for (;;) {
    if (zs.avail_in == 0 && !eof) {
      ASSIGN_OR_RETURN(size_t n, in.Read(in_buf.span()));
      eof = n == 0;
      zs.next_in = reinterpret_cast<Bytef*>(in_buf.data());
      zs.avail_in = static_cast<uInt>(n);
    }
    if (!in_member) {
      while (zs.avail_in > 0 && *zs.next_in == 0) {  // zero padding
        ++zs.next_in;
        --zs.avail_in;
      }
      if (zs.avail_in == 0) {
        if (eof) return OkStatus();
        continue;
      }
      if (*zs.next_in != 0x1f) {
        return InvalidArgumentError(
            "gzip: unexpected data after the end of the compressed stream"
            " (after member " +
            std::to_string(members) + ")");
      }
      if (inflateReset(&zs) != Z_OK) return InternalError("gzip: cannot reset the zlib decoder");
      in_member = true;
    }
    zs.next_out = reinterpret_cast<Bytef*>(out_buf.data());
    zs.avail_out = static_cast<uInt>(kBufferBytes);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    const size_t produced = kBufferBytes - zs.avail_out;
    if (rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR) {
      RETURN_IF_ERROR(out.Write(out_buf.span().first(produced)));
    }
    switch (rc) {
      case Z_OK:
        break;
      case Z_STREAM_END:
        in_member = false;
        ++members;
        break;
      case Z_BUF_ERROR:  // No progress possible: the decoder needs more input.
        if (eof && zs.avail_in == 0) {
          return InvalidArgumentError("gzip stream is truncated" + MemberSuffix(members));
        }
        break;
      case Z_DATA_ERROR:
        return InvalidArgumentError("gzip data is corrupt: " + DescribeZlibError(zs.msg) +
                                    MemberSuffix(members));
      case Z_NEED_DICT:
        return InvalidArgumentError("gzip data is corrupt: it asks for a preset dictionary" +
                                    MemberSuffix(members));
      case Z_MEM_ERROR:
        return InternalError("gzip: out of memory in the zlib decoder");
      default:
        return InternalError("gzip: unexpected zlib error " + std::to_string(rc));
    }
  }
}

}  // namespace glimmer::decompress::internal
