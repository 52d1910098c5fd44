#include "identity/identity_service.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "identity/testing/forwarding_repository.h"
#include "identity/testing/test_repository.h"
#include "platform/clock.h"

namespace glimmer::identity {
namespace {

constexpr UnixMicros kSecond = 1'000'000;
constexpr UnixMicros kStart = 1'800'000'000LL * kSecond;

class IdentityServiceTest : public ::testing::Test {
 protected:
  IdentityServiceTest() : clock_(kStart) {
    options_.password_iterations = 1000;  // keep tests fast; the default is exercised elsewhere
    service_ = std::make_unique<IdentityService>(store_.repo(), clock_, options_);
    auto boot = service_->Bootstrap({.admin_password = "adminpw"});
    EXPECT_TRUE(boot.ok()) << boot.status().ToString();
    boot_ = *boot;
  }

  static AuthRequest PasswordAuth(std::string user, std::string password,
                                  std::optional<std::string> project = std::nullopt) {
    AuthRequest req;
    req.password = PasswordCredentials{
        .user = {.name = std::move(user), .domain_name = "Default"},
        .password = std::move(password)};
    if (project) req.project = EntityRef{.name = *project, .domain_name = "Default"};
    return req;
  }

  // Creates a user with `role` on a new project; returns {user id, project id}.
  std::pair<std::string, std::string> MakeUser(const std::string& name, const std::string& role,
                                               const std::string& project) {
    auto p = service_->CreateProject({.name = project});
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    auto u = service_->CreateUser({.name = name, .password = name + "pw"});
    EXPECT_TRUE(u.ok()) << u.status().ToString();
    auto roles = service_->ListRoles({.name = role});
    EXPECT_TRUE(roles.ok() && roles->size() == 1);
    EXPECT_TRUE(service_->GrantRole(p->id, u->id, (*roles)[0].id).ok());
    return {u->id, p->id};
  }

  static std::vector<std::string> RoleNames(const TokenInfo& info) {
    std::vector<std::string> out;
    for (const auto& r : info.roles) out.push_back(r.name);
    return out;
  }

  testing::TestIdentityStore store_;
  platform::FakeClock clock_;
  IdentityOptions options_;
  std::unique_ptr<IdentityService> service_;
  BootstrapResult boot_;
};

TEST_F(IdentityServiceTest, BootstrapCreatesEverythingOnceAndIsIdempotent) {
  EXPECT_TRUE(boot_.changed);
  auto dom = service_->GetDomain("default");
  ASSERT_TRUE(dom.ok());
  EXPECT_EQ(dom->name, "Default");
  for (const char* role : {"admin", "member", "reader", "service"}) {
    auto r = service_->ListRoles({.name = role});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->size(), 1u) << role;
  }
  auto projects = service_->ListProjects({});
  ASSERT_TRUE(projects.ok());
  ASSERT_EQ(projects->size(), 2u);
  auto admin = service_->GetUser(boot_.admin_user_id);
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(admin->name, "admin");
  EXPECT_EQ(admin->default_project_id, boot_.admin_project_id);
  EXPECT_TRUE(admin->password_hash.empty());  // never handed out
  EXPECT_EQ(boot_.admin_user_id.size(), 32u);

  auto again = service_->Bootstrap({.admin_password = "adminpw"});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->changed);
  EXPECT_EQ(again->admin_user_id, boot_.admin_user_id);
  EXPECT_EQ(again->admin_project_id, boot_.admin_project_id);
  EXPECT_EQ(service_->ListProjects({})->size(), 2u);
  EXPECT_EQ(service_->ListUsers({})->size(), 1u);
  EXPECT_EQ(service_->ListRoles({})->size(), 4u);
  EXPECT_EQ(service_->ListAssignments({})->size(), 1u);

  // A second service instance (another node) on the same database changes nothing either.
  IdentityService other(store_.repo(), clock_, options_);
  EXPECT_FALSE(other.Bootstrap({.admin_password = "adminpw"})->changed);
}

