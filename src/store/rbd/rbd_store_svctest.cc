// RbdStore against a live Ceph cluster (no stubs). Needs CEPH_CONF (and CEPH_RBD_POOL, default
// "rbd"); skipped when CEPH_CONF is unset:
//   scripts/services/services.sh start && source /tmp/glimmer-services/env.sh
//   build/src/store/rbd/store_rbd_svctest
// Every image this binary creates is named glimmer-svctest-<random>-..., and is removed at the end
// of each test whatever happened, so several runs (and other users of the pool) do not interfere.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <rados/librados.hpp>
#include <random>
#include <rbd/librbd.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "platform/random.h"
#include "store/rbd/rbd_location.h"
#include "store/rbd/rbd_store.h"

namespace glimmer::store::rbd {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;
constexpr const char* kIncompleteKey = "glimmer.incomplete";
constexpr const char* kIntentObjectPrefix = "glimmer_incomplete.";  // + node id (rbd_store.h)
// Set for the child process of KilledBetweenCreationAndMarkingIsRemovedAtRestart.
constexpr const char* kChildNodeEnv = "GLIMMER_RBD_SVCTEST_CHILD_NODE";
constexpr const char* kChildImageEnv = "GLIMMER_RBD_SVCTEST_CHILD_IMAGE";

std::string EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

// Deterministic pseudo-random bytes (never all-zero objects).
std::string RandomData(size_t n, uint32_t seed) {
  std::string out(n, '\0');
  std::mt19937_64 rng(seed);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint64_t v = rng();
    std::memcpy(out.data() + i, &v, 8);
  }
  for (; i < n; ++i) out[i] = static_cast<char>(rng());
  return out;
}

std::span<const std::byte> Bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// Appends `data` in chunks alternating between 1 MiB and 333 KiB (the upload path hands over
// ~1 MiB buffers; odd sizes exercise the object buffering).
Status AppendAll(Writer& writer, std::string_view data) {
  size_t pos = 0;
  bool big = true;
  while (pos < data.size()) {
    const size_t n = std::min<size_t>(data.size() - pos, big ? kMiB : 333 * 1024);
    RETURN_IF_ERROR(writer.Append(Bytes(data.substr(pos, n))));
    pos += n;
    big = !big;
  }
  return OkStatus();
}

StatusOr<std::string> ReadAll(Reader& reader, size_t span) {
  std::string out;
  std::vector<std::byte> buf(span);
  int64_t offset = 0;
  while (true) {
    ASSIGN_OR_RETURN(const size_t n, reader.ReadAt(offset, buf));
    if (n == 0) break;
    out.append(reinterpret_cast<const char*>(buf.data()), n);
    offset += static_cast<int64_t>(n);
    if (out.size() > (size_t{1} << 31)) return InternalError("runaway read");
  }
  return out;
}

int SumAllocated(uint64_t /*offset*/, size_t length, int exists, void* arg) {
  if (exists) *static_cast<uint64_t*>(arg) += length;
  return 0;
}

class RbdStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::getenv("CEPH_CONF") == nullptr || *std::getenv("CEPH_CONF") == '\0') {
      GTEST_SKIP() << "CEPH_CONF is not set: these tests need a live Ceph cluster "
                      "(scripts/services/services.sh start; source /tmp/glimmer-services/env.sh)";
    }
    conf_ = EnvOr("CEPH_CONF", "");
    pool_ = EnvOr("CEPH_RBD_POOL", "rbd");
    prefix_ = "glimmer-svctest-" + platform::RandomHex(4) + "-";
    node_ = "node-" + platform::RandomHex(6);
    ASSERT_EQ(rados_.init2("client.admin", "ceph", 0), 0);
    ASSERT_EQ(rados_.conf_read_file(conf_.c_str()), 0);
    ASSERT_EQ(rados_.conf_set("client_mount_timeout", "20"), 0);
    ASSERT_EQ(rados_.connect(), 0) << "cluster of " << conf_ << " unreachable";
    ASSERT_EQ(rados_.ioctx_create(pool_.c_str(), io_), 0) << "pool " << pool_;
    store_ = MakeStore(node_, 1);
    ASSERT_NE(store_, nullptr);
  }

  void TearDown() override {
    if (conf_.empty()) return;
    store_.reset();
    // Remove whatever this test left (clones first, then parents).
    librbd::RBD rbd;
    for (int pass = 0; pass < 2; ++pass) {
      std::vector<librbd::image_spec_t> images;
      rbd.list2(io_, &images);
      for (const auto& spec : images) {
        if (!spec.name.starts_with(prefix_)) continue;
        {
          librbd::Image image;
          if (rbd.open(io_, image, spec.name.c_str()) == 0) {
            std::vector<librbd::snap_info_t> snaps;
            image.snap_list(snaps);
            for (const auto& s : snaps) {
              image.snap_unprotect(s.name.c_str());
              image.snap_remove(s.name.c_str());
            }
            image.close();
          }
        }
        rbd.remove(io_, spec.name.c_str());
      }
    }
    for (const std::string& node : nodes_) io_.remove(kIntentObjectPrefix + node);
    io_.close();
    rados_.shutdown();
  }

  RbdStoreOptions Options(const std::string& node, int chunk_mib) {
    nodes_.insert(node);
    RbdStoreOptions o;
    o.store_id = "ceph";
    o.conf_file = conf_;
    o.pool = pool_;
    o.chunk_size_mib = chunk_mib;
    o.node_id = node;
    o.connect_timeout_seconds = 20;
    return o;
  }

  std::unique_ptr<RbdStore> MakeStore(const std::string& node, int chunk_mib) {
    return MakeStore(Options(node, chunk_mib));
  }
  std::unique_ptr<RbdStore> MakeStore(RbdStoreOptions options) {
    StatusOr<std::unique_ptr<RbdStore>> store = RbdStore::Create(std::move(options));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  std::string NewId(std::string_view what) {
    return prefix_ + std::string(what) + "-" + platform::RandomHex(3);
  }

  // Writes and commits; returns the location (empty on failure, with a test failure).
  std::string Put(Store& store, const std::string& id, std::string_view data,
                  std::optional<int64_t> hint) {
    StatusOr<std::unique_ptr<Writer>> writer = store.NewWriter(id, hint);
    EXPECT_TRUE(writer.ok()) << writer.status().ToString();
    if (!writer.ok()) return "";
    const std::string expected = (*writer)->location();
    Status appended = AppendAll(**writer, data);
    EXPECT_TRUE(appended.ok()) << appended.ToString();
    StatusOr<std::string> location = (*writer)->Commit();
    EXPECT_TRUE(location.ok()) << location.status().ToString();
    if (!location.ok()) return "";
    EXPECT_EQ(*location, expected);
    return *location;
  }

  std::string Get(Store& store, const std::string& location, size_t span = 256 * 1024) {
    StatusOr<std::unique_ptr<Reader>> reader = store.Open(location);
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    if (!reader.ok()) return "<open failed>";
    StatusOr<std::string> data = ReadAll(**reader, span);
    EXPECT_TRUE(data.ok()) << data.status().ToString();
    return data.ok() ? *data : "<read failed>";
  }

  std::string NameOf(const std::string& location) {
    StatusOr<RbdLocation> parsed = ParseRbdLocation(location);
    EXPECT_TRUE(parsed.ok());
    return parsed.ok() ? parsed->image : "";
  }

  bool ImageExists(const std::string& name) {
    librbd::RBD rbd;
    librbd::Image image;
    const int r = rbd.open_read_only(io_, image, name.c_str(), nullptr);
    if (r == 0) image.close();
    EXPECT_TRUE(r == 0 || r == -ENOENT) << r;
    return r == 0;
  }

  // The names in `node`'s intent object.
  std::set<std::string> Intents(const std::string& node) {
    std::set<std::string> names;
    bool more = false;
    const int r = io_.omap_get_keys2(kIntentObjectPrefix + node, "", 1000, &names, &more);
    EXPECT_TRUE(r == 0 || r == -ENOENT) << r;
    return names;
  }

  void AddIntent(const std::string& node, const std::string& name) {
    std::map<std::string, ceph::bufferlist> keys;
    keys[name];
    ASSERT_EQ(io_.omap_set(kIntentObjectPrefix + node, keys), 0);
  }

  // Creates an image the way a crashed writer would have left it.
  void CreateRaw(const std::string& name, const std::string& mark, bool snapshot, bool protect) {
    librbd::RBD rbd;
    int order = 20;
    ASSERT_EQ(rbd.create2(io_, name.c_str(), 4 * kMiB, RBD_FEATURES_DEFAULT, &order), 0);
    librbd::Image image;
    ASSERT_EQ(rbd.open(io_, image, name.c_str()), 0);
    if (!mark.empty()) {
      ASSERT_EQ(image.metadata_set(kIncompleteKey, mark), 0);
    }
    if (snapshot) {
      ASSERT_EQ(image.snap_create("snap"), 0);
    }
    if (protect) {
      ASSERT_EQ(image.snap_protect("snap"), 0);
    }
    image.close();
  }

  std::string conf_;
  std::string pool_;
  std::string prefix_;
  std::string node_;
  std::set<std::string> nodes_;  // whose intent objects TearDown removes
  librados::Rados rados_;
  librados::IoCtx io_;
  std::unique_ptr<RbdStore> store_;
};

TEST_F(RbdStoreTest, Info) {
  EXPECT_EQ(store_->info().id, "ceph");
  EXPECT_EQ(store_->info().type, "rbd");
  EXPECT_TRUE(store_->info().description.empty());  // none configured: none shown
  store_->set_description("fast pool");
  EXPECT_EQ(store_->info().description, "fast pool");
  std::string fsid;
  ASSERT_EQ(rados_.cluster_fsid(&fsid), 0);
  EXPECT_EQ(store_->fsid(), fsid);
  EXPECT_EQ(store_->pool(), pool_);
}

// --- round trips: sizes x size hints ----------------------------------------------------------

enum class Hint { kNone, kExact, kTooSmall, kTooLarge };

std::string RoundTripName(const ::testing::TestParamInfo<std::tuple<int64_t, Hint>>& info) {
  static const char* kHints[] = {"NoHint", "ExactHint", "SmallHint", "LargeHint"};
  return "Size" + std::to_string(std::get<0>(info.param)) +
         kHints[static_cast<int>(std::get<1>(info.param))];
}

class RbdRoundTripTest : public RbdStoreTest,
                         public ::testing::WithParamInterface<std::tuple<int64_t, Hint>> {};

