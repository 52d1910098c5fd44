#include "images/image_service.h"

#include <openssl/evp.h>

#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>

#include "db/sqlite/database.h"
#include "db/sql/image_repository.h"
#include "store/filesystem/filesystem_store.h"

namespace glimmer::images {
namespace {

namespace fs = std::filesystem;
using domain::ImageStatus;
using domain::RequestContext;

RequestContext Ctx(std::string project, std::vector<std::string> roles) {
  RequestContext c;
  c.project_id = std::move(project);
  c.roles = std::move(roles);
  c.authenticated = true;
  return c;
}


std::string Md5Hex(const std::string& data) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(data.data(), data.size(), d, &n, EVP_md5(), nullptr);
  std::string out;
  char b[3];
  for (unsigned i = 0; i < n; ++i) {
    std::snprintf(b, sizeof b, "%02x", d[i]);
    out += b;
  }
  return out;
}

class ImageServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("glimmer-images-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = std::move(*db::sqlite::SqliteDatabase::Open((dir_ / "db.sqlite").string()));
    repo_ = db::sql::NewImageRepository(*db_);
    store_ = std::move(*store::filesystem::FilesystemStore::Create(
        "file", (dir_ / "images").string(), false));
    Make();
  }
  void Make(int64_t cap = 1 << 30) {
    ServiceOptions o;
    o.image_size_cap = cap;
    o.disk_formats = {"raw", "qcow2"};
    o.container_formats = {"bare", "ovf"};
    o.upload_buffer_size = 4096;
    service_ = std::make_unique<ImageService>(*repo_, StoreSet{{store_.get()}}, policy_, pool_,
                                              platform::Clock::Real(), o);
  }
  void TearDown() override {
    service_.reset();
    repo_.reset();
    db_.reset();
    fs::remove_all(dir_);
  }
  std::string CreateRaw(const RequestContext& ctx, std::string name = "img") {
    auto img = service_->Create(ctx, {{"name", Value::String(name)}, {"disk_format", Value::String("raw")},
                                      {"container_format", Value::String("bare")}});
    EXPECT_TRUE(img.ok()) << img.status().ToString();
    return img->id;
  }
  static ImageService::ReadFn Reader(const std::string& data) {
    auto pos = std::make_shared<size_t>(0);
    return [&data, pos](std::span<std::byte> out) -> StatusOr<size_t> {
      size_t n = std::min(out.size(), data.size() - *pos);
      std::memcpy(out.data(), data.data() + *pos, n);
      *pos += n;
      return n;
    };
  }

  fs::path dir_;
  std::unique_ptr<db::sqlite::SqliteDatabase> db_;
  std::unique_ptr<db::ImageRepository> repo_;
  std::unique_ptr<store::filesystem::FilesystemStore> store_;
  domain::DefaultPolicy policy_;
  platform::Executor pool_{"hash-test", 2};
  std::unique_ptr<ImageService> service_;
  RequestContext alice_ = Ctx("p-alice", {"member", "reader"});
  RequestContext bob_ = Ctx("p-bob", {"member", "reader"});
  RequestContext reader_ = Ctx("p-alice", {"reader"});
  RequestContext admin_ = Ctx("p-admin", {"admin", "member", "reader"});
};

