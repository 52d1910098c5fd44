#pragma once
// Engine of the `image_decompression` import plugin: detect a compressed upload and expand it.
//
// Glance's plugin (glance/async_/flows/plugins/image_decompression.py) sniffs the first bytes of
// the staged data when container_format != "compressed", extracts gzip and single-file zip
// archives (a zip with more than one member fails the import), refuses lha, and updates the
// image size. Glimmer does the same and also understands zstd and xz.
//
// The input is hostile. Decompression streams through fixed 1 MiB buffers; no allocation is
// proportional to a header field. Codec memory is bounded by constants: zstd windows up to
// 128 MiB (zstd's own default limit), xz dictionaries up to kXzMemLimitBytes.
//
// Error codes (every message names the codec and what went wrong, fit for an end user):
//   kInvalidArgument    corrupt or truncated data, a zip without exactly one file member, an
//                       invalid Options value, out_path naming the input file
//   kUnsupportedMedia   lha, a zip member that is encrypted or uses a method other than
//                       stored/deflate, split zip archives, a zstd window above 128 MiB
//   kResourceExhausted  output larger than Options::max_output_bytes, an xz stream needing more
//                       than kXzMemLimitBytes, no space left on the output device (or quota)
//   kAborted            the progress callback returned false (the build has no kCancelled)
//   kNotFound           in_path does not exist
//   kUnavailable        the files cannot be opened for permissions, or out of descriptors
//   kInternal           other I/O errors (EIO, ...), in_path not a regular file
// I/O errors are mapped by platform/file.h's PosixError(); their messages name files by their
// base names only.
//
// Thread-safety: the functions are reentrant; concurrent calls must use distinct out_paths.
// The calls block on file I/O: run them on a blocking executor, not an event loop.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "platform/file.h"

namespace glimmer::decompress {

enum class Codec {
  kNone,  // Not compressed (or a format this plugin does not know): use the data as is.
  kGzip,  // RFC 1952, possibly several members concatenated (like `gzip -d`).
  kZip,   // PKZIP archive holding exactly one file, stored or deflated.
  kZstd,  // One or more zstd frames (skippable frames are skipped).
  kXz,    // One or more .xz streams (with optional stream padding).
  kLha,   // Detected so that it is refused clearly: decompression is not supported.
};

// "none", "gzip", "zip", "zstd", "xz" or "lha".
std::string_view CodecName(Codec codec);

// Number of leading bytes Sniff() needs to recognise every codec.
inline constexpr size_t kSniffBytes = 8;

// Largest memory an xz stream may ask for (its dictionary, essentially); `xz -9` needs 65 MiB.
inline constexpr int64_t kXzMemLimitBytes = int64_t{256} << 20;

// Sniff()
//
// Detects the compression from the first bytes of a file, by magic number only:
//   zip `PK\x03\x04` | gzip `1f 8b 08` | zstd `28 b5 2f fd` or a skippable frame `5? 2a 4d 18`
//   | xz `fd 37 7a 58 5a 00` | lha `-lh?-` at offset 2.
// A head shorter than a magic number does not match it; kSniffBytes always suffice.
Codec Sniff(std::span<const std::byte> head);

struct Options {
  // Decompressed bytes allowed; exceeding it fails with kResourceExhausted as soon as the output
  // would pass it (a zip whose directory declares a larger size fails before writing anything).
  // Must be >= 0.
  int64_t max_output_bytes = std::numeric_limits<int64_t>::max();
  // The files' FileSystem (tests inject faults through it); nullptr: the POSIX one. Must
  // outlive the call.
  platform::FileSystem* file_system = nullptr;
};

struct Result {
  Codec codec = Codec::kNone;
  int64_t input_bytes = 0;   // size of the file at in_path
  int64_t output_bytes = 0;  // bytes written to out_path; 0 for kNone (nothing is written)
};

// Progress callback: receives the number of bytes written so far; return false to cancel.
using ProgressFn = std::function<bool(int64_t bytes_written)>;

// Distance, in output bytes, between two progress calls.
inline constexpr int64_t kProgressIntervalBytes = int64_t{64} << 20;

// DecompressFile()
//
// Sniffs the file at in_path and, if it is compressed, decompresses it into out_path.
//  - kNone: returns {kNone, size, 0}; out_path is neither created nor touched.
//  - kLha: fails (kUnsupportedMedia, "lha archives are not supported"); out_path is untouched.
//  - zip: the central directory is validated before out_path is created; a zip holding other
//    than one file fails with kInvalidArgument "zip archive has N members; image_decompression
//    needs exactly one". Directory entries ("d/", as `zip -r` writes) are not members.
//  - Otherwise out_path is created or truncated (mode 0600: image data), written (output
//    chunks that are all zeros become holes), and fsynced before OK is returned. If a failure
//    happens after out_path was created, out_path is removed; failures found earlier (bad
//    arguments, lha, a bad zip directory, the zip size above the cap) leave it untouched.
//  - gzip and zip CRC-32s, xz checks and zstd checksums (when present) are verified.
// `progress` (optional) is called each time the output crosses a multiple of
// kProgressIntervalBytes; returning false stops the work with kAborted.
StatusOr<Result> DecompressFile(const std::string& in_path, const std::string& out_path,
                                const Options& options, ProgressFn progress = {});

}  // namespace glimmer::decompress