TEST_P(RbdRoundTripTest, WriteCommitReadBack) {
  const auto [size, hint_kind] = GetParam();
  std::optional<int64_t> hint;
  switch (hint_kind) {
    case Hint::kNone:
      break;
    case Hint::kExact:
      hint = size;
      break;
    case Hint::kTooSmall:
      hint = size / 2;
      break;
    case Hint::kTooLarge:
      hint = size * 2 + kMiB + 7;
      break;
  }
  const std::string data = RandomData(static_cast<size_t>(size), static_cast<uint32_t>(size));
  const std::string id = NewId("rt");
  const std::string location = Put(*store_, id, data, hint);
  ASSERT_FALSE(location.empty());
  EXPECT_EQ(location, "rbd://" + store_->fsid() + "/" + pool_ + "/" + id + "/snap");

  StatusOr<std::unique_ptr<Reader>> reader = store_->Open(location);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->size(), size);
  StatusOr<std::string> read = ReadAll(**reader, 256 * 1024);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_TRUE(*read == data) << "read back " << read->size() << " bytes, wrote " << size;
  reader->reset();

  // The RBD image itself: exact size, protected `snap`, no incomplete mark, layering.
  librbd::RBD rbd;
  librbd::Image image;
  ASSERT_EQ(rbd.open(io_, image, id.c_str()), 0);
  uint64_t image_size = 0;
  ASSERT_EQ(image.size(&image_size), 0);
  EXPECT_EQ(image_size, static_cast<uint64_t>(size));
  bool is_protected = false;
  ASSERT_EQ(image.snap_is_protected("snap", &is_protected), 0);
  EXPECT_TRUE(is_protected);
  std::string mark;
  EXPECT_EQ(image.metadata_get(kIncompleteKey, &mark), -ENOENT);
  uint64_t features = 0;
  ASSERT_EQ(image.features(&features), 0);
  EXPECT_TRUE(features & RBD_FEATURE_LAYERING);
  librbd::image_info_t info{};
  ASSERT_EQ(image.stat(info, sizeof info), 0);
  EXPECT_EQ(info.obj_size, static_cast<uint64_t>(kMiB));
  image.close();

  ASSERT_TRUE(store_->Delete(location).ok());
  EXPECT_EQ(store_->Open(location).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(ImageExists(id));
}

INSTANTIATE_TEST_SUITE_P(SizesAndHints, RbdRoundTripTest,
                         ::testing::Combine(::testing::Values(int64_t{0}, int64_t{1}, kMiB - 1,
                                                              kMiB, kMiB + 1, 3 * kMiB + 12345,
                                                              11 * kMiB / 2),
                                            ::testing::Values(Hint::kNone, Hint::kExact,
                                                              Hint::kTooSmall, Hint::kTooLarge)),
                         RoundTripName);

TEST_F(RbdStoreTest, DefaultChunkSizeGivesOrder23Objects) {
  RbdStoreOptions options = Options(node_, 8);
  std::unique_ptr<RbdStore> store = MakeStore(options);
  ASSERT_NE(store, nullptr);
  const std::string data = RandomData(20 * kMiB + 5, 8);
  const std::string location = Put(*store, NewId("order23"), data, std::nullopt);
  ASSERT_FALSE(location.empty());
  librbd::RBD rbd;
  librbd::Image image;
  ASSERT_EQ(rbd.open_read_only(io_, image, NameOf(location).c_str(), "snap"), 0);
  librbd::image_info_t info{};
  ASSERT_EQ(image.stat(info, sizeof info), 0);
  EXPECT_EQ(info.order, 23);
  EXPECT_EQ(info.size, data.size());
  image.close();
  EXPECT_TRUE(Get(*store, location, 1 << 20) == data);
  EXPECT_TRUE(store->Delete(location).ok());
}

// Buffers are reused once librbd lets go of them: a reused buffer must go out with its new
// content (and CRC), whatever the number of writes in flight.
TEST_F(RbdStoreTest, ManyObjectsWithFewWritesInFlight) {
  const std::string data = RandomData(13 * 8 * kMiB / 2 + 99, 77);
  for (int in_flight : {1, 2, 8}) {
    RbdStoreOptions options = Options(node_, 8);
    options.write_in_flight = in_flight;
    std::unique_ptr<RbdStore> store = MakeStore(options);
    ASSERT_NE(store, nullptr);
    const std::string location = Put(*store, NewId("inflight"), data, std::nullopt);
    ASSERT_FALSE(location.empty());
    EXPECT_TRUE(Get(*store, location) == data) << in_flight << " writes in flight";
    EXPECT_TRUE(store->Delete(location).ok());
  }
}

// --- clones ----------------------------------------------------------------------------------

TEST_F(RbdStoreTest, CloneOfSnapshotWorksAndBlocksDelete) {
  const std::string data = RandomData(7 * kMiB / 2, 3);
  const std::string id = NewId("parent");
  const std::string location = Put(*store_, id, data, data.size());
  ASSERT_FALSE(location.empty());

  // What Nova/Cinder do: a COW clone of <image>@snap.
  librbd::RBD rbd;
  const std::string clone = id + "-clone";
  int order = 0;
  ASSERT_EQ(rbd.clone(io_, id.c_str(), "snap", io_, clone.c_str(), RBD_FEATURE_LAYERING, &order),
            0);
  {
    librbd::Image c;
    ASSERT_EQ(rbd.open(io_, c, clone.c_str()), 0);
    ceph::bufferlist bl;
    ASSERT_EQ(c.read(0, data.size(), bl), static_cast<ssize_t>(data.size()));
    EXPECT_TRUE(bl.to_str() == data);
    librbd::linked_image_spec_t parent;
    librbd::snap_spec_t parent_snap;
    ASSERT_EQ(c.get_parent(&parent, &parent_snap), 0);
    EXPECT_EQ(parent.image_name, id);
    EXPECT_EQ(parent_snap.name, "snap");
    c.close();
  }

  Status deleted = store_->Delete(location);
  EXPECT_EQ(deleted.code(), StatusCode::kFailedPrecondition) << deleted.ToString();
  EXPECT_NE(deleted.message().find("in use by 1 clone"), std::string::npos) << deleted.message();
  // Fully intact: readable, snapshot still protected.
  EXPECT_TRUE(Get(*store_, location) == data);
  {
    librbd::Image image;
    ASSERT_EQ(rbd.open(io_, image, id.c_str()), 0);
    bool is_protected = false;
    ASSERT_EQ(image.snap_is_protected("snap", &is_protected), 0);
    EXPECT_TRUE(is_protected);
    image.close();
  }

  ASSERT_EQ(rbd.remove(io_, clone.c_str()), 0);
  Status again = store_->Delete(location);
  EXPECT_TRUE(again.ok()) << again.ToString();
  EXPECT_EQ(store_->Open(location).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Delete(location).code(), StatusCode::kNotFound);
  EXPECT_FALSE(ImageExists(id));
}

