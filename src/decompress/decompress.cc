#include "decompress/decompress.h"

#include <algorithm>
#include <array>
#include <memory>

#include "decompress/io.h"

namespace glimmer::decompress {
namespace {

bool HasPrefix(std::span<const std::byte> head, size_t offset,
               std::initializer_list<unsigned char> magic) {
  if (head.size() < offset + magic.size()) return false;
  return std::equal(magic.begin(), magic.end(), head.begin() + offset,
                    [](unsigned char m, std::byte b) { return std::byte{m} == b; });
}

// True if `path` names the same file as `in` (decompressing onto the input would destroy it).
bool SameFile(platform::FileSystem& fs, const std::string& path, const internal::InputFile& in) {
  StatusOr<platform::FileInfo> out = fs.Stat(path);
  return out.ok() && out->device == in.info().device && out->inode == in.info().inode;
}

}  // namespace

std::string_view CodecName(Codec codec) {
  switch (codec) {
    case Codec::kNone:
      return "none";
    case Codec::kGzip:
      return "gzip";
    case Codec::kZip:
      return "zip";
    case Codec::kZstd:
      return "zstd";
    case Codec::kXz:
      return "xz";
    case Codec::kLha:
      return "lha";
  }
  return "unknown";
}

Codec Sniff(std::span<const std::byte> head) {
  if (HasPrefix(head, 0, {'P', 'K', 0x03, 0x04})) return Codec::kZip;
  if (HasPrefix(head, 0, {0x1f, 0x8b, 0x08})) return Codec::kGzip;
  if (HasPrefix(head, 0, {0x28, 0xb5, 0x2f, 0xfd})) return Codec::kZstd;
  // Skippable frame 0x184D2A50..5F (little endian); libzstd skips it and reads on.
  if (head.size() >= 4 && (std::to_integer<unsigned>(head[0]) & 0xf0) == 0x50 &&
      HasPrefix(head, 1, {0x2a, 0x4d, 0x18})) {
    return Codec::kZstd;
  }
  if (HasPrefix(head, 0, {0xfd, '7', 'z', 'X', 'Z', 0x00})) return Codec::kXz;
  // LHA level 0-2 headers: "-lh?-" (method id) at offset 2. Glance checks "-lh" only; the
  // closing '-' avoids refusing a raw image that happens to contain those three bytes.
  if (HasPrefix(head, 2, {'-', 'l', 'h'}) && HasPrefix(head, 6, {'-'})) return Codec::kLha;
  return Codec::kNone;
}

StatusOr<Result> DecompressFile(const std::string& in_path, const std::string& out_path,
                                const Options& options, ProgressFn progress) {
  if (options.max_output_bytes < 0) {
    return InvalidArgumentError("decompression: max_output_bytes must not be negative");
  }
  platform::FileSystem& fs =
      options.file_system != nullptr ? *options.file_system : platform::FileSystem::Default();
  ASSIGN_OR_RETURN(std::unique_ptr<internal::InputFile> in, internal::InputFile::Open(fs, in_path));
  std::array<std::byte, kSniffBytes> head{};
  ASSIGN_OR_RETURN(size_t head_size, in->ReadAt(0, head));
  Result result{Sniff(std::span(head).first(head_size)), in->size(), 0};
  const Codec codec = result.codec;
  const std::string_view name = CodecName(codec);
  if (codec == Codec::kNone) return result;
  if (codec == Codec::kLha) return UnsupportedMediaError("lha archives are not supported");
  if (SameFile(fs, out_path, *in)) {
    return InvalidArgumentError(std::string(name) +
                                ": the output path is the compressed input file itself");
  }

  internal::ZipMember member;
  if (codec == Codec::kZip) {
    ASSIGN_OR_RETURN(member, internal::FindSingleZipMember(*in));
    if (member.uncompressed_size > options.max_output_bytes) {
      return ResourceExhaustedError("zip: member '" + member.display_name + "' is " +
                                    internal::DescribeBytes(member.uncompressed_size) +
                                    " when decompressed, larger than the limit of " +
                                    internal::DescribeBytes(options.max_output_bytes));
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<internal::OutputFile> out,
                   internal::OutputFile::Create(fs, out_path, name, options.max_output_bytes,
                                                std::move(progress)));
  switch (codec) {
    case Codec::kGzip:
      RETURN_IF_ERROR(internal::DecompressGzip(*in, *out));
      break;
    case Codec::kZstd:
      RETURN_IF_ERROR(internal::DecompressZstd(*in, *out));
      break;
    case Codec::kXz:
      RETURN_IF_ERROR(internal::DecompressXz(*in, *out));
      break;
    case Codec::kZip:
      RETURN_IF_ERROR(internal::ExtractZipMember(*in, member, *out));
      break;
    case Codec::kNone:
    case Codec::kLha:
      return InternalError("decompression: unreachable codec");
  }
  RETURN_IF_ERROR(out->Finish());
  result.output_bytes = out->written();
  return result;
}

}  // namespace glimmer::decompress
