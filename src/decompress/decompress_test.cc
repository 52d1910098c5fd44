#include "decompress/decompress.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <zlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>
#include <vector>

#include "platform/testing/fault_injection_file_system.h"

// Inputs are made at run time by the real tools (gzip, zstd, xz, Info-ZIP zip, Python's
// zipfile); the few that no tool writes (a gzip bomb, zip64 records, an xz header asking for a
// 1 GiB dictionary) are built or patched here.

namespace glimmer::decompress {
namespace {

using ::testing::HasSubstr;

std::span<const std::byte> Bytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

// Compressible but not trivial: text-like runs, long zero runs (holes in the output, one at
// the very end), and a pseudo-random stretch.
std::string SampleData() {
  std::string s;
  uint32_t x = 12345;
  auto next = [&x] { return x = x * 1664525u + 1013904223u; };
  while (s.size() < (600u << 10)) {
    const uint32_t r = next();
    s.append("block ").append(std::to_string(r % 1000)).append(r % 3 == 0 ? " data\n" : " img ");
  }
  s.append(size_t{2100} << 10, '\0');
  for (int i = 0; i < (100 << 10); ++i) s.push_back(static_cast<char>(next() >> 24));
  s.append(size_t{1100} << 10, '\0');
  return s;
}

const std::string& Sample() {
  static const std::string* data = new std::string(SampleData());
  return *data;
}

std::string Le(uint64_t v, int bytes) {
  std::string s;
  for (int i = 0; i < bytes; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
  return s;
}

// A single-member gzip of `mib` MiB of zeros, built in milliseconds: after a full flush zlib
// emits the same bytes for every further MiB of zeros, so one block is repeated.
std::string ZerosGzip(int64_t mib) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY), Z_OK);
  std::vector<Bytef> zeros(1 << 20);
  auto run = [&](int flush, size_t n) {
    std::string out;
    zs.next_in = zeros.data();
    zs.avail_in = static_cast<uInt>(n);
    int rc;
    do {
      char buf[1 << 16];
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = sizeof(buf);
      rc = deflate(&zs, flush);
      out.append(buf, sizeof(buf) - zs.avail_out);
    } while (zs.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    return out;
  };
  const std::string first = run(Z_FULL_FLUSH, zeros.size());
  const std::string again = run(Z_FULL_FLUSH, zeros.size());
  std::string finish = run(Z_FINISH, 0);
  deflateEnd(&zs);
  finish.resize(finish.size() - 8);  // trailer, recomputed for the full length below
  const uLong crc_mib = crc32(0, zeros.data(), zeros.size());
  uLong crc = crc_mib;
  std::string gz = first;
  for (int64_t i = 1; i < mib; ++i) {
    gz += again;
    crc = crc32_combine(crc, crc_mib, 1 << 20);
  }
  return gz + finish + Le(crc, 4) + Le(static_cast<uint64_t>(mib << 20), 4);
}

class DecompressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/glimmer_decompress_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Write("data", Sample());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  void Write(const std::string& name, const std::string& content) const {
    std::ofstream(Path(name), std::ios::binary) << content;
  }
  std::string Read(const std::string& name) const {
    std::ifstream f(Path(name), std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
  }
  bool Exists(const std::string& name) const { return std::filesystem::exists(Path(name)); }

  // Runs a shell command in the test directory.
  void Sh(const std::string& cmd) const {
    const std::string full = "cd '" + dir_ + "' && " + cmd;
    ASSERT_EQ(std::system(full.c_str()), 0) << cmd;
  }
  // Runs a Python 3 snippet in the test directory (zipfile, sample file "data").
  void Py(const std::string& code) const {
    Write("gen.py", "import zipfile, io, sys\ndata = open('data', 'rb').read()\n" + code);
    Sh("/usr/bin/python3 gen.py");
  }

  StatusOr<Result> Decompress(const std::string& in, int64_t cap = int64_t{1} << 40,
                              ProgressFn progress = {}) const {
    return DecompressFile(Path(in), Path("out"), Options{cap}, std::move(progress));
  }

  // Decompresses `in` and expects the sample data back.
  void ExpectSample(const std::string& in, Codec codec) const {
    auto r = Decompress(in);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->codec, codec);
    EXPECT_EQ(r->input_bytes, static_cast<int64_t>(std::filesystem::file_size(Path(in))));
    EXPECT_EQ(r->output_bytes, static_cast<int64_t>(Sample().size()));
    EXPECT_TRUE(Read("out") == Sample()) << "output differs from the input data";
  }

