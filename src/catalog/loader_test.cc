// CatalogLoader against the real services: SQLite database, filesystem store, identity and
// image services, local files as sources.
#include "catalog/loader.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "db/sqlite/database.h"
#include "db/sql/identity_repository.h"
#include "db/sql/image_repository.h"
#include "domain/policy.h"
#include "identity/identity_service.h"
#include "images/image_data.h"
#include "images/image_env.h"
#include "images/image_records.h"
#include "platform/executor.h"
#include "policy/testing/default_rule_policy.h"
#include "store/filesystem/filesystem_store.h"

namespace glimmer::catalog {
namespace {

namespace fs = std::filesystem;
using Kind = EntryResult::Kind;

class CatalogLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("glimmer-catalog-loader-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "src");
    db_ = std::move(*db::sqlite::SqliteDatabase::Open((dir_ / "db.sqlite").string()));
    image_repo_ = db::sql::NewImageRepository(*db_);
    identity_repo_ = db::sql::NewIdentityRepository(*db_);
    identity::IdentityOptions iopts;
    iopts.password_iterations = 1000;
    identity_ = std::make_unique<identity::IdentityService>(*identity_repo_,
                                                             platform::Clock::Real(), iopts);
    identity::BootstrapOptions b;
    b.admin_password = "pw";
    ASSERT_TRUE(identity_->Bootstrap(b).ok());
    store_ = std::move(*store::filesystem::FilesystemStore::Create(
        "file", (dir_ / "images").string(), false));
    images::ServiceOptions o;
    o.upload_buffer_size = 4096;
    env_ = std::make_unique<images::ImageEnv>(images::ImageEnv{
        *image_repo_, images::StoreSet{{store_.get()}}, policy_, pool_, platform::Clock::Real(),
        o});
    records_ = std::make_unique<images::ImageRecords>(*env_);
    data_ = std::make_unique<images::ImageData>(*env_);
    fetcher_ = std::make_unique<SourceFetcher>(FetchOptions{(dir_ / "scratch").string()});
    loader_ = std::make_unique<CatalogLoader>(*identity_, *records_, *data_, *fetcher_);
  }
  void TearDown() override {
    loader_.reset();
    data_.reset();
    records_.reset();
    env_.reset();
    identity_.reset();
    image_repo_.reset();
    identity_repo_.reset();
    db_.reset();
    fs::remove_all(dir_);
  }

  void WriteSource(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ / "src" / name, std::ios::binary | std::ios::trunc) << bytes;
  }
  Catalog Parse(const std::string& yaml) {
    ParseOptions p;
    p.base_dir = (dir_ / "src").string();
    auto c = ParseCatalog(yaml, "test.yaml", p);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : Catalog{};
  }
  LoadReport Load(const std::string& yaml, bool dry_run = false) {
    LoadOptions lo;
    lo.dry_run = dry_run;
    auto r = loader_->Load(Parse(yaml), lo);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : LoadReport{};
  }
  // Every image of the provider, hidden ones included, oldest first.
  std::vector<domain::Image> ProviderImages(const std::string& provider, bool hidden) {
    domain::ListQuery q;
    q.scope.visibility_all = true;
    q.filters.push_back({domain::ImageColumn::kOwner, domain::FilterOp::kEq, {provider}});
    q.os_hidden = hidden;
    q.sort = {{domain::ImageColumn::kCreatedAt, true}, {domain::ImageColumn::kId, true}};
    q.limit = 100;
    auto r = records_->List(ProviderContext(provider, "provider"), q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<domain::Image>{};
  }

  fs::path dir_;
  std::unique_ptr<db::sqlite::SqliteDatabase> db_;
  std::unique_ptr<db::ImageRepository> image_repo_;
  std::unique_ptr<db::IdentityRepository> identity_repo_;
  std::unique_ptr<identity::IdentityService> identity_;
  std::unique_ptr<store::filesystem::FilesystemStore> store_;
  const domain::Policy& policy_ = policy::testing::DefaultRulePolicy();
  platform::Executor pool_{"hash", 2};
  std::unique_ptr<images::ImageEnv> env_;
  std::unique_ptr<images::ImageRecords> records_;
  std::unique_ptr<images::ImageData> data_;
  std::unique_ptr<SourceFetcher> fetcher_;
  std::unique_ptr<CatalogLoader> loader_;
};

constexpr char kCatalog[] = R"(
images:
  - name: CentOS 7
    os_distro: centos
    os_version: "7"
    login_user: centos
    disk_format: raw
    min_ram: 256
    source: {file: centos.raw}
  - name: Debian 12
    os_distro: debian
    os_version: "12"
    login_user: debian
    disk_format: raw
    tags: [linux]
    source: {file: debian.raw}
)";