TEST_F(RbdStoreTest, DeleteWhileOpenByAnotherClientIsUnavailableAndChangesNothing) {
  const std::string data = RandomData(kMiB + 5, 12);
  const std::string id = NewId("busy");
  const std::string location = Put(*store_, id, data, std::nullopt);
  ASSERT_FALSE(location.empty());
  // A download in progress (read-only) does not hold deletion up...
  {
    StatusOr<std::unique_ptr<Reader>> reader = store_->Open(location);
    ASSERT_TRUE(reader.ok());
    const std::string id2 = NewId("busy2");
    const std::string location2 = Put(*store_, id2, data, std::nullopt);
    StatusOr<std::unique_ptr<Reader>> reader2 = store_->Open(location2);
    ASSERT_TRUE(reader2.ok());
    EXPECT_TRUE(store_->Delete(location2).ok());
  }
  // ... a client with the image open read-write (a watcher) does.
  librbd::RBD rbd;
  librbd::Image user;
  ASSERT_EQ(rbd.open(io_, user, id.c_str()), 0);
  const auto start = std::chrono::steady_clock::now();
  Status deleted = store_->Delete(location);
  EXPECT_EQ(deleted.code(), StatusCode::kUnavailable) << deleted.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_TRUE(Get(*store_, location) == data);  // snapshot untouched
  user.close();
  deleted = store_->Delete(location);
  EXPECT_TRUE(deleted.ok()) << deleted.ToString();
  EXPECT_FALSE(ImageExists(id));
}

// --- thin provisioning -----------------------------------------------------------------------

uint64_t AllocatedBytes(librados::IoCtx& io, const std::string& name) {
  librbd::RBD rbd;
  librbd::Image image;
  EXPECT_EQ(rbd.open_read_only(io, image, name.c_str(), "snap"), 0);
  uint64_t size = 0;
  image.size(&size);
  uint64_t allocated = 0;
  EXPECT_EQ(image.diff_iterate2(nullptr, 0, size, false, true, SumAllocated, &allocated), 0);
  image.close();
  return allocated;
}

std::string MostlyZeros() {
  std::string data(64 * kMiB, '\0');
  data[0] = 'a';
  data[33 * kMiB + 5] = 'b';
  data[64 * kMiB - 1] = 'c';
  return data;
}

TEST_F(RbdStoreTest, ThinProvisioningSkipsZeroObjects) {
  std::unique_ptr<RbdStore> store = MakeStore(node_, 8);
  ASSERT_NE(store, nullptr);
  const std::string data = MostlyZeros();
  const std::string location = Put(*store, NewId("thin"), data, data.size());
  ASSERT_FALSE(location.empty());
  const uint64_t allocated = AllocatedBytes(io_, NameOf(location));
  EXPECT_GT(allocated, 0u);
  EXPECT_LE(allocated, uint64_t{3 * 8 * kMiB}) << "64 MiB image, 3 non-zero bytes";
  EXPECT_TRUE(Get(*store, location, 1 << 20) == data);
  EXPECT_TRUE(store->Delete(location).ok());
}

TEST_F(RbdStoreTest, ThickProvisioningWritesZeros) {
  RbdStoreOptions options = Options(node_, 8);
  options.thin_provisioning = false;
  std::unique_ptr<RbdStore> store = MakeStore(options);
  ASSERT_NE(store, nullptr);
  const std::string data = MostlyZeros();
  const std::string location = Put(*store, NewId("thick"), data, std::nullopt);
  ASSERT_FALSE(location.empty());
  EXPECT_EQ(AllocatedBytes(io_, NameOf(location)), uint64_t{64 * kMiB});
  EXPECT_TRUE(Get(*store, location, 1 << 20) == data);
  EXPECT_TRUE(store->Delete(location).ok());
}

// --- abort -----------------------------------------------------------------------------------

TEST_F(RbdStoreTest, UploadInProgressIsMarkedAndDestroyAborts) {
  const std::string id = NewId("abort");
  {
    StatusOr<std::unique_ptr<Writer>> writer = store_->NewWriter(id, 4 * kMiB);
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    ASSERT_TRUE(AppendAll(**writer, RandomData(5 * kMiB / 2, 1)).ok());
    librbd::RBD rbd;
    librbd::Image image;
    ASSERT_EQ(rbd.open_read_only(io_, image, id.c_str(), nullptr), 0);
    std::string mark;
    ASSERT_EQ(image.metadata_get(kIncompleteKey, &mark), 0);
    EXPECT_EQ(mark, node_);
    image.close();
    // Not visible as committed data.
    EXPECT_EQ(store_->Open(FormatRbdLocation(store_->fsid(), pool_, id, "snap")).status().code(),
              StatusCode::kNotFound);
  }  // destroyed without Commit()
  EXPECT_FALSE(ImageExists(id));
}