  // Expects failure with `code` and a message containing `text`, and no output file left.
  void ExpectError(const std::string& in, StatusCode code, const std::string& text,
                   int64_t cap = int64_t{1} << 40) const {
    std::filesystem::remove(Path("out"));
    auto r = Decompress(in, cap);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_THAT(r.status().message(), HasSubstr(text));
    EXPECT_FALSE(Exists("out"));
  }

  // Copies `from` to `to` keeping `size` bytes (negative: drop that many from the end).
  void Truncate(const std::string& from, const std::string& to, int64_t size) const {
    std::string s = Read(from);
    s.resize(size >= 0 ? static_cast<size_t>(size) : s.size() - static_cast<size_t>(-size));
    Write(to, s);
  }
  void FlipByte(const std::string& from, const std::string& to, size_t at) const {
    std::string s = Read(from);
    s[at] = static_cast<char>(s[at] ^ 0x55);
    Write(to, s);
  }

  std::string dir_;
};

// --- Sniff ----------------------------------------------------------------------------------

Codec SniffString(const std::string& s) { return Sniff(Bytes(s)); }

TEST(Sniff, Magics) {
  EXPECT_EQ(SniffString(std::string("PK\x03\x04\x14\0\0\0", 8)), Codec::kZip);
  EXPECT_EQ(SniffString("\x1f\x8b\x08\x00"), Codec::kGzip);
  EXPECT_EQ(SniffString("\x28\xb5\x2f\xfd\x04"), Codec::kZstd);
  EXPECT_EQ(SniffString("\x50\x2a\x4d\x18\x04"), Codec::kZstd);  // skippable frame
  EXPECT_EQ(SniffString("\x5e\x2a\x4d\x18\x04"), Codec::kZstd);
  EXPECT_EQ(SniffString(std::string("\xfd\x37zXZ\0\0\x04", 8)), Codec::kXz);
  EXPECT_EQ(SniffString("\x24\x5a-lh5-\x10"), Codec::kLha);
  EXPECT_EQ(SniffString("\x24\x5a-lhd-"), Codec::kLha);
  EXPECT_EQ(CodecName(Codec::kNone), "none");
  EXPECT_EQ(CodecName(Codec::kGzip), "gzip");
  EXPECT_EQ(CodecName(Codec::kZip), "zip");
  EXPECT_EQ(CodecName(Codec::kZstd), "zstd");
  EXPECT_EQ(CodecName(Codec::kXz), "xz");
  EXPECT_EQ(CodecName(Codec::kLha), "lha");
}

TEST(Sniff, NotCompressed) {
  EXPECT_EQ(SniffString(std::string(512, '\0')), Codec::kNone);
  EXPECT_EQ(SniffString("QFI\xfb\0\0\0\x03"), Codec::kNone);  // qcow2
  EXPECT_EQ(SniffString("\x1f\x8b\x07\x00"), Codec::kNone);   // gzip magic, not deflate
  EXPECT_EQ(SniffString(std::string("PK\x05\x06", 4) + std::string(18, '\0')),
            Codec::kNone);  // empty zip: nothing to extract
  EXPECT_EQ(SniffString("\x24\x5a-lh5x"), Codec::kNone);
  EXPECT_EQ(SniffString("\x60\x2a\x4d\x18"), Codec::kNone);
}

TEST(Sniff, ShortHeads) {
  EXPECT_EQ(Sniff({}), Codec::kNone);
  EXPECT_EQ(SniffString("P"), Codec::kNone);
  EXPECT_EQ(SniffString("PK\x03"), Codec::kNone);
  EXPECT_EQ(SniffString("\x1f\x8b"), Codec::kNone);
  EXPECT_EQ(SniffString("\x28\xb5\x2f"), Codec::kNone);
  EXPECT_EQ(SniffString("\xfd\x37zXZ"), Codec::kNone);
  EXPECT_EQ(SniffString("\x24\x5a-lh5"), Codec::kNone);
  // Exactly the magic is enough.
  EXPECT_EQ(SniffString("PK\x03\x04"), Codec::kZip);
  EXPECT_EQ(SniffString("\x1f\x8b\x08"), Codec::kGzip);
  EXPECT_EQ(SniffString(std::string("\xfd\x37zXZ\0", 6)), Codec::kXz);
  EXPECT_LE(size_t{7}, kSniffBytes);
}

