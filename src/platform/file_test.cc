#include "platform/file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "platform/testing/fault_injection_file_system.h"

namespace glimmer::platform {
namespace {

namespace stdfs = std::filesystem;

std::span<const std::byte> Bytes(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

uint32_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// Sets the umask for the scope.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }

 private:
  mode_t old_;
};

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = ::testing::TempDir() + "glimmer_file_test_XXXXXX";
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    root_ = templ;
  }
  void TearDown() override {
    std::error_code ec;
    stdfs::permissions(root_, stdfs::perms::owner_all, ec);
    stdfs::remove_all(root_, ec);
  }
  std::string Path(std::string_view name) const { return root_ + "/" + std::string(name); }

  // Messages reach API clients: the test directory (an absolute server path) never shows.
  void ExpectNoPath(const Status& status) const {
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(status.message().find(root_), std::string::npos) << status.message();
    EXPECT_EQ(status.message().find(::testing::TempDir()), std::string::npos) << status.message();
  }

  std::unique_ptr<WritableFile> Create(const std::string& path, OpenMode mode,
                                       uint32_t permissions = 0600) {
    WritableFileOptions options;
    options.mode = mode;
    options.permissions = permissions;
    auto file = fs_.NewWritableFile(path, options);
    EXPECT_TRUE(file.ok()) << file.status().ToString();
    return file.ok() ? std::move(file).value() : nullptr;
  }

  FileSystem& fs_ = FileSystem::Default();
  std::string root_;
};

TEST(PosixErrorTest, MapsEachErrnoOnce) {
  struct Case {
    int err;
    StatusCode code;
  };
  const Case cases[] = {
      {ENOENT, StatusCode::kNotFound},
      {ENOTDIR, StatusCode::kNotFound},
      {EEXIST, StatusCode::kAlreadyExists},
      {ENOTEMPTY, StatusCode::kAlreadyExists},
      {ENOSPC, StatusCode::kResourceExhausted},
      {EDQUOT, StatusCode::kResourceExhausted},
      {EFBIG, StatusCode::kResourceExhausted},
      {EACCES, StatusCode::kUnavailable},
      {EPERM, StatusCode::kUnavailable},
      {EROFS, StatusCode::kUnavailable},
      {EMFILE, StatusCode::kUnavailable},
      {ENFILE, StatusCode::kUnavailable},
      {ENOMEM, StatusCode::kUnavailable},
      {EAGAIN, StatusCode::kUnavailable},
      {EBUSY, StatusCode::kUnavailable},
      {ESTALE, StatusCode::kUnavailable},
      {EOPNOTSUPP, StatusCode::kUnimplemented},
      {ENOSYS, StatusCode::kUnimplemented},
      {EXDEV, StatusCode::kUnimplemented},
      {EIO, StatusCode::kInternal},
      {EBADF, StatusCode::kInternal},
      {EINVAL, StatusCode::kInternal},
      {EISDIR, StatusCode::kInternal},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.err);
    const Status st = PosixError("staging: write", c.err);
    EXPECT_EQ(st.code(), c.code);
    EXPECT_EQ(st.message(), std::string("staging: write: ") + std::strerror(c.err));
  }
}

TEST(PosixErrorTest, HelpersForMessages) {
  EXPECT_EQ(BaseName("/srv/glimmer/staging/abc"), "abc");
  EXPECT_EQ(BaseName("dir/"), "dir");
  EXPECT_EQ(BaseName("/a/b//"), "b");
  EXPECT_EQ(BaseName("plain"), "plain");
  EXPECT_EQ(BaseName("/"), "/");
  EXPECT_EQ(BaseName(""), "");
  EXPECT_EQ(DirName("/srv/glimmer/staging"), "/srv/glimmer");
  EXPECT_EQ(DirName("/srv/glimmer/staging/"), "/srv/glimmer");
  EXPECT_EQ(DirName("a//b"), "a");
  EXPECT_EQ(DirName("dir/"), ".");
  EXPECT_EQ(DirName("name"), ".");
  EXPECT_EQ(DirName("/a"), "/");
  EXPECT_EQ(DirName("/"), "/");

  const Status st = Annotate("staging area", PosixError("write x", ENOSPC));
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(st.message(), std::string("staging area: write x: ") + std::strerror(ENOSPC));
  EXPECT_TRUE(Annotate("anything", OkStatus()).ok());
}