TEST_F(ImageServiceTest, CreateDefaultsAndRules) {
  auto img = service_->Create(alice_, {});
  ASSERT_TRUE(img.ok());
  EXPECT_EQ(img->status, ImageStatus::kQueued);
  EXPECT_EQ(img->visibility, domain::Visibility::kShared);
  EXPECT_EQ(img->owner, "p-alice");
  auto code = [&](std::vector<std::pair<std::string, Value>> f) {
    return service_->Create(alice_, f).status().code();
  };
  EXPECT_EQ(code({{"status", Value::String("active")}}), StatusCode::kPermissionDenied);
  EXPECT_EQ(code({{"os_glance_x", Value::String("1")}}), StatusCode::kPermissionDenied);
  EXPECT_EQ(code({{"deleted", Value::String("1")}}), StatusCode::kPermissionDenied);
  EXPECT_EQ(code({{"foo", Value::Int(1)}}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({{std::string(256, 'k'), Value::String("v")}}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({{"visibility", Value::String("public")}}), StatusCode::kPermissionDenied);
  EXPECT_EQ(code({{"owner", Value::String("p-bob")}}), StatusCode::kPermissionDenied);
  EXPECT_EQ(code({{"disk_format", Value::String("bogus")}}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({{"id", Value::String("not-a-uuid")}}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({{"min_ram", Value::Int(-1)}}), StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->Create(reader_, {}).status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(service_->Create(admin_, {{"visibility", Value::String("public")}}).ok());
  std::string id = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
  EXPECT_TRUE(service_->Create(alice_, {{"id", Value::String(id)}}).ok());
  EXPECT_EQ(code({{"id", Value::String(id)}}), StatusCode::kAlreadyExists);
}

TEST_F(ImageServiceTest, VisibilityAndPermissions) {
  std::string id = CreateRaw(alice_);
  ASSERT_TRUE(service_->Update(alice_, id, {{PatchOp::Op::kReplace, "visibility",
                                             Value::String("private")}}, false).ok());
  EXPECT_EQ(service_->Get(bob_, id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->Delete(bob_, id).code(), StatusCode::kNotFound);
  EXPECT_TRUE(service_->Get(reader_, id).ok());
  EXPECT_EQ(service_->Update(reader_, id, {{PatchOp::Op::kReplace, "name", Value::String("x")}}, false)
                .status()
                .code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(service_->Get(admin_, id).ok());
  ASSERT_TRUE(service_->Update(alice_, id, {{PatchOp::Op::kReplace, "visibility",
                                             Value::String("community")}}, false).ok());
  EXPECT_TRUE(service_->Get(bob_, id).ok());
  EXPECT_EQ(service_->Update(bob_, id, {{PatchOp::Op::kReplace, "name", Value::String("x")}}, false)
                .status()
                .code(),
            StatusCode::kPermissionDenied);
}

TEST_F(ImageServiceTest, PatchSemantics) {
  std::string id = CreateRaw(alice_);
  auto code = [&](PatchOp op, bool legacy = false) {
    return service_->Update(alice_, id, {op}, legacy).status().code();
  };
  EXPECT_EQ(code({PatchOp::Op::kReplace, "foo", Value::String("1")}), StatusCode::kFailedPrecondition);
  EXPECT_EQ(code({PatchOp::Op::kAdd, "foo", Value::String("1")}), StatusCode::kOk);
  EXPECT_EQ(code({PatchOp::Op::kAdd, "foo", Value::String("2")}), StatusCode::kOk);
  EXPECT_EQ(code({PatchOp::Op::kAdd, "foo", Value::String("3")}, true), StatusCode::kFailedPrecondition);
  EXPECT_EQ(service_->Get(alice_, id)->properties.at("foo"), "2");
  EXPECT_EQ(code({PatchOp::Op::kRemove, "foo", std::nullopt}), StatusCode::kOk);
  EXPECT_EQ(code({PatchOp::Op::kRemove, "foo", std::nullopt}), StatusCode::kFailedPrecondition);
  EXPECT_EQ(code({PatchOp::Op::kRemove, "name", std::nullopt}), StatusCode::kPermissionDenied);
  EXPECT_EQ(code({PatchOp::Op::kReplace, "status", Value::String("active")}),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(code({PatchOp::Op::kReplace, "owner", Value::String("p-bob")}), StatusCode::kPermissionDenied);
  Value tags;
  tags.kind = Value::Kind::kStringList;
  tags.list = {"b", "a", "a"};
  EXPECT_EQ(code({PatchOp::Op::kReplace, "tags", tags}), StatusCode::kOk);
  EXPECT_EQ(service_->Get(alice_, id)->tags, (std::vector<std::string>{"a", "b"}));
  // A failing op leaves the image untouched (all or nothing).
  auto before = *service_->Get(alice_, id);
  EXPECT_FALSE(service_->Update(alice_, id, {{PatchOp::Op::kReplace, "name", Value::String("new")},
                                             {PatchOp::Op::kReplace, "min_disk", Value::Int(-5)}},
                                false)
                   .ok());
  EXPECT_EQ(service_->Get(alice_, id)->name, before.name);
}

TEST_F(ImageServiceTest, UploadDownloadAndStateRules) {
  std::string id = CreateRaw(alice_);
  std::string data(100000, 'x');
  data.replace(0, 5, "hello");
  ASSERT_TRUE(service_->Upload(alice_, id, Reader(data), data.size()).ok());
  auto img = service_->Get(alice_, id);
  EXPECT_EQ(img->status, ImageStatus::kActive);
  EXPECT_EQ(img->size, static_cast<int64_t>(data.size()));
  EXPECT_EQ(img->virtual_size, static_cast<int64_t>(data.size()));
  EXPECT_EQ(img->checksum, Md5Hex(data));
  EXPECT_EQ(img->os_hash_algo, "sha512");
  EXPECT_EQ(img->os_hash_value->size(), 128u);
  EXPECT_EQ(service_->Upload(alice_, id, Reader(data), std::nullopt).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(service_->Update(alice_, id, {{PatchOp::Op::kReplace, "disk_format", Value::String("qcow2")}},
                             false)
                .status()
                .code(),
            StatusCode::kPermissionDenied);
  auto dl = service_->OpenDownload(alice_, id);
  ASSERT_TRUE(dl.ok());
  ASSERT_TRUE(dl->reader);
  std::string back(data.size(), '\0');
  auto n = dl->reader->ReadAt(0, std::as_writable_bytes(std::span(back)));
  EXPECT_EQ(*n, data.size());
  EXPECT_EQ(back, data);
  // Readers cannot download.
  EXPECT_EQ(service_->OpenDownload(reader_, id).status().code(), StatusCode::kPermissionDenied);
  // Deactivation blocks non-admin downloads only.
  ASSERT_TRUE(service_->Deactivate(alice_, id).ok());
  ASSERT_TRUE(service_->Deactivate(alice_, id).ok());  // no-op
  EXPECT_EQ(service_->OpenDownload(alice_, id).status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(service_->OpenDownload(admin_, id).ok());
  ASSERT_TRUE(service_->Reactivate(alice_, id).ok());
  // Protected images cannot be deleted.
  Value t;
  t.kind = Value::Kind::kBool;
  t.b = true;
  ASSERT_TRUE(service_->Update(alice_, id, {{PatchOp::Op::kReplace, "protected", t}}, false).ok());
  EXPECT_EQ(service_->Delete(alice_, id).code(), StatusCode::kPermissionDenied);
  t.b = false;
  ASSERT_TRUE(service_->Update(alice_, id, {{PatchOp::Op::kReplace, "protected", t}}, false).ok());
  std::string path = img->locations.at(0).url.substr(strlen("file://"));
  EXPECT_TRUE(fs::exists(path));
  ASSERT_TRUE(service_->Delete(alice_, id).ok());
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(service_->Get(alice_, id).status().code(), StatusCode::kNotFound);
}

TEST_F(ImageServiceTest, FailedUploadsReturnToQueuedWithoutData) {
  std::string id = CreateRaw(alice_);
  std::string data(50000, 'y');
  // Size mismatch with the declared size.
  EXPECT_EQ(service_->Upload(alice_, id, Reader(data), 40000).code(),
            StatusCode::kInvalidArgument);
  auto img = service_->Get(alice_, id);
  EXPECT_EQ(img->status, ImageStatus::kQueued);
  EXPECT_FALSE(img->size);
  // Body read failure in the middle.
  int calls = 0;
  auto broken = [&](std::span<std::byte> out) -> StatusOr<size_t> {
    if (++calls > 3) return AbortedError("client went away");
    std::memset(out.data(), 'z', out.size());
    return out.size();
  };
  EXPECT_EQ(service_->Upload(alice_, id, broken, std::nullopt).code(), StatusCode::kAborted);
  EXPECT_EQ(service_->Get(alice_, id)->status, ImageStatus::kQueued);
  // Size cap.
  Make(/*cap=*/10000);
  EXPECT_EQ(service_->Upload(alice_, id, Reader(data), std::nullopt).code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(service_->Upload(alice_, id, Reader(data), 50000).code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(service_->Get(alice_, id)->status, ImageStatus::kQueued);
  // No data files anywhere.
  size_t files = 0;
  for (auto& e : fs::recursive_directory_iterator(dir_ / "images")) files += e.is_regular_file();
  EXPECT_EQ(files, 0u);
  // Formats must be set first.
  auto bare = service_->Create(alice_, {});
  EXPECT_EQ(service_->Upload(alice_, bare->id, Reader(data), std::nullopt).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(ImageServiceTest, RecoveryReturnsSavingImagesToQueued) {
  std::string id = CreateRaw(alice_);
  // Simulate a crash after the data was committed to the store but before the image became
  // active: the pending location is recorded, the file exists under its final name.
  auto writer = store_->NewWriter(id, std::nullopt);
  ASSERT_TRUE(writer.ok());
  std::string pending = (*writer)->location();
  ASSERT_FALSE(pending.empty());
  std::string bytes = "committed but never recorded";
  ASSERT_TRUE((*writer)->Append(std::as_bytes(std::span(bytes))).ok());
  ASSERT_EQ(*(*writer)->Commit(), pending);
  auto img = *repo_->Get(id);
  img.status = ImageStatus::kSaving;
  img.properties["os_glance_upload_location"] = pending;
  ASSERT_TRUE(repo_->Update(img, ImageStatus::kQueued).ok());
  std::string path = pending.substr(strlen("file://"));
  ASSERT_TRUE(fs::exists(path));
  ASSERT_TRUE(service_->RecoverAfterCrash().ok());
  auto after = service_->Get(alice_, id);
  EXPECT_EQ(after->status, ImageStatus::kQueued);
  EXPECT_FALSE(after->properties.count("os_glance_upload_location"));
  EXPECT_FALSE(fs::exists(path));
  // A retried upload succeeds.
  std::string data(1000, 'r');
  EXPECT_TRUE(service_->Upload(alice_, id, Reader(data), std::nullopt).ok());
}

TEST_F(ImageServiceTest, Tags) {
  std::string id = CreateRaw(alice_);
  ASSERT_TRUE(service_->AddTag(alice_, id, "t1").ok());
  ASSERT_TRUE(service_->AddTag(alice_, id, "t1").ok());
  EXPECT_EQ(service_->Get(alice_, id)->tags, std::vector<std::string>{"t1"});
  EXPECT_EQ(service_->AddTag(alice_, id, std::string(256, 't')).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->RemoveTag(alice_, id, "nope").code(), StatusCode::kNotFound);
  EXPECT_TRUE(service_->RemoveTag(alice_, id, "t1").ok());
  EXPECT_EQ(service_->AddTag(reader_, id, "t2").code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace glimmer::images

namespace glimmer::images {
namespace {

TEST_F(ImageServiceTest, MembersRules) {
  std::string id = CreateRaw(alice_);
  // Only shared images have members.
  ASSERT_TRUE(service_->Update(alice_, id, {{PatchOp::Op::kReplace, "visibility",
                                             Value::String("private")}}, false).ok());
  EXPECT_EQ(service_->AddMember(alice_, id, "p-bob").status().code(),
            StatusCode::kPermissionDenied);
  ASSERT_TRUE(service_->Update(alice_, id, {{PatchOp::Op::kReplace, "visibility",
                                             Value::String("shared")}}, false).ok());
  EXPECT_EQ(service_->Get(bob_, id).status().code(), StatusCode::kNotFound);
  auto m = service_->AddMember(alice_, id, "p-bob");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->status, domain::MemberStatus::kPending);
  EXPECT_EQ(service_->AddMember(alice_, id, "p-bob").status().code(),
            StatusCode::kAlreadyExists);
  // A pending member can read the image already.
  EXPECT_TRUE(service_->Get(bob_, id).ok());
  // Only the member may accept; the owner may not.
  EXPECT_EQ(service_->UpdateMember(alice_, id, "p-bob", domain::MemberStatus::kAccepted)
                .status()
                .code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(service_->UpdateMember(bob_, id, "p-bob", domain::MemberStatus::kAccepted).ok());
  // A member sees only its own row; the owner sees all.
  ASSERT_TRUE(service_->AddMember(alice_, id, "p-carol").ok());
  EXPECT_EQ(service_->ListMembers(bob_, id)->size(), 1u);
  EXPECT_EQ(service_->ListMembers(alice_, id)->size(), 2u);
  EXPECT_EQ(service_->GetMember(bob_, id, "p-carol").status().code(), StatusCode::kNotFound);
  // The member cannot remove itself; the owner can.
  EXPECT_EQ(service_->RemoveMember(bob_, id, "p-bob").code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(service_->RemoveMember(alice_, id, "p-bob").ok());
  EXPECT_EQ(service_->Get(bob_, id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->RemoveMember(alice_, id, "p-bob").code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace glimmer::images
