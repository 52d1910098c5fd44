// End-to-end tests of detection, inspection and conversion against images generated at runtime
// by qemu-img (Debian qemu-utils). Skipped when /usr/bin/qemu-img is absent.

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "formats/convert.h"
#include "formats/inspect.h"
#include "formats/inspector.h"
#include "platform/executor.h"

namespace glimmer::formats {
namespace {

constexpr int64_t kSize = 16 << 20;

class QemuImages : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (access("/usr/bin/qemu-img", X_OK) != 0) return;
    char tmpl[] = "/tmp/formats_test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    // 16 MiB: patterned data in some MiB, a zero-filled MiB, holes elsewhere.
    std::string raw = dir_ + "/base.raw";
    std::FILE* f = std::fopen(raw.c_str(), "wb");
    std::string block(1 << 20, '\0');
    for (int mb = 0; mb < 16; ++mb) {
      if (mb % 3 == 1) {
        for (size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>((i * 7 + mb) % 251);
        // some compressible text too
        for (size_t i = 0; i < block.size(); i += 4096)
          std::snprintf(&block[i], 64, "sector %zu of %d", i, mb);
      } else {
        std::fill(block.begin(), block.end(), mb == 3 ? '\0' : (mb % 3 == 2 ? 'x' : '\0'));
      }
      std::fseek(f, long(mb) << 20, SEEK_SET);
      if (mb % 3 != 0 || mb == 3) std::fwrite(block.data(), 1, block.size(), f);
    }
    std::fclose(f);
    truncate(raw.c_str(), kSize);
  }

  static void TearDownTestSuite() {
    if (!dir_.empty()) Run("rm -rf " + dir_);
    dir_.clear();
  }

  void SetUp() override {
    if (dir_.empty()) GTEST_SKIP() << "qemu-img not installed";
  }

  static int Run(const std::string& cmd) {
    if (cmd.find(" > ") != std::string::npos) return std::system((cmd + " 2>/dev/null").c_str());
    return std::system((cmd + " >/dev/null 2>&1").c_str());
  }

  static std::string Make(const std::string& name, const std::string& args) {
    std::string out = dir_ + "/" + name;
    EXPECT_EQ(Run("qemu-img convert -f raw " + args + " " + dir_ + "/base.raw " + out), 0) << name;
    return out;
  }

  static std::string ReadAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  static int64_t QemuVirtualSize(const std::string& path, const std::string& fmt) {
    std::string json = path + ".info.json";
    EXPECT_EQ(Run("qemu-img info --output=json -f " + fmt + " " + path + " > " + json), 0);
    std::string text = ReadAll(json);
    auto at = text.find("\"virtual-size\": ");
    return at == std::string::npos ? -1 : std::stoll(text.substr(at + 16));
  }

  static Inspection InspectFile(const std::string& path, Limits limits = {}) {
    auto src = FileSource::Open(path);
    EXPECT_TRUE(src.ok());
    auto r = Inspect(**src, limits);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Inspection{};
  }

  // Converts with glimmer and with qemu-img; expects identical bytes.
  static void ExpectSameRaw(const std::string& path, const std::string& qemu_fmt) {
    std::string ours = path + ".ours.raw", theirs = path + ".qemu.raw";
    ASSERT_EQ(Run("qemu-img convert -f " + qemu_fmt + " -O raw " + path + " " + theirs), 0);
    auto src = FileSource::Open(path);
    ASSERT_TRUE(src.ok());
    auto sink = FileSink::Create(ours);
    ASSERT_TRUE(sink.ok());
    platform::Executor exec("test", 2);
    ConvertOptions opts;
    opts.executor = &exec;
    Status st = ConvertToRaw(**src, **sink, opts);
    ASSERT_TRUE(st.ok()) << st.ToString();
    std::string a = ReadAll(ours), b = ReadAll(theirs);
    ASSERT_EQ(a.size(), b.size()) << path;
    EXPECT_TRUE(a == b) << path << " differs from qemu-img's conversion";
    struct stat st_ours;
    ASSERT_EQ(stat(ours.c_str(), &st_ours), 0);
    EXPECT_LT(st_ours.st_blocks * 512, static_cast<int64_t>(a.size())) << "output is not sparse";
  }