TEST_F(FileTest, ScopedFdOwnsItsDescriptor) {
  const int raw = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(raw, 0);
  {
    ScopedFd fd(raw);
    EXPECT_TRUE(fd.valid());
    ScopedFd moved(std::move(fd));
    EXPECT_FALSE(fd.valid());  // NOLINT(bugprone-use-after-move): the contract under test
    EXPECT_EQ(moved.get(), raw);
  }
  EXPECT_EQ(::fcntl(raw, F_GETFD), -1);  // closed by the destructor
  EXPECT_EQ(errno, EBADF);

  ScopedFd fd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  const int kept = fd.release();
  EXPECT_FALSE(fd.valid());
  EXPECT_GE(::fcntl(kept, F_GETFD), 0);  // release() did not close it
  fd.reset(kept);
  EXPECT_TRUE(fd.Close("close dir").ok());
  EXPECT_FALSE(fd.valid());
  EXPECT_TRUE(fd.Close("close dir").ok());  // nothing owned: OK
  EXPECT_EQ(::fcntl(kept, F_GETFD), -1);
}

TEST_F(FileTest, WriteSyncCloseAndReadBack) {
  const std::string path = Path("data");
  auto file = Create(path, OpenMode::kCreateExclusive);
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->size(), 0);
  ASSERT_TRUE(file->Append(Bytes("hello ")).ok());
  ASSERT_TRUE(file->Append(Bytes("world")).ok());
  EXPECT_EQ(file->size(), 11);
  ASSERT_TRUE(file->WriteAt(0, Bytes("H")).ok());
  EXPECT_EQ(file->size(), 11);  // WriteAt does not move the append position
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->Close().ok());
  EXPECT_TRUE(file->Close().ok());
  EXPECT_EQ(file->Append(Bytes("x")).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(file->Sync().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadAll(path), "Hello world");

  auto seq = fs_.NewSequentialFile(path);
  ASSERT_TRUE(seq.ok());
  std::string buf(64, '\0');
  auto n = (*seq)->Read(std::as_writable_bytes(std::span(buf)));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(buf.substr(0, *n), "Hello world");
  n = (*seq)->Read(std::as_writable_bytes(std::span(buf)));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);

  auto ra = fs_.NewRandomAccessFile(path);
  ASSERT_TRUE(ra.ok());
  std::string five(5, '\0');
  n = (*ra)->ReadAt(6, std::as_writable_bytes(std::span(five)));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 5u);
  EXPECT_EQ(five, "world");
  n = (*ra)->ReadAt(9, std::as_writable_bytes(std::span(five)));  // short only at the end
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);
  n = (*ra)->ReadAt(100, std::as_writable_bytes(std::span(five)));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ((*ra)->ReadAt(-1, std::as_writable_bytes(std::span(five))).status().code(),
            StatusCode::kInvalidArgument);
  auto info = (*ra)->Stat();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 11);
  EXPECT_EQ(info->type, FileType::kRegular);
  ASSERT_TRUE((*ra)->file_descriptor().has_value());
  char c;
  EXPECT_EQ(::pread(*(*ra)->file_descriptor(), &c, 1, 0), 1);
  EXPECT_EQ(c, 'H');
}

