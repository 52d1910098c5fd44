#include "staging/staging_area.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "platform/testing/fault_injection_file_system.h"

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

// Messages reach API clients (a 503 or 413 body): never the server's staging directory.
void ExpectNoServerPath(const Status& status, const std::string& root) {
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.message().find(root), std::string::npos) << status.message();
  EXPECT_EQ(status.message().find(::testing::TempDir()), std::string::npos) << status.message();
}

class StagingFaultTest : public StagingAreaTest {
 protected:
  void SetUp() override {
    StagingAreaTest::SetUp();
    auto area = StagingArea::Open(root_ + "/faulty", faulty_);
    ASSERT_TRUE(area.ok()) << area.status().ToString();
    faulty_area_ = std::move(*area);
  }
  platform::testing::FaultInjectionFileSystem faulty_;
  std::unique_ptr<StagingArea> faulty_area_;
  const std::string id_ = "0b9c6a1e-1111-2222-3333-444455556666";
};

TEST_F(StagingFaultTest, DiskFullIsResourceExhaustedAndKeepsWhatWasWritten) {
  auto w = faulty_area_->OpenWriter(id_, 0);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append(Bytes("hello ")).ok());
  faulty_.FailWritesAfter(3);  // ENOSPC after 3 more bytes
  const Status full = (*w)->Append(Bytes("world"));
  EXPECT_EQ(full.code(), StatusCode::kResourceExhausted) << full.ToString();
  EXPECT_EQ(full.message(), "staging area: write " + id_ + ": " + std::strerror(ENOSPC));
  ExpectNoServerPath(full, root_);
  // The staging contract: partial data is kept (resumable), and counted.
  EXPECT_EQ((*w)->size(), 9);
  ASSERT_TRUE((*w)->Sync().ok());
  w->reset();
  EXPECT_EQ(*faulty_area_->Size(id_), 9);
  EXPECT_EQ(ReadAll(faulty_area_->PathFor(id_)), "hello wor");
  // Once there is room again the client resumes where the data ends.
  faulty_.ClearFaults();
  auto resumed = faulty_area_->OpenWriter(id_, 9);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  ASSERT_TRUE((*resumed)->Append(Bytes("ld")).ok());
  ASSERT_TRUE((*resumed)->Sync().ok());
  EXPECT_EQ(ReadAll(faulty_area_->PathFor(id_)), "hello world");
}

TEST_F(StagingFaultTest, QuotaFullIsResourceExhausted) {
  auto w = faulty_area_->OpenWriter(id_, 0);
  ASSERT_TRUE(w.ok());
  faulty_.FailWritesAfter(0, EDQUOT);
  const Status full = (*w)->Append(Bytes("x"));
  EXPECT_EQ(full.code(), StatusCode::kResourceExhausted);
  ExpectNoServerPath(full, root_);
  EXPECT_EQ((*w)->size(), 0);
}

TEST_F(StagingFaultTest, FailedSyncDropsWhatMayNotBeDurable) {
  {
    auto w = faulty_area_->OpenWriter(id_, 0);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(Bytes("durable ")).ok());
    ASSERT_TRUE((*w)->Sync().ok());
    ASSERT_TRUE((*w)->Append(Bytes("maybe lost")).ok());
    faulty_.FailSync();  // EIO
    const Status st = (*w)->Sync();
    EXPECT_EQ(st.code(), StatusCode::kInternal) << st.ToString();
    EXPECT_EQ(st.message(), "staging area: fsync " + id_ + ": " + std::strerror(EIO));
    ExpectNoServerPath(st, root_);
    // The resume offset never exceeds durable data.
    EXPECT_EQ((*w)->size(), 8);
  }
  EXPECT_EQ(*faulty_area_->Size(id_), 8);
  EXPECT_EQ(ReadAll(faulty_area_->PathFor(id_)), "durable ");
  faulty_.FailSync(ENOSPC);  // what NFS or a thin volume reports
  auto w = faulty_area_->OpenWriter(id_, 8);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append(Bytes("more")).ok());
  EXPECT_EQ((*w)->Sync().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ((*w)->size(), 8);  // a resumed session's starting point counts as durable
  faulty_.ClearFaults();
  ASSERT_TRUE((*w)->Append(Bytes("data")).ok());
  ASSERT_TRUE((*w)->Sync().ok());
  EXPECT_EQ(ReadAll(faulty_area_->PathFor(id_)), "durable data");
}

TEST_F(StagingFaultTest, OtherErrorsAreMappedWithoutPaths) {
  faulty_.FailCreate(EACCES);  // the staging directory is not ours (mode, owner, read-only)
  auto w = faulty_area_->OpenWriter(id_, 0);
  EXPECT_EQ(w.status().code(), StatusCode::kUnavailable);
  ExpectNoServerPath(w.status(), root_);
  faulty_.ClearFaults();
  faulty_.FailRemove(EIO);
  ASSERT_TRUE(faulty_area_->OpenWriter(id_, 0).ok());
  const Status removed = faulty_area_->Remove(id_);
  EXPECT_EQ(removed.code(), StatusCode::kInternal);
  ExpectNoServerPath(removed, root_);
  faulty_.ClearFaults();
  EXPECT_TRUE(faulty_area_->Remove(id_).ok());
}

TEST_F(StagingAreaTest, RealErrorsCarryNoServerPath) {
  // A real failure, not an injected one: the staging directory is gone.
  std::filesystem::remove_all(root_ + "/staging");
  const std::string id = "0b9c6a1e-1111-2222-3333-444455556666";
  auto w = area_->OpenWriter(id, 0);
  EXPECT_EQ(w.status().code(), StatusCode::kNotFound);
  ExpectNoServerPath(w.status(), root_);
  auto listed = area_->List();
  EXPECT_EQ(listed.status().code(), StatusCode::kNotFound);
  ExpectNoServerPath(listed.status(), root_);
  EXPECT_EQ(*area_->Size(id), 0);
  EXPECT_TRUE(area_->Remove(id).ok());
}

}  // namespace
}  // namespace glimmer::staging
