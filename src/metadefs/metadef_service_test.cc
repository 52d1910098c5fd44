#include "metadefs/metadef_service.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "db/sql/metadef_repository.h"
#include "db/sqlite/database.h"
#include "policy/rule_policy.h"

namespace glimmer::metadefs {
namespace {

using domain::RequestContext;

RequestContext Ctx(const std::string& project, std::vector<std::string> roles) {
  RequestContext c;
  c.project_id = project;
  c.user_id = "u-" + project;
  c.roles = std::move(roles);
  c.authenticated = true;
  return c;
}

class MetadefServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("metadef_service_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto db = db::sqlite::SqliteDatabase::Open((dir_ / "g.db").string());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    repo_ = db::sql::NewMetadefRepository(*db_);
    auto policy = policy::RulePolicy::Create();
    ASSERT_TRUE(policy.ok());
    policy_ = std::move(*policy);
    service_ = std::make_unique<MetadefService>(*repo_, *policy_, clock_);
  }
  void TearDown() override {
    service_.reset();
    repo_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  NamespaceFields Fields(const std::string& name, std::optional<std::string> visibility = {}) {
    NamespaceFields f;
    f.name = name;
    f.visibility = std::move(visibility);
    return f;
  }

  std::filesystem::path dir_;
  platform::FakeClock clock_{1'700'000'000'000'000};
  std::unique_ptr<db::sqlite::SqliteDatabase> db_;
  std::unique_ptr<db::MetadefRepository> repo_;
  std::unique_ptr<policy::RulePolicy> policy_;
  std::unique_ptr<MetadefService> service_;

  RequestContext admin_ = Ctx("admin-p", {"admin", "member", "reader"});
  RequestContext member_ = Ctx("p1", {"member", "reader"});
  RequestContext reader_ = Ctx("p1", {"reader"});
  RequestContext other_ = Ctx("p2", {"member", "reader"});
};

TEST_F(MetadefServiceTest, CreateDefaultsAndAdminOnlyWrites) {
  auto created = service_->CreateNamespace(admin_, Fields("ns"), {});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->ns.visibility, "private");
  EXPECT_FALSE(created->ns.is_protected);
  EXPECT_EQ(created->ns.owner, "admin-p");
  EXPECT_EQ(service_->CreateNamespace(admin_, Fields("ns"), {}).status().code(),
            StatusCode::kAlreadyExists);

  Status denied = service_->CreateNamespace(member_, Fields("mine"), {}).status();
  EXPECT_EQ(denied.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(), "You are not authorized to complete add_metadef_namespace action.");
  EXPECT_EQ(service_->CreateNamespace(reader_, Fields("mine"), {}).status().code(),
            StatusCode::kPermissionDenied);
}

TEST_F(MetadefServiceTest, VisibilityHidesPrivateNamespacesOfOtherProjects) {
  NamespaceFields priv = Fields("priv", "private");
  priv.owner = "p1";
  ASSERT_TRUE(service_->CreateNamespace(admin_, priv, {}).ok());
  ASSERT_TRUE(service_->CreateNamespace(admin_, Fields("pub", "public"), {}).ok());
  ASSERT_TRUE(service_->CreateNamespace(admin_, Fields("adm"), {}).ok());

  auto names = [&](const RequestContext& c) {
    std::vector<std::string> out;
    auto list = service_->ListNamespaces(c, {});
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    if (list.ok()) {
      for (const auto& l : *list) out.push_back(l.ns.name);
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(names(admin_), (std::vector<std::string>{"adm", "priv", "pub"}));
  EXPECT_EQ(names(reader_), (std::vector<std::string>{"priv", "pub"}));
  EXPECT_EQ(names(other_), (std::vector<std::string>{"pub"}));

  EXPECT_TRUE(service_->GetNamespace(reader_, "priv").ok());
  auto hidden = service_->GetNamespace(other_, "priv");
  EXPECT_EQ(hidden.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(hidden.status().message(), "Metadata definition namespace=priv was not found.");
  // Writes on an invisible namespace: 404, not 403; on a visible one as non-admin: 403.
  EXPECT_EQ(service_->DeleteNamespace(other_, "priv").code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->DeleteNamespace(member_, "priv").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(service_->CreateTag(other_, "pub", "t").status().code(),
            StatusCode::kPermissionDenied);
}

TEST_F(MetadefServiceTest, ProtectedNamespaceKeepsItsContents) {
  NamespaceFields f = Fields("prot", "public");
  f.is_protected = true;
  domain::MetadefNamespaceTree contents;
  contents.properties.push_back({"p", R"({"title":"P","type":"string"})"});
  contents.tags.push_back({"t"});
  contents.associations.push_back({"OS::Glance::Image", "x_", {}});
  ASSERT_TRUE(service_->CreateNamespace(admin_, f, contents).ok());

  Status st = service_->DeleteNamespace(admin_, "prot");
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(st.message(), "Metadata definition namespace prot is protected and cannot be deleted.");
  EXPECT_EQ(service_->DeleteElement(admin_, "prot", db::MetadefElement::kProperty, "p").code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(service_->DeleteElement(admin_, "prot", db::MetadefElement::kTag, "nope").code(),
            StatusCode::kNotFound);
  EXPECT_EQ(service_->DeleteContents(admin_, "prot", db::MetadefElement::kTag).code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(service_->DeleteAssociation(admin_, "prot", "OS::Glance::Image").code(),
            StatusCode::kPermissionDenied);

  // Unprotect (PUT), then everything goes, cascading.
  f.is_protected = false;
  ASSERT_TRUE(service_->UpdateNamespace(admin_, "prot", f).ok());
  EXPECT_TRUE(service_->DeleteNamespace(admin_, "prot").ok());
  EXPECT_EQ(service_->GetNamespace(admin_, "prot").status().code(), StatusCode::kNotFound);
}

TEST_F(MetadefServiceTest, PropertyLookupStripsTheResourceTypePrefix) {
  domain::MetadefNamespaceTree contents;
  contents.properties.push_back({"cpu", R"({"title":"CPU","type":"string"})"});
  contents.associations.push_back({"OS::Glance::Image", "hw_", {}});
  ASSERT_TRUE(service_->CreateNamespace(admin_, Fields("ns", "public"), contents).ok());
  EXPECT_TRUE(service_->GetProperty(reader_, "ns", "hw_cpu", "OS::Glance::Image").ok());
  EXPECT_EQ(service_->GetProperty(reader_, "ns", "cpu", "OS::Glance::Image").status().code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(service_->GetProperty(reader_, "ns", "cpu", std::nullopt).ok());
}

TEST_F(MetadefServiceTest, TagsReplaceUnlessAppending) {
  ASSERT_TRUE(service_->CreateNamespace(admin_, Fields("ns"), {}).ok());
  ASSERT_TRUE(service_->CreateTags(admin_, "ns", {"a", "b"}, false).ok());
  ASSERT_TRUE(service_->CreateTags(admin_, "ns", {"c"}, false).ok());
  EXPECT_EQ(service_->ListTags(admin_, "ns")->size(), 1u);
  ASSERT_TRUE(service_->CreateTags(admin_, "ns", {"d"}, true).ok());
  EXPECT_EQ(service_->ListTags(admin_, "ns")->size(), 2u);
  EXPECT_EQ(service_->CreateTags(admin_, "ns", {"e", "e"}, true).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(service_->ListTags(admin_, "ns")->size(), 2u);
}

}  // namespace
}  // namespace glimmer::metadefs