TEST_F(FileTest, OpenModes) {
  const std::string path = Path("f");
  {
    auto file = Create(path, OpenMode::kCreateExclusive);
    ASSERT_TRUE(file->Append(Bytes("abc")).ok());
  }
  // Exclusive create never opens an existing file.
  WritableFileOptions exclusive;
  auto again = fs_.NewWritableFile(path, exclusive);
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  ExpectNoPath(again.status());
  EXPECT_NE(again.status().message().find("create f"), std::string::npos)
      << again.status().message();
  // ... nor follows a symlink planted under the name.
  ASSERT_EQ(::symlink(Path("elsewhere").c_str(), Path("link").c_str()), 0);
  EXPECT_EQ(fs_.NewWritableFile(Path("link"), exclusive).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_FALSE(stdfs::exists(Path("elsewhere")));

  {
    auto file = Create(path, OpenMode::kAppend);  // resumes at the end
    EXPECT_EQ(file->size(), 3);
    ASSERT_TRUE(file->Append(Bytes("def")).ok());
    EXPECT_EQ(file->size(), 6);
  }
  EXPECT_EQ(ReadAll(path), "abcdef");
  {
    auto file = Create(path, OpenMode::kTruncate);
    EXPECT_EQ(file->size(), 0);
    ASSERT_TRUE(file->Append(Bytes("x")).ok());
  }
  EXPECT_EQ(ReadAll(path), "x");
  EXPECT_EQ(fs_.NewWritableFile(Path("no/such/dir"), exclusive).status().code(),
            StatusCode::kNotFound);
}

TEST_F(FileTest, ExplicitModes) {
  {
    ScopedUmask umask(022);
    auto file = Create(Path("private"), OpenMode::kCreateExclusive, 0600);
    EXPECT_EQ(ModeOf(Path("private")), 0600u);
    auto shared = Create(Path("group"), OpenMode::kCreateExclusive, 0640);
    EXPECT_EQ(ModeOf(Path("group")), 0640u);
    ASSERT_TRUE(fs_.CreateDir(Path("d700"), 0700).ok());
    EXPECT_EQ(ModeOf(Path("d700")), 0700u);
    ASSERT_TRUE(fs_.CreateDir(Path("d750"), 0750).ok());
    EXPECT_EQ(ModeOf(Path("d750")), 0750u);
  }
  {
    // An existing looser file is tightened when asked; a new one gets the exact mode whatever
    // the umask.
    std::ofstream(Path("leftover")) << "old";
    ASSERT_EQ(::chmod(Path("leftover").c_str(), 0644), 0);
    ScopedUmask umask(0);
    WritableFileOptions options;
    options.mode = OpenMode::kTruncate;
    options.permissions = 0600;
    options.force_permissions = true;
    ASSERT_TRUE(fs_.NewWritableFile(Path("leftover"), options).ok());
    EXPECT_EQ(ModeOf(Path("leftover")), 0600u);
    ASSERT_TRUE(fs_.NewWritableFile(Path("fresh"), options).ok());
    EXPECT_EQ(ModeOf(Path("fresh")), 0600u);
    ASSERT_TRUE(fs_.Chmod(Path("fresh"), 0400).ok());
    EXPECT_EQ(ModeOf(Path("fresh")), 0400u);
  }
}

TEST_F(FileTest, TruncateAllocateAndConcurrentWrites) {
  const std::string path = Path("big");
  auto file = Create(path, OpenMode::kCreateExclusive);
  ASSERT_TRUE(file->Truncate(1 << 20).ok());  // a hole
  EXPECT_EQ(file->size(), 1 << 20);
  std::vector<std::thread> writers;
  for (int i = 0; i < 4; ++i) {
    writers.emplace_back([&, i] {
      const std::string chunk(1000, static_cast<char>('a' + i));
      EXPECT_TRUE(file->WriteAt(i * 1000, Bytes(chunk)).ok());
    });
  }
  for (auto& t : writers) t.join();
  const std::string content = ReadAll(path);
  ASSERT_EQ(content.size(), 1u << 20);
  EXPECT_EQ(content.substr(0, 4000), std::string(1000, 'a') + std::string(1000, 'b') +
                                         std::string(1000, 'c') + std::string(1000, 'd'));
  EXPECT_EQ(content[5000], '\0');
  ASSERT_TRUE(file->Truncate(10).ok());
  EXPECT_EQ(file->size(), 10);
  ASSERT_TRUE(file->Append(Bytes("!")).ok());
  EXPECT_EQ(ReadAll(path), std::string(10, 'a') + "!");

  const Status allocated = file->Allocate(0, 4 << 20);
  if (allocated.code() == StatusCode::kUnimplemented) GTEST_SKIP() << "no fallocate here";
  ASSERT_TRUE(allocated.ok()) << allocated.ToString();
  auto info = fs_.Stat(path);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 11);  // reserved, not grown
  EXPECT_GE(info->allocated_bytes, 4 << 20);
  EXPECT_EQ(file->Allocate(-1, 10).code(), StatusCode::kInvalidArgument);
}

