// FileSource and FileSink over platform/file.h: real files, and faults injected underneath.

#include "formats/source.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "platform/testing/fault_injection_file_system.h"

namespace glimmer::formats {
namespace {

std::span<const std::byte> Bytes(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

class FileSourceSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = ::testing::TempDir() + "glimmer_source_test_XXXXXX";
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  std::string ReadAll(const std::string& name) const {
    std::ifstream in(Path(name), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  void ExpectNoServerPath(const Status& status) const {
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(status.message().find(dir_), std::string::npos) << status.message();
  }

  std::string dir_;
  platform::testing::FaultInjectionFileSystem faulty_;
};

TEST_F(FileSourceSinkTest, SourceReadsWithinItsSize) {
  std::ofstream(Path("img")) << "0123456789";
  auto src = FileSource::Open(Path("img"));
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  EXPECT_EQ((*src)->size(), 10);
  std::string buf(4, '\0');
  auto n = (*src)->ReadAt(8, std::as_writable_bytes(std::span(buf)));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(buf.substr(0, 2), "89");
  EXPECT_EQ(*(*src)->ReadAt(10, std::as_writable_bytes(std::span(buf))), 0u);
  EXPECT_EQ((*src)->ReadAt(-1, std::as_writable_bytes(std::span(buf))).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(ReadExact(**src, 2, std::as_writable_bytes(std::span(buf))).ok());
  EXPECT_EQ(buf, "2345");
  EXPECT_EQ(ReadExact(**src, 8, std::as_writable_bytes(std::span(buf))).code(),
            StatusCode::kDataLoss);

  auto missing = FileSource::Open(Path("missing"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  ExpectNoServerPath(missing.status());
}

TEST_F(FileSourceSinkTest, SourceReadErrorsAreReported) {
  std::ofstream(Path("img")) << "0123456789";
  auto src = FileSource::Open(Path("img"), faulty_);
  ASSERT_TRUE(src.ok());
  faulty_.FailReads(EIO);
  std::string buf(4, '\0');
  auto n = (*src)->ReadAt(0, std::as_writable_bytes(std::span(buf)));
  EXPECT_EQ(n.status().code(), StatusCode::kInternal);
  ExpectNoServerPath(n.status());
}

TEST_F(FileSourceSinkTest, SinkWritesHolesAndModes) {
  auto sink = FileSink::Create(Path("out"), /*sync=*/true, /*mode=*/0600);
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->SetSize(1 << 20).ok());
  ASSERT_TRUE((*sink)->WriteAt(4096, Bytes("data")).ok());
  ASSERT_TRUE((*sink)->Finish().ok());
  const std::string out = ReadAll("out");
  ASSERT_EQ(out.size(), 1u << 20);
  EXPECT_EQ(out.substr(4096, 4), "data");
  EXPECT_EQ(out[0], '\0');
  EXPECT_EQ(std::filesystem::status(Path("out")).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST_F(FileSourceSinkTest, SinkDiskFullAndSyncFailure) {
  auto sink = FileSink::Create(Path("out"), /*sync=*/true, 0600, faulty_);
  ASSERT_TRUE(sink.ok());
  faulty_.FailWritesAfter(2);
  Status st = (*sink)->WriteAt(0, Bytes("data"));
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  ExpectNoServerPath(st);
  faulty_.ClearFaults();
  faulty_.FailSync(EIO);
  st = (*sink)->Finish();
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  ExpectNoServerPath(st);

  faulty_.ClearFaults();
  faulty_.FailCreate(ENOSPC);
  auto none = FileSink::Create(Path("other"), false, 0600, faulty_);
  EXPECT_EQ(none.status().code(), StatusCode::kResourceExhausted);
  ExpectNoServerPath(none.status());
}

}  // namespace
}  // namespace glimmer::formats
