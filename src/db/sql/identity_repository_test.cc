#include "db/sql/identity_repository.h"

#include <gtest/gtest.h>

#include "db/sql/testing/test_database.h"

namespace glimmer::db::sql {
namespace {

using domain::IdentityDomain;
using domain::Project;
using domain::Role;
using domain::RoleAssignment;
using domain::Token;
using domain::User;

class IdentityRepositoryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    GLIMMER_SKIP_UNLESS_AVAILABLE(test_db_);
    db_ = test_db_.Open();
    ASSERT_NE(db_, nullptr);
    repo_ = NewIdentityRepository(*db_);
    ASSERT_TRUE(repo_->CreateDomain({"default", "Default", "The default domain", true}).ok());
    ASSERT_TRUE(repo_->CreateDomain({"other", "Other", "", false}).ok());
  }

  static Project MakeProject(std::string id, std::string name, std::string domain = "default") {
    Project p;
    p.id = std::move(id);
    p.name = std::move(name);
    p.domain_id = std::move(domain);
    p.description = "desc of " + p.name;
    return p;
  }
  static User MakeUser(std::string id, std::string name, std::string domain = "default") {
    User u;
    u.id = std::move(id);
    u.name = std::move(name);
    u.domain_id = std::move(domain);
    u.password_hash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA";
    return u;
  }
  static Token MakeToken(std::string digest, std::string user, std::string project,
                         UnixMicros expires) {
    return Token{std::move(digest), std::move(user), std::move(project), "audit", 1, expires,
                 false};
  }

  testing::TestDatabase test_db_{GetParam()};
  std::unique_ptr<Database> db_;
  std::unique_ptr<IdentityRepository> repo_;
};

