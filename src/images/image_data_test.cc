// ImageData: uploads, downloads, crash recovery, and the multi-store rules.
#include "images/image_data.h"

#include <map>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "images/testing/image_fixture.h"

namespace glimmer::images {
namespace {

using domain::ImageStatus;
using domain::RequestContext;
using testkit::ImageTest;

namespace fs = std::filesystem;

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

TEST_F(ImageTest, UploadDownloadAndStateRules) {
  std::string id = CreateRaw(alice_);
  std::string data(100000, 'x');
  data.replace(0, 5, "hello");
  ASSERT_TRUE(service_->data.Upload(alice_, id, Reader(data), data.size()).ok());
  auto img = service_->records.Get(alice_, id);
  EXPECT_EQ(img->status, ImageStatus::kActive);
  EXPECT_EQ(img->size, static_cast<int64_t>(data.size()));
  EXPECT_EQ(img->virtual_size, static_cast<int64_t>(data.size()));
  EXPECT_EQ(img->checksum, Md5Hex(data));
  EXPECT_EQ(img->os_hash_algo, "sha512");
  EXPECT_EQ(img->os_hash_value->size(), 128u);
  EXPECT_EQ(service_->data.Upload(alice_, id, Reader(data), std::nullopt).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(service_->records
                .Update(alice_, id, {domain::ReplaceStep("disk_format", {.disk_format = "qcow2"})},
                        false)
                .status()
                .code(),
            StatusCode::kPermissionDenied);
  auto dl = service_->data.OpenDownload(alice_, id);
  ASSERT_TRUE(dl.ok());
  ASSERT_TRUE(dl->reader);
  std::string back(data.size(), '\0');
  auto n = dl->reader->ReadAt(0, std::as_writable_bytes(std::span(back)));
  EXPECT_EQ(*n, data.size());
  EXPECT_EQ(back, data);
  // Readers cannot download.
  EXPECT_EQ(service_->data.OpenDownload(reader_, id).status().code(),
            StatusCode::kPermissionDenied);
  // Deactivation blocks non-admin downloads only.
  ASSERT_TRUE(service_->records.Deactivate(alice_, id).ok());
  ASSERT_TRUE(service_->records.Deactivate(alice_, id).ok());  // no-op
  EXPECT_EQ(service_->data.OpenDownload(alice_, id).status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(service_->data.OpenDownload(admin_, id).ok());
  ASSERT_TRUE(service_->records.Reactivate(alice_, id).ok());
  // Protected images cannot be deleted.
  auto set_protected = [](bool p) {
    return std::vector{domain::ReplaceStep("protected", {.is_protected = p})};
  };
  ASSERT_TRUE(service_->records.Update(alice_, id, set_protected(true), false).ok());
  EXPECT_EQ(service_->records.Delete(alice_, id).code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(service_->records.Update(alice_, id, set_protected(false), false).ok());
  std::string path = img->locations.at(0).url.substr(strlen("file://"));
  EXPECT_TRUE(fs::exists(path));
  ASSERT_TRUE(service_->records.Delete(alice_, id).ok());
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(service_->records.Get(alice_, id).status().code(), StatusCode::kNotFound);
}

TEST_F(ImageTest, FailedUploadsReturnToQueuedWithoutData) {
  std::string id = CreateRaw(alice_);
  std::string data(50000, 'y');
  // Size mismatch with the declared size.
  EXPECT_EQ(service_->data.Upload(alice_, id, Reader(data), 40000).code(),
            StatusCode::kInvalidArgument);
  auto img = service_->records.Get(alice_, id);
  EXPECT_EQ(img->status, ImageStatus::kQueued);
  EXPECT_FALSE(img->size);
  // Body read failure in the middle.
  int calls = 0;
  auto broken = [&](std::span<std::byte> out) -> StatusOr<size_t> {
    if (++calls > 3) return AbortedError("client went away");
    std::memset(out.data(), 'z', out.size());
    return out.size();
  };
  EXPECT_EQ(service_->data.Upload(alice_, id, broken, std::nullopt).code(), StatusCode::kAborted);
  EXPECT_EQ(service_->records.Get(alice_, id)->status, ImageStatus::kQueued);
  // Size cap.
  Make(/*cap=*/10000);
  EXPECT_EQ(service_->data.Upload(alice_, id, Reader(data), std::nullopt).code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(service_->data.Upload(alice_, id, Reader(data), 50000).code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(service_->records.Get(alice_, id)->status, ImageStatus::kQueued);
  // No data files anywhere.
  size_t files = 0;
  for (auto& e : fs::recursive_directory_iterator(dir_ / "images")) files += e.is_regular_file();
  EXPECT_EQ(files, 0u);
  // Formats must be set first.
  auto bare = service_->records.Create(alice_, {});
  EXPECT_EQ(service_->data.Upload(alice_, bare->id, Reader(data), std::nullopt).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(ImageTest, RecoveryReturnsSavingImagesToQueued) {
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
  ASSERT_TRUE(service_->data.RecoverAfterCrash().ok());
  auto after = service_->records.Get(alice_, id);
  EXPECT_EQ(after->status, ImageStatus::kQueued);
  EXPECT_FALSE(after->properties.count("os_glance_upload_location"));
  EXPECT_FALSE(fs::exists(path));
  // A retried upload succeeds.
  std::string data(1000, 'r');
  EXPECT_TRUE(service_->data.Upload(alice_, id, Reader(data), std::nullopt).ok());
}
}  // namespace
}  // namespace glimmer::images

// ---- Multi-store: delete from one store, ?prefer=, store weights, upload to a named store ----
namespace glimmer::images {
namespace {

// Forwards to a real store; Delete() can be made to fail (e.g. FailedPrecondition: the data is
// in use, as an RBD image with clones).
class DeleteFaultStore final : public store::Store {
 public:
  explicit DeleteFaultStore(store::Store& base) : base_(base) {}
  const store::StoreInfo& info() const override { return base_.info(); }
  StatusOr<std::unique_ptr<store::Writer>> NewWriter(std::string_view image_id,
                                                     std::optional<int64_t> size_hint) override {
    return base_.NewWriter(image_id, size_hint);
  }
  StatusOr<std::unique_ptr<store::Reader>> Open(std::string_view location) override {
    return base_.Open(location);
  }
  Status Delete(std::string_view location) override {
    ++deletes;
    if (!delete_error.ok()) return delete_error;
    return base_.Delete(location);
  }
  bool Owns(std::string_view location) const override { return base_.Owns(location); }
  Status CleanupIncomplete() override { return base_.CleanupIncomplete(); }

  Status delete_error;
  int deletes = 0;

 private:
  store::Store& base_;
};

class MultiStoreTest : public ImageTest {
 protected:
  void SetUp() override {
    ImageTest::SetUp();
    for (const char* name : {"fast", "cheap", "slow"}) {
      auto s = store::filesystem::FilesystemStore::Create(name, (dir_ / name).string(), false);
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      fs_[name] = std::move(*s);
    }
    fs_["fast"]->set_is_default(true);
    cheap_ = std::make_unique<DeleteFaultStore>(*fs_["cheap"]);
    ServiceOptions o;
    o.upload_buffer_size = 4096;
    StoreSet set{{fs_["slow"].get(), cheap_.get(), fs_["fast"].get()}, /*multistore=*/true};
    multi_ = std::make_unique<testkit::Components>(
        ImageEnv{*repo_, set, policy_, pool_, platform::Clock::Real(), o});
  }
  void TearDown() override {
    multi_.reset();
    ImageTest::TearDown();
  }
  // An active image of alice's, uploaded to the default store ("fast") with `data`, plus a copy
  // in "cheap" holding `cheap_data` (same size: which copy a download read shows in its bytes).
  std::string TwoCopies(const std::string& data, const std::string& cheap_data) {
    auto img = multi_->records.Create(alice_, {.container_format = "bare", .disk_format = "raw"});
    EXPECT_TRUE(img.ok());
    EXPECT_TRUE(multi_->data.Upload(alice_, img->id, Reader(data), data.size()).ok());
    auto writer = cheap_->NewWriter(img->id, cheap_data.size());
    EXPECT_TRUE((*writer)->Append(std::as_bytes(std::span(cheap_data))).ok());
    auto loc = (*writer)->Commit();
    auto image = *repo_->Get(img->id);
    image.locations.push_back({"cheap", *loc, "{\"store\": \"cheap\"}"});
    EXPECT_TRUE(repo_->Update(image, ImageStatus::kActive).ok());
    return img->id;
  }
  std::string Read(const RequestContext& ctx, const std::string& id,
                   std::vector<std::string> prefer = {}) {
    auto dl = multi_->data.OpenDownload(ctx, id, prefer);
    if (!dl.ok()) return "error: " + dl.status().ToString();
    std::string back(static_cast<size_t>(dl->reader->size()), '\0');
    auto n = dl->reader->ReadAt(0, std::as_writable_bytes(std::span(back)));
    EXPECT_TRUE(n.ok());
    return back;
  }
  std::string PathIn(const std::string& id, const std::string& store_id) {
    auto image = repo_->Get(id);
    for (const auto& l : image->locations) {
      if (l.store_id == store_id) return l.url.substr(strlen("file://"));
    }
    return "";
  }
  std::vector<std::string> StoresOf(const std::string& id) {
    std::vector<std::string> out;
    auto image = multi_->records.Get(admin_, id);
    if (!image.ok()) return {image.status().ToString()};
    for (const auto& l : image->locations) out.push_back(l.store_id);
    return out;
  }

  std::map<std::string, std::unique_ptr<store::filesystem::FilesystemStore>> fs_;
  std::unique_ptr<DeleteFaultStore> cheap_;
  std::unique_ptr<testkit::Components> multi_;
};

TEST_F(MultiStoreTest, DeleteFromStoreFollowsGlanceRulesInItsOrder) {
  const std::string data(3000, 'f'), copy(3000, 'c');
  std::string id = TwoCopies(data, copy);
  auto code = [&](const RequestContext& ctx, std::string_view store, std::string_view image) {
    return multi_->data.DeleteFromStore(ctx, store, image);
  };
  // A single store configured: plain 404, whatever the store and image.
  EXPECT_EQ(service_->data.DeleteFromStore(admin_, "fast", id).code(), StatusCode::kNotFound);
  // Unknown store (checked before the image): 409.
  Status st = code(admin_, "nowhere", "not-even-an-id");
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(), "The selected store nowhere is not available on this node.");
  st = code(admin_, "cheap", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_EQ(st.message(), "Failed to find image aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
  // Not visible to bob (alice's image is shared without members): 404; the owner and its
  // readers may see locations but not delete them (admin only): 403.
  EXPECT_EQ(code(bob_, "cheap", id).code(), StatusCode::kNotFound);
  EXPECT_EQ(code(alice_, "cheap", id).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(code(reader_, "cheap", id).code(), StatusCode::kPermissionDenied);
  // Not in that store (it holds copies in fast and cheap): 404.
  st = code(admin_, "slow", id);
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_EQ(st.message(), "Image " + id + " is not stored in store slow.");
  EXPECT_EQ(StoresOf(id), (std::vector<std::string>{"fast", "cheap"}));

  const std::string cheap_path = PathIn(id, "cheap");
  ASSERT_TRUE(fs::exists(cheap_path));
  ASSERT_TRUE(code(admin_, "cheap", id).ok());
  EXPECT_FALSE(fs::exists(cheap_path));
  EXPECT_EQ(StoresOf(id), std::vector<std::string>{"fast"});
  EXPECT_EQ(multi_->records.Get(alice_, id)->status, ImageStatus::kActive);
  EXPECT_EQ(Read(alice_, id), data);
  // Now its only copy: 403, nothing changes.
  st = code(admin_, "fast", id);
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(st.message(),
            "Cannot delete image data from the only store containing it. Consider "
            "deleting the image instead.");
  EXPECT_EQ(Read(alice_, id), data);
  // A store it is not in, with one copy left: the only-copy rule comes first (Glance's order).
  EXPECT_EQ(code(admin_, "slow", id).code(), StatusCode::kPermissionDenied);

  // Not active (status checked before the locations): 409.
  std::string other = TwoCopies(data, copy);
  ASSERT_TRUE(multi_->records.Deactivate(alice_, other).ok());
  st = code(admin_, "cheap", other);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(),
            "It's not allowed to remove image data from store if image status is not 'active'");
  auto queued = multi_->records.Create(alice_, {});
  EXPECT_EQ(code(admin_, "cheap", queued->id).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(StoresOf(other), (std::vector<std::string>{"fast", "cheap"}));
}

TEST_F(MultiStoreTest, DeleteFromStoreInUseChangesNothing) {
  const std::string data(2000, 'f'), copy(2000, 'c');
  std::string id = TwoCopies(data, copy);
  const std::string cheap_path = PathIn(id, "cheap");
  cheap_->delete_error = FailedPreconditionError("the image has snapshots");
  Status st = multi_->data.DeleteFromStore(admin_, "cheap", id);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(), "The data for Image " + id +
                              " could not be deleted because it is in use: the image has "
                              "snapshots");
  EXPECT_EQ(StoresOf(id), (std::vector<std::string>{"fast", "cheap"}));
  EXPECT_TRUE(fs::exists(cheap_path));
  EXPECT_EQ(Read(alice_, id, {"cheap"}), copy);
  // Any other store failure: 500, the copy is kept and recorded too.
  cheap_->delete_error = UnavailableError("permission denied");
  EXPECT_EQ(multi_->data.DeleteFromStore(admin_, "cheap", id).code(), StatusCode::kInternal);
  EXPECT_EQ(StoresOf(id), (std::vector<std::string>{"fast", "cheap"}));
  // Data that is already gone from the store is not an error: the location goes.
  cheap_->delete_error = OkStatus();
  fs::remove(cheap_path);
  EXPECT_TRUE(multi_->data.DeleteFromStore(admin_, "cheap", id).ok());
  EXPECT_EQ(StoresOf(id), std::vector<std::string>{"fast"});
}

TEST_F(MultiStoreTest, DeletingAnImageDeletesEveryCopyOrStopsWhenOneIsInUse) {
  const std::string data(1000, 'f'), copy(1000, 'c');
  std::string id = TwoCopies(data, copy);
  const std::string fast_path = PathIn(id, "fast"), cheap_path = PathIn(id, "cheap");
  cheap_->delete_error = FailedPreconditionError("the image has clones");
  Status st = multi_->records.Delete(alice_, id);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(),
            "Image " + id + " could not be deleted because it is in use: the image has clones");
  // As Glance: the copies deleted before the refusal are gone, the image keeps the rest.
  EXPECT_FALSE(fs::exists(fast_path));
  EXPECT_TRUE(fs::exists(cheap_path));
  EXPECT_EQ(StoresOf(id), std::vector<std::string>{"cheap"});
  EXPECT_EQ(Read(alice_, id), copy);
  cheap_->delete_error = OkStatus();
  ASSERT_TRUE(multi_->records.Delete(alice_, id).ok());
  EXPECT_FALSE(fs::exists(cheap_path));
  EXPECT_EQ(multi_->records.Get(admin_, id).status().code(), StatusCode::kNotFound);

  std::string both = TwoCopies(data, copy);
  const std::string a = PathIn(both, "fast"), b = PathIn(both, "cheap");
  ASSERT_TRUE(multi_->records.Delete(alice_, both).ok());
  EXPECT_FALSE(fs::exists(a));
  EXPECT_FALSE(fs::exists(b));
}

TEST_F(MultiStoreTest, PreferReadsTheNamedStoreFirstAndFallsBack) {
  const std::string data(4000, 'f'), copy(4000, 'c');
  std::string id = TwoCopies(data, copy);
  EXPECT_EQ(Read(alice_, id), data);  // recorded order: the upload's store first
  EXPECT_EQ(Read(alice_, id, {"cheap"}), copy);
  EXPECT_EQ(Read(alice_, id, {"fast"}), data);
  EXPECT_EQ(Read(alice_, id, {"slow"}), data);           // no copy there: default order
  EXPECT_EQ(Read(alice_, id, {"slow", "cheap"}), copy);  // the list's order
  EXPECT_EQ(Read(alice_, id, {"cheap", "fast"}), copy);
  EXPECT_EQ(Read(alice_, id, {"fast", "cheap"}), data);
  EXPECT_EQ(multi_->data.OpenDownload(bob_, id, {"cheap"}).status().code(), StatusCode::kNotFound);
  auto bad = multi_->data.OpenDownload(alice_, id, {"cheap", "nowhere"});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "Store 'nowhere' is not configured.");
  auto single = service_->data.OpenDownload(alice_, CreateRaw(alice_), {"file"});
  EXPECT_EQ(single.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(single.status().message(),
            "Store selection for download is not available when "
            "multiple backends are not enabled.");
  // Readers may not download at all (download_image comes first).
  EXPECT_EQ(multi_->data.OpenDownload(reader_, id, {"cheap"}).status().code(),
            StatusCode::kPermissionDenied);
  // The preferred copy is missing from its store: the next location serves the download.
  fs::remove(PathIn(id, "cheap"));
  EXPECT_EQ(Read(alice_, id, {"cheap"}), data);
}

TEST_F(MultiStoreTest, StoreWeightsOrderLocations) {
  const std::string data(500, 'f'), copy(500, 'c');
  std::string id = TwoCopies(data, copy);
  fs_["cheap"]->set_weight(10);
  EXPECT_EQ(StoresOf(id), (std::vector<std::string>{"cheap", "fast"}));
  EXPECT_EQ(Read(alice_, id), copy);
  EXPECT_EQ(Read(alice_, id, {"fast"}), data);  // an explicit preference still wins
  domain::ListQuery q;
  q.sort = {{domain::ImageColumn::kCreatedAt, true}, {domain::ImageColumn::kId, true}};
  q.limit = 10;
  auto listed = multi_->records.List(admin_, q);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().locations.front().store_id, "cheap");
  fs_["fast"]->set_weight(20);
  EXPECT_EQ(Read(alice_, id), data);
  fs_["cheap"]->set_weight(0);
  fs_["fast"]->set_weight(0);
}

TEST_F(MultiStoreTest, UploadGoesToTheNamedStore) {
  auto img = multi_->records.Create(alice_, {.container_format = "bare", .disk_format = "raw"});
  const std::string data(700, 'u');
  Status st = multi_->data.Upload(alice_, img->id, Reader(data), data.size(), "nowhere");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "Store for identifier nowhere not found");
  EXPECT_EQ(multi_->records.Get(alice_, img->id)->status, ImageStatus::kQueued);
  ASSERT_TRUE(multi_->data.Upload(alice_, img->id, Reader(data), data.size(), "slow").ok());
  auto got = multi_->records.Get(alice_, img->id);
  ASSERT_EQ(got->locations.size(), 1u);
  EXPECT_EQ(got->locations[0].store_id, "slow");
  EXPECT_EQ(got->locations[0].metadata_json, "{\"store\": \"slow\"}");
  EXPECT_TRUE(fs::exists(dir_ / "slow" / img->id));
  // Without a store: the default one, wherever it is in the configured order.
  auto other = multi_->records.Create(alice_, {.container_format = "bare", .disk_format = "raw"});
  ASSERT_TRUE(multi_->data.Upload(alice_, other->id, Reader(data), data.size()).ok());
  EXPECT_EQ(multi_->records.Get(alice_, other->id)->locations.at(0).store_id, "fast");
}

}  // namespace
}  // namespace glimmer::images
