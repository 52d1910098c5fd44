#include "db/sql/metadef_repository.h"

#include <gtest/gtest.h>

#include "db/sql/testing/test_database.h"

namespace glimmer::db::sql {
namespace {

using domain::MetadefAssociation;
using domain::MetadefNamespace;
using domain::MetadefNamespaceTree;
using domain::MetadefObject;
using domain::MetadefProperty;
using domain::MetadefTag;

MetadefNamespaceTree Tree(const std::string& name, const std::string& owner,
                          std::optional<std::string> visibility, UnixMicros created) {
  MetadefNamespaceTree t;
  t.ns.name = name;
  t.ns.owner = owner;
  t.ns.visibility = std::move(visibility);
  t.ns.created_at = t.ns.updated_at = created;
  return t;
}

std::vector<std::string> Names(const std::vector<MetadefNamespace>& v) {
  std::vector<std::string> out;
  for (const auto& ns : v) out.push_back(ns.name);
  return out;
}

class MetadefRepositoryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    GLIMMER_SKIP_UNLESS_AVAILABLE(test_db_);
    db_ = test_db_.Open();
    ASSERT_NE(db_, nullptr);
    repo_ = NewMetadefRepository(*db_);
  }
  testing::TestDatabase test_db_{GetParam()};
  std::unique_ptr<Database> db_;
  std::unique_ptr<MetadefRepository> repo_;
};

