// xz through liblzma's stream decoder, with LZMA_CONCATENATED so that concatenated streams and
// stream padding are handled like `xz -d`. Integrity checks (CRC32/CRC64/SHA-256) are verified
// by liblzma. The decoder's memory is capped at kXzMemLimitBytes.

#include <lzma.h>

#include <string>

#include "decompress/io.h"

namespace glimmer::decompress::internal {
namespace {

Status XzError(lzma_ret rc, lzma_stream* strm) {
  switch (rc) {
    case LZMA_BUF_ERROR:
      return InvalidArgumentError("xz stream is truncated");
    case LZMA_MEMLIMIT_ERROR:
      return ResourceExhaustedError("xz stream needs " + std::to_string(lzma_memusage(strm) >> 20) +
                                    " MiB of memory to decompress, more than the limit of " +
                                    std::to_string(kXzMemLimitBytes >> 20) + " MiB");
    case LZMA_FORMAT_ERROR:
      return InvalidArgumentError("xz data is corrupt: not a valid .xz stream");
    case LZMA_OPTIONS_ERROR:
      return UnsupportedMediaError("xz stream uses unsupported options or filters");
    case LZMA_DATA_ERROR:
      return InvalidArgumentError("xz data is corrupt (integrity check failed or invalid data)");
    case LZMA_MEM_ERROR:
      return InternalError("xz: out of memory in the decoder");
    default:
      return InternalError("xz: unexpected liblzma error " + std::to_string(rc));
  }
}

}  // namespace

Status DecompressXz(InputFile& in, OutputFile& out) {
  lzma_stream strm = LZMA_STREAM_INIT;
  lzma_ret rc =
      lzma_stream_decoder(&strm, static_cast<uint64_t>(kXzMemLimitBytes), LZMA_CONCATENATED);
  if (rc != LZMA_OK) return InternalError("xz: cannot initialise the liblzma decoder");
  struct Closer {
    lzma_stream* strm;
    ~Closer() { lzma_end(strm); }
  } closer{&strm};

  Buffer in_buf;
  Buffer out_buf;
  lzma_action action = LZMA_RUN;
  for (;;) {
    if (strm.avail_in == 0 && action == LZMA_RUN) {
      ASSIGN_OR_RETURN(size_t n, in.Read(in_buf.span()));
      if (n == 0) action = LZMA_FINISH;
      strm.next_in = reinterpret_cast<const uint8_t*>(in_buf.data());
      strm.avail_in = n;
    }
    strm.next_out = reinterpret_cast<uint8_t*>(out_buf.data());
    strm.avail_out = kBufferBytes;
    rc = lzma_code(&strm, action);
    RETURN_IF_ERROR(out.Write(out_buf.span().first(kBufferBytes - strm.avail_out)));
    if (rc == LZMA_STREAM_END) return OkStatus();
    if (rc != LZMA_OK) return XzError(rc, &strm);
  }
}

}  // namespace glimmer::decompress::internal
