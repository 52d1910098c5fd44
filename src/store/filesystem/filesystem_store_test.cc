#include "store/filesystem/filesystem_store.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include "platform/executor.h"
#include "platform/testing/fault_injection_file_system.h"
#include "store/filesystem/errno_status.h"
#include "store/hashing_pipeline.h"
#include "store/testing/fault_injection_writer.h"

namespace glimmer::store::filesystem {
namespace {

namespace fs = std::filesystem;

std::vector<std::byte> RandomData(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> out(n);
  for (auto& b : out) b = static_cast<std::byte>(rng() & 0xff);
  return out;
}

std::vector<std::byte> ReadWholeFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(chars.size());
  std::memcpy(out.data(), chars.data(), chars.size());
  return out;
}

std::vector<std::string> ListDir(const fs::path& dir) {
  std::vector<std::string> names;
  if (!fs::exists(dir)) return names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

class FilesystemStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/glimmer-store-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ / "images";
    StatusOr<std::unique_ptr<FilesystemStore>> store =
        FilesystemStore::Create("file", dir_.string(), /*fsync=*/true);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override { fs::remove_all(root_); }

  // Writes `data` in a few appends and commits; returns the location.
  std::string Put(std::string_view id, const std::vector<std::byte>& data) {
    StatusOr<std::unique_ptr<Writer>> writer = store_->NewWriter(id, std::nullopt);
    EXPECT_TRUE(writer.ok()) << writer.status().ToString();
    if (!writer.ok()) return "";
    const size_t half = data.size() / 2;
    EXPECT_TRUE((*writer)->Append(std::span(data).first(half)).ok());
    EXPECT_TRUE((*writer)->Append(std::span(data).subspan(half)).ok());
    StatusOr<std::string> location = (*writer)->Commit();
    EXPECT_TRUE(location.ok()) << location.status().ToString();
    return location.ok() ? *location : "";
  }

  fs::path root_;
  fs::path dir_;
  std::unique_ptr<FilesystemStore> store_;
};

TEST_F(FilesystemStoreTest, CommitMakesDataVisibleUnderFileUri) {
  const std::vector<std::byte> data = RandomData(100'000, 1);
  const std::string location = Put("0b1c8a2e-aaaa-4bbb-8ccc-123456789abc", data);
  EXPECT_EQ(location, "file://" + (dir_ / "0b1c8a2e-aaaa-4bbb-8ccc-123456789abc").string());
  EXPECT_TRUE(ReadWholeFile(dir_ / "0b1c8a2e-aaaa-4bbb-8ccc-123456789abc") == data);
  EXPECT_TRUE(ListDir(dir_ / ".incoming").empty());
  EXPECT_TRUE(store_->Owns(location));
  EXPECT_EQ(store_->info().type, "file");
  EXPECT_EQ(store_->info().id, "file");
}

TEST_F(FilesystemStoreTest, DataIsInvisibleUntilCommit) {
  StatusOr<std::unique_ptr<Writer>> writer = store_->NewWriter("img", std::nullopt);
  ASSERT_TRUE(writer.ok());
  const std::vector<std::byte> data = RandomData(10, 2);
  ASSERT_TRUE((*writer)->Append(data).ok());
  EXPECT_FALSE(fs::exists(dir_ / "img"));
  ASSERT_EQ(ListDir(dir_ / ".incoming").size(), 1u);
  EXPECT_TRUE(ListDir(dir_ / ".incoming")[0].starts_with("img."));
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_TRUE(fs::exists(dir_ / "img"));
  EXPECT_EQ((*writer)->Commit().status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ((*writer)->Append(data).code(), StatusCode::kFailedPrecondition);
  (*writer)->Abort();  // no effect after commit
  EXPECT_TRUE(fs::exists(dir_ / "img"));
}

TEST_F(FilesystemStoreTest, ReadAndRangedRead) {
  const std::vector<std::byte> data = RandomData(70'001, 3);
  const std::string location = Put("img", data);
  StatusOr<std::unique_ptr<Reader>> reader = store_->Open(location);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->size(), 70'001);

  std::vector<std::byte> all(80'000);
  StatusOr<size_t> n = (*reader)->ReadAt(0, all);
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(*n, 70'001u);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), all.begin()));

  std::vector<std::byte> range(100);
  n = (*reader)->ReadAt(1234, range);
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(*n, 100u);
  EXPECT_TRUE(std::equal(range.begin(), range.end(), data.begin() + 1234));

  n = (*reader)->ReadAt(70'000, range);  // short read at the end
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(range[0], data[70'000]);
  n = (*reader)->ReadAt(70'001, range);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ((*reader)->ReadAt(-1, range).status().code(), StatusCode::kOutOfRange);

  std::optional<int> fd = (*reader)->file_descriptor();
  ASSERT_TRUE(fd.has_value());
  std::byte b;
  ASSERT_EQ(pread(*fd, &b, 1, 42), 1);
  EXPECT_EQ(b, data[42]);
}

TEST_F(FilesystemStoreTest, EmptyImage) {
  const std::string location = Put("empty", {});
  StatusOr<std::unique_ptr<Reader>> reader = store_->Open(location);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->size(), 0);
}

TEST_F(FilesystemStoreTest, NeverOverwritesCommittedData) {
  const std::vector<std::byte> first = RandomData(1000, 4);
  const std::vector<std::byte> second = RandomData(2000, 5);
  const std::string loc1 = Put("img", first);
  const std::string loc2 = Put("img", second);
  EXPECT_NE(loc1, loc2);
  EXPECT_TRUE(loc2.starts_with(loc1 + "."));
  EXPECT_TRUE(store_->Owns(loc2));
  StatusOr<std::unique_ptr<Reader>> r1 = store_->Open(loc1);
  StatusOr<std::unique_ptr<Reader>> r2 = store_->Open(loc2);
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_EQ((*r1)->size(), 1000);
  EXPECT_EQ((*r2)->size(), 2000);
  EXPECT_TRUE(ReadWholeFile(dir_ / "img") == first);
}

TEST_F(FilesystemStoreTest, DeleteThenNotFound) {
  const std::string location = Put("img", RandomData(10, 6));
  ASSERT_TRUE(store_->Delete(location).ok());
  EXPECT_FALSE(fs::exists(dir_ / "img"));
  EXPECT_EQ(store_->Delete(location).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Open(location).status().code(), StatusCode::kNotFound);
}

TEST_F(FilesystemStoreTest, AbortAndDestructorRemovePartialData) {
  {
    StatusOr<std::unique_ptr<Writer>> writer = store_->NewWriter("aborted", 1 << 20);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append(RandomData(5000, 7)).ok());
    (*writer)->Abort();
    (*writer)->Abort();  // idempotent
    EXPECT_EQ((*writer)->Append(RandomData(1, 7)).code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ((*writer)->Commit().status().code(), StatusCode::kFailedPrecondition);
  }
  {
    StatusOr<std::unique_ptr<Writer>> writer = store_->NewWriter("dropped", std::nullopt);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append(RandomData(5000, 8)).ok());
    EXPECT_EQ(ListDir(dir_ / ".incoming").size(), 1u);
  }
  EXPECT_TRUE(ListDir(dir_ / ".incoming").empty());
  EXPECT_EQ(ListDir(dir_), std::vector<std::string>{".incoming"});
}

TEST_F(FilesystemStoreTest, SizeHintLargerThanDataKeepsExactSize) {
  StatusOr<std::unique_ptr<Writer>> writer = store_->NewWriter("img", 10 << 20);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append(RandomData(1234, 9)).ok());
  StatusOr<std::string> location = (*writer)->Commit();
  ASSERT_TRUE(location.ok());
  EXPECT_EQ(fs::file_size(dir_ / "img"), 1234u);
}

// Blocks allocated to the only file under `dir` (the .part of an upload in progress).
int64_t AllocatedBytesOfOnlyFile(const fs::path& dir) {
  std::vector<std::string> names = ListDir(dir);
  EXPECT_EQ(names.size(), 1u);
  if (names.size() != 1) return -1;
  struct stat st;
  EXPECT_EQ(::stat((dir / names[0]).c_str(), &st), 0);
  return static_cast<int64_t>(st.st_blocks) * 512;
}

// A size hint is not data: a huge hint with a trickle of bytes reserves about what arrived
// (security review F6), never the hint.
TEST_F(FilesystemStoreTest, SizeHintDoesNotReserveDiskBeforeTheDataArrives) {
  constexpr int64_t kHint = int64_t{1} << 40;  // 1 TiB, far more than this disk
  StatusOr<std::unique_ptr<Writer>> writer = store_->NewWriter("img", kHint);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  EXPECT_LE(AllocatedBytesOfOnlyFile(dir_ / ".incoming"), 0);
  int64_t written = 0;
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE((*writer)->Append(RandomData(1000, i)).ok());
    written += 1000;
    // Filesystems allocate whole blocks (and may round a reservation up to a few).
    EXPECT_LE(AllocatedBytesOfOnlyFile(dir_ / ".incoming"), 2 * written + 64 * 1024);
  }
  // Larger writes: the reservation follows at most twice the data.
  const std::vector<std::byte> mib = RandomData(1 << 20, 42);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE((*writer)->Append(mib).ok());
    written += 1 << 20;
    EXPECT_LE(AllocatedBytesOfOnlyFile(dir_ / ".incoming"), 2 * written + 64 * 1024);
  }
  StatusOr<std::string> location = (*writer)->Commit();
  ASSERT_TRUE(location.ok());
  EXPECT_EQ(static_cast<int64_t>(fs::file_size(dir_ / "img")), written);
}

TEST_F(FilesystemStoreTest, RejectsLocationsOutsideTheDataDirectory) {
  std::ofstream(root_ / "victim") << "keep me";
  std::ofstream(dir_ / ".incoming" / "x.part") << "partial";
  const std::string d = dir_.string();
  const std::vector<std::string> bad = {
      "file://" + d + "/../victim",
      "file://" + d + "/..",
      "file://" + d + "/.",
      "file://" + d + "/",
      "file://" + d,
      "file://" + d + "/.incoming/x.part",
      "file://" + d + "/.incoming",
      "file://" + d + "/a/../../victim",
      "file://" + d + "//victim",
      "file://" + d + "-other/victim",
      "file://" + root_.string() + "/victim",
      "file:///etc/passwd",
      d + "/img",
      "swift://" + d + "/img",
      "file://" + d + "/img\n",
      std::string("file://") + d + "/img" + std::string(1, '\0') + "x",
  };
  for (const std::string& location : bad) {
    SCOPED_TRACE(location);
    EXPECT_FALSE(store_->Owns(location));
    EXPECT_EQ(store_->Delete(location).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->Open(location).status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(fs::exists(root_ / "victim"));
  EXPECT_TRUE(fs::exists(dir_ / ".incoming" / "x.part"));
}

TEST_F(FilesystemStoreTest, RejectsUnsafeImageIds) {
  for (std::string_view id : {"", ".hidden", "../x", "a/b", "..", "a b", "x\n"}) {
    SCOPED_TRACE(id);
    EXPECT_EQ(store_->NewWriter(id, std::nullopt).status().code(),
              StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(store_->NewWriter(std::string(201, 'a'), std::nullopt).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(ListDir(dir_ / ".incoming").empty());
}

TEST_F(FilesystemStoreTest, CleanupIncompleteRemovesOnlyIncoming) {
  const std::string location = Put("kept", RandomData(10, 10));
  std::ofstream(dir_ / ".incoming" / "crashed.abc.part") << "partial";
  std::ofstream(dir_ / ".incoming" / "other.part") << "partial";
  // A writer that is open also counts as incomplete (CleanupIncomplete runs at start-up only).
  ASSERT_TRUE(store_->CleanupIncomplete().ok());
  EXPECT_TRUE(ListDir(dir_ / ".incoming").empty());
  EXPECT_TRUE(fs::exists(dir_ / "kept"));
  EXPECT_TRUE(store_->Open(location).ok());
  ASSERT_TRUE(store_->CleanupIncomplete().ok());  // nothing left: still fine
}

TEST_F(FilesystemStoreTest, WorksWithoutPreparedDirectories) {
  FilesystemStore lazy("file", (root_ / "lazy" / "nested").string(), /*fsync=*/false);
  EXPECT_TRUE(lazy.CleanupIncomplete().ok());  // no .incoming yet
  StatusOr<std::unique_ptr<Writer>> writer = lazy.NewWriter("img", std::nullopt);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ASSERT_TRUE((*writer)->Append(RandomData(3, 11)).ok());
  StatusOr<std::string> location = (*writer)->Commit();
  ASSERT_TRUE(location.ok());
  EXPECT_EQ(*location, "file://" + (root_ / "lazy" / "nested" / "img").string());
}

TEST_F(FilesystemStoreTest, RelativeDirectoryIsMadeAbsolute) {
  FilesystemStore relative("file", "some/./dir/../images", false);
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof cwd), nullptr);
  EXPECT_EQ(relative.data_dir(), std::string(cwd) + "/some/images");
}

TEST_F(FilesystemStoreTest, UnwritableDirectoryIsUnavailable) {
  if (geteuid() == 0) GTEST_SKIP() << "root ignores permissions";
  fs::permissions(dir_ / ".incoming", fs::perms::owner_read | fs::perms::owner_exec);
  EXPECT_EQ(store_->NewWriter("img", std::nullopt).status().code(), StatusCode::kUnavailable);
  fs::permissions(dir_ / ".incoming", fs::perms::owner_all);
}

TEST(ErrnoToStatusTest, MapsErrnoOnce) {
  EXPECT_EQ(ErrnoToStatus(ENOSPC, "write").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoToStatus(ENOSPC, "write").message(), "Image storage media is full");
  EXPECT_EQ(ErrnoToStatus(EDQUOT, "write").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoToStatus(EACCES, "open").code(), StatusCode::kUnavailable);
  EXPECT_EQ(ErrnoToStatus(EROFS, "open").code(), StatusCode::kUnavailable);
  EXPECT_EQ(ErrnoToStatus(ENOENT, "open").code(), StatusCode::kNotFound);
  const Status io = ErrnoToStatus(EIO, "fsync image data");
  EXPECT_EQ(io.code(), StatusCode::kInternal);
  EXPECT_EQ(io.message(), std::string("fsync image data: ") + std::strerror(EIO));
}

// Faults injected under the store (platform/testing): the paths a full disk or a failing fsync
// take, which a real disk rarely lets a test reach.
class FilesystemStoreFaultTest : public FilesystemStoreTest {
 protected:
  void SetUp() override {
    FilesystemStoreTest::SetUp();
    StatusOr<std::unique_ptr<FilesystemStore>> store =
        FilesystemStore::Create("file", dir_.string(), /*fsync=*/true, faulty_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    faulty_store_ = std::move(store).value();
  }

  // Messages reach API clients: no server directory in them.
  void ExpectNoServerPath(const Status& status) const {
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(status.message().find(root_.string()), std::string::npos) << status.message();
    EXPECT_EQ(status.message().find("/tmp/"), std::string::npos) << status.message();
  }

  // Nothing committed, nothing left in .incoming.
  void ExpectNothingStored() const {
    EXPECT_EQ(ListDir(dir_), std::vector<std::string>{".incoming"});
    EXPECT_TRUE(ListDir(dir_ / ".incoming").empty());
  }

  // A writer with `data` appended.
  std::unique_ptr<Writer> Written(const std::vector<std::byte>& data,
                                  std::optional<int64_t> hint = std::nullopt) {
    StatusOr<std::unique_ptr<Writer>> writer = faulty_store_->NewWriter("img", hint);
    EXPECT_TRUE(writer.ok()) << writer.status().ToString();
    if (!writer.ok()) return nullptr;
    EXPECT_TRUE((*writer)->Append(data).ok());
    return std::move(writer).value();
  }

  platform::testing::FaultInjectionFileSystem faulty_;
  std::unique_ptr<FilesystemStore> faulty_store_;
};

TEST_F(FilesystemStoreFaultTest, DiskFullDuringAppendIsStoreFullAndLeavesNothing) {
  std::unique_ptr<Writer> writer = Written(RandomData(1000, 20));
  ASSERT_NE(writer, nullptr);
  faulty_.FailWritesAfter(500);  // ENOSPC half-way through the next chunk
  const Status full = writer->Append(RandomData(1000, 21));
  EXPECT_EQ(full.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(full.message(), "Image storage media is full");
  EXPECT_EQ(ListDir(dir_ / ".incoming").size(), 1u);  // until the caller aborts
  writer->Abort();
  ExpectNothingStored();
}

TEST_F(FilesystemStoreFaultTest, QuotaFullDuringAppendIsStoreFull) {
  faulty_.FailWritesAfter(0, EDQUOT);
  {
    StatusOr<std::unique_ptr<Writer>> writer = faulty_store_->NewWriter("img", std::nullopt);
    ASSERT_TRUE(writer.ok());
    const Status full = (*writer)->Append(RandomData(10, 22));
    EXPECT_EQ(full.code(), StatusCode::kResourceExhausted);
    EXPECT_EQ(full.message(), "Image storage media is full");
  }  // destroyed without commit: aborted
  ExpectNothingStored();
}

TEST_F(FilesystemStoreFaultTest, DiskFullWhileReservingIsStoreFull) {
  faulty_.FailAllocate(ENOSPC);
  StatusOr<std::unique_ptr<Writer>> writer = faulty_store_->NewWriter("img", 10 << 20);
  ASSERT_TRUE(writer.ok());
  const Status full = (*writer)->Append(RandomData(1000, 23));
  EXPECT_EQ(full.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(full.message(), "Image storage media is full");
  (*writer)->Abort();
  ExpectNothingStored();
}

TEST_F(FilesystemStoreFaultTest, NoFallocateIsOnlyAMissedOptimisation) {
  faulty_.FailAllocate(EOPNOTSUPP);
  const std::vector<std::byte> data = RandomData(5000, 24);
  std::unique_ptr<Writer> writer = Written(data, 10 << 20);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Append(data).ok());
  StatusOr<std::string> location = writer->Commit();
  ASSERT_TRUE(location.ok()) << location.status().ToString();
  EXPECT_EQ(fs::file_size(dir_ / "img"), 10'000u);
}

TEST_F(FilesystemStoreFaultTest, FsyncFailureFailsCommitAndRemovesThePart) {
  std::unique_ptr<Writer> writer = Written(RandomData(1000, 25));
  ASSERT_NE(writer, nullptr);
  faulty_.FailSync(EIO);
  StatusOr<std::string> location = writer->Commit();
  EXPECT_EQ(location.status().code(), StatusCode::kInternal);
  ExpectNoServerPath(location.status());
  ExpectNothingStored();  // Commit aborted by itself
  EXPECT_EQ(writer->Append(RandomData(1, 26)).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(writer->Commit().status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(FilesystemStoreFaultTest, FsyncReportingNoSpaceIsStoreFull) {
  std::unique_ptr<Writer> writer = Written(RandomData(1000, 27));
  ASSERT_NE(writer, nullptr);
  faulty_.FailSync(ENOSPC);  // delayed allocation, thin volumes, NFS
  StatusOr<std::string> location = writer->Commit();
  EXPECT_EQ(location.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(location.status().message(), "Image storage media is full");
  ExpectNothingStored();
}

TEST_F(FilesystemStoreFaultTest, CloseFailureFailsCommit) {
  std::unique_ptr<Writer> writer = Written(RandomData(1000, 28));
  ASSERT_NE(writer, nullptr);
  faulty_.FailClose(EIO);
  EXPECT_EQ(writer->Commit().status().code(), StatusCode::kInternal);
  ExpectNothingStored();
}

TEST_F(FilesystemStoreFaultTest, RenameFailureFailsCommitAndRemovesThePart) {
  std::unique_ptr<Writer> writer = Written(RandomData(1000, 29));
  ASSERT_NE(writer, nullptr);
  faulty_.FailRename(EIO);
  StatusOr<std::string> location = writer->Commit();
  EXPECT_EQ(location.status().code(), StatusCode::kInternal);
  ExpectNoServerPath(location.status());
  ExpectNothingStored();
}

TEST_F(FilesystemStoreFaultTest, DirectoryFsyncFailureUndoesTheCommit) {
  std::unique_ptr<Writer> writer = Written(RandomData(1000, 30));
  ASSERT_NE(writer, nullptr);
  faulty_.FailSyncDir(EIO);
  StatusOr<std::string> location = writer->Commit();
  EXPECT_EQ(location.status().code(), StatusCode::kInternal);
  ExpectNoServerPath(location.status());
  ExpectNothingStored();  // renamed, then removed: not durable, so not committed
  EXPECT_EQ(faulty_.counters().sync_dirs, 1);
}

TEST_F(FilesystemStoreFaultTest, CommitSyncsFileAndDirectory) {
  std::unique_ptr<Writer> writer = Written(RandomData(1000, 31));
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Commit().ok());
  EXPECT_EQ(faulty_.counters().syncs, 1);
  EXPECT_EQ(faulty_.counters().sync_dirs, 1);
  EXPECT_EQ(faulty_.counters().renames, 1);
}

TEST_F(FilesystemStoreFaultTest, PermissionAndReadErrorsAreMappedWithoutPaths) {
  faulty_.FailCreate(EACCES);  // also checks as root, which ignores real permissions
  StatusOr<std::unique_ptr<Writer>> denied = faulty_store_->NewWriter("img", std::nullopt);
  EXPECT_EQ(denied.status().code(), StatusCode::kUnavailable);
  ExpectNoServerPath(denied.status());
  faulty_.FailCreate(EROFS);
  EXPECT_EQ(faulty_store_->NewWriter("img", std::nullopt).status().code(),
            StatusCode::kUnavailable);
  faulty_.ClearFaults();

  const std::string location = Put("stored", RandomData(100, 32));
  faulty_.FailReads(EIO);
  StatusOr<std::unique_ptr<Reader>> reader = faulty_store_->Open(location);
  ASSERT_TRUE(reader.ok());
  std::vector<std::byte> buf(10);
  StatusOr<size_t> n = (*reader)->ReadAt(0, buf);
  EXPECT_EQ(n.status().code(), StatusCode::kInternal);
  ExpectNoServerPath(n.status());
  faulty_.FailRemove(EIO);
  const Status deleted = faulty_store_->Delete(location);
  EXPECT_EQ(deleted.code(), StatusCode::kInternal);
  ExpectNoServerPath(deleted);
  faulty_.ClearFaults();
  ASSERT_TRUE(faulty_store_->Delete(location).ok());
  const Status gone = faulty_store_->Delete(location);
  EXPECT_EQ(gone.code(), StatusCode::kNotFound);
  ExpectNoServerPath(gone);
  ExpectNoServerPath(faulty_store_->Open(location).status());
}

// The upload path end to end: pipeline into a real store.
class PipelineIntoStoreTest : public FilesystemStoreTest {
 protected:
  // Streams `data`; on any error cancels and aborts, as the API handler does.
  StatusOr<std::string> Upload(std::string_view id, const std::vector<std::byte>& data,
                               Writer* sink_override, std::unique_ptr<Writer> writer,
                               std::optional<int64_t> max_bytes) {
    Writer& sink = sink_override != nullptr ? *sink_override : *writer;
    HashingPipeline::Options options;
    options.buffer_size = 64 * 1024;
    options.max_bytes = max_bytes;
    HashingPipeline pipeline(sink, pool_, options);
    size_t pos = 0;
    Status status;
    while (pos < data.size() && status.ok()) {
      std::span<std::byte> buf = pipeline.AcquireBuffer();
      const size_t n = std::min(buf.size(), data.size() - pos);
      std::memcpy(buf.data(), data.data() + pos, n);
      pos += n;
      status = pipeline.Submit(n);
    }
    StatusOr<HashingPipeline::Result> result =
        status.ok() ? pipeline.Finish() : StatusOr<HashingPipeline::Result>(status);
    if (!result.ok()) {
      pipeline.Cancel();
      sink.Abort();
      return result.status();
    }
    EXPECT_EQ(result->size, static_cast<int64_t>(data.size()));
    return sink.Commit();
  }

  platform::Executor pool_{"store-test", 2};
};

TEST_F(PipelineIntoStoreTest, StoredBytesMatchDigest) {
  const std::vector<std::byte> data = RandomData((3 << 20) + 17, 12);
  StatusOr<std::unique_ptr<Writer>> writer = store_->NewWriter("img", data.size());
  ASSERT_TRUE(writer.ok());
  StatusOr<std::string> location =
      Upload("img", data, nullptr, std::move(writer).value(), std::nullopt);
  ASSERT_TRUE(location.ok()) << location.status().ToString();
  EXPECT_TRUE(ReadWholeFile(dir_ / "img") == data);
}

TEST_F(PipelineIntoStoreTest, OverSizeLimitCommitsNothing) {
  const std::vector<std::byte> data = RandomData(1 << 20, 13);
  StatusOr<std::unique_ptr<Writer>> writer = store_->NewWriter("img", std::nullopt);
  ASSERT_TRUE(writer.ok());
  StatusOr<std::string> location =
      Upload("img", data, nullptr, std::move(writer).value(), (1 << 20) - 1);
  EXPECT_EQ(location.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ListDir(dir_), std::vector<std::string>{".incoming"});
  EXPECT_TRUE(ListDir(dir_ / ".incoming").empty());
}

TEST_F(PipelineIntoStoreTest, RealStoreFullMidwayCommitsNothing) {
  // ENOSPC from the file system under the store, not from a Writer decorator.
  platform::testing::FaultInjectionFileSystem faulty;
  StatusOr<std::unique_ptr<FilesystemStore>> store =
      FilesystemStore::Create("file", dir_.string(), /*fsync=*/true, faulty);
  ASSERT_TRUE(store.ok());
  faulty.FailWritesAfter(300'000);
  const std::vector<std::byte> data = RandomData(1 << 20, 15);
  StatusOr<std::unique_ptr<Writer>> writer = (*store)->NewWriter("img", std::nullopt);
  ASSERT_TRUE(writer.ok());
  StatusOr<std::string> location =
      Upload("img", data, nullptr, std::move(writer).value(), std::nullopt);
  EXPECT_EQ(location.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(location.status().message(), "Image storage media is full");
  EXPECT_EQ(ListDir(dir_), std::vector<std::string>{".incoming"});
  EXPECT_TRUE(ListDir(dir_ / ".incoming").empty());
}

TEST_F(PipelineIntoStoreTest, StoreFullMidwayCommitsNothing) {
  const std::vector<std::byte> data = RandomData(1 << 20, 14);
  StatusOr<std::unique_ptr<Writer>> writer = store_->NewWriter("img", std::nullopt);
  ASSERT_TRUE(writer.ok());
  testing::FaultInjectionWriter faulty(writer->get(), 300'000, ErrnoToStatus(ENOSPC, "write"));
  StatusOr<std::string> location =
      Upload("img", data, &faulty, std::move(writer).value(), std::nullopt);
  EXPECT_EQ(location.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(location.status().message(), "Image storage media is full");
  EXPECT_EQ(ListDir(dir_), std::vector<std::string>{".incoming"});
  EXPECT_TRUE(ListDir(dir_ / ".incoming").empty());
}

}  // namespace
}  // namespace glimmer::store::filesystem