TEST_P(MetadefRepositoryTest, CreateTreeRoundTripsAndIsAtomic) {
  MetadefNamespaceTree t = Tree("OS::Test", "admin", std::nullopt, 100);
  t.ns.display_name = "Test";
  t.ns.is_protected = true;
  t.associations.push_back({"OS::Glance::Image", "hw_", std::nullopt, 100, 100});
  t.properties.push_back({"cpu", R"({"title":"CPU","type":"string"})", 100, 100});
  t.objects.push_back({"obj", "d", R"(["a"])", R"({"a":{"type":"string"}})", 100, 100});
  t.tags.push_back({"t1", 100, 100});
  ASSERT_TRUE(repo_->CreateNamespace(t, true).ok());

  auto ns = repo_->GetNamespace("OS::Test");
  ASSERT_TRUE(ns.ok()) << ns.status().ToString();
  EXPECT_EQ(ns->display_name, "Test");
  EXPECT_FALSE(ns->visibility.has_value());
  EXPECT_TRUE(ns->is_protected);
  EXPECT_EQ(ns->owner, "admin");
  auto assoc = repo_->ListAssociations("OS::Test");
  ASSERT_TRUE(assoc.ok());
  ASSERT_EQ(assoc->size(), 1u);
  EXPECT_EQ((*assoc)[0].prefix, "hw_");
  EXPECT_FALSE((*assoc)[0].properties_target.has_value());
  auto types = repo_->ListResourceTypes();
  ASSERT_TRUE(types.ok());
  ASSERT_EQ(types->size(), 1u);
  EXPECT_TRUE((*types)[0].is_protected);
  auto prop = repo_->GetProperty("OS::Test", "cpu");
  ASSERT_TRUE(prop.ok());
  EXPECT_EQ(prop->schema_json, R"({"title":"CPU","type":"string"})");
  auto obj = repo_->GetObject("OS::Test", "obj");
  ASSERT_TRUE(obj.ok());
  EXPECT_EQ(obj->required_json, R"(["a"])");
  EXPECT_EQ(obj->description, "d");

  // Same name: AlreadyExists with Glance's message, nothing else written.
  MetadefNamespaceTree dup = Tree("OS::Test", "p", "public", 200);
  Status st = repo_->CreateNamespace(dup, false);
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(st.message(), "The metadata definition namespace=OS::Test already exists.");
  // A duplicate inside the tree rolls the whole namespace back.
  MetadefNamespaceTree bad = Tree("OS::Bad", "p", "public", 200);
  bad.tags = {{"x", 1, 1}, {"x", 1, 1}};
  EXPECT_EQ(repo_->CreateNamespace(bad, false).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(repo_->GetNamespace("OS::Bad").status().code(), StatusCode::kNotFound);
}

TEST_P(MetadefRepositoryTest, ListScopesFiltersAndPages) {
  ASSERT_TRUE(repo_->CreateNamespace(Tree("a", "p1", "private", 1), false).ok());
  ASSERT_TRUE(repo_->CreateNamespace(Tree("b", "p2", "public", 2), false).ok());
  ASSERT_TRUE(repo_->CreateNamespace(Tree("c", "p2", "private", 3), false).ok());
  ASSERT_TRUE(repo_->CreateNamespace(Tree("d", "admin", std::nullopt, 4), false).ok());
  ASSERT_TRUE(repo_->CreateAssociation("a", {"OS::Glance::Image", {}, {}, 5, 5}).ok());
  ASSERT_TRUE(repo_->CreateAssociation("b", {"OS::Nova::Flavor", {}, {}, 5, 5}).ok());

  MetadefNamespaceQuery q;
  EXPECT_EQ(Names(*repo_->ListNamespaces(q)), (std::vector<std::string>{"d", "c", "b", "a"}));
  q.visible_to = "p1";
  EXPECT_EQ(Names(*repo_->ListNamespaces(q)), (std::vector<std::string>{"b", "a"}));
  q.visibility = "public";
  EXPECT_EQ(Names(*repo_->ListNamespaces(q)), (std::vector<std::string>{"b"}));
  q.visibility.reset();
  q.resource_types = {"OS::Glance::Image", "OS::Cinder::Volume"};
  EXPECT_EQ(Names(*repo_->ListNamespaces(q)), (std::vector<std::string>{"a"}));

  MetadefNamespaceQuery page;
  page.limit = 2;
  page.ascending = true;
  EXPECT_EQ(Names(*repo_->ListNamespaces(page)), (std::vector<std::string>{"a", "b"}));
  page.marker = "b";
  EXPECT_EQ(Names(*repo_->ListNamespaces(page)), (std::vector<std::string>{"c", "d"}));
  page.sort_key = "visibility";  // NULL sorts first, as ''
  page.marker.reset();
  page.limit = 10;
  EXPECT_EQ(Names(*repo_->ListNamespaces(page)), (std::vector<std::string>{"d", "a", "c", "b"}));
  page.marker = "a";
  EXPECT_EQ(Names(*repo_->ListNamespaces(page)), (std::vector<std::string>{"c", "b"}));
  page.marker = "zz";
  EXPECT_EQ(repo_->ListNamespaces(page).status().code(), StatusCode::kNotFound);
}

TEST_P(MetadefRepositoryTest, ElementsAreUniquePerNamespaceAndCascade) {
  ASSERT_TRUE(repo_->CreateNamespace(Tree("n1", "p", "public", 1), false).ok());
  ASSERT_TRUE(repo_->CreateNamespace(Tree("n2", "p", "public", 2), false).ok());
  MetadefProperty p{"x", R"({"type":"string","title":"X"})", 1, 1};
  ASSERT_TRUE(repo_->CreateProperty("n1", p).ok());
  ASSERT_TRUE(repo_->CreateProperty("n2", p).ok());
  Status dup = repo_->CreateProperty("n1", p);
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.message(),
            "A metadata definition property with name=x already exists in namespace=n1.");
  EXPECT_EQ(repo_->CreateProperty("nope", p).code(), StatusCode::kNotFound);

  // Rename, and rename onto an existing name.
  ASSERT_TRUE(repo_->CreateProperty("n1", {"y", "{}", 1, 1}).ok());
  EXPECT_TRUE(repo_->UpdateProperty("n1", "x", {"z", R"({"type":"integer"})", 1, 2}).ok());
  EXPECT_EQ(repo_->GetProperty("n1", "x").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->GetProperty("n1", "z")->schema_json, R"({"type":"integer"})");
  EXPECT_EQ(repo_->UpdateProperty("n1", "z", {"y", "{}", 1, 2}).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(repo_->UpdateProperty("n1", "missing", {"q", "{}", 1, 2}).code(),
            StatusCode::kNotFound);

  ASSERT_TRUE(repo_->CreateObject("n1", {"o", std::nullopt, "[]", "{}", 1, 1}).ok());
  EXPECT_EQ(repo_->CreateObject("n1", {"o", std::nullopt, "[]", "{}", 1, 1}).code(),
            StatusCode::kAlreadyExists);
  ASSERT_TRUE(repo_->CreateTag("n1", {"t", 1, 1}).ok());

  // Tags: replace vs append.
  ASSERT_TRUE(repo_->CreateTags("n1", {{"a", 1, 1}, {"b", 1, 1}}, false).ok());
  EXPECT_EQ(repo_->ListTags("n1")->size(), 2u);
  ASSERT_TRUE(repo_->CreateTags("n1", {{"c", 1, 1}}, true).ok());
  EXPECT_EQ(repo_->ListTags("n1")->size(), 3u);
  EXPECT_EQ(repo_->CreateTags("n1", {{"d", 1, 1}, {"a", 1, 1}}, true).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(repo_->ListTags("n1")->size(), 3u);  // rolled back

  EXPECT_TRUE(repo_->DeleteElement("n1", MetadefElement::kTag, "a").ok());
  EXPECT_EQ(repo_->DeleteElement("n1", MetadefElement::kTag, "a").code(), StatusCode::kNotFound);
  EXPECT_TRUE(repo_->DeleteAll("n1", MetadefElement::kTag).ok());
  EXPECT_TRUE(repo_->ListTags("n1")->empty());

  // Associations: duplicate, delete, unknown.
  ASSERT_TRUE(repo_->CreateAssociation("n1", {"R", "p_", {}, 1, 1}).ok());
  EXPECT_EQ(repo_->CreateAssociation("n1", {"R", {}, {}, 1, 1}).code(),
            StatusCode::kAlreadyExists);
  EXPECT_TRUE(repo_->DeleteAssociation("n1", "R").ok());
  EXPECT_EQ(repo_->DeleteAssociation("n1", "R").code(), StatusCode::kNotFound);
  ASSERT_TRUE(repo_->CreateAssociation("n1", {"R", {}, {}, 1, 1}).ok());

  // Namespace delete cascades; resource types remain; n2 untouched.
  ASSERT_TRUE(repo_->DeleteNamespace("n1").ok());
  EXPECT_EQ(repo_->ListProperties("n1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->DeleteNamespace("n1").code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->ListResourceTypes()->size(), 1u);
  EXPECT_EQ(repo_->ListProperties("n2")->size(), 1u);
  ASSERT_TRUE(repo_->CreateNamespace(Tree("n1", "p", "public", 3), false).ok());
  EXPECT_TRUE(repo_->ListProperties("n1")->empty());
}

TEST_P(MetadefRepositoryTest, UpdateNamespaceRenamesAndRefusesDuplicates) {
  ASSERT_TRUE(repo_->CreateNamespace(Tree("a", "p", "public", 1), false).ok());
  ASSERT_TRUE(repo_->CreateNamespace(Tree("b", "p", "public", 2), false).ok());
  MetadefNamespace ns = *repo_->GetNamespace("a");
  ns.name = "a2";
  ns.description = "new";
  ASSERT_TRUE(repo_->UpdateNamespace("a", ns).ok());
  EXPECT_EQ(repo_->GetNamespace("a2")->description, "new");
  ns.name = "b";
  EXPECT_EQ(repo_->UpdateNamespace("a2", ns).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(repo_->UpdateNamespace("zz", ns).code(), StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Engines, MetadefRepositoryTest,
                         ::testing::ValuesIn(testing::Engines()), testing::EngineName);

}  // namespace
}  // namespace glimmer::db::sql