TEST_F(CatalogLoaderTest, FreshLoadThenIdempotentReload) {
  WriteSource("centos.raw", std::string(10000, 'c'));
  WriteSource("debian.raw", std::string(5000, 'd'));
  LoadReport first = Load(kCatalog);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first.entries.size(), 2u);
  EXPECT_TRUE(first.created_provider_project);
  EXPECT_EQ(first.entries[0].kind, Kind::kCreated);
  EXPECT_EQ(first.entries[1].kind, Kind::kCreated);

  auto images = ProviderImages(first.provider_project_id, false);
  ASSERT_EQ(images.size(), 2u);
  const domain::Image& centos = images[0];
  EXPECT_EQ(centos.id, first.entries[0].image_id);
  EXPECT_EQ(centos.name, "CentOS 7");
  EXPECT_EQ(centos.status, domain::ImageStatus::kActive);
  EXPECT_EQ(centos.visibility, domain::Visibility::kPublic);
  EXPECT_EQ(centos.owner, first.provider_project_id);
  EXPECT_EQ(centos.size, 10000);
  EXPECT_EQ(centos.min_ram, 256);
  EXPECT_EQ(centos.properties.at("os_admin_user"), "centos");
  EXPECT_EQ(centos.properties.at("os_distro"), "centos");
  EXPECT_EQ(images[1].tags, std::vector<std::string>{"linux"});

  LoadReport second = Load(kCatalog);
  EXPECT_FALSE(second.created_provider_project);
  EXPECT_EQ(second.provider_project_id, first.provider_project_id);
  for (const auto& e : second.entries) EXPECT_EQ(e.kind, Kind::kUnchanged) << e.name;
  auto again = ProviderImages(first.provider_project_id, false);
  ASSERT_EQ(again.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(again[i].id, images[i].id);
    EXPECT_EQ(again[i].updated_at, images[i].updated_at);  // no write at all
  }
}

TEST_F(CatalogLoaderTest, ChangedMetadataUpdatesInPlaceChangedBytesReplace) {
  WriteSource("centos.raw", std::string(10000, 'c'));
  WriteSource("debian.raw", std::string(5000, 'd'));
  LoadReport first = Load(kCatalog);
  const std::string provider = first.provider_project_id;
  const std::string centos_id = first.entries[0].image_id;
  const std::string debian_id = first.entries[1].image_id;

  std::string changed = kCatalog;
  changed.replace(changed.find("min_ram: 256"), 12, "min_ram: 512");
  WriteSource("debian.raw", std::string(6000, 'D'));
  LoadReport second = Load(changed);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second.entries[0].kind, Kind::kUpdated);
  EXPECT_EQ(second.entries[0].image_id, centos_id);
  EXPECT_EQ(second.entries[0].detail, "min_ram");
  ASSERT_EQ(second.entries[1].kind, Kind::kReplaced);
  EXPECT_EQ(second.entries[1].old_image_id, debian_id);
  const std::string new_debian = second.entries[1].image_id;
  EXPECT_NE(new_debian, debian_id);

  auto visible = ProviderImages(provider, false);
  ASSERT_EQ(visible.size(), 2u);
  EXPECT_EQ(visible[0].id, centos_id);
  EXPECT_EQ(visible[0].min_ram, 512);
  EXPECT_EQ(visible[1].id, new_debian);
  EXPECT_EQ(visible[1].name, "Debian 12");
  EXPECT_EQ(visible[1].size, 6000);
  EXPECT_FALSE(visible[1].os_hidden);
  EXPECT_EQ(visible[1].properties.at("os_admin_user"), "debian");

  auto hidden = ProviderImages(provider, true);
  ASSERT_EQ(hidden.size(), 1u);
  EXPECT_EQ(hidden[0].id, debian_id);
  EXPECT_EQ(hidden[0].name, RetiredName("Debian 12", hidden[0].created_at));
  EXPECT_TRUE(hidden[0].os_hidden);
  EXPECT_EQ(hidden[0].status, domain::ImageStatus::kActive);  // old id still usable
  auto download = data_->OpenDownload(ProviderContext("", ""), debian_id);
  ASSERT_TRUE(download.ok()) << download.status().ToString();
  EXPECT_NE(download->reader, nullptr);

  // And the new state is stable.
  LoadReport third = Load(changed);
  for (const auto& e : third.entries) EXPECT_EQ(e.kind, Kind::kUnchanged) << e.name;
}

TEST_F(CatalogLoaderTest, FailedEntryLeavesNoImageAndOthersProceed) {
  WriteSource("debian.raw", std::string(5000, 'd'));
  LoadReport r = Load(kCatalog);  // centos.raw is missing
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.entries[0].kind, Kind::kFailed);
  EXPECT_NE(r.entries[0].detail.find("centos.raw"), std::string::npos) << r.entries[0].detail;
  EXPECT_EQ(r.entries[1].kind, Kind::kCreated);
  EXPECT_EQ(ProviderImages(r.provider_project_id, false).size(), 1u);

  // A digest mismatch fails after fetching, before anything is created.
  std::string bad = R"(
images:
  - name: Bad
    disk_format: raw
    source: {file: debian.raw, sha256: )" + std::string(64, '0') + "}\n";
  LoadReport r2 = Load(bad);
  ASSERT_EQ(r2.entries.size(), 1u);
  EXPECT_EQ(r2.entries[0].kind, Kind::kFailed);
  EXPECT_NE(r2.entries[0].detail.find("sha256 mismatch"), std::string::npos);
  // The Debian image is not in this catalog: reported, left alone.
  ASSERT_EQ(r2.not_in_catalog.size(), 1u);
  EXPECT_EQ(r2.not_in_catalog[0].name, "Debian 12");
  EXPECT_EQ(ProviderImages(r.provider_project_id, false).size(), 1u);
  EXPECT_TRUE(ProviderImages(r.provider_project_id, true).empty());
}

TEST_F(CatalogLoaderTest, DryRunWritesNothing) {
  WriteSource("centos.raw", "c");
  WriteSource("debian.raw", "d");
  LoadReport r = Load(kCatalog, /*dry_run=*/true);
  EXPECT_TRUE(r.provider_project_id.empty());
  EXPECT_EQ(r.entries[0].kind, Kind::kCreated);
  identity::ListFilter f;
  f.name = "provider";
  EXPECT_TRUE(identity_->ListProjects(f)->empty());
}

}  // namespace
}  // namespace glimmer::catalog