TEST_F(FileTest, RenameModes) {
  std::ofstream(Path("a")) << "A";
  std::ofstream(Path("b")) << "B";
  Status st = fs_.Rename(Path("a"), Path("b"), RenameMode::kNoReplace);
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
  ExpectNoPath(st);
  EXPECT_EQ(ReadAll(Path("a")), "A");
  EXPECT_EQ(ReadAll(Path("b")), "B");
  ASSERT_TRUE(fs_.Rename(Path("a"), Path("c"), RenameMode::kNoReplace).ok());
  EXPECT_FALSE(stdfs::exists(Path("a")));
  EXPECT_EQ(ReadAll(Path("c")), "A");
  ASSERT_TRUE(fs_.Rename(Path("c"), Path("b"), RenameMode::kReplace).ok());
  EXPECT_EQ(ReadAll(Path("b")), "A");
  st = fs_.Rename(Path("missing"), Path("b"), RenameMode::kReplace);
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  ExpectNoPath(st);
  EXPECT_TRUE(fs_.SyncDir(root_).ok());
  EXPECT_EQ(fs_.SyncDir(Path("nodir")).code(), StatusCode::kNotFound);
}

TEST_F(FileTest, HardLinks) {
  std::ofstream(Path("a")) << "A";
  ASSERT_TRUE(fs_.Link(Path("a"), Path("b")).ok());
  ASSERT_TRUE(fs_.RemoveFile(Path("a")).ok());
  EXPECT_EQ(ReadAll(Path("b")), "A");  // the data keeps its other name
  std::ofstream(Path("c")) << "C";
  Status st = fs_.Link(Path("b"), Path("c"));
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
  ExpectNoPath(st);
  EXPECT_EQ(ReadAll(Path("c")), "C");
  st = fs_.Link(Path("missing"), Path("d"));
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  ExpectNoPath(st);
  testing::FaultInjectionFileSystem faulty;
  faulty.FailLink();  // EXDEV: another filesystem
  EXPECT_EQ(faulty.Link(Path("b"), Path("e")).code(), StatusCode::kUnimplemented);
}