TEST_F(IdentityServiceTest, BootstrapResetsAdminPasswordAndRejectsEmpty) {
  EXPECT_EQ(service_->Bootstrap({}).status().code(), StatusCode::kInvalidArgument);
  auto r = service_->Bootstrap({.admin_password = "newpw"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->changed);
  EXPECT_EQ(service_->Authenticate(PasswordAuth("admin", "adminpw")).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_TRUE(service_->Authenticate(PasswordAuth("admin", "newpw")).ok());
}

TEST_F(IdentityServiceTest, BootstrapResetRevokesTheAdminsTokens) {
  auto tok = service_->Authenticate(PasswordAuth("admin", "adminpw", "admin"));
  ASSERT_TRUE(tok.ok());
  ASSERT_TRUE(service_->Bootstrap({.admin_password = "newpw"}).ok());
  EXPECT_EQ(service_->ValidateToken(tok->bearer).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(IdentityServiceTest, BootstrapLeavesAnOperatorsLockDownAlone) {
  auto admin_role = service_->ListRoles({.name = "admin"});
  ASSERT_TRUE(admin_role.ok() && admin_role->size() == 1);
  const std::string role_id = (*admin_role)[0].id;
  // The operator disables the admin user and removes its role...
  ASSERT_TRUE(service_->RevokeRole(boot_.admin_project_id, boot_.admin_user_id, role_id).ok());
  ASSERT_TRUE(service_->UpdateUser(boot_.admin_user_id, {.enabled = false}).ok());
  // ...and the next start (with a configured password, even a new one) changes nothing.
  for (const char* pw : {"adminpw", "otherpw"}) {
    auto r = service_->Bootstrap({.admin_password = pw});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_FALSE(r->changed);
    EXPECT_TRUE(r->admin_disabled);
    EXPECT_FALSE(service_->GetUser(boot_.admin_user_id)->enabled);
    EXPECT_EQ(service_->CheckRole(boot_.admin_project_id, boot_.admin_user_id, role_id).code(),
              StatusCode::kNotFound);
  }
  // Re-enabled by the operator: the password is still the old one, and no role came back.
  ASSERT_TRUE(service_->UpdateUser(boot_.admin_user_id, {.enabled = true}).ok());
  EXPECT_TRUE(service_->Authenticate(PasswordAuth("admin", "adminpw")).ok());
  EXPECT_EQ(service_->Authenticate(PasswordAuth("admin", "adminpw", "admin")).status().code(),
            StatusCode::kUnauthenticated);  // no role on the admin project
  // An enabled admin without the role gets its password reset, still without the role.
  auto r = service_->Bootstrap({.admin_password = "otherpw"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->changed);
  EXPECT_FALSE(r->admin_disabled);
  EXPECT_TRUE(service_->Authenticate(PasswordAuth("admin", "otherpw")).ok());
  EXPECT_EQ(service_->CheckRole(boot_.admin_project_id, boot_.admin_user_id, role_id).code(),
            StatusCode::kNotFound);
}

TEST_F(IdentityServiceTest, AdminTokenHasExpandedRolesAndIsValid) {
  auto tok = service_->Authenticate(PasswordAuth("admin", "adminpw", "admin"));
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  EXPECT_EQ(tok->bearer.size(), 45u);  // "gl" + 256 random bits in unpadded base64url
  EXPECT_EQ(tok->bearer.rfind("gl", 0), 0u);  // never starts with '-' (CLI argument parsing)
  ASSERT_EQ(tok->info.audit_ids.size(), 1u);
  EXPECT_EQ(tok->info.audit_ids[0].size(), 22u);
  EXPECT_EQ(tok->info.issued_at, kStart);
  EXPECT_EQ(tok->info.expires_at, kStart + 3600 * kSecond);
  ASSERT_TRUE(tok->info.project.has_value());
  EXPECT_EQ(tok->info.project->id, boot_.admin_project_id);
  EXPECT_EQ(tok->info.project_domain->name, "Default");
  EXPECT_EQ(tok->info.user_domain.id, "default");
  EXPECT_EQ(RoleNames(tok->info), (std::vector<std::string>{"admin", "member", "reader"}));
  for (const auto& r : tok->info.roles) EXPECT_EQ(r.id.size(), 32u);
  EXPECT_EQ(tok->info.methods, std::vector<std::string>{"password"});

  // Only the digest is stored.
  EXPECT_FALSE(store_.repo().GetToken(tok->bearer).ok());
  auto stored = store_.repo().GetToken(Sha256Hex(tok->bearer));
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->user_id, boot_.admin_user_id);
  EXPECT_EQ(stored->project_id, boot_.admin_project_id);

  auto ctx = service_->ValidateToken(tok->bearer);
  ASSERT_TRUE(ctx.ok());
  EXPECT_TRUE(ctx->authenticated);
  EXPECT_EQ(ctx->user_id, boot_.admin_user_id);
  EXPECT_EQ(ctx->user_name, "admin");
  EXPECT_EQ(ctx->project_id, boot_.admin_project_id);
  EXPECT_EQ(ctx->project_name, "admin");
  EXPECT_TRUE(ctx->IsAdmin());
  EXPECT_EQ(ctx->roles, (std::vector<std::string>{"admin", "member", "reader"}));

  auto described = service_->DescribeToken(tok->bearer);
  ASSERT_TRUE(described.ok());
  EXPECT_EQ(RoleNames(*described), RoleNames(tok->info));
  EXPECT_EQ(described->audit_ids, tok->info.audit_ids);
  EXPECT_EQ(described->expires_at, tok->info.expires_at);
}

TEST_F(IdentityServiceTest, MemberImpliesReader) {
  auto [uid, pid] = MakeUser("demo", "member", "demo");
  auto tok = service_->Authenticate(PasswordAuth("demo", "demopw", "demo"));
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  EXPECT_EQ(RoleNames(tok->info), (std::vector<std::string>{"member", "reader"}));
  auto ctx = service_->ValidateToken(tok->bearer);
  ASSERT_TRUE(ctx.ok());
  EXPECT_FALSE(ctx->IsAdmin());
  EXPECT_TRUE(ctx->HasRole("reader"));
  EXPECT_EQ(ExpandImpliedRoles({"Admin"}),
            (std::vector<std::string>{"admin", "member", "reader"}));
  EXPECT_EQ(ExpandImpliedRoles({"reader", "service"}),
            (std::vector<std::string>{"reader", "service"}));
}

TEST_F(IdentityServiceTest, AuthenticateByIdsAndDomainIds) {
  AuthRequest req;
  req.password = PasswordCredentials{.user = {.id = boot_.admin_user_id}, .password = "adminpw"};
  req.project = EntityRef{.id = boot_.admin_project_id};
  auto tok = service_->Authenticate(req);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  EXPECT_EQ(tok->info.project->name, "admin");

  req.password->user = {.name = "admin", .domain_id = "default"};
  req.project = EntityRef{.name = "service", .domain_id = "default"};
  // admin holds no role on "service".
  EXPECT_EQ(service_->Authenticate(req).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(IdentityServiceTest, AuthenticationFailures) {
  auto [uid, pid] = MakeUser("demo", "member", "demo");
  auto code = [&](const AuthRequest& r) { return service_->Authenticate(r).status().code(); };
  EXPECT_EQ(code(PasswordAuth("demo", "wrong", "demo")), StatusCode::kUnauthenticated);
  EXPECT_EQ(code(PasswordAuth("nobody", "demopw", "demo")), StatusCode::kUnauthenticated);
  EXPECT_EQ(code(PasswordAuth("demo", "demopw", "nosuchproject")), StatusCode::kUnauthenticated);
  EXPECT_EQ(code(PasswordAuth("demo", "demopw", "admin")), StatusCode::kUnauthenticated);
  AuthRequest wrong_domain = PasswordAuth("demo", "demopw", "demo");
  wrong_domain.password->user.domain_name = "Elsewhere";
  EXPECT_EQ(code(wrong_domain), StatusCode::kUnauthenticated);
  AuthRequest no_method;
  EXPECT_EQ(code(no_method), StatusCode::kUnauthenticated);
  AuthRequest no_domain = PasswordAuth("demo", "demopw");
  no_domain.password->user.domain_name.clear();
  EXPECT_EQ(code(no_domain), StatusCode::kInvalidArgument);

  ASSERT_TRUE(service_->UpdateUser(uid, {.enabled = false}).ok());
  EXPECT_EQ(code(PasswordAuth("demo", "demopw", "demo")), StatusCode::kUnauthenticated);
  ASSERT_TRUE(service_->UpdateUser(uid, {.enabled = true}).ok());
  EXPECT_TRUE(service_->Authenticate(PasswordAuth("demo", "demopw", "demo")).ok());
  ASSERT_TRUE(service_->UpdateProject(pid, {.enabled = false}).ok());
  EXPECT_EQ(code(PasswordAuth("demo", "demopw", "demo")), StatusCode::kUnauthenticated);
}

TEST_F(IdentityServiceTest, UnscopedAndDefaultProjectScope) {
  // admin has default_project_id = admin: no scope means the default project.
  auto tok = service_->Authenticate(PasswordAuth("admin", "adminpw"));
  ASSERT_TRUE(tok.ok());
  ASSERT_TRUE(tok->info.project.has_value());
  EXPECT_EQ(tok->info.project->id, boot_.admin_project_id);

  AuthRequest req = PasswordAuth("admin", "adminpw");
  req.unscoped = true;
  auto unscoped = service_->Authenticate(req);
  ASSERT_TRUE(unscoped.ok());
  EXPECT_FALSE(unscoped->info.project.has_value());
  EXPECT_TRUE(unscoped->info.roles.empty());
  auto ctx = service_->ValidateToken(unscoped->bearer);
  ASSERT_TRUE(ctx.ok());
  EXPECT_EQ(ctx->project_id, "");
  EXPECT_TRUE(ctx->roles.empty());
  EXPECT_FALSE(ctx->IsReader());

  // A user without a default project and without roles still gets an unscoped token.
  ASSERT_TRUE(service_->CreateUser({.name = "loner", .password = "x"}).ok());
  auto loner = service_->Authenticate(PasswordAuth("loner", "x"));
  ASSERT_TRUE(loner.ok());
  EXPECT_FALSE(loner->info.project.has_value());
}

TEST_F(IdentityServiceTest, RescopeWithTokenMethod) {
  AuthRequest req = PasswordAuth("admin", "adminpw");
  req.unscoped = true;
  auto unscoped = service_->Authenticate(req);
  ASSERT_TRUE(unscoped.ok());
  clock_.Advance(600 * kSecond);

  AuthRequest rescope;
  rescope.token = unscoped->bearer;
  rescope.project = EntityRef{.name = "admin", .domain_name = "Default"};
  auto scoped = service_->Authenticate(rescope);
  ASSERT_TRUE(scoped.ok()) << scoped.status().ToString();
  EXPECT_EQ(scoped->info.project->id, boot_.admin_project_id);
  EXPECT_EQ(scoped->info.expires_at, unscoped->info.expires_at);  // never outlives its parent
  ASSERT_EQ(scoped->info.audit_ids.size(), 2u);
  EXPECT_EQ(scoped->info.audit_ids[1], unscoped->info.audit_ids[0]);
  EXPECT_NE(scoped->bearer, unscoped->bearer);

  rescope.token = "garbage";
  EXPECT_EQ(service_->Authenticate(rescope).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(IdentityServiceTest, TokensExpire) {
  auto tok = service_->Authenticate(PasswordAuth("admin", "adminpw", "admin"));
  ASSERT_TRUE(tok.ok());
  clock_.Advance(3600 * kSecond - 1);
  EXPECT_TRUE(service_->ValidateToken(tok->bearer).ok());
  clock_.Advance(1);
  EXPECT_EQ(service_->ValidateToken(tok->bearer).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(service_->DescribeToken(tok->bearer).status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(service_->PurgeExpiredTokens().ok());
  EXPECT_EQ(store_.repo().GetToken(Sha256Hex(tok->bearer)).status().code(),
            StatusCode::kNotFound);
}

TEST_F(IdentityServiceTest, ConfigurableTtl) {
  IdentityOptions short_lived = options_;
  short_lived.token_ttl = 60 * kSecond;
  IdentityService svc(store_.repo(), clock_, short_lived);
  auto tok = svc.Authenticate(PasswordAuth("admin", "adminpw", "admin"));
  ASSERT_TRUE(tok.ok());
  EXPECT_EQ(tok->info.expires_at - tok->info.issued_at, 60 * kSecond);
  clock_.Advance(60 * kSecond);
  EXPECT_FALSE(svc.ValidateToken(tok->bearer).ok());
}

TEST_F(IdentityServiceTest, GarbageTokensAreRejected) {
  for (std::string bad : {std::string(), std::string("x"), std::string(5000, 'a')}) {
    EXPECT_EQ(service_->ValidateToken(bad).status().code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(service_->DescribeToken(bad).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(service_->RevokeToken(bad).code(), StatusCode::kNotFound);
  }
}

TEST_F(IdentityServiceTest, LocalRevocationIsImmediate) {
  auto tok = service_->Authenticate(PasswordAuth("admin", "adminpw", "admin"));
  ASSERT_TRUE(tok.ok());
  ASSERT_TRUE(service_->ValidateToken(tok->bearer).ok());  // now cached
  EXPECT_GE(service_->CachedTokenCountForTest(), 1u);
  ASSERT_TRUE(service_->RevokeToken(tok->bearer).ok());
  EXPECT_EQ(service_->ValidateToken(tok->bearer).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(service_->DescribeToken(tok->bearer).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->RevokeToken(tok->bearer).code(), StatusCode::kNotFound);
}

TEST_F(IdentityServiceTest, RemoteRevocationTakesEffectWithinCacheMaxAge) {
  IdentityService other_node(store_.repo(), clock_, options_);
  auto tok = service_->Authenticate(PasswordAuth("admin", "adminpw", "admin"));
  ASSERT_TRUE(tok.ok());
  ASSERT_TRUE(service_->ValidateToken(tok->bearer).ok());
  ASSERT_TRUE(other_node.RevokeToken(tok->bearer).ok());
  // This node still trusts its cache for up to token_cache_max_age...
  EXPECT_TRUE(service_->ValidateToken(tok->bearer).ok());
  clock_.Advance(options_.token_cache_max_age);
  // ...but not longer.
  EXPECT_EQ(service_->ValidateToken(tok->bearer).status().code(), StatusCode::kUnauthenticated);
}

// Runs `hook` once, right after the next GetToken read (when a validation has seen the token
// still valid in the database but not yet cached it).
class HookedRepository final : public testing::ForwardingIdentityRepository {
 public:
  using ForwardingIdentityRepository::ForwardingIdentityRepository;
  StatusOr<domain::Token> GetToken(std::string_view digest) override {
    auto token = base_.GetToken(digest);
    if (auto hook = std::exchange(hook_, nullptr)) hook();
    return token;
  }
  // Runs `save_hook_` once, just before the next token is stored.
  Status SaveToken(const domain::Token& t) override {
    if (auto hook = std::exchange(save_hook_, nullptr)) hook();
    return base_.SaveToken(t);
  }
  std::function<void()> hook_;
  std::function<void()> save_hook_;
};

TEST_F(IdentityServiceTest, ValidationRacingARevocationCannotCacheTheRevokedToken) {
  HookedRepository repo(store_.repo());
  IdentityService svc(repo, clock_, options_);
  auto tok = svc.Authenticate(PasswordAuth("admin", "adminpw", "admin"));
  ASSERT_TRUE(tok.ok());
  // Authenticate cached it; any user change empties the cache without touching the token.
  ASSERT_TRUE(svc.UpdateUser(boot_.admin_user_id, {.description = "x"}).ok());
  ASSERT_EQ(svc.CachedTokenCountForTest(), 0u);
  // The token is revoked after this validation read it from the database, before it cached it.
  repo.hook_ = [&] { EXPECT_TRUE(svc.RevokeToken(tok->bearer).ok()); };
  EXPECT_TRUE(svc.ValidateToken(tok->bearer).ok());  // it read the token while still valid...
  EXPECT_EQ(svc.CachedTokenCountForTest(), 0u);      // ...but must not have cached it
  EXPECT_EQ(svc.ValidateToken(tok->bearer).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(IdentityServiceTest, RevocationWritesTheDatabaseBeforeErasingTheCache) {
  HookedRepository repo(store_.repo());
  IdentityService svc(repo, clock_, options_);
  auto tok = svc.Authenticate(PasswordAuth("admin", "adminpw", "admin"));
  ASSERT_TRUE(tok.ok());
  ASSERT_TRUE(svc.ValidateToken(tok->bearer).ok());  // cached
  // RevokeToken's own GetToken: the token must still be served until the database says it
  // is revoked, and gone from the cache right after.
  repo.hook_ = [&] { EXPECT_TRUE(svc.ValidateToken(tok->bearer).ok()); };
  ASSERT_TRUE(svc.RevokeToken(tok->bearer).ok());
  EXPECT_EQ(svc.ValidateToken(tok->bearer).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(IdentityServiceTest, PasswordChangeRevokesTheUsersTokens) {
  auto [uid, pid] = MakeUser("demo", "member", "demo");
  auto [other_uid, other_pid] = MakeUser("other", "member", "otherproj");
  IdentityService other_node(store_.repo(), clock_, options_);
  auto t1 = service_->Authenticate(PasswordAuth("demo", "demopw", "demo"));
  auto t2 = service_->Authenticate(PasswordAuth("demo", "demopw"));  // unscoped
  auto bystander = service_->Authenticate(PasswordAuth("other", "otherpw", "otherproj"));
  ASSERT_TRUE(t1.ok() && t2.ok() && bystander.ok());
  ASSERT_TRUE(service_->ValidateToken(t1->bearer).ok());  // cached here
  ASSERT_TRUE(other_node.ValidateToken(t1->bearer).ok());  // and on the other node

  // Self-service change (POST /v3/users/{id}/password).
  ASSERT_TRUE(service_->ChangePassword(uid, "demopw", "newpw").ok());
  EXPECT_EQ(service_->ValidateToken(t1->bearer).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(service_->ValidateToken(t2->bearer).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(service_->DescribeToken(t1->bearer).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(service_->ValidateToken(bystander->bearer).ok());
  // The other node trusts its cache no longer than for an explicit revocation.
  clock_.Advance(options_.token_cache_max_age);
  EXPECT_EQ(other_node.ValidateToken(t1->bearer).status().code(), StatusCode::kUnauthenticated);
  // Rescoping a revoked token is refused too.
  AuthRequest rescope;
  rescope.token = t2->bearer;
  rescope.project = EntityRef{.id = pid};
  EXPECT_EQ(service_->Authenticate(rescope).status().code(), StatusCode::kUnauthenticated);

  // New tokens work.
  auto t3 = service_->Authenticate(PasswordAuth("demo", "newpw", "demo"));
  ASSERT_TRUE(t3.ok());
  EXPECT_TRUE(service_->ValidateToken(t3->bearer).ok());
  EXPECT_TRUE(other_node.ValidateToken(t3->bearer).ok());

  // An admin's update with a password (PATCH /v3/users/{id}) revokes too...
  ASSERT_TRUE(service_->UpdateUser(uid, {.password = "third"}).ok());
  EXPECT_EQ(service_->ValidateToken(t3->bearer).status().code(), StatusCode::kUnauthenticated);
  // ...an update without one does not.
  auto t4 = service_->Authenticate(PasswordAuth("demo", "third", "demo"));
  ASSERT_TRUE(t4.ok());
  ASSERT_TRUE(service_->UpdateUser(uid, {.description = "changed"}).ok());
  EXPECT_TRUE(service_->ValidateToken(t4->bearer).ok());
  EXPECT_TRUE(service_->ValidateToken(bystander->bearer).ok());
}

TEST_F(IdentityServiceTest, TokenIssuedWhileThePasswordChangesIsRefused) {
  auto [uid, pid] = MakeUser("demo", "member", "demo");
  HookedRepository repo(store_.repo());
  IdentityService svc(repo, clock_, options_);
  // The old password has been checked; the change commits before the token is stored.
  repo.save_hook_ = [&] { EXPECT_TRUE(svc.UpdateUser(uid, {.password = "newpw"}).ok()); };
  EXPECT_EQ(svc.Authenticate(PasswordAuth("demo", "demopw", "demo")).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(svc.CachedTokenCountForTest(), 0u);
  EXPECT_TRUE(svc.Authenticate(PasswordAuth("demo", "newpw", "demo")).ok());

  // Token method: the parent is revoked (by a password change) before the child is stored.
  auto parent = svc.Authenticate(PasswordAuth("demo", "newpw"));
  ASSERT_TRUE(parent.ok());
  AuthRequest rescope;
  rescope.token = parent->bearer;
  rescope.project = EntityRef{.id = pid};
  repo.save_hook_ = [&] { EXPECT_TRUE(svc.ChangePassword(uid, "newpw", "third").ok()); };
  EXPECT_EQ(svc.Authenticate(rescope).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(IdentityServiceTest, RepeatedPasswordFailuresAreThrottled) {
  IdentityOptions o = options_;
  o.login_throttle = {.user_threshold = 3, .address_threshold = 5, .window = 600 * kSecond,
                      .base_delay = 1 * kSecond, .max_delay = 4 * kSecond, .max_entries = 100};
  IdentityService svc(store_.repo(), clock_, o);
  auto [uid, pid] = MakeUser("demo", "member", "demo");
  auto login = [&](const std::string& user, const std::string& pw, const std::string& from) {
    LoginAttempt attempt{.remote_address = from};
    Status s = svc.Authenticate(PasswordAuth(user, pw, "demo"), &attempt).status();
    return std::make_pair(s.code(), attempt.retry_after_seconds);
  };
  using P = std::pair<StatusCode, int64_t>;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(login("demo", "wrong", "192.0.2.1:1000"), P(StatusCode::kUnauthenticated, 0));
  }
  // Even the right password waits now, from any address.
  EXPECT_EQ(login("demo", "demopw", "192.0.2.9:1000"), P(StatusCode::kResourceExhausted, 1));
  clock_.Advance(1 * kSecond);
  EXPECT_EQ(login("demo", "wrong", "192.0.2.1:1000"), P(StatusCode::kUnauthenticated, 0));
  EXPECT_EQ(login("demo", "demopw", "192.0.2.9:1000"), P(StatusCode::kResourceExhausted, 2));
  clock_.Advance(2 * kSecond);
  EXPECT_EQ(login("demo", "demopw", "192.0.2.9:1000").first, StatusCode::kOk);  // resets
  EXPECT_EQ(login("demo", "wrong", "192.0.2.9:1000"), P(StatusCode::kUnauthenticated, 0));
  EXPECT_EQ(login("demo", "demopw", "192.0.2.9:1000").first, StatusCode::kOk);

  // Unknown users are throttled alike (the answer does not tell whether the user exists).
  for (int i = 0; i < 3; ++i) login("ghost", "x", "192.0.2.2:1000");
  EXPECT_EQ(login("ghost", "x", "192.0.2.3:1000"), P(StatusCode::kResourceExhausted, 1));

  // The password-change endpoint counts with the logins of the same user.
  clock_.Advance(60 * kSecond);
  EXPECT_EQ(login("demo", "wrong", "192.0.2.4:1000").first, StatusCode::kUnauthenticated);
  EXPECT_EQ(login("demo", "wrong", "192.0.2.4:1000").first, StatusCode::kUnauthenticated);
  LoginAttempt change{.remote_address = "192.0.2.4:1000"};
  EXPECT_EQ(svc.ChangePassword(uid, "wrong", "x", &change).code(), StatusCode::kUnauthenticated);
  change = {.remote_address = "192.0.2.5:1000"};
  EXPECT_EQ(svc.ChangePassword(uid, "demopw", "x", &change).code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(change.retry_after_seconds, 1);
  EXPECT_EQ(login("demo", "demopw", "192.0.2.5:1000").first, StatusCode::kResourceExhausted);

  // One address guessing at many users waits too, once it reaches its own threshold.
  clock_.Advance(60 * kSecond);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(login("user" + std::to_string(i), "x", "198.51.100.7:2000").first,
              StatusCode::kUnauthenticated);
  }
  EXPECT_EQ(login("demo", "demopw", "198.51.100.7:2001"), P(StatusCode::kResourceExhausted, 1));
  EXPECT_EQ(login("demo", "demopw", "198.51.100.8:2001").first, StatusCode::kOk);
}

TEST_F(IdentityServiceTest, ChangePasswordOfUnknownOrDisabledUser) {
  auto [uid, pid] = MakeUser("demo", "member", "demo");
  EXPECT_EQ(service_->ChangePassword("no-such-user", "x", "y").code(), StatusCode::kNotFound);
  ASSERT_TRUE(service_->UpdateUser(uid, {.enabled = false}).ok());
  EXPECT_EQ(service_->ChangePassword(uid, "demopw", "y").code(), StatusCode::kUnauthenticated);
  ASSERT_TRUE(service_->UpdateUser(uid, {.enabled = true}).ok());
  EXPECT_TRUE(service_->ChangePassword(uid, "demopw", "y").ok());
}

TEST_F(IdentityServiceTest, LocalChangesInvalidateCachedTokens) {
  auto [uid, pid] = MakeUser("demo", "member", "demo");
  auto member = service_->ListRoles({.name = "member"});
  ASSERT_TRUE(member.ok());
  auto tok = service_->Authenticate(PasswordAuth("demo", "demopw", "demo"));
  ASSERT_TRUE(tok.ok());
  ASSERT_TRUE(service_->ValidateToken(tok->bearer).ok());
  ASSERT_TRUE(service_->RevokeRole(pid, uid, (*member)[0].id).ok());
  EXPECT_FALSE(service_->ValidateToken(tok->bearer).ok());  // no role left on the project

  ASSERT_TRUE(service_->GrantRole(pid, uid, (*member)[0].id).ok());
  EXPECT_TRUE(service_->ValidateToken(tok->bearer).ok());  // roles are evaluated at validation
  ASSERT_TRUE(service_->UpdateUser(uid, {.enabled = false}).ok());
  EXPECT_FALSE(service_->ValidateToken(tok->bearer).ok());
  ASSERT_TRUE(service_->UpdateUser(uid, {.enabled = true}).ok());
  ASSERT_TRUE(service_->ValidateToken(tok->bearer).ok());
  ASSERT_TRUE(service_->DeleteProject(pid).ok());
  EXPECT_FALSE(service_->ValidateToken(tok->bearer).ok());
}

TEST_F(IdentityServiceTest, CacheIsBounded) {
  IdentityOptions small = options_;
  small.token_cache_capacity = 3;
  IdentityService svc(store_.repo(), clock_, small);
  std::vector<std::string> bearers;
  for (int i = 0; i < 5; ++i) {
    auto tok = svc.Authenticate(PasswordAuth("admin", "adminpw", "admin"));
    ASSERT_TRUE(tok.ok());
    bearers.push_back(tok->bearer);
  }
  EXPECT_EQ(svc.CachedTokenCountForTest(), 3u);
  for (const auto& b : bearers) EXPECT_TRUE(svc.ValidateToken(b).ok());  // misses reload
  EXPECT_EQ(svc.CachedTokenCountForTest(), 3u);
}

TEST_F(IdentityServiceTest, ProjectManagement) {
  auto p = service_->CreateProject({.name = "alpha", .description = "first"});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->id.size(), 32u);
  EXPECT_EQ(p->domain_id, "default");
  EXPECT_EQ(service_->CreateProject({.name = "alpha"}).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(service_->CreateProject({.name = ""}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->CreateProject({.name = "x", .domain_id = "nope"}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(service_->UpdateProject(p->id, {.name = "admin"}).status().code(),
            StatusCode::kAlreadyExists);
  auto updated = service_->UpdateProject(p->id, {.name = "beta", .enabled = false});
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->name, "beta");
  EXPECT_EQ(updated->description, "first");
  EXPECT_FALSE(service_->GetProject(p->id)->enabled);
  EXPECT_EQ(service_->ListProjects({.name = "beta"})->size(), 1u);
  EXPECT_EQ(service_->ListProjects({.name = "alpha"})->size(), 0u);
  EXPECT_EQ(service_->ListProjects({.enabled = true})->size(), 2u);
  ASSERT_TRUE(service_->DeleteProject(p->id).ok());
  EXPECT_EQ(service_->GetProject(p->id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->DeleteProject(p->id).code(), StatusCode::kNotFound);
}

TEST_F(IdentityServiceTest, UserManagementAndPasswords) {
  auto u = service_->CreateUser({.name = "bob", .password = "pw1", .email = "b@example.com"});
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->password_hash.empty());
  EXPECT_EQ(u->email, "b@example.com");
  EXPECT_EQ(service_->CreateUser({.name = "bob"}).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(service_->CreateUser({.name = "c", .default_project_id = "nope"}).status().code(),
            StatusCode::kNotFound);
  // The stored hash is PBKDF2 with the configured iteration count.
  EXPECT_EQ(PasswordHashIterations(store_.repo().GetUser(u->id)->password_hash), 1000);

  AuthRequest req = PasswordAuth("bob", "pw1");
  EXPECT_TRUE(service_->Authenticate(req).ok());
  ASSERT_TRUE(service_->UpdateUser(u->id, {.password = "pw2"}).ok());
  EXPECT_FALSE(service_->Authenticate(req).ok());
  EXPECT_TRUE(service_->Authenticate(PasswordAuth("bob", "pw2")).ok());

  EXPECT_EQ(service_->ChangePassword(u->id, "wrong", "pw3").code(),
            StatusCode::kUnauthenticated);
  ASSERT_TRUE(service_->ChangePassword(u->id, "pw2", "pw3").ok());
  EXPECT_TRUE(service_->Authenticate(PasswordAuth("bob", "pw3")).ok());

  auto renamed = service_->UpdateUser(u->id, {.name = "robert", .email = ""});
  ASSERT_TRUE(renamed.ok());
  EXPECT_FALSE(renamed->email.has_value());
  EXPECT_EQ(service_->UpdateUser(u->id, {.name = "admin"}).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(service_->ListUsers({.name = "robert"})->size(), 1u);

  auto [uid, pid] = MakeUser("carol", "reader", "carolproj");
  auto projects = service_->ListUserProjects(uid);
  ASSERT_TRUE(projects.ok());
  ASSERT_EQ(projects->size(), 1u);
  EXPECT_EQ((*projects)[0].id, pid);

  auto tok = service_->Authenticate(PasswordAuth("carol", "carolpw", "carolproj"));
  ASSERT_TRUE(tok.ok());
  ASSERT_TRUE(service_->DeleteUser(uid).ok());
  EXPECT_FALSE(service_->ValidateToken(tok->bearer).ok());
  EXPECT_EQ(service_->GetUser(uid).status().code(), StatusCode::kNotFound);
}

TEST_F(IdentityServiceTest, RolesAndAssignments) {
  auto role = service_->CreateRole("creator", "makes things");
  ASSERT_TRUE(role.ok());
  EXPECT_EQ(service_->CreateRole("creator", "").status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(service_->GrantRole(boot_.admin_project_id, boot_.admin_user_id, "nope").code(),
            StatusCode::kNotFound);
  EXPECT_EQ(service_->GrantRole("nope", boot_.admin_user_id, role->id).code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(service_->GrantRole(boot_.admin_project_id, boot_.admin_user_id, role->id).ok());
  ASSERT_TRUE(service_->GrantRole(boot_.admin_project_id, boot_.admin_user_id, role->id).ok());
  EXPECT_TRUE(service_->CheckRole(boot_.admin_project_id, boot_.admin_user_id, role->id).ok());

  auto direct = service_->ListAssignments({.user_id = boot_.admin_user_id});
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(direct->size(), 2u);  // admin + creator
  auto effective = service_->ListAssignments({.user_id = boot_.admin_user_id, .effective = true});
  ASSERT_TRUE(effective.ok());
  EXPECT_EQ(effective->size(), 4u);  // + member, reader
  auto reader = service_->ListRoles({.name = "reader"});
  auto only_reader = service_->ListAssignments(
      {.user_id = boot_.admin_user_id, .role_id = (*reader)[0].id, .effective = true});
  ASSERT_EQ(only_reader->size(), 1u);
  EXPECT_EQ(service_->ListAssignments({.role_id = (*reader)[0].id})->size(), 0u);

  ASSERT_TRUE(service_->DeleteRole(role->id).ok());
  EXPECT_EQ(service_->CheckRole(boot_.admin_project_id, boot_.admin_user_id, role->id).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(service_->ListAssignments({.user_id = boot_.admin_user_id})->size(), 1u);
  EXPECT_EQ(service_->RevokeRole(boot_.admin_project_id, boot_.admin_user_id, role->id).code(),
            StatusCode::kNotFound);
}

TEST_F(IdentityServiceTest, GroupsCarryRolesToTheirMembers) {
  auto project = service_->CreateProject({.name = "team"});
  ASSERT_TRUE(project.ok());
  auto user = service_->CreateUser({.name = "gina", .password = "ginapw"});
  ASSERT_TRUE(user.ok());
  const std::string member_role = (*service_->ListRoles({.name = "member"}))[0].id;
  // No role on the project yet: no project-scoped token.
  EXPECT_EQ(service_->Authenticate(PasswordAuth("gina", "ginapw", "team")).status().code(),
            StatusCode::kUnauthenticated);

  auto group = service_->CreateGroup({.name = "devs", .description = "developers"});
  ASSERT_TRUE(group.ok()) << group.status().ToString();
  EXPECT_EQ(group->domain_id, "default");
  EXPECT_EQ(group->id.size(), 32u);
  EXPECT_EQ(service_->CreateGroup({.name = "devs"}).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(service_->CreateGroup({.name = ""}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->CreateGroup({.name = "x", .domain_id = "nope"}).status().code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(service_->GrantGroupRole(project->id, group->id, member_role).ok());
  EXPECT_TRUE(service_->CheckGroupRole(project->id, group->id, member_role).ok());
  ASSERT_TRUE(service_->AddUserToGroup(group->id, user->id).ok());
  ASSERT_TRUE(service_->AddUserToGroup(group->id, user->id).ok());  // idempotent
  EXPECT_TRUE(service_->CheckUserInGroup(group->id, user->id).ok());
  EXPECT_EQ(service_->ListGroupUsers(group->id)->size(), 1u);
  EXPECT_EQ(service_->ListGroupUsers(group->id)->front().password_hash, "");
  EXPECT_EQ(service_->ListUserGroups(user->id)->front().name, "devs");

  // Through the group: a token for the project with member (and the reader it implies).
  auto tok = service_->Authenticate(PasswordAuth("gina", "ginapw", "team"));
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  EXPECT_EQ(RoleNames(tok->info), (std::vector<std::string>{"member", "reader"}));
  EXPECT_EQ(service_->ListUserProjects(user->id)->size(), 1u);

  // Assignments: listed as the group's, or expanded to the user when effective.
  auto rows = service_->ListAssignments({.project_id = project->id});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].group_id, group->id);
  EXPECT_EQ((*rows)[0].user_id, "");
  EXPECT_EQ(service_->ListAssignments({.user_id = user->id})->size(), 0u);  // not its own
  auto effective = service_->ListAssignments({.project_id = project->id, .effective = true});
  ASSERT_TRUE(effective.ok());
  ASSERT_EQ(effective->size(), 2u);  // member, reader
  EXPECT_EQ((*effective)[0].user_id, user->id);
  EXPECT_EQ((*effective)[0].group_id, "");
  EXPECT_EQ(service_->ListAssignments({.group_id = group->id, .effective = true})->size(), 2u);

  // Leaving the group takes the roles away at once: the token no longer validates.
  ASSERT_TRUE(service_->ValidateToken(tok->bearer).ok());
  ASSERT_TRUE(service_->RemoveUserFromGroup(group->id, user->id).ok());
  EXPECT_EQ(service_->RemoveUserFromGroup(group->id, user->id).code(), StatusCode::kNotFound);
  EXPECT_FALSE(service_->ValidateToken(tok->bearer).ok());
  // Back in: valid again (roles are evaluated at validation); the group's role revoked: not.
  ASSERT_TRUE(service_->AddUserToGroup(group->id, user->id).ok());
  EXPECT_TRUE(service_->ValidateToken(tok->bearer).ok());
  ASSERT_TRUE(service_->RevokeGroupRole(project->id, group->id, member_role).ok());
  EXPECT_EQ(service_->RevokeGroupRole(project->id, group->id, member_role).code(),
            StatusCode::kNotFound);
  EXPECT_FALSE(service_->ValidateToken(tok->bearer).ok());
  // Deleting the group removes what it carried.
  ASSERT_TRUE(service_->GrantGroupRole(project->id, group->id, member_role).ok());
  EXPECT_TRUE(service_->ValidateToken(tok->bearer).ok());
  ASSERT_TRUE(service_->DeleteGroup(group->id).ok());
  EXPECT_FALSE(service_->ValidateToken(tok->bearer).ok());
  EXPECT_EQ(service_->ListUserGroups(user->id)->size(), 0u);
}

TEST_F(IdentityServiceTest, GroupManagement) {
  auto a = service_->CreateGroup({.name = "a"});
  auto b = service_->CreateGroup({.name = "b", .description = "bee"});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(service_->ListGroups({})->size(), 2u);
  EXPECT_EQ(service_->ListGroups({.name = "b"})->front().description, "bee");
  EXPECT_EQ(service_->ListGroups({.domain_id = "other"})->size(), 0u);
  auto renamed = service_->UpdateGroup(a->id, {.name = "aa", .description = "renamed"});
  ASSERT_TRUE(renamed.ok());
  EXPECT_EQ(service_->GetGroup(a->id)->name, "aa");
  EXPECT_EQ(service_->UpdateGroup(a->id, {.name = "b"}).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(service_->UpdateGroup("nope", {.name = "c"}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->AddUserToGroup(a->id, "nope").code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->AddUserToGroup("nope", boot_.admin_user_id).code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->CheckUserInGroup(a->id, boot_.admin_user_id).code(), StatusCode::kNotFound);
  ASSERT_TRUE(service_->DeleteGroup(a->id).ok());
  EXPECT_EQ(service_->DeleteGroup(a->id).code(), StatusCode::kNotFound);
}

TEST_F(IdentityServiceTest, ApplicationCredentials) {
  auto [uid, pid] = MakeUser("carl", "member", "ci");
  auto tok = service_->Authenticate(PasswordAuth("carl", "carlpw", "ci"));
  ASSERT_TRUE(tok.ok());
  const std::string reader_id = (*service_->ListRoles({.name = "reader"}))[0].id;

  // Roles: the token's by default; a role the token lacks is refused.
  EXPECT_EQ(service_->CreateApplicationCredential(tok->bearer, uid,
                                                  {.name = "x", .roles = {{.name = "admin"}}})
                .status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(service_->CreateApplicationCredential(tok->bearer, boot_.admin_user_id, {.name = "x"})
                .status().code(),
            StatusCode::kPermissionDenied);  // only for oneself
  auto full = service_->CreateApplicationCredential(tok->bearer, uid, {.name = "deploy"});
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_EQ(full->secret.size(), 86u);
  EXPECT_EQ(full->credential.project_id, pid);
  EXPECT_EQ(full->credential.secret_hash, "");
  EXPECT_EQ(full->credential.role_ids.size(), 2u);  // member and the reader it implies
  EXPECT_EQ(service_->CreateApplicationCredential(tok->bearer, uid, {.name = "deploy"})
                .status().code(),
            StatusCode::kAlreadyExists);
  auto ro = service_->CreateApplicationCredential(
      tok->bearer, uid, {.name = "read-only", .secret = "s3cret", .roles = {{.id = reader_id}}});
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  EXPECT_EQ(ro->secret, "s3cret");
  EXPECT_EQ(service_->ListApplicationCredentials(uid, std::nullopt)->size(), 2u);
  EXPECT_EQ(service_->ListApplicationCredentials(uid, "deploy")->size(), 1u);
  EXPECT_EQ(service_->GetApplicationCredential(boot_.admin_user_id, ro->credential.id)
                .status().code(),
            StatusCode::kNotFound);  // not that user's

  // Authenticating: by id, or by name and user; scoped to the project with the carried roles.
  AuthRequest by_id;
  by_id.application_credential = AppCredentialAuth{.id = ro->credential.id, .secret = "s3cret"};
  auto app_tok = service_->Authenticate(by_id);
  ASSERT_TRUE(app_tok.ok()) << app_tok.status().ToString();
  EXPECT_EQ(app_tok->info.project->id, pid);
  EXPECT_EQ(RoleNames(app_tok->info), (std::vector<std::string>{"reader"}));
  EXPECT_EQ(app_tok->info.methods, (std::vector<std::string>{"application_credential"}));
  ASSERT_TRUE(app_tok->info.application_credential.has_value());
  auto ctx = service_->ValidateToken(app_tok->bearer);
  ASSERT_TRUE(ctx.ok());
  EXPECT_FALSE(ctx->IsMember());
  AuthRequest by_name;
  by_name.application_credential = AppCredentialAuth{
      .name = "deploy", .user = {.name = "carl", .domain_name = "Default"},
      .secret = full->secret};
  auto deploy_tok = service_->Authenticate(by_name);
  ASSERT_TRUE(deploy_tok.ok()) << deploy_tok.status().ToString();
  EXPECT_EQ(RoleNames(deploy_tok->info), (std::vector<std::string>{"member", "reader"}));
  by_id.application_credential->secret = "wrong";
  EXPECT_EQ(service_->Authenticate(by_id).status().code(), StatusCode::kUnauthenticated);
  AuthRequest other_scope = by_name;
  other_scope.project = EntityRef{.name = "admin", .domain_name = "Default"};
  EXPECT_EQ(service_->Authenticate(other_scope).status().code(), StatusCode::kUnauthenticated);

  // A restricted credential's token cannot make or remove credentials, nor be rescoped.
  EXPECT_EQ(service_->CreateApplicationCredential(deploy_tok->bearer, uid, {.name = "more"})
                .status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(service_->DeleteApplicationCredential(deploy_tok->bearer, uid, ro->credential.id)
                .code(),
            StatusCode::kPermissionDenied);
  AuthRequest rescope;
  rescope.token = deploy_tok->bearer;
  rescope.project = EntityRef{.id = pid};
  EXPECT_EQ(service_->Authenticate(rescope).status().code(), StatusCode::kPermissionDenied);

  // The user losing the role takes it from the credential; deleting the credential kills its
  // tokens at once.
  const std::string member_id = (*service_->ListRoles({.name = "member"}))[0].id;
  ASSERT_TRUE(service_->RevokeRole(pid, uid, member_id).ok());
  EXPECT_FALSE(service_->ValidateToken(deploy_tok->bearer).ok());
  ASSERT_TRUE(service_->GrantRole(pid, uid, member_id).ok());
  EXPECT_TRUE(service_->ValidateToken(deploy_tok->bearer).ok());
  ASSERT_TRUE(service_->DeleteApplicationCredential(tok->bearer, uid, full->credential.id).ok());
  EXPECT_FALSE(service_->ValidateToken(deploy_tok->bearer).ok());
  EXPECT_EQ(service_->Authenticate(by_name).status().code(), StatusCode::kUnauthenticated);

  // Expiry: the credential's tokens end with it.
  auto brief = service_->CreateApplicationCredential(
      tok->bearer, uid, {.name = "brief", .expires_at = clock_.Now() + 60'000'000});
  ASSERT_TRUE(brief.ok());
  AuthRequest brief_auth;
  brief_auth.application_credential =
      AppCredentialAuth{.id = brief->credential.id, .secret = brief->secret};
  auto brief_tok = service_->Authenticate(brief_auth);
  ASSERT_TRUE(brief_tok.ok());
  EXPECT_EQ(brief_tok->info.expires_at, clock_.Now() + 60'000'000);
  clock_.Advance(61'000'000);
  EXPECT_FALSE(service_->ValidateToken(brief_tok->bearer).ok());
  EXPECT_EQ(service_->Authenticate(brief_auth).status().code(), StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace glimmer::identity
