// FilesystemStore::AdoptFile: a file becomes an image's data without a copy.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "platform/testing/fault_injection_file_system.h"
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

// Faults through the store's platform::FileSystem: every failure leaves the staged file as it
// was and nothing in the store or .incoming.
TEST_F(AdoptTest, FileSystemFaultsLeaveNothingBehind) {
  platform::testing::FaultInjectionFileSystem faulty;
  auto opened = FilesystemStore::Create("faulty", (root_ / "images").string(), /*fsync=*/true,
                                        faulty);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto& store = **opened;
  const fs::path final_path = root_ / "images" / "img-5";

  faulty.FailLink();  // EXDEV: the staged file is on another filesystem
  auto refused = store.AdoptFile("img-5", staged_.string());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnimplemented);
  EXPECT_EQ(refused.status().message().find(root_.string()), std::string::npos);
  faulty.ClearFaults();

  faulty.FailSync();  // fsync of the adopted file: EIO
  auto writer = store.AdoptFile("img-5", staged_.string());
  ASSERT_TRUE(writer.ok());
  auto location = (*writer)->Commit();
  EXPECT_EQ(location.status().code(), StatusCode::kInternal);
  EXPECT_EQ(location.status().message().find(root_.string()), std::string::npos);
  EXPECT_EQ(IncomingEntries(), 0u);
  EXPECT_FALSE(fs::exists(final_path));
  faulty.FailSync(ENOSPC);  // the store's wording for a full disk
  writer = store.AdoptFile("img-5", staged_.string());
  ASSERT_TRUE(writer.ok());
  EXPECT_EQ((*writer)->Commit().status().code(), StatusCode::kResourceExhausted);
  faulty.ClearFaults();

  faulty.FailSyncDir();  // the rename may not survive a crash: not committed
  writer = store.AdoptFile("img-5", staged_.string());
  ASSERT_TRUE(writer.ok());
  EXPECT_EQ((*writer)->Commit().status().code(), StatusCode::kInternal);
  EXPECT_FALSE(fs::exists(final_path));
  faulty.ClearFaults();

  faulty.FailRename();
  writer = store.AdoptFile("img-5", staged_.string());
  ASSERT_TRUE(writer.ok());
  EXPECT_EQ((*writer)->Commit().status().code(), StatusCode::kInternal);
  EXPECT_EQ(IncomingEntries(), 0u);
  EXPECT_FALSE(fs::exists(final_path));
  faulty.ClearFaults();

  writer = store.AdoptFile("img-5", staged_.string());
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_EQ(Inode(final_path), Inode(staged_));
  EXPECT_GE(faulty.counters().syncs, 4);
}

}  // namespace
}  // namespace glimmer::store::filesystem
