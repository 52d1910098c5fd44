#include "images/conversion_plugin.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include <gtest/gtest.h>

#include "formats/convert.h"
#include "formats/source.h"
#include "platform/testing/fault_injection_file_system.h"

namespace glimmer::images {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kMiB = 1 << 20;

// What the import flow hands a plugin: a task context with an output limit.
class TestContext final : public PluginContext {
 public:
  explicit TestContext(int64_t limit) : limit_(limit) {}
  const domain::Task& task() const override { return task_; }
  void Progress(std::string) override {}
  Status Cancelled() const override { return OkStatus(); }
  int64_t max_output_bytes() const override { return limit_; }

 private:
  domain::Task task_;
  int64_t limit_;
};

class ConversionPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("glimmer-conv-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A small qcow2 file whose virtual disk is `virtual_size` bytes (one non-zero cluster).
  std::string MakeQcow2(int64_t virtual_size) {
    std::vector<std::byte> raw(static_cast<size_t>(virtual_size));
    raw[0] = std::byte{1};
    formats::MemorySource src(raw);
    const std::string path = (dir_ / "staged").string();
    auto sink = formats::FileSink::Create(path);
    EXPECT_TRUE(sink.ok());
    formats::ConvertOptions opts;
    opts.format = "raw";
    opts.threads = 1;
    EXPECT_TRUE(formats::ConvertToQcow2(src, **sink, opts, {}).ok());
    EXPECT_TRUE((*sink)->Finish().ok());
    ::chmod(path.c_str(), 0600);
    return path;
  }
  static domain::Image Qcow2Image() {
    domain::Image image;
    image.id = "img";
    image.disk_format = "qcow2";
    image.container_format = "bare";
    return image;
  }

  fs::path dir_;
};

// Review F7: a small qcow2 declaring a large disk is refused when the raw image it would become
// is over what the import may still store, before anything is written.
TEST_F(ConversionPluginTest, RawOutputOverTheLimitIsRefusedUpFront) {
  const std::string path = MakeQcow2(8 * kMiB);
  const auto staged_size = fs::file_size(path);
  auto plugin = MakeConversionPlugin("raw", nullptr, int64_t{1} << 40);
  domain::Image image = Qcow2Image();
  TestContext ctx(4 * kMiB);
  Status st = plugin(path, image, ctx);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_EQ(fs::file_size(path), staged_size);  // the staged qcow2 is untouched
  EXPECT_FALSE(fs::exists(path + ".converted"));
  EXPECT_EQ(image.disk_format, "qcow2");
}

// A qcow2 output grows as it is written: it is stopped at the limit.
TEST_F(ConversionPluginTest, Qcow2OutputStopsAtTheLimit) {
  const std::string path = (dir_ / "staged").string();
  {
    std::vector<std::byte> data(4 * kMiB);
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(i * 7 + 1);
    auto sink = formats::FileSink::Create(path, false, 0600);
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->WriteAt(0, data).ok());
  }
  auto plugin = MakeConversionPlugin("qcow2", nullptr, int64_t{1} << 40);
  domain::Image image = Qcow2Image();
  image.disk_format = "raw";
  TestContext ctx(kMiB);
  Status st = plugin(path, image, ctx);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_FALSE(fs::exists(path + ".converted"));
  EXPECT_EQ(fs::file_size(path), static_cast<uintmax_t>(4 * kMiB));
  EXPECT_EQ(image.disk_format, "raw");
}

TEST_F(ConversionPluginTest, OutputWithinTheLimitIsPrivate) {
  const std::string path = MakeQcow2(8 * kMiB);
  auto plugin = MakeConversionPlugin("raw", nullptr, int64_t{1} << 40);
  domain::Image image = Qcow2Image();
  TestContext ctx(8 * kMiB);
  const mode_t old_umask = ::umask(0);
  Status st = plugin(path, image, ctx);
  ::umask(old_umask);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(image.disk_format, "raw");
  EXPECT_EQ(fs::file_size(path), static_cast<uintmax_t>(8 * kMiB));
  EXPECT_EQ(fs::status(path).permissions(), fs::perms(0600));
}

// The plugin's files go through the FileSystem it is given: a full disk while converting, or a
// failed replace, leave the staged file as it was and no converted file behind.
TEST_F(ConversionPluginTest, FileSystemFaultsLeaveTheStagedFileAlone) {
  const std::string path = MakeQcow2(8 * kMiB);
  const auto staged_size = fs::file_size(path);
  platform::testing::FaultInjectionFileSystem files;
  auto plugin = MakeConversionPlugin("raw", nullptr, int64_t{1} << 40, files);
  TestContext ctx(8 * kMiB);

  files.FailWritesAfter(0);  // ENOSPC at the first write of the converted file
  domain::Image image = Qcow2Image();
  Status st = plugin(path, image, ctx);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_FALSE(fs::exists(path + ".converted"));
  EXPECT_EQ(fs::file_size(path), staged_size);
  EXPECT_EQ(image.disk_format, "qcow2");
  files.ClearFaults();

  files.FailRename();  // EIO replacing the staged file
  st = plugin(path, image, ctx);
  EXPECT_EQ(st.code(), StatusCode::kInternal) << st.ToString();
  EXPECT_EQ(st.message().rfind("cannot replace the staged file: ", 0), 0u) << st.message();
  EXPECT_EQ(st.message().find(dir_.string()), std::string::npos) << st.message();
  EXPECT_FALSE(fs::exists(path + ".converted"));
  EXPECT_EQ(fs::file_size(path), staged_size);
  EXPECT_EQ(image.disk_format, "qcow2");
  files.ClearFaults();

  ASSERT_TRUE(plugin(path, image, ctx).ok());
  EXPECT_EQ(image.disk_format, "raw");
  EXPECT_EQ(fs::file_size(path), static_cast<uintmax_t>(8 * kMiB));
}

}  // namespace
}  // namespace glimmer::images