TEST_P(IdentityRepositoryTest, Domains) {
  auto d = repo_->GetDomain("default");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->name, "Default");
  EXPECT_EQ(d->description, "The default domain");
  EXPECT_TRUE(d->enabled);
  auto o = repo_->GetDomainByName("Other");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->id, "other");
  EXPECT_FALSE(o->enabled);
  EXPECT_EQ(repo_->GetDomain("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->GetDomainByName("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->CreateDomain({"default", "X", "", true}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(repo_->CreateDomain({"x", "Default", "", true}).code(), StatusCode::kAlreadyExists);
  auto all = repo_->ListDomains();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
}

TEST_P(IdentityRepositoryTest, ProjectsCrudAndUniqueness) {
  Project p = MakeProject("p1", "demo");
  p.is_domain = false;
  ASSERT_TRUE(repo_->CreateProject(p).ok());
  EXPECT_EQ(repo_->CreateProject(MakeProject("p2", "demo")).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(repo_->CreateProject(MakeProject("p1", "other-name")).code(),
            StatusCode::kAlreadyExists);
  ASSERT_TRUE(repo_->CreateProject(MakeProject("p3", "demo", "other")).ok());  // other domain
  EXPECT_EQ(repo_->CreateProject(MakeProject("p4", "x", "no-domain")).code(),
            StatusCode::kNotFound);

  auto got = repo_->GetProject("p1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "demo");
  EXPECT_EQ(got->description, "desc of demo");
  EXPECT_TRUE(got->enabled);
  auto by_name = repo_->GetProjectByName("other", "demo");
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(by_name->id, "p3");
  EXPECT_EQ(repo_->GetProjectByName("default", "none").status().code(), StatusCode::kNotFound);

  p.enabled = false;
  p.description = "changed";
  ASSERT_TRUE(repo_->UpdateProject(p).ok());
  got = repo_->GetProject("p1");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->enabled);
  EXPECT_EQ(got->description, "changed");
  EXPECT_EQ(repo_->UpdateProject(MakeProject("zz", "zz")).code(), StatusCode::kNotFound);
  ASSERT_TRUE(repo_->CreateProject(MakeProject("p5", "second")).ok());
  Project clash = MakeProject("p5", "demo");
  EXPECT_EQ(repo_->UpdateProject(clash).code(), StatusCode::kAlreadyExists);

  auto all = repo_->ListProjects();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  ASSERT_TRUE(repo_->DeleteProject("p1").ok());
  EXPECT_EQ(repo_->DeleteProject("p1").code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->GetProject("p1").status().code(), StatusCode::kNotFound);
}

TEST_P(IdentityRepositoryTest, UsersCrudAndUniqueness) {
  User u = MakeUser("u1", "alice");
  u.email = "alice@example.org";
  u.default_project_id = "p1";
  ASSERT_TRUE(repo_->CreateUser(u).ok());
  EXPECT_EQ(repo_->CreateUser(MakeUser("u2", "alice")).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(repo_->CreateUser(MakeUser("u3", "alice", "other")).ok());
  auto got = repo_->GetUser("u1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->email, "alice@example.org");
  EXPECT_EQ(got->default_project_id, "p1");
  EXPECT_EQ(got->password_hash, u.password_hash);
  auto by_name = repo_->GetUserByName("other", "alice");
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(by_name->id, "u3");
  EXPECT_FALSE(by_name->email.has_value());

  u.email = std::nullopt;
  u.password_hash = "new-hash";
  u.enabled = false;
  ASSERT_TRUE(repo_->UpdateUser(u).ok());
  got = repo_->GetUser("u1");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->email.has_value());
  EXPECT_EQ(got->password_hash, "new-hash");
  EXPECT_FALSE(got->enabled);
  EXPECT_EQ(repo_->UpdateUser(MakeUser("nobody", "x")).code(), StatusCode::kNotFound);

  auto all = repo_->ListUsers();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
  ASSERT_TRUE(repo_->DeleteUser("u1").ok());
  EXPECT_EQ(repo_->DeleteUser("u1").code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->GetUser("u1").status().code(), StatusCode::kNotFound);
}

TEST_P(IdentityRepositoryTest, RolesUniqueByName) {
  ASSERT_TRUE(repo_->CreateRole({"r1", "admin", std::nullopt, ""}).ok());
  EXPECT_EQ(repo_->CreateRole({"r2", "admin", std::nullopt, ""}).code(),
            StatusCode::kAlreadyExists);
  ASSERT_TRUE(repo_->CreateRole({"r3", "member", "default", "members"}).ok());
  auto got = repo_->GetRoleByName("member");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->id, "r3");
  EXPECT_EQ(got->domain_id, "default");
  auto admin = repo_->GetRole("r1");
  ASSERT_TRUE(admin.ok());
  EXPECT_FALSE(admin->domain_id.has_value());
  auto all = repo_->ListRoles();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
  ASSERT_TRUE(repo_->DeleteRole("r1").ok());
  EXPECT_EQ(repo_->DeleteRole("r1").code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->GetRoleByName("admin").status().code(), StatusCode::kNotFound);
}

TEST_P(IdentityRepositoryTest, AssignmentsAndCascades) {
  ASSERT_TRUE(repo_->CreateProject(MakeProject("p1", "one")).ok());
  ASSERT_TRUE(repo_->CreateProject(MakeProject("p2", "two")).ok());
  ASSERT_TRUE(repo_->CreateUser(MakeUser("u1", "alice")).ok());
  ASSERT_TRUE(repo_->CreateUser(MakeUser("u2", "bob")).ok());
  ASSERT_TRUE(repo_->CreateRole({"r1", "admin", std::nullopt, ""}).ok());
  ASSERT_TRUE(repo_->CreateRole({"r2", "member", std::nullopt, ""}).ok());

  ASSERT_TRUE(repo_->AddAssignment({"p1", "u1", "r1"}).ok());
  ASSERT_TRUE(repo_->AddAssignment({"p1", "u1", "r1"}).ok());  // idempotent
  ASSERT_TRUE(repo_->AddAssignment({"p1", "u2", "r2"}).ok());
  ASSERT_TRUE(repo_->AddAssignment({"p2", "u1", "r2"}).ok());
  ASSERT_TRUE(repo_->AddAssignment({"p2", "u2", "r2"}).ok());
  EXPECT_EQ(repo_->AddAssignment({"p9", "u1", "r1"}).code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->AddAssignment({"p1", "u9", "r1"}).code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->AddAssignment({"p1", "u1", "r9"}).code(), StatusCode::kNotFound);

  auto count = [&](std::string_view p, std::string_view u, std::string_view r) -> size_t {
    auto got = repo_->ListAssignments(p, u, r);
    EXPECT_TRUE(got.ok());
    return got.ok() ? got->size() : 9999;
  };
  EXPECT_EQ(count("", "", ""), 4u);
  EXPECT_EQ(count("p1", "", ""), 2u);
  EXPECT_EQ(count("", "u1", ""), 2u);
  EXPECT_EQ(count("", "", "r2"), 3u);
  EXPECT_EQ(count("p2", "u1", ""), 1u);
  EXPECT_EQ(count("p1", "u1", "r2"), 0u);
  auto one = repo_->ListAssignments("p1", "u1", "r1");
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].project_id, "p1");
  EXPECT_EQ((*one)[0].user_id, "u1");
  EXPECT_EQ((*one)[0].role_id, "r1");

  ASSERT_TRUE(repo_->RemoveAssignment({"p1", "u1", "r1"}).ok());
  EXPECT_EQ(repo_->RemoveAssignment({"p1", "u1", "r1"}).code(), StatusCode::kNotFound);
  EXPECT_EQ(count("", "", ""), 3u);

  ASSERT_TRUE(repo_->DeleteProject("p2").ok());  // drops p2's two assignments
  EXPECT_EQ(count("", "", ""), 1u);
  ASSERT_TRUE(repo_->DeleteUser("u2").ok());  // drops u2's assignment on p1
  EXPECT_EQ(count("", "", ""), 0u);

  ASSERT_TRUE(repo_->AddAssignment({"p1", "u1", "r2"}).ok());
  ASSERT_TRUE(repo_->DeleteRole("r2").ok());
  EXPECT_EQ(count("", "", ""), 0u);
}

TEST_P(IdentityRepositoryTest, GroupsMembershipsAndGroupRoles) {
  ASSERT_TRUE(repo_->CreateProject(MakeProject("p1", "one")).ok());
  ASSERT_TRUE(repo_->CreateUser(MakeUser("u1", "alice")).ok());
  ASSERT_TRUE(repo_->CreateUser(MakeUser("u2", "bob")).ok());
  ASSERT_TRUE(repo_->CreateRole({"r1", "member", std::nullopt, ""}).ok());

  ASSERT_TRUE(repo_->CreateGroup({"g1", "devs", "default", "the developers"}).ok());
  ASSERT_TRUE(repo_->CreateGroup({"g2", "ops", "default", ""}).ok());
  EXPECT_EQ(repo_->CreateGroup({"g3", "devs", "default", ""}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(repo_->CreateGroup({"g1", "other", "default", ""}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(repo_->CreateGroup({"g4", "x", "nodomain", ""}).code(), StatusCode::kNotFound);
  auto g1 = repo_->GetGroupByName("default", "devs");
  ASSERT_TRUE(g1.ok());
  EXPECT_EQ(g1->id, "g1");
  EXPECT_EQ(g1->description, "the developers");
  ASSERT_TRUE(repo_->UpdateGroup({"g2", "operators", "default", "on call"}).ok());
  EXPECT_EQ(repo_->GetGroup("g2")->name, "operators");
  EXPECT_EQ(repo_->UpdateGroup({"g2", "devs", "default", ""}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(repo_->UpdateGroup({"g9", "z", "default", ""}).code(), StatusCode::kNotFound);
  auto groups = repo_->ListGroups();
  ASSERT_TRUE(groups.ok());
  EXPECT_EQ(groups->size(), 2u);

  ASSERT_TRUE(repo_->AddGroupMember({"g1", "u1"}).ok());
  ASSERT_TRUE(repo_->AddGroupMember({"g1", "u1"}).ok());  // idempotent
  ASSERT_TRUE(repo_->AddGroupMember({"g1", "u2"}).ok());
  ASSERT_TRUE(repo_->AddGroupMember({"g2", "u1"}).ok());
  EXPECT_EQ(repo_->AddGroupMember({"g9", "u1"}).code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->AddGroupMember({"g1", "u9"}).code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->ListGroupMembers("g1", "")->size(), 2u);
  EXPECT_EQ(repo_->ListGroupMembers("", "u1")->size(), 2u);
  EXPECT_EQ(repo_->ListGroupMembers("g2", "u2")->size(), 0u);

  domain::RoleAssignment grant{.project_id = "p1", .user_id = {}, .role_id = "r1",
                               .group_id = "g1"};
  ASSERT_TRUE(repo_->AddGroupAssignment(grant).ok());
  ASSERT_TRUE(repo_->AddGroupAssignment(grant).ok());  // idempotent
  grant.group_id = "g9";
  EXPECT_EQ(repo_->AddGroupAssignment(grant).code(), StatusCode::kNotFound);
  auto rows = repo_->ListGroupAssignments("p1", "", "");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].group_id, "g1");
  EXPECT_EQ((*rows)[0].user_id, "");
  EXPECT_EQ((*rows)[0].role_id, "r1");
  // User assignments and group assignments are separate.
  EXPECT_EQ(repo_->ListAssignments("p1", "", "")->size(), 0u);

  ASSERT_TRUE(repo_->RemoveGroupMember({"g1", "u2"}).ok());
  EXPECT_EQ(repo_->RemoveGroupMember({"g1", "u2"}).code(), StatusCode::kNotFound);
  ASSERT_TRUE(repo_->DeleteUser("u1").ok());  // drops u1's memberships
  EXPECT_EQ(repo_->ListGroupMembers("", "")->size(), 0u);

  ASSERT_TRUE(repo_->AddGroupMember({"g1", "u2"}).ok());
  ASSERT_TRUE(repo_->DeleteGroup("g1").ok());  // drops its members and its roles
  EXPECT_EQ(repo_->DeleteGroup("g1").code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->ListGroupMembers("", "")->size(), 0u);
  EXPECT_EQ(repo_->ListGroupAssignments("", "", "")->size(), 0u);

  grant.group_id = "g2";
  ASSERT_TRUE(repo_->AddGroupAssignment(grant).ok());
  ASSERT_TRUE(repo_->RemoveGroupAssignment(grant).ok());
  EXPECT_EQ(repo_->RemoveGroupAssignment(grant).code(), StatusCode::kNotFound);
  ASSERT_TRUE(repo_->AddGroupAssignment(grant).ok());
  ASSERT_TRUE(repo_->DeleteProject("p1").ok());  // drops the roles groups held there
  EXPECT_EQ(repo_->ListGroupAssignments("", "", "")->size(), 0u);
}

TEST_P(IdentityRepositoryTest, ApplicationCredentials) {
  ASSERT_TRUE(repo_->CreateProject(MakeProject("p1", "one")).ok());
  ASSERT_TRUE(repo_->CreateUser(MakeUser("u1", "alice")).ok());
  ASSERT_TRUE(repo_->CreateUser(MakeUser("u2", "bob")).ok());
  ASSERT_TRUE(repo_->CreateRole({"r1", "member", std::nullopt, ""}).ok());
  ASSERT_TRUE(repo_->CreateRole({"r2", "reader", std::nullopt, ""}).ok());
  domain::ApplicationCredential c{.id = "c1", .user_id = "u1", .project_id = "p1",
                                  .name = "ci", .description = "for CI", .secret_hash = "h",
                                  .expires_at = 5000, .unrestricted = false, .created_at = 10,
                                  .role_ids = {"r2", "r1"}};
  ASSERT_TRUE(repo_->CreateApplicationCredential(c).ok());
  auto dup = c;
  dup.id = "c2";
  EXPECT_EQ(repo_->CreateApplicationCredential(dup).code(), StatusCode::kAlreadyExists);
  dup.user_id = "u2";  // the name is unique per user only
  dup.expires_at.reset();
  dup.role_ids = {"r1"};
  ASSERT_TRUE(repo_->CreateApplicationCredential(dup).ok());
  auto bad = c;
  bad.id = "c3";
  bad.name = "other";
  bad.role_ids = {"r9"};  // no such role: nothing of it is stored
  EXPECT_EQ(repo_->CreateApplicationCredential(bad).code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->GetApplicationCredential("c3").status().code(), StatusCode::kNotFound);

  auto got = repo_->GetApplicationCredential("c1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->name, "ci");
  EXPECT_EQ(got->description, "for CI");
  EXPECT_EQ(got->secret_hash, "h");
  EXPECT_EQ(got->expires_at, 5000);
  EXPECT_FALSE(got->unrestricted);
  EXPECT_EQ(got->created_at, 10);
  EXPECT_EQ(got->role_ids, (std::vector<std::string>{"r1", "r2"}));
  EXPECT_EQ(repo_->GetApplicationCredential("c2")->expires_at, std::nullopt);
  EXPECT_EQ(repo_->GetApplicationCredentialByName("u2", "ci")->id, "c2");
  EXPECT_EQ(repo_->ListApplicationCredentials("u1")->size(), 1u);

  // A token issued for one goes with it.
  domain::Token t = MakeToken("d1", "u1", "p1", 100);
  t.application_credential_id = "c1";
  ASSERT_TRUE(repo_->SaveToken(t).ok());
  EXPECT_EQ(repo_->GetToken("d1")->application_credential_id, "c1");
  ASSERT_TRUE(repo_->SaveToken(MakeToken("d2", "u1", "p1", 100)).ok());
  EXPECT_EQ(repo_->GetToken("d2")->application_credential_id, "");
  ASSERT_TRUE(repo_->DeleteApplicationCredential("c1").ok());
  EXPECT_EQ(repo_->DeleteApplicationCredential("c1").code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->GetToken("d1").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(repo_->GetToken("d2").ok());

  // Deleting the role drops it from the credential; deleting the user drops the credential.
  ASSERT_TRUE(repo_->DeleteRole("r1").ok());
  EXPECT_TRUE(repo_->GetApplicationCredential("c2")->role_ids.empty());
  ASSERT_TRUE(repo_->DeleteUser("u2").ok());
  EXPECT_EQ(repo_->ListApplicationCredentials("u2")->size(), 0u);
}

TEST_P(IdentityRepositoryTest, Tokens) {
  ASSERT_TRUE(repo_->CreateProject(MakeProject("p1", "one")).ok());
  ASSERT_TRUE(repo_->CreateUser(MakeUser("u1", "alice")).ok());
  ASSERT_TRUE(repo_->SaveToken(MakeToken("d1", "u1", "p1", 100)).ok());
  ASSERT_TRUE(repo_->SaveToken(MakeToken("d2", "u1", "", 200)).ok());
  ASSERT_TRUE(repo_->SaveToken(MakeToken("d3", "u1", "p1", 300)).ok());
  EXPECT_EQ(repo_->SaveToken(MakeToken("d1", "u1", "p1", 100)).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(repo_->SaveToken(MakeToken("d9", "nobody", "", 100)).code(), StatusCode::kNotFound);

  auto t = repo_->GetToken("d1");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->user_id, "u1");
  EXPECT_EQ(t->project_id, "p1");
  EXPECT_EQ(t->audit_id, "audit");
  EXPECT_EQ(t->issued_at, 1);
  EXPECT_EQ(t->expires_at, 100);
  EXPECT_FALSE(t->revoked);
  auto unscoped = repo_->GetToken("d2");
  ASSERT_TRUE(unscoped.ok());
  EXPECT_EQ(unscoped->project_id, "");

  ASSERT_TRUE(repo_->RevokeToken("d3").ok());
  t = repo_->GetToken("d3");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->revoked);
  EXPECT_EQ(repo_->RevokeToken("nope").code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->GetToken("nope").status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(repo_->PurgeExpiredTokens(150).ok());
  EXPECT_EQ(repo_->GetToken("d1").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(repo_->GetToken("d2").ok());
  EXPECT_TRUE(repo_->GetToken("d3").ok());

  ASSERT_TRUE(repo_->DeleteProject("p1").ok());  // scoped token d3 goes with the project
  EXPECT_EQ(repo_->GetToken("d3").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(repo_->GetToken("d2").ok());
  ASSERT_TRUE(repo_->DeleteUser("u1").ok());
  EXPECT_EQ(repo_->GetToken("d2").status().code(), StatusCode::kNotFound);
}

TEST_P(IdentityRepositoryTest, UpdateUserRevokingTokensRevokesOnlyThatUsersTokens) {
  ASSERT_TRUE(repo_->CreateUser(MakeUser("u1", "alice")).ok());
  ASSERT_TRUE(repo_->CreateUser(MakeUser("u2", "bob")).ok());
  ASSERT_TRUE(repo_->SaveToken(MakeToken("a1", "u1", "", 100)).ok());
  ASSERT_TRUE(repo_->SaveToken(MakeToken("a2", "u1", "", 200)).ok());
  ASSERT_TRUE(repo_->SaveToken(MakeToken("b1", "u2", "", 100)).ok());
  User alice = MakeUser("u1", "alice");
  alice.password_hash = "new hash";
  ASSERT_TRUE(repo_->UpdateUserRevokingTokens(alice).ok());
  EXPECT_EQ(repo_->GetUser("u1")->password_hash, "new hash");
  EXPECT_TRUE(repo_->GetToken("a1")->revoked);
  EXPECT_TRUE(repo_->GetToken("a2")->revoked);
  EXPECT_FALSE(repo_->GetToken("b1")->revoked);
  // Tokens issued afterwards are not affected.
  ASSERT_TRUE(repo_->SaveToken(MakeToken("a3", "u1", "", 300)).ok());
  EXPECT_FALSE(repo_->GetToken("a3")->revoked);

  EXPECT_EQ(repo_->UpdateUserRevokingTokens(MakeUser("nobody", "x")).code(),
            StatusCode::kNotFound);
  User clash = MakeUser("u2", "alice");  // name taken: nothing is changed
  EXPECT_EQ(repo_->UpdateUserRevokingTokens(clash).code(), StatusCode::kAlreadyExists);
  EXPECT_FALSE(repo_->GetToken("b1")->revoked);
}

TEST_P(IdentityRepositoryTest, SurvivesReopen) {
  ASSERT_TRUE(repo_->CreateUser(MakeUser("u1", "alice")).ok());
  repo_.reset();
  db_.reset();
  db_ = test_db_.Open();
  ASSERT_NE(db_, nullptr);
  repo_ = NewIdentityRepository(*db_);
  auto u = repo_->GetUserByName("default", "alice");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->id, "u1");
}

INSTANTIATE_TEST_SUITE_P(Engines, IdentityRepositoryTest, ::testing::ValuesIn(testing::Engines()),
                         testing::EngineName);

}  // namespace
}  // namespace glimmer::db::sql
