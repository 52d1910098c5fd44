// FilesystemStore::AdoptFile: a file becomes an image's data without a copy.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "store/filesystem/filesystem_store.h"

namespace glimmer::store::filesystem {
namespace {

namespace fs = std::filesystem;

class AdoptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/glimmer-adopt-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    auto store = FilesystemStore::Create("file", (root_ / "images").string(), /*fsync=*/true);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    staged_ = root_ / "staged";
    std::ofstream(staged_, std::ios::binary) << "the staged bytes";
  }
  void TearDown() override { fs::remove_all(root_); }
  size_t IncomingEntries() const {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(root_ / "images" / ".incoming")) ++n;
    return n;
  }
  static ino_t Inode(const fs::path& p) {
    struct stat st;
    EXPECT_EQ(::stat(p.c_str(), &st), 0);
    return st.st_ino;
  }

  fs::path root_, staged_;
  std::unique_ptr<FilesystemStore> store_;
};

TEST_F(AdoptTest, CommitMakesTheSameFileVisibleWithoutACopy) {
  auto writer = store_->AdoptFile("img-1", staged_.string());
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  const std::string expected = "file://" + (root_ / "images" / "img-1").string();
  EXPECT_EQ((*writer)->location(), expected);
  EXPECT_EQ(IncomingEntries(), 1u);
  EXPECT_FALSE((*writer)->Append({}).ok());
  auto location = (*writer)->Commit();
  ASSERT_TRUE(location.ok()) << location.status().ToString();
  EXPECT_EQ(*location, expected);
  EXPECT_EQ(IncomingEntries(), 0u);
  EXPECT_EQ(Inode(root_ / "images" / "img-1"), Inode(staged_));  // a link, not a copy
  auto reader = store_->Open(*location);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->size(), 16);
  // The caller removes its own name; the store's copy stays.
  fs::remove(staged_);
  EXPECT_TRUE(store_->Open(*location).ok());
}

TEST_F(AdoptTest, AbortLeavesTheSourceAndNothingInTheStore) {
  {
    auto writer = store_->AdoptFile("img-2", staged_.string());
    ASSERT_TRUE(writer.ok());
    (*writer)->Abort();
    EXPECT_EQ(IncomingEntries(), 0u);
    auto dropped = store_->AdoptFile("img-2", staged_.string());  // destroyed uncommitted
    ASSERT_TRUE(dropped.ok());
  }
  EXPECT_EQ(IncomingEntries(), 0u);
  EXPECT_TRUE(fs::exists(staged_));
  EXPECT_FALSE(fs::exists(root_ / "images" / "img-2"));
}

TEST_F(AdoptTest, NeverReplacesCommittedDataAndRefusesBadInput) {
  std::ofstream(root_ / "images" / "img-3") << "older";
  auto writer = store_->AdoptFile("img-3", staged_.string());
  ASSERT_TRUE(writer.ok());
  auto location = (*writer)->Commit();
  ASSERT_TRUE(location.ok());
  EXPECT_NE(*location, "file://" + (root_ / "images" / "img-3").string());
  EXPECT_EQ(store_->AdoptFile("../x", staged_.string()).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->AdoptFile("img-4", (root_ / "missing").string()).status().code(),
            StatusCode::kUnimplemented);
  EXPECT_EQ(IncomingEntries(), 0u);
}

}  // namespace
}  // namespace glimmer::store::filesystem