TEST_F(FileTest, SyncFileByName) {
  std::ofstream(Path("written")) << "data";
  EXPECT_TRUE(fs_.SyncFile(Path("written")).ok());
  Status st = fs_.SyncFile(Path("missing"));
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  ExpectNoPath(st);
  testing::FaultInjectionFileSystem faulty;
  faulty.FailSync();
  st = faulty.SyncFile(Path("written"));
  EXPECT_EQ(st.code(), StatusCode::kInternal);  // EIO
  ExpectNoPath(st);
  faulty.FailSync(ENOSPC);
  EXPECT_EQ(faulty.SyncFile(Path("written")).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(faulty.counters().syncs, 2);
  faulty.ClearFaults();
  EXPECT_TRUE(faulty.SyncFile(Path("written")).ok());
}

TEST_F(FileTest, DirectoriesListingAndRemoval) {
  ScopedUmask umask(022);
  ASSERT_TRUE(fs_.CreateDirs(Path("x/y/z"), 0750).ok());
  EXPECT_EQ(ModeOf(Path("x")), 0750u);
  EXPECT_EQ(ModeOf(Path("x/y/z")), 0750u);
  EXPECT_TRUE(fs_.CreateDirs(Path("x/y/z"), 0700).ok());  // exists: fine, left as it is
  EXPECT_EQ(ModeOf(Path("x/y/z")), 0750u);
  EXPECT_TRUE(fs_.CreateDirs(Path("x//y/w/"), 0700).ok());
  EXPECT_TRUE(stdfs::is_directory(Path("x/y/w")));
  Status st = fs_.CreateDir(Path("x"), 0700);
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
  ExpectNoPath(st);
  std::ofstream(Path("file")) << "f";
  EXPECT_EQ(fs_.CreateDirs(Path("file"), 0700).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(fs_.CreateDirs(Path("file/sub"), 0700).code(), StatusCode::kNotFound);  // ENOTDIR

  auto names = fs_.ListDir(Path("x/y"));
  ASSERT_TRUE(names.ok());
  std::sort(names->begin(), names->end());
  EXPECT_EQ(*names, (std::vector<std::string>{"w", "z"}));
  st = fs_.ListDir(Path("nothing")).status();
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  ExpectNoPath(st);

  EXPECT_TRUE(fs_.Exists(Path("file")));
  ASSERT_TRUE(fs_.RemoveFile(Path("file")).ok());
  EXPECT_FALSE(fs_.Exists(Path("file")));
  st = fs_.RemoveFile(Path("file"));
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  ExpectNoPath(st);
  EXPECT_NE(st.message().find("file"), std::string::npos);  // the base name is shown
}

TEST_F(FileTest, StatRealPathAndAccess) {
  std::ofstream(Path("target")) << "12345";
  ASSERT_EQ(::symlink("target", Path("link").c_str()), 0);
  auto followed = fs_.Stat(Path("link"));
  ASSERT_TRUE(followed.ok());
  EXPECT_EQ(followed->type, FileType::kRegular);
  EXPECT_EQ(followed->size, 5);
  EXPECT_EQ(followed->owner, ::geteuid());
  auto link = fs_.StatNoFollow(Path("link"));
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link->type, FileType::kSymlink);
  auto dir = fs_.Stat(root_);
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(dir->type, FileType::kDirectory);
  auto missing = fs_.Stat(Path("missing"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  ExpectNoPath(missing.status());

  auto real = fs_.RealPath(Path("link"));
  ASSERT_TRUE(real.ok());
  EXPECT_EQ(BaseName(*real), "target");
  EXPECT_EQ(fs_.RealPath(Path("missing")).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(fs_.CheckAccess(root_, Access::kWrite | Access::kExecute).ok());
  EXPECT_EQ(fs_.CheckAccess(Path("missing"), Access::kExists).code(), StatusCode::kNotFound);
}

TEST_F(FileTest, PermissionProblemsAreUnavailableWithoutPaths) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores permissions";
  ASSERT_TRUE(fs_.CreateDir(Path("locked"), 0500).ok());
  WritableFileOptions options;
  auto file = fs_.NewWritableFile(Path("locked/f"), options);
  EXPECT_EQ(file.status().code(), StatusCode::kUnavailable);
  ExpectNoPath(file.status());
  EXPECT_EQ(fs_.CheckAccess(Path("locked"), Access::kWrite).code(), StatusCode::kUnavailable);
  EXPECT_EQ(fs_.CreateDir(Path("locked/d"), 0700).code(), StatusCode::kUnavailable);
}

TEST_F(FileTest, RealDiskFullIsResourceExhausted) {
  // /dev/full answers every write with ENOSPC: the kernel's own error, mapped.
  if (::access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no /dev/full";
  WritableFileOptions options;
  options.mode = OpenMode::kAppend;
  auto file = fs_.NewWritableFile("/dev/full", options);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const Status st = (*file)->Append(Bytes("data"));
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(st.message(), std::string("write full: ") + std::strerror(ENOSPC));
}

TEST_F(FileTest, ReadFileToString) {
  std::ofstream(Path("small")) << std::string(100'000, 'q');
  auto text = ReadFileToString(fs_, Path("small"), 1 << 20);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, std::string(100'000, 'q'));
  EXPECT_EQ(ReadFileToString(fs_, Path("small"), 99'999).status().code(),
            StatusCode::kResourceExhausted);
  auto missing = ReadFileToString(fs_, Path("missing"), 10);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  ExpectNoPath(missing.status());
  auto empty = ReadFileToString(fs_, "/dev/null", 10);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
}

TEST_F(FileTest, WriteFileAtomically) {
  ScopedUmask umask(0);  // the mode is exact anyway
  std::ofstream(Path("conf.tmp")) << "left by a crash";
  ASSERT_TRUE(WriteFileAtomically(fs_, Path("conf"), "one\n", 0600).ok());
  EXPECT_EQ(ReadAll(Path("conf")), "one\n");
  EXPECT_EQ(ModeOf(Path("conf")), 0600u);
  EXPECT_FALSE(stdfs::exists(Path("conf.tmp")));

  testing::FaultInjectionFileSystem faulty;
  faulty.FailRename();
  Status st = WriteFileAtomically(faulty, Path("conf"), "two\n", 0600);
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  ExpectNoPath(st);
  EXPECT_EQ(ReadAll(Path("conf")), "one\n");  // unchanged
  EXPECT_FALSE(stdfs::exists(Path("conf.tmp")));

  faulty.ClearFaults();
  faulty.FailWritesAfter(1);
  st = WriteFileAtomically(faulty, Path("conf"), "three\n", 0600);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ReadAll(Path("conf")), "one\n");
  EXPECT_FALSE(stdfs::exists(Path("conf.tmp")));
}

TEST_F(FileTest, WriteFullyToADescriptor) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ScopedFd read_end(fds[0]);
  ScopedFd write_end(fds[1]);
  ASSERT_TRUE(WriteFully(write_end.get(), Bytes("through a pipe"), "pipe").ok());
  char buf[32];
  EXPECT_EQ(::read(read_end.get(), buf, sizeof buf), 14);
  read_end.reset();
  ::signal(SIGPIPE, SIG_IGN);
  const Status st = WriteFully(write_end.get(), Bytes("x"), "pipe");
  EXPECT_EQ(st.code(), StatusCode::kInternal);  // EPIPE
  EXPECT_EQ(st.message(), std::string("pipe: ") + std::strerror(EPIPE));
}

// --- fault injection --------------------------------------------------------------------------

TEST_F(FileTest, InjectedDiskFullWritesThePrefix) {
  testing::FaultInjectionFileSystem faulty;
  faulty.FailWritesAfter(5);
  WritableFileOptions options;
  auto file = faulty.NewWritableFile(Path("part"), options);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append(Bytes("abc")).ok());
  const Status st = (*file)->Append(Bytes("defgh"));
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(st.message(), std::string("write part: ") + std::strerror(ENOSPC));
  EXPECT_EQ((*file)->size(), 5);
  EXPECT_EQ((*file)->Append(Bytes("i")).code(), StatusCode::kResourceExhausted);  // still full
  EXPECT_EQ(ReadAll(Path("part")), "abcde");
  EXPECT_EQ(faulty.counters().bytes_written, 5);
  faulty.ClearFaults();
  ASSERT_TRUE((*file)->Append(Bytes("!")).ok());
  EXPECT_EQ(ReadAll(Path("part")), "abcde!");
}

TEST_F(FileTest, InjectedSyncCloseAndDirectoryFaults) {
  testing::FaultInjectionFileSystem faulty;
  WritableFileOptions options;
  auto file = faulty.NewWritableFile(Path("f"), options);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append(Bytes("x")).ok());
  faulty.FailSync();
  EXPECT_EQ((*file)->Sync().code(), StatusCode::kInternal);  // EIO
  faulty.FailSync(ENOSPC);                                   // thin provisioning, NFS
  EXPECT_EQ((*file)->Sync().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(faulty.counters().syncs, 2);
  faulty.FailClose();
  EXPECT_EQ((*file)->Close().code(), StatusCode::kInternal);
  EXPECT_TRUE((*file)->Close().ok());
  faulty.FailSyncDir();
  EXPECT_EQ(faulty.SyncDir(root_).code(), StatusCode::kInternal);
  faulty.FailAllocate();
  auto other = faulty.NewWritableFile(Path("g"), options);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ((*other)->Allocate(0, 100).code(), StatusCode::kResourceExhausted);
  faulty.FailCreate(EMFILE);
  EXPECT_EQ(faulty.NewWritableFile(Path("h"), options).status().code(), StatusCode::kUnavailable);
  faulty.FailReads();
  auto reader = faulty.NewRandomAccessFile(Path("f"));
  ASSERT_TRUE(reader.ok());
  std::byte b;
  EXPECT_EQ((*reader)->ReadAt(0, std::span(&b, 1)).status().code(), StatusCode::kInternal);
}

TEST_F(FileTest, InjectedFaultsFollowThePathFilter) {
  testing::FaultInjectionFileSystem faulty;
  faulty.set_path_filter(".part");
  faulty.FailWritesAfter(0);
  faulty.FailRename();
  WritableFileOptions options;
  auto plain = faulty.NewWritableFile(Path("plain"), options);
  auto part = faulty.NewWritableFile(Path("x.part"), options);
  ASSERT_TRUE(plain.ok() && part.ok());
  EXPECT_TRUE((*plain)->Append(Bytes("ok")).ok());
  EXPECT_EQ((*part)->Append(Bytes("no")).code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(faulty.Rename(Path("plain"), Path("plain2"), RenameMode::kReplace).ok());
  EXPECT_EQ(faulty.Rename(Path("x.part"), Path("x"), RenameMode::kReplace).code(),
            StatusCode::kInternal);
  EXPECT_EQ(faulty.counters().renames, 2);
}

}  // namespace
}  // namespace glimmer::platform
