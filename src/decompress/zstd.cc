// zstd through libzstd's streaming API. Consecutive frames (and skippable frames) are decoded in
// sequence like `zstd -d`. The window is limited to 128 MiB, zstd's own default limit: frames
// made with `--long=28` or more are refused rather than allowed to claim more memory.

#include <zstd.h>
#include <zstd_errors.h>

#include <memory>
#include <string>

#include "decompress/io.h"

namespace glimmer::decompress::internal {
namespace {

constexpr int kMaxWindowLog = 27;  // 128 MiB

Status ZstdError(size_t code) {
  switch (ZSTD_getErrorCode(code)) {
    case ZSTD_error_frameParameter_windowTooLarge:
      return UnsupportedMediaError(
          "zstd stream needs a window larger than 128 MiB (it was made with --long=28 or more); "
          "such streams are not supported");
    case ZSTD_error_checksum_wrong:
      return InvalidArgumentError("zstd data is corrupt: checksum mismatch");
    case ZSTD_error_prefix_unknown:
      return InvalidArgumentError(
          "zstd data is corrupt: unknown frame header (or unexpected data after the last frame)");
    case ZSTD_error_memory_allocation:
      return InternalError("zstd: out of memory in the decoder");
    default:
      return InvalidArgumentError(std::string("zstd data is corrupt: ") + ZSTD_getErrorName(code));
  }
}

}  // namespace

Status DecompressZstd(InputFile& in, OutputFile& out) {
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> dctx(ZSTD_createDCtx(), &ZSTD_freeDCtx);
  if (dctx == nullptr) return InternalError("zstd: cannot create the decoder");
  if (ZSTD_isError(ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_windowLogMax, kMaxWindowLog)))
    return InternalError("zstd: cannot set the window limit");

  Buffer in_buf;
  Buffer out_buf;
  size_t hint = 1;  // 0 once a frame is complete and fully flushed.
  for (;;) {
    ASSIGN_OR_RETURN(size_t n, in.Read(in_buf.span()));
    if (n == 0) break;
    ZSTD_inBuffer input{in_buf.data(), n, 0};
    bool out_full = false;
    // Drain the input, then keep going while the output fills up (more may be pending).
    while (input.pos < input.size || out_full) {
      ZSTD_outBuffer output{out_buf.data(), kBufferBytes, 0};
      const size_t consumed_before = input.pos;
      const size_t rc = ZSTD_decompressStream(dctx.get(), &output, &input);
      if (ZSTD_isError(rc)) return ZstdError(rc);
      // A call that moved nothing (e.g. checking for more output right after a frame ended)
      // returns the hint for a next frame's header; that says nothing about truncation.
      if (output.pos > 0 || input.pos != consumed_before) hint = rc;
      RETURN_IF_ERROR(out.Write(out_buf.span().first(output.pos)));
      out_full = output.pos == output.size;
    }
  }
  if (hint != 0) return InvalidArgumentError("zstd stream is truncated");
  return OkStatus();
}

}  // namespace glimmer::decompress::internal