// --- Dispatch -------------------------------------------------------------------------------

TEST_F(DecompressTest, NoneIsPassedThroughWithoutOutput) {
  auto r = Decompress("data");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->codec, Codec::kNone);
  EXPECT_EQ(r->input_bytes, static_cast<int64_t>(Sample().size()));
  EXPECT_EQ(r->output_bytes, 0);
  EXPECT_FALSE(Exists("out"));

  Write("empty", "");
  r = Decompress("empty");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->codec, Codec::kNone);
  EXPECT_FALSE(Exists("out"));
}

TEST_F(DecompressTest, LhaIsRefused) {
  Write("x.lzh", std::string("\x24\x5a-lh5-\x10\0\0\0", 11) + std::string(100, 'x'));
  ExpectError("x.lzh", StatusCode::kUnsupportedMedia, "lha archives are not supported");
}

TEST_F(DecompressTest, BadArguments) {
  ExpectError("missing", StatusCode::kNotFound, "missing");
  Sh("gzip -k data");
  ExpectError("data.gz", StatusCode::kInvalidArgument, "max_output_bytes", -1);
  auto r = DecompressFile(Path("data.gz"), Path("data.gz"), Options{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Exists("data.gz"));
}

// --- gzip -----------------------------------------------------------------------------------

TEST_F(DecompressTest, GzipRoundTrip) {
  Sh("gzip -k data");
  ExpectSample("data.gz", Codec::kGzip);
}

// The output holds image data: 0600 whatever the umask, also over a leftover file (review F7).
TEST_F(DecompressTest, OutputIsPrivate) {
  Sh("gzip -k data");
  Write("out", "left by a crash");
  std::filesystem::permissions(Path("out"), std::filesystem::perms(0644));
  const mode_t old_umask = ::umask(0);
  auto r = Decompress("data.gz");
  ::umask(old_umask);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(std::filesystem::status(Path("out")).permissions(), std::filesystem::perms(0600));
}

TEST_F(DecompressTest, GzipMultiMemberLikeGzipD) {
  Write("a", Sample().substr(0, 1 << 20));
  Write("b", Sample().substr(1 << 20));
  // Members, an empty member, then zero padding (which gzip -d ignores).
  Sh("gzip -c a > m.gz && printf '' | gzip -c >> m.gz && gzip -c b >> m.gz && "
     "head -c 100 /dev/zero >> m.gz && gzip -t m.gz");
  ExpectSample("m.gz", Codec::kGzip);
}

TEST_F(DecompressTest, GzipTruncated) {
  Sh("gzip -k data");
  Truncate("data.gz", "cut.gz", -4);  // loses half of the trailer
  ExpectError("cut.gz", StatusCode::kInvalidArgument, "gzip stream is truncated");
  Truncate("data.gz", "half.gz", 5000);
  ExpectError("half.gz", StatusCode::kInvalidArgument, "gzip stream is truncated");
  Truncate("data.gz", "head.gz", 3);
  ExpectError("head.gz", StatusCode::kInvalidArgument, "gzip stream is truncated");
}

TEST_F(DecompressTest, GzipCorrupt) {
  Sh("gzip -k data");
  const size_t size = std::filesystem::file_size(Path("data.gz"));
  FlipByte("data.gz", "crc.gz", size - 6);  // CRC-32 in the trailer
  ExpectError("crc.gz", StatusCode::kInvalidArgument, "gzip data is corrupt: CRC-32 mismatch");
  FlipByte("data.gz", "mid.gz", size / 3);
  ExpectError("mid.gz", StatusCode::kInvalidArgument, "gzip data is corrupt");
  Write("garbage.gz", Read("data.gz") + "trailing junk");
  ExpectError("garbage.gz", StatusCode::kInvalidArgument, "unexpected data after the end");
  Write("bad2.gz", Read("data.gz") + "\x1f\x8b\x09 junk");
  ExpectError("bad2.gz", StatusCode::kInvalidArgument, "(in member 2)");
}

TEST_F(DecompressTest, GzipBombStopsAtCap) {
  Write("z16.gz", ZerosGzip(16));  // validates the construction with a full decode
  auto r = Decompress("z16.gz");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->output_bytes, 16 << 20);
  EXPECT_EQ(std::filesystem::file_size(Path("out")), size_t{16} << 20);

  Write("bomb.gz", ZerosGzip(1024));  // 1 GiB of zeros in ~1 MB
  const auto start = std::chrono::steady_clock::now();
  ExpectError("bomb.gz", StatusCode::kResourceExhausted,
              "gzip: the decompressed image is larger than the limit of 10485760 bytes (10 MiB)",
              10 << 20);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

// --- zstd -----------------------------------------------------------------------------------

TEST_F(DecompressTest, ZstdMultipleFrames) {
  Write("a", Sample().substr(0, 3 << 20));  // the second frame starts in a zero run
  Write("b", Sample().substr(3 << 20));
  Sh("zstd -q a -o a.zst && zstd -q --no-check b -o b.zst && cat a.zst b.zst > data.zst");
  ExpectSample("data.zst", Codec::kZstd);
}

TEST_F(DecompressTest, ZstdTruncatedAndCorrupt) {
  Sh("zstd -q data -o data.zst");
  Truncate("data.zst", "cut.zst", -3);
  ExpectError("cut.zst", StatusCode::kInvalidArgument, "zstd stream is truncated");
  const size_t size = std::filesystem::file_size(Path("data.zst"));
  FlipByte("data.zst", "sum.zst", size - 2);  // content checksum
  ExpectError("sum.zst", StatusCode::kInvalidArgument, "zstd data is corrupt");
  Write("junk.zst", Read("data.zst") + "junk");
  ExpectError("junk.zst", StatusCode::kInvalidArgument, "zstd data is corrupt");
}

TEST_F(DecompressTest, ZstdWindowAboveLimitIsRefused) {
  Sh("head -c 1000 data | zstd -q --long=28 -c > long.zst");
  ExpectError("long.zst", StatusCode::kUnsupportedMedia, "window larger than 128 MiB");
}

TEST_F(DecompressTest, ZstdCapProgressAndCancel) {
  // 150 frames of 1 MiB of zeros: 150 MiB out, progress at 64 and 128 MiB.
  Sh("head -c 1M /dev/zero | zstd -q -c > one.zst");
  std::string many;
  for (int i = 0; i < 150; ++i) many += Read("one.zst");
  Write("many.zst", many);

  std::vector<int64_t> calls;
  auto r = Decompress("many.zst", int64_t{1} << 40, [&](int64_t n) {
    calls.push_back(n);
    return true;
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->output_bytes, int64_t{150} << 20);
  EXPECT_THAT(calls, ::testing::ElementsAre(int64_t{64} << 20, int64_t{128} << 20));

  auto cancelled = Decompress("many.zst", int64_t{1} << 40, [](int64_t) { return false; });
  EXPECT_EQ(cancelled.status().code(), StatusCode::kAborted);
  EXPECT_THAT(cancelled.status().message(), HasSubstr("cancelled"));
  EXPECT_FALSE(Exists("out"));

  ExpectError("many.zst", StatusCode::kResourceExhausted, "zstd: the decompressed image is larger",
              (100 << 20) + 1);
}

// --- xz -------------------------------------------------------------------------------------

TEST_F(DecompressTest, XzConcatenatedStreams) {
  Write("a", Sample().substr(0, 2 << 20));
  Write("b", Sample().substr(2 << 20));
  Sh("xz -T1 -1 -c a > data.xz && xz -T1 -0 -C sha256 -c b >> data.xz");
  ExpectSample("data.xz", Codec::kXz);
}

TEST_F(DecompressTest, XzTruncatedCorruptAndCap) {
  Sh("xz -T1 -1 -k data");
  Truncate("data.xz", "cut.xz", -20);
  ExpectError("cut.xz", StatusCode::kInvalidArgument, "xz stream is truncated");
  Truncate("data.xz", "half.xz", 3000);
  ExpectError("half.xz", StatusCode::kInvalidArgument, "xz stream is truncated");
  FlipByte("data.xz", "bad.xz", 2000);
  ExpectError("bad.xz", StatusCode::kInvalidArgument, "xz data is corrupt");
  ExpectError("data.xz", StatusCode::kResourceExhausted, "xz: the decompressed image is larger",
              1 << 20);
}

TEST_F(DecompressTest, XzMemoryLimit) {
  // Raise the LZMA2 dictionary of the block header to 1 GiB (and fix the header's CRC-32).
  Sh("head -c 1000 data | xz -T1 -0 -c > small.xz");
  std::string s = Read("small.xz");
  const size_t header_size = (static_cast<uint8_t>(s[12]) + 1) * 4;
  ASSERT_EQ(s.substr(13, 3), std::string("\x00\x21\x01", 3));  // 1 filter: LZMA2, 1 prop byte
  s[16] = 36;                                                  // 2 << (36 / 2 + 11) = 1 GiB
  const uLong crc = crc32(0, reinterpret_cast<const Bytef*>(&s[12]), header_size - 4);
  s.replace(12 + header_size - 4, 4, Le(crc, 4));
  Write("big.xz", s);
  ExpectError("big.xz", StatusCode::kResourceExhausted,
              "xz stream needs 1024 MiB of memory to decompress, more than the limit of 256 MiB");
}

// --- zip ------------------------------------------------------------------------------------

TEST_F(DecompressTest, ZipFromInfoZip) {
  Sh("zip -q deflated.zip data && zip -q -0 stored.zip data");
  ExpectSample("deflated.zip", Codec::kZip);
  ExpectSample("stored.zip", Codec::kZip);
  // `zip -r` of a folder with one image adds a "d/" entry, which is not a member.
  Sh("mkdir d && cp data d/ && zip -q -r folder.zip d");
  ExpectSample("folder.zip", Codec::kZip);
  // Into a pipe: data descriptor (flag bit 3) and a zip64 local extra field.
  Sh("zip -q - data | cat > piped.zip && cat data | zip -q - - | cat > stdin.zip");
  ExpectSample("piped.zip", Codec::kZip);
  ExpectSample("stdin.zip", Codec::kZip);
}

TEST_F(DecompressTest, ZipFromPython) {
  Py(R"(
zipfile.ZipFile('stored.zip', 'w', zipfile.ZIP_STORED).writestr('disk.img', data)
zipfile.ZipFile('deflated.zip', 'w', zipfile.ZIP_DEFLATED).writestr('disk.img', data)
with zipfile.ZipFile('dir.zip', 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr(zipfile.ZipInfo('images/'), b'')
    z.writestr('images/disk.img', data)
class Unseekable:
    def __init__(self, f): self.f = f
    def write(self, b): return self.f.write(b)
    def flush(self): self.f.flush()
with open('descriptor.zip', 'wb') as f:
    with zipfile.ZipFile(Unseekable(f), 'w', zipfile.ZIP_DEFLATED) as z:
        with z.open('disk.img', 'w', force_zip64=True) as m:
            m.write(data)
assert zipfile.ZipFile('descriptor.zip').infolist()[0].flag_bits & 8
)");
  ExpectSample("stored.zip", Codec::kZip);
  ExpectSample("deflated.zip", Codec::kZip);
  ExpectSample("dir.zip", Codec::kZip);
  ExpectSample("descriptor.zip", Codec::kZip);
}

TEST_F(DecompressTest, ZipMemberCount) {
  Py(R"(
with zipfile.ZipFile('two.zip', 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('a.img', data[:1000]); z.writestr('b.img', data[:1000])
with zipfile.ZipFile('dirs.zip', 'w') as z:
    z.writestr(zipfile.ZipInfo('a/'), b''); z.writestr(zipfile.ZipInfo('a/b/'), b'')
)");
  ExpectError("two.zip", StatusCode::kInvalidArgument,
              "zip archive has 2 members; image_decompression needs exactly one");
  ExpectError("dirs.zip", StatusCode::kInvalidArgument,
              "zip archive has 0 members; image_decompression needs exactly one");
  Sh("head -c 1000 data > a && cp a b && mkdir d && cp a d/ && zip -q three.zip a b d/a");
  ExpectError("three.zip", StatusCode::kInvalidArgument, "zip archive has 3 members");
}

TEST_F(DecompressTest, ZipUnsupportedMembers) {
  Py(R"(
zipfile.ZipFile('bz.zip', 'w', zipfile.ZIP_BZIP2).writestr('disk.img', data[:5000])
zipfile.ZipFile('lz.zip', 'w', zipfile.ZIP_LZMA).writestr('d\u00e9\x01\xff.img', data[:5000])
)");
  ExpectError("bz.zip", StatusCode::kUnsupportedMedia,
              "zip member 'disk.img' is compressed with bzip2; only stored and deflate");
  // The name is shown as valid UTF-8 with control characters replaced.
  ExpectError("lz.zip", StatusCode::kUnsupportedMedia,
              "zip member 'd\u00e9?\u00ff.img' is compressed with lzma");
  Sh("head -c 5000 data > disk && zip -q -P secret enc.zip disk");
  ExpectError("enc.zip", StatusCode::kUnsupportedMedia,
              "zip member 'disk' is encrypted; encrypted zip archives are not supported");
}

TEST_F(DecompressTest, ZipTruncatedAndCorrupt) {
  Sh("zip -q deflated.zip data && zip -q -0 stored.zip data");
  Truncate("deflated.zip", "cut.zip", -10);
  ExpectError("cut.zip", StatusCode::kInvalidArgument, "zip archive is truncated or corrupt");
  Truncate("deflated.zip", "half.zip", 20000);
  ExpectError("half.zip", StatusCode::kInvalidArgument, "zip archive is truncated or corrupt");
  FlipByte("stored.zip", "crc.zip", 100000);
  ExpectError("crc.zip", StatusCode::kInvalidArgument,
              "zip data is corrupt: CRC-32 mismatch in member 'data'");
  FlipByte("deflated.zip", "bad.zip", 5000);
  ExpectError("bad.zip", StatusCode::kInvalidArgument, "zip data is corrupt");
  // A central directory that lies about the size must not let more data out.
  Py(R"(
zipfile.ZipFile('small.zip', 'w', zipfile.ZIP_DEFLATED).writestr('disk.img', data[:100000])
b = bytearray(open('small.zip', 'rb').read())
cd = b.rfind(b'PK\x01\x02')
b[cd + 24:cd + 28] = (1000).to_bytes(4, 'little')
open('liar.zip', 'wb').write(b)
)");
  ExpectError("liar.zip", StatusCode::kInvalidArgument, "holds more data than its declared size");
}

TEST_F(DecompressTest, ZipCap) {
  Py(R"(
zipfile.ZipFile('zeros.zip', 'w', zipfile.ZIP_DEFLATED, compresslevel=1).writestr(
    'disk.img', bytes(16 << 20))
)");
  const auto start = std::chrono::steady_clock::now();
  ExpectError("zeros.zip", StatusCode::kResourceExhausted,
              "zip: member 'disk.img' is 16777216 bytes (16 MiB) when decompressed, larger than "
              "the limit of 10485760 bytes (10 MiB)",
              10 << 20);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  auto r = Decompress("zeros.zip", 16 << 20);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->output_bytes, 16 << 20);
}

// A zip64 archive written by hand (no tool writes one for a small file): saturated 32-bit
// fields everywhere, real values in the zip64 extra fields and the zip64 end records.
TEST_F(DecompressTest, Zip64Records) {
  const std::string& data = Sample();
  const std::string name = "disk.img";
  const uLong crc = crc32(0, reinterpret_cast<const Bytef*>(data.data()), data.size());
  const uint64_t size = data.size();
  std::string zip;
  zip += Le(0x04034b50, 4) + Le(45, 2) + Le(0, 2) + Le(0, 2) + Le(0, 4) + Le(crc, 4) +
         Le(0xffffffff, 4) + Le(0xffffffff, 4) + Le(name.size(), 2) + Le(20, 2) + name + Le(1, 2) +
         Le(16, 2) + Le(size, 8) + Le(size, 8) + data;
  const uint64_t cd_offset = zip.size();
  zip += Le(0x02014b50, 4) + Le(45, 2) + Le(45, 2) + Le(0, 2) + Le(0, 2) + Le(0, 4) + Le(crc, 4) +
         Le(0xffffffff, 4) + Le(0xffffffff, 4) + Le(name.size(), 2) + Le(28, 2) + Le(0, 2) +
         Le(0, 2) + Le(0, 2) + Le(0, 4) + Le(0xffffffff, 4) + name + Le(1, 2) + Le(24, 2) +
         Le(size, 8) + Le(size, 8) + Le(0, 8);
  const uint64_t end64_offset = zip.size();
  zip += Le(0x06064b50, 4) + Le(44, 8) + Le(45, 2) + Le(45, 2) + Le(0, 4) + Le(0, 4) + Le(1, 8) +
         Le(1, 8) + Le(end64_offset - cd_offset, 8) + Le(cd_offset, 8);
  zip += Le(0x07064b50, 4) + Le(0, 4) + Le(end64_offset, 8) + Le(1, 4);
  zip += Le(0x06054b50, 4) + Le(0, 2) + Le(0, 2) + Le(0xffff, 2) + Le(0xffff, 2) +
         Le(0xffffffff, 4) + Le(0xffffffff, 4) + Le(0, 2);
  Write("z64.zip", zip);
  Py("assert zipfile.ZipFile('z64.zip').read('disk.img') == data\n");  // the layout is valid
  ExpectSample("z64.zip", Codec::kZip);

  // Without its zip64 records the saturated fields cannot be resolved.
  Write("noz64.zip", zip.substr(0, end64_offset) + zip.substr(zip.size() - 22));
  ExpectError("noz64.zip", StatusCode::kInvalidArgument,
              "zip64 end of central directory record is missing");
}

// --- faults of the output device (platform/testing) ------------------------------------------

class DecompressFaultTest : public DecompressTest {
 protected:
  StatusOr<Result> DecompressFaulty(const std::string& in) {
    Options options;
    options.file_system = &faulty_;
    return DecompressFile(Path(in), Path("out"), options);
  }
  // The message is for an end user (a task's message): no server directory in it.
  void ExpectNoServerPath(const Status& status) const {
    EXPECT_EQ(status.message().find(dir_), std::string::npos) << status.message();
    EXPECT_EQ(status.message().find("/tmp/"), std::string::npos) << status.message();
  }
  platform::testing::FaultInjectionFileSystem faulty_;
};

TEST_F(DecompressFaultTest, DiskFullIsResourceExhaustedAndRemovesTheOutput) {
  Sh("gzip -k data");
  faulty_.FailWritesAfter(100'000);
  auto r = DecompressFaulty("data.gz");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
  EXPECT_THAT(r.status().message(), HasSubstr("gzip: cannot write the decompressed image"));
  ExpectNoServerPath(r.status());
  EXPECT_FALSE(Exists("out"));
  EXPECT_TRUE(Exists("data.gz"));
}

TEST_F(DecompressFaultTest, FsyncFailureFailsAndRemovesTheOutput) {
  Sh("zstd -q -k data");
  faulty_.FailSync(EIO);
  auto r = DecompressFaulty("data.zst");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal) << r.status().ToString();
  EXPECT_THAT(r.status().message(), HasSubstr("zstd: cannot complete the decompressed image"));
  ExpectNoServerPath(r.status());
  EXPECT_FALSE(Exists("out"));
}

TEST_F(DecompressFaultTest, ReadErrorsAndOpenErrorsCarryNoServerPath) {
  Sh("xz -k data");
  faulty_.FailReads(EIO);
  auto r = DecompressFaulty("data.xz");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_THAT(r.status().message(), HasSubstr("read of the compressed file failed"));
  ExpectNoServerPath(r.status());
  EXPECT_FALSE(Exists("out"));
  faulty_.ClearFaults();
  faulty_.FailCreate(EACCES);
  r = DecompressFaulty("data.xz");
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  ExpectNoServerPath(r.status());
  faulty_.ClearFaults();
  r = DecompressFaulty("missing");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  ExpectNoServerPath(r.status());
  r = DecompressFile(dir_, Path("out"), Options{});  // a directory
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  ExpectNoServerPath(r.status());
}

}  // namespace
}  // namespace glimmer::decompress