TEST_F(RbdStoreTest, AbortIsIdempotentAndFinishesTheWriter) {
  const std::string id = NewId("abort2");
  StatusOr<std::unique_ptr<Writer>> writer = store_->NewWriter(id, std::nullopt);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(AppendAll(**writer, RandomData(3 * kMiB, 2)).ok());
  (*writer)->Abort();
  (*writer)->Abort();
  EXPECT_FALSE(ImageExists(id));
  EXPECT_EQ((*writer)->Append(Bytes("x")).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ((*writer)->Commit().status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(RbdStoreTest, CommittedWriterIsFinished) {
  const std::string id = NewId("done");
  StatusOr<std::unique_ptr<Writer>> writer = store_->NewWriter(id, std::nullopt);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append(Bytes("hello")).ok());
  StatusOr<std::string> location = (*writer)->Commit();
  ASSERT_TRUE(location.ok());
  EXPECT_EQ((*writer)->Append(Bytes("x")).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ((*writer)->Commit().status().code(), StatusCode::kFailedPrecondition);
  (*writer)->Abort();  // no effect after commit
  writer->reset();
  EXPECT_EQ(Get(*store_, *location), "hello");
  EXPECT_TRUE(store_->Delete(*location).ok());
}

TEST_F(RbdStoreTest, TakenNameIsNeverOverwritten) {
  const std::string id = NewId("dup");
  const std::string first = RandomData(kMiB + 3, 10);
  const std::string second = RandomData(2 * kMiB + 9, 11);
  const std::string loc1 = Put(*store_, id, first, std::nullopt);
  const std::string loc2 = Put(*store_, id, second, std::nullopt);
  ASSERT_FALSE(loc1.empty());
  ASSERT_FALSE(loc2.empty());
  EXPECT_NE(loc1, loc2);
  EXPECT_TRUE(NameOf(loc2).starts_with(id + "."));
  EXPECT_TRUE(Get(*store_, loc1) == first);
  EXPECT_TRUE(Get(*store_, loc2) == second);
  EXPECT_TRUE(store_->Delete(loc1).ok());
  EXPECT_TRUE(store_->Delete(loc2).ok());
}

TEST_F(RbdStoreTest, InvalidImageIdsAreRefused) {
  for (const std::string& id :
       {std::string(""), std::string("../x"), std::string("a/b"), std::string("a@snap"),
        std::string(".hidden"), std::string("a b"), std::string(81, 'a')}) {
    EXPECT_EQ(store_->NewWriter(id, std::nullopt).status().code(), StatusCode::kInvalidArgument)
        << id;
  }
  EXPECT_EQ(store_->NewWriter(NewId("neg"), -1).status().code(), StatusCode::kInvalidArgument);
}

// --- cleanup of incomplete uploads -----------------------------------------------------------

TEST_F(RbdStoreTest, CleanupIncompleteRemovesOnlyThisNodesLeftovers) {
  const std::string other_node = "other-" + platform::RandomHex(6);
  const std::string mine = NewId("mine-crashed");
  const std::string mine_snap = NewId("mine-crashed-snap");    // crash before protect
  const std::string mine_protected = NewId("mine-protected");  // crash before unmark
  const std::string others = NewId("other-crashed");
  const std::string foreign = NewId("not-glimmer");
  CreateRaw(mine, node_, false, false);
  CreateRaw(mine_snap, node_, true, false);
  CreateRaw(mine_protected, node_, true, true);
  CreateRaw(others, other_node, false, false);
  CreateRaw(foreign, "", false, false);
  const std::string committed_data = RandomData(kMiB + 1, 5);
  const std::string committed = Put(*store_, NewId("mine-committed"), committed_data, std::nullopt);
  ASSERT_FALSE(committed.empty());

  // Another node's upload in progress, through a real writer.
  std::unique_ptr<RbdStore> other_store = MakeStore(other_node, 1);
  ASSERT_NE(other_store, nullptr);
  const std::string in_progress = NewId("other-writing");
  StatusOr<std::unique_ptr<Writer>> writer = other_store->NewWriter(in_progress, std::nullopt);
  ASSERT_TRUE(writer.ok());
  const std::string other_data = RandomData(3 * kMiB + 17, 6);
  ASSERT_TRUE(AppendAll(**writer, std::string_view(other_data).substr(0, 2 * kMiB)).ok());

  Status cleaned = store_->CleanupIncomplete();
  EXPECT_TRUE(cleaned.ok()) << cleaned.ToString();

  EXPECT_FALSE(ImageExists(mine));
  EXPECT_FALSE(ImageExists(mine_snap));
  EXPECT_TRUE(ImageExists(mine_protected));
  EXPECT_TRUE(ImageExists(others));
  EXPECT_TRUE(ImageExists(foreign));
  EXPECT_TRUE(ImageExists(in_progress));
  EXPECT_TRUE(Get(*store_, committed) == committed_data);

  // The other node's upload goes on undisturbed.
  ASSERT_TRUE(AppendAll(**writer, std::string_view(other_data).substr(2 * kMiB)).ok());
  StatusOr<std::string> location = (*writer)->Commit();
  ASSERT_TRUE(location.ok()) << location.status().ToString();
  EXPECT_TRUE(Get(*other_store, *location) == other_data);

  // The other node cleans its own leftover and nothing else.
  EXPECT_TRUE(other_store->CleanupIncomplete().ok());
  EXPECT_FALSE(ImageExists(others));
  EXPECT_TRUE(ImageExists(NameOf(*location)));
  EXPECT_TRUE(ImageExists(mine_protected));
  EXPECT_TRUE(ImageExists(foreign));
}

// A process killed with SIGKILL between creating an RBD image and marking it incomplete: the
// image has no mark, and nothing but the intent says whose it is. The restart removes it.
TEST_F(RbdStoreTest, KilledBetweenCreationAndMarkingIsRemovedAtRestart) {
  const std::string id = NewId("killed");
  const std::string node = "node-" + platform::RandomHex(6);
  nodes_.insert(node);
  const std::string filter = "--gtest_filter=RbdStoreCrashChild.CreateThenGetKilled";
  const std::string self = "/proc/self/exe";
  std::vector<char*> argv = {const_cast<char*>(self.c_str()), const_cast<char*>(filter.c_str()),
                             nullptr};
  std::vector<std::string> env_strings = {std::string(kChildNodeEnv) + "=" + node,
                                          std::string(kChildImageEnv) + "=" + id};
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t quiet;  // the child's gtest output is of no interest
  posix_spawn_file_actions_init(&quiet);
  posix_spawn_file_actions_addopen(&quiet, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, self.c_str(), &quiet, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&quiet);
  ASSERT_EQ(spawned, 0);
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) << wstatus;

  // What the kill left: an unmarked image, named by the node's intent.
  ASSERT_TRUE(ImageExists(id));
  {
    librbd::RBD rbd;
    librbd::Image image;
    ASSERT_EQ(rbd.open_read_only(io_, image, id.c_str(), nullptr), 0);
    std::string mark;
    EXPECT_EQ(image.metadata_get(kIncompleteKey, &mark), -ENOENT);
    image.close();
  }
  EXPECT_EQ(Intents(node), std::set<std::string>{id});

  // Another node's clean-up leaves it alone; the restarted node removes it.
  std::unique_ptr<RbdStore> other = MakeStore("other-" + platform::RandomHex(6), 1);
  ASSERT_NE(other, nullptr);
  EXPECT_TRUE(other->CleanupIncomplete().ok());
  EXPECT_TRUE(ImageExists(id));
  std::unique_ptr<RbdStore> restarted = MakeStore(node, 1);
  ASSERT_NE(restarted, nullptr);
  Status cleaned = restarted->CleanupIncomplete();
  EXPECT_TRUE(cleaned.ok()) << cleaned.ToString();
  EXPECT_FALSE(ImageExists(id));
  EXPECT_TRUE(Intents(node).empty());
}

// The other states an intent can be left in by a crash: before the image was created (nothing
// to remove), after it was committed (kept), naming an image another upload holds (kept).
TEST_F(RbdStoreTest, CleanupFollowsIntentsAndKeepsWhatIsNotItsOwn) {
  const std::string never_created = NewId("never-created");
  const std::string committed_data = RandomData(kMiB + 3, 8);
  const std::string committed = NameOf(Put(*store_, NewId("committed"), committed_data, 1));
  const std::string other_node = "other-" + platform::RandomHex(6);
  nodes_.insert(other_node);
  const std::string others = NewId("others");
  CreateRaw(others, other_node, false, false);
  const std::string mine_unmarked = NewId("mine-unmarked");
  CreateRaw(mine_unmarked, "", true, false);  // crash after a snapshot, before protecting it
  for (const std::string& name : {never_created, committed, others, mine_unmarked}) {
    AddIntent(node_, name);
  }
  EXPECT_TRUE(Intents(node_).size() == 4);

  Status cleaned = store_->CleanupIncomplete();
  EXPECT_TRUE(cleaned.ok()) << cleaned.ToString();
  EXPECT_TRUE(Intents(node_).empty());
  EXPECT_FALSE(ImageExists(never_created));
  EXPECT_TRUE(ImageExists(others));
  EXPECT_FALSE(ImageExists(mine_unmarked));
  EXPECT_TRUE(Get(*store_, FormatRbdLocation(store_->fsid(), store_->pool(), committed, "snap")) ==
              committed_data);
}

TEST_F(RbdStoreTest, WritersLeaveNoIntentBehind) {
  const std::string data = RandomData(2 * kMiB + 5, 9);
  const std::string committed = Put(*store_, NewId("intent-commit"), data, std::nullopt);
  ASSERT_FALSE(committed.empty());
  StatusOr<std::unique_ptr<Writer>> aborted = store_->NewWriter(NewId("intent-abort"), 1);
  ASSERT_TRUE(aborted.ok());
  ASSERT_TRUE((*aborted)->Append(Bytes(data)).ok());
  (*aborted)->Abort();
  // A name taken by committed data: the writer goes to another name, and forgets both.
  const std::string taken = NameOf(committed);
  const std::string second = Put(*store_, taken, data, std::nullopt);
  ASSERT_FALSE(second.empty());
  EXPECT_NE(NameOf(second), taken);
  EXPECT_TRUE(Intents(node_).empty());
}

// Readers of one snapshot share one open image; each still reads its own way, from threads of
// its own, and one that goes away does not disturb the others.
TEST_F(RbdStoreTest, ConcurrentReadersOfOneImage) {
  const std::string data = RandomData(6 * kMiB + 99, 10);
  const std::string location = Put(*store_, NewId("shared"), data, std::nullopt);
  ASSERT_FALSE(location.empty());
  std::vector<std::string> got(6);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < got.size(); ++i) {
    threads.emplace_back([&, i] { got[i] = Get(*store_, location, i % 2 ? 300 * 1024 : kMiB); });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& g : got) EXPECT_TRUE(g == data);
  StatusOr<std::unique_ptr<Reader>> first = store_->Open(location);
  ASSERT_TRUE(first.ok());
  {
    StatusOr<std::unique_ptr<Reader>> second = store_->Open(location);
    ASSERT_TRUE(second.ok());
    EXPECT_TRUE(ReadAll(**second, kMiB).value() == data);
  }
  EXPECT_TRUE(ReadAll(**first, kMiB).value() == data);
}

// The child process of KilledBetweenCreationAndMarkingIsRemovedAtRestart: starts an upload and
// gets itself killed with SIGKILL right after the RBD image is created. Skipped otherwise.
TEST(RbdStoreCrashChild, CreateThenGetKilled) {
  const char* node = std::getenv(kChildNodeEnv);
  const char* image = std::getenv(kChildImageEnv);
  if (node == nullptr || image == nullptr) GTEST_SKIP() << "run by another test";
  RbdStoreOptions o;
  o.conf_file = EnvOr("CEPH_CONF", "");
  o.pool = EnvOr("CEPH_RBD_POOL", "rbd");
  o.chunk_size_mib = 1;
  o.node_id = node;
  o.test_hook = [](std::string_view point) {
    if (point == "created") raise(SIGKILL);
  };
  StatusOr<std::unique_ptr<RbdStore>> store = RbdStore::Create(o);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  (void)(*store)->NewWriter(image, std::nullopt);
  ADD_FAILURE() << "not killed";
}

// --- locations -------------------------------------------------------------------------------

TEST_F(RbdStoreTest, LocationsAreParsedStrictly) {
  const std::string data = RandomData(kMiB / 2 + 1, 7);
  const std::string id = NewId("loc");
  const std::string location = Put(*store_, id, data, std::nullopt);
  ASSERT_FALSE(location.empty());
  EXPECT_TRUE(store_->Owns(location));
  EXPECT_TRUE(store_->Owns("rbd://" + id));

  const std::string fsid = store_->fsid();
  const std::string other_fsid = "00000000-1111-2222-3333-444444444444";
  const std::vector<std::string> refused = {
      "rbd://" + other_fsid + "/" + pool_ + "/" + id + "/snap",  // foreign cluster
      "rbd://" + fsid + "/other-pool/" + id + "/snap",           // foreign pool
      "rbd://" + fsid + "/" + pool_ + "/" + id + "@snap/snap",
      "rbd://" + fsid + "/" + pool_ + "/" + id + "%2Fx/snap",
      "rbd://" + fsid + "/" + pool_ + "/../snap",
      "rbd://" + fsid + "/" + pool_ + "/" + id,
      "rbd://" + fsid + "/" + pool_ + "/" + id + "/snap/x",
      "rbd://" + fsid + "/" + pool_ + "//snap",
      "rbd://" + fsid + "%2F" + pool_ + "/" + id + "/snap",
      "rbd://",
      "file:///tmp/" + id,
      "s3://bucket/" + id,
      "rbd://" + id + "@snap",
  };
  for (const std::string& uri : refused) {
    EXPECT_FALSE(store_->Owns(uri)) << uri;
    EXPECT_EQ(store_->Open(uri).status().code(), StatusCode::kInvalidArgument) << uri;
    EXPECT_EQ(store_->Delete(uri).code(), StatusCode::kInvalidArgument) << uri;
  }
  // Uppercase fsid and percent-encoded names designate the same image.
  std::string upper = fsid;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(Get(*store_, "rbd://" + upper + "/" + PercentEncode(pool_) + "/" + id + "/sn%61p") ==
              data);
  // Glance's legacy short form reads the image head.
  EXPECT_TRUE(Get(*store_, "rbd://" + id) == data);
  EXPECT_EQ(store_->Open("rbd://" + prefix_ + "missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Open(FormatRbdLocation(fsid, pool_, id, "othersnap")).status().code(),
            StatusCode::kNotFound);
  // ... and deletes it with its snapshot.
  Status deleted = store_->Delete("rbd://" + id);
  EXPECT_TRUE(deleted.ok()) << deleted.ToString();
  EXPECT_FALSE(ImageExists(id));
  EXPECT_EQ(store_->Delete(location).code(), StatusCode::kNotFound);
}

// --- reads -----------------------------------------------------------------------------------

TEST_F(RbdStoreTest, RangedReadsAtRandomOffsets) {
  const std::string data = RandomData(63 * kMiB / 10, 21);
  const std::string location = Put(*store_, NewId("ranges"), data, std::nullopt);
  ASSERT_FALSE(location.empty());
  StatusOr<std::unique_ptr<Reader>> reader = store_->Open(location);
  ASSERT_TRUE(reader.ok());
  Reader& r = **reader;
  const int64_t size = static_cast<int64_t>(data.size());
  std::mt19937 rng(42);
  std::vector<std::byte> buf(3 * kMiB);
  for (int i = 0; i < 300; ++i) {
    const int64_t offset = std::uniform_int_distribution<int64_t>(0, size + 10)(rng);
    const size_t len =
        std::uniform_int_distribution<size_t>(1, i % 10 == 0 ? 3 * kMiB : 70000)(rng);
    // Sometimes continue sequentially from here for a few reads (a Range request being served).
    const int run = i % 7 == 0 ? 12 : 1;
    int64_t at = offset;
    for (int k = 0; k < run; ++k) {
      StatusOr<size_t> n = r.ReadAt(at, std::span(buf).first(len));
      ASSERT_TRUE(n.ok()) << n.status().ToString();
      const size_t expected =
          at >= size ? 0 : static_cast<size_t>(std::min<int64_t>(len, size - at));
      ASSERT_EQ(*n, expected) << "at " << at << " len " << len;
      ASSERT_EQ(std::memcmp(buf.data(), data.data() + std::min(at, size), *n), 0)
          << "at " << at << " len " << len;
      at += static_cast<int64_t>(*n);
    }
  }
  EXPECT_EQ(*r.ReadAt(size, buf), 0u);
  EXPECT_EQ(*r.ReadAt(size + 12345, buf), 0u);
  EXPECT_EQ(r.ReadAt(-1, buf).status().code(), StatusCode::kOutOfRange);
  StatusOr<size_t> tail = r.ReadAt(size - 10, buf);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(*tail, 10u);
  EXPECT_EQ(std::memcmp(buf.data(), data.data() + size - 10, 10), 0);
}

TEST_F(RbdStoreTest, SequentialReadAheadAcrossObjectBoundaries) {
  const std::string data = RandomData(9 * kMiB + 4321, 33);
  const std::string location = Put(*store_, NewId("seq"), data, std::nullopt);
  ASSERT_FALSE(location.empty());
  // Spans that do not divide the object size, spans larger than an object, tiny spans.
  for (size_t span : {size_t{300 * 1024}, size_t{256 * 1024}, size_t{kMiB}, size_t{5 * kMiB / 2},
                      size_t{12 * kMiB}, size_t{4093}}) {
    EXPECT_TRUE(Get(*store_, location, span) == data) << "span " << span;
  }
  // Without read-ahead, and with a deep window.
  for (int depth : {0, 1, 8}) {
    RbdStoreOptions options = Options(node_, 1);
    options.read_ahead_objects = depth;
    std::unique_ptr<RbdStore> store = MakeStore(options);
    ASSERT_NE(store, nullptr);
    EXPECT_TRUE(Get(*store, location, 300 * 1024) == data) << "depth " << depth;
  }
  // A sequential download restarted in the middle, then a backwards jump.
  StatusOr<std::unique_ptr<Reader>> reader = store_->Open(location);
  ASSERT_TRUE(reader.ok());
  std::vector<std::byte> buf(256 * 1024);
  for (int64_t at : {int64_t{0}, int64_t{256 * 1024}, int64_t{5 * kMiB - 100},
                     int64_t{5 * kMiB - 100 + 256 * 1024}, int64_t{kMiB - 1}, int64_t{kMiB - 1}}) {
    StatusOr<size_t> n = (*reader)->ReadAt(at, buf);
    ASSERT_TRUE(n.ok());
    ASSERT_EQ(*n, buf.size());
    EXPECT_EQ(std::memcmp(buf.data(), data.data() + at, *n), 0) << at;
  }
}

TEST_F(RbdStoreTest, ReaderOutlivesStore) {
  const std::string data = RandomData(2 * kMiB + 1, 44);
  const std::string location = Put(*store_, NewId("outlive"), data, std::nullopt);
  ASSERT_FALSE(location.empty());
  StatusOr<std::unique_ptr<Reader>> reader = store_->Open(location);
  ASSERT_TRUE(reader.ok());
  store_.reset();
  StatusOr<std::string> read = ReadAll(**reader, 256 * 1024);
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(*read == data);
}

// --- connection ------------------------------------------------------------------------------

TEST_F(RbdStoreTest, UnreachableClusterIsUnavailableQuickly) {
  char path[] = "/tmp/glimmer-rbd-deadconf-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string text =
      "[global]\n"
      "fsid = 00000000-1111-2222-3333-444444444444\n"
      "mon_host = [v2:127.0.0.1:9,v1:127.0.0.1:7]\n"
      "auth_cluster_required = none\nauth_service_required = none\n"
      "auth_client_required = none\n"
      "log_to_stderr = false\nerr_to_stderr = false\nlog_file = /dev/null\n";
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  RbdStoreOptions options = Options(node_, 8);
  options.conf_file = path;
  options.connect_timeout_seconds = 2;
  const auto start = std::chrono::steady_clock::now();
  StatusOr<std::unique_ptr<RbdStore>> store = RbdStore::Create(options);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  unlink(path);
  EXPECT_EQ(store.status().code(), StatusCode::kUnavailable) << store.status().ToString();
  EXPECT_LT(elapsed, std::chrono::seconds(15));
}

TEST_F(RbdStoreTest, MissingPoolConfAndBadOptions) {
  RbdStoreOptions options = Options(node_, 8);
  options.pool = "glimmer-no-such-pool-" + platform::RandomHex(4);
  StatusOr<std::unique_ptr<RbdStore>> store = RbdStore::Create(options);
  EXPECT_EQ(store.status().code(), StatusCode::kNotFound) << store.status().ToString();
  EXPECT_NE(store.status().message().find(options.pool), std::string::npos);

  options = Options(node_, 8);
  options.conf_file = "/nonexistent/ceph.conf";
  EXPECT_EQ(RbdStore::Create(options).status().code(), StatusCode::kInvalidArgument);

  for (int chunk : {0, 3, 64, -8}) {
    options = Options(node_, chunk);
    EXPECT_EQ(RbdStore::Create(options).status().code(), StatusCode::kInvalidArgument) << chunk;
  }
  options = Options("", 8);
  EXPECT_EQ(RbdStore::Create(options).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace glimmer::store::rbd
