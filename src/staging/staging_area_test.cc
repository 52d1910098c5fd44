#include "staging/staging_area.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace glimmer::staging {
namespace {

std::span<const std::byte> Bytes(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class StagingAreaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = ::testing::TempDir() + "glimmer_staging_XXXXXX";
    root_ = mkdtemp(templ.data());
    auto area = StagingArea::Open(root_ + "/staging");
    ASSERT_TRUE(area.ok());
    area_ = std::move(*area);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::string root_;
  std::unique_ptr<StagingArea> area_;
};

TEST_F(StagingAreaTest, DirectoryIsOwnerOnly) {
  const std::string dir = root_ + "/nested/staging";
  mode_t old_umask = ::umask(022);
  auto area = StagingArea::Open(dir);
  ::umask(old_umask);
  ASSERT_TRUE(area.ok());
  struct stat st;
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(StagingAreaTest, WriteResumeAndRestart) {
  const std::string id = "0b9c6a1e-1111-2222-3333-444455556666";
  EXPECT_EQ(*area_->Size(id), 0);
  {
    auto w = area_->OpenWriter(id, 0);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(Bytes("hello ")).ok());
    ASSERT_TRUE((*w)->Sync().ok());
  }
  EXPECT_EQ(*area_->Size(id), 6);
  EXPECT_EQ(area_->OpenWriter(id, 3).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(area_->OpenWriter(id, 7).status().code(), StatusCode::kFailedPrecondition);
  {
    auto w = area_->OpenWriter(id, 6);
    ASSERT_TRUE(w.ok());
    EXPECT_EQ((*w)->size(), 6);
    ASSERT_TRUE((*w)->Append(Bytes("world")).ok());
    EXPECT_EQ((*w)->size(), 11);
  }
  EXPECT_EQ(ReadAll(area_->PathFor(id)), "hello world");
  {
    auto w = area_->OpenWriter(id, 0);  // restart truncates
    ASSERT_TRUE((*w)->Append(Bytes("x")).ok());
  }
  EXPECT_EQ(ReadAll(area_->PathFor(id)), "x");
  EXPECT_EQ(area_->List()->size(), 1u);
  EXPECT_TRUE(area_->Remove(id).ok());
  EXPECT_TRUE(area_->Remove(id).ok());
  EXPECT_FALSE(area_->Exists(id));
}

TEST_F(StagingAreaTest, RejectsPathTricks) {
  for (std::string bad : std::vector<std::string>{"", "../etc", "a/b", ".hidden", std::string(65, 'a')}) {
    EXPECT_EQ(area_->OpenWriter(bad, 0).status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(area_->Remove(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace glimmer::staging