  static std::string dir_;
};
std::string QemuImages::dir_;

struct Case {
  const char* name;
  const char* args;
  const char* format;
  const char* qemu_format;
  int64_t vsize;
};

TEST_F(QemuImages, DetectsInspectsAndConvertsEveryFormat) {
  const Case cases[] = {
      {"v3.qcow2", "-O qcow2", "qcow2", "qcow2", kSize},
      {"v2.qcow2", "-O qcow2 -o compat=0.10", "qcow2", "qcow2", kSize},
      {"zlib.qcow2", "-O qcow2 -c", "qcow2", "qcow2", kSize},
      {"zlib_v2.qcow2", "-O qcow2 -c -o compat=0.10", "qcow2", "qcow2", kSize},
      {"zstd.qcow2", "-O qcow2 -c -o compression_type=zstd", "qcow2", "qcow2", kSize},
      {"c4k.qcow2", "-O qcow2 -c -o cluster_size=4096", "qcow2", "qcow2", kSize},
      {"c2m.qcow2", "-O qcow2 -o cluster_size=2M", "qcow2", "qcow2", kSize},
      {"sparse.vmdk", "-O vmdk", "vmdk", "vmdk", kSize},
      {"stream.vmdk", "-O vmdk -o subformat=streamOptimized", "vmdk", "vmdk", kSize},
      {"dynamic.vhd", "-O vpc", "vhd", "vpc", 16777216 + 0},
      {"fixed.vhd", "-O vpc -o subformat=fixed", "vhd", "vpc", 0},
      {"forced.vhd", "-O vpc -o subformat=fixed,force_size=on", "vhd", "vpc", kSize},
      {"disk.vhdx", "-O vhdx", "vhdx", "vhdx", kSize},
      {"dynamic.vdi", "-O vdi", "vdi", "vdi", kSize},
      {"static.vdi", "-O vdi -o static=on", "vdi", "vdi", kSize},
      {"plain.raw", "-O raw", "raw", "raw", kSize},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::string path = Make(c.name, c.args);
    Inspection info = InspectFile(path);
    EXPECT_EQ(info.format, c.format);
    EXPECT_EQ(info.qemu_format, c.qemu_format);
    EXPECT_TRUE(info.safe()) << info.verdict.check << ": " << info.verdict.message;
    EXPECT_TRUE(info.deep_checked);
    EXPECT_EQ(info.virtual_size, QemuVirtualSize(path, c.qemu_format));
    if (std::string(c.format) != "vhd") {
      EXPECT_EQ(info.virtual_size, c.vsize);
    }
    ExpectSameRaw(path, c.qemu_format);

    // The streaming inspector agrees on format, virtual size and verdict.
    std::string bytes = ReadAll(path);
    StreamInspector si;
    for (size_t i = 0; i < bytes.size(); i += 65536 + 7) {
      size_t n = std::min<size_t>(65536 + 7, bytes.size() - i);
      si.Feed({reinterpret_cast<const std::byte*>(bytes.data()) + i, n});
    }
    auto r = si.Finish(static_cast<int64_t>(bytes.size()));
    EXPECT_EQ(r.format, c.format);
    EXPECT_TRUE(r.header_checked);
    EXPECT_TRUE(r.verdict.ok()) << r.verdict.check << ": " << r.verdict.message;
    EXPECT_EQ(r.virtual_size, info.virtual_size);
  }
}

TEST_F(QemuImages, ZeroClustersAndInternalSnapshots) {
  std::string path = Make("snap.qcow2", "-O qcow2");
  // A snapshot, then changes to the active state: zero clusters (v3) over data, new data.
  ASSERT_EQ(Run("qemu-img snapshot -c snap1 " + path), 0);
  ASSERT_EQ(Run("qemu-io -f qcow2 -c 'write -z 1M 512k' -c 'write -P 0x5a 5M 64k' -c 'write -z -u "
                "7M 1M' " +
                path),
            0);
  ASSERT_EQ(Run("qemu-img snapshot -c snap2 " + path), 0);
  ASSERT_EQ(Run("qemu-io -f qcow2 -c 'write -P 0x33 12M 128k' " + path), 0);
  Inspection info = InspectFile(path);
  EXPECT_TRUE(info.safe()) << info.verdict.check << ": " << info.verdict.message;
  ExpectSameRaw(path, "qcow2");
}

TEST_F(QemuImages, RejectsUnsafeQcow2) {
  std::string base = Make("backing_base.qcow2", "-O qcow2");
  std::string child = dir_ + "/child.qcow2";
  ASSERT_EQ(Run("qemu-img create -f qcow2 -F qcow2 -b " + base + " " + child), 0);
  EXPECT_EQ(InspectFile(child).verdict.check, "backing_file");

  std::string df = dir_ + "/datafile.qcow2";
  ASSERT_EQ(Run("qemu-img create -f qcow2 -o data_file=" + dir_ + "/datafile.bin " + df + " 1M"),
            0);
  EXPECT_EQ(InspectFile(df).verdict.check, "data_file");

  // Encrypted qcow2, both kinds. Creating a LUKS one makes qemu-img time PBKDF2 with the
  // thread's CPU clock, which on some VMs fails at random ("Unable to get accurate CPU usage"):
  // a few attempts, and the AES kind (no key derivation timing) always.
  std::string aes = dir_ + "/enc-aes.qcow2";
  ASSERT_EQ(Run("qemu-img create -f qcow2 --object secret,id=s0,data=pw -o "
                "encrypt.format=aes,encrypt.key-secret=s0 " +
                aes + " 1M"),
            0);
  EXPECT_EQ(InspectFile(aes).verdict.check, "encryption");
  std::string enc = dir_ + "/enc.qcow2";
  int created = -1;
  for (int attempt = 0; attempt < 8 && created != 0; ++attempt) {
    created = Run("qemu-img create -f qcow2 --object secret,id=s0,data=pw -o "
                  "encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10 " +
                  enc + " 1M");
  }
  ASSERT_EQ(created, 0) << "qemu-img could not create a LUKS qcow2 in 8 attempts";
  EXPECT_EQ(InspectFile(enc).verdict.check, "encryption");

  std::string qed = dir_ + "/x.qed";
  ASSERT_EQ(Run("qemu-img create -f qed " + qed + " 1M"), 0);
  EXPECT_EQ(InspectFile(qed).verdict.check, "banned");

  Limits small;
  small.max_virtual_size = 1 << 20;
  EXPECT_EQ(InspectFile(base, small).verdict.check, "virtual_size");

  // Conversion refuses with the check name.
  auto src = FileSource::Open(child);
  ASSERT_TRUE(src.ok());
  MemorySink sink;
  Status st = ConvertToRaw(**src, sink, {});
  EXPECT_EQ(FailedCheck(st), "backing_file") << st.ToString();
}

TEST_F(QemuImages, WritesQcow2ThatQemuAccepts) {
  struct W {
    const char* name;
    Qcow2WriteOptions::Compression comp;
  };
  for (auto w : {W{"out_plain.qcow2", Qcow2WriteOptions::Compression::kNone},
                 W{"out_zlib.qcow2", Qcow2WriteOptions::Compression::kZlib},
                 W{"out_zstd.qcow2", Qcow2WriteOptions::Compression::kZstd}}) {
    SCOPED_TRACE(w.name);
    std::string out = dir_ + "/" + w.name;
    auto src = FileSource::Open(dir_ + "/base.raw");
    ASSERT_TRUE(src.ok());
    auto sink = FileSink::Create(out);
    ASSERT_TRUE(sink.ok());
    Qcow2WriteOptions q;
    q.compression = w.comp;
    ConvertOptions opts;
    opts.threads = 2;
    Status st = ConvertToQcow2(**src, **sink, opts, q);
    ASSERT_TRUE(st.ok()) << st.ToString();
    sink->reset();
    EXPECT_EQ(Run("qemu-img check -f qcow2 " + out), 0);
    EXPECT_EQ(Run("qemu-img compare -f raw -F qcow2 " + dir_ + "/base.raw " + out), 0);
    Inspection info = InspectFile(out);
    EXPECT_TRUE(info.safe()) << info.verdict.message;
    ExpectSameRaw(out, "qcow2");
  }
}

}  // namespace
}  // namespace glimmer::formats
