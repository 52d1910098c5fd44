#include "db/sql/identity_repository.h"

#include <functional>
#include <string>
#include <utility>

#include "db/sql/queries.h"

namespace glimmer::db::sql {
namespace {

using domain::ApplicationCredential;
using domain::Group;
using domain::GroupMembership;
using domain::IdentityDomain;
using domain::Project;
using domain::Role;
using domain::RoleAssignment;
using domain::Token;
using domain::User;

IdentityDomain ReadDomain(const Statement& st) {
  return {st.Text(0), st.Text(1), st.Text(2), st.Int(3) != 0};
}

Project ReadProject(const Statement& st) {
  Project p;
  p.id = st.Text(0);
  p.name = st.Text(1);
  p.domain_id = st.Text(2);
  p.description = st.Text(3);
  p.enabled = st.Int(4) != 0;
  p.is_domain = st.Int(5) != 0;
  return p;
}

User ReadUser(const Statement& st) {
  User u;
  u.id = st.Text(0);
  u.name = st.Text(1);
  u.domain_id = st.Text(2);
  u.default_project_id = st.OptText(3);
  u.email = st.OptText(4);
  u.description = st.Text(5);
  u.password_hash = st.Text(6);
  u.enabled = st.Int(7) != 0;
  return u;
}

Role ReadRole(const Statement& st) {
  Role r;
  r.id = st.Text(0);
  r.name = st.Text(1);
  r.domain_id = st.OptText(2);
  r.description = st.Text(3);
  return r;
}

Token ReadToken(const Statement& st) {
  Token t;
  t.digest = st.Text(0);
  t.user_id = st.Text(1);
  t.project_id = st.Text(2);  // NULL (unscoped) reads as ""
  t.audit_id = st.Text(3);
  t.issued_at = st.Int(4);
  t.expires_at = st.Int(5);
  t.revoked = st.Int(6) != 0;
  t.application_credential_id = st.Text(7);  // NULL reads as ""
  return t;
}

ApplicationCredential ReadAppCred(const Statement& st) {
  ApplicationCredential c;
  c.id = st.Text(0);
  c.user_id = st.Text(1);
  c.project_id = st.Text(2);
  c.name = st.Text(3);
  c.description = st.Text(4);
  c.secret_hash = st.Text(5);
  c.expires_at = st.OptInt(6);
  c.unrestricted = st.Int(7) != 0;
  c.created_at = st.Int(8);
  return c;
}

Group ReadGroup(const Statement& st) {
  return Group{.id = st.Text(0), .name = st.Text(1), .domain_id = st.Text(2),
               .description = st.Text(3)};
}

void BindGroup(Statement& st, const Group& g) {
  st.BindStatic(1, g.id).BindStatic(2, g.name).BindStatic(3, g.domain_id).BindStatic(4,
                                                                                   g.description);
}

void BindProject(Statement& st, const Project& p) {
  st.BindStatic(1, p.id)
      .BindStatic(2, p.name)
      .BindStatic(3, p.domain_id)
      .BindStatic(4, p.description)
      .Bind(5, int64_t{p.enabled ? 1 : 0})
      .Bind(6, int64_t{p.is_domain ? 1 : 0});
}

void BindUser(Statement& st, const User& u) {
  st.BindStatic(1, u.id)
      .BindStatic(2, u.name)
      .BindStatic(3, u.domain_id)
      .Bind(4, u.default_project_id)
      .Bind(5, u.email)
      .BindStatic(6, u.description)
      .BindStatic(7, u.password_hash)
      .Bind(8, int64_t{u.enabled ? 1 : 0});
}

// Replaces the generic constraint message with one naming the record.
Status Describe(Status st, std::string_view what) {
  if (st.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError(std::string(what) + " already exists (duplicate id or name)");
  }
  if (st.code() == StatusCode::kNotFound) {
    return NotFoundError(std::string(what) + ": referenced record not found");
  }
  return st;
}

}  // namespace

// Small helpers shared by the methods below: one statement, one row or all rows.
namespace {

template <typename T>
StatusOr<T> GetOne(Database& db, const char* sql, std::initializer_list<std::string_view> args,
                   T (*read)(const Statement&), std::string_view what) {
  std::optional<T> out;
  RETURN_IF_ERROR(db.Read([&](Connection& conn) -> Status {
    ASSIGN_OR_RETURN(Statement st, conn.Prepare(sql));
    int i = 1;
    for (std::string_view a : args) st.BindStatic(i++, a);
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return NotFoundError(std::string(what) + " not found");
    out = read(st);
    return OkStatus();
  }));
  return std::move(*out);
}

template <typename T>
StatusOr<std::vector<T>> GetAll(Database& db, const char* sql,
                                std::initializer_list<std::string_view> args,
                                T (*read)(const Statement&)) {
  std::vector<T> out;
  RETURN_IF_ERROR(db.Read([&](Connection& conn) -> Status {
    ASSIGN_OR_RETURN(Statement st, conn.Prepare(sql));
    int i = 1;
    for (std::string_view a : args) st.BindStatic(i++, a);
    while (true) {
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return OkStatus();
      out.push_back(read(st));
    }
  }));
  return out;
}

// Runs a write statement; NotFound (naming `what`) when it touched no row and
// `require_change` is set.
Status WriteOne(Database& db, const char* sql, const std::function<void(Statement&)>& bind,
                std::string_view what, bool require_change) {
  Status st = db.Write([&](Connection& conn) -> Status {
    ASSIGN_OR_RETURN(Statement s, conn.Prepare(sql));
    bind(s);
    RETURN_IF_ERROR(s.Run());
    if (require_change && conn.Changes() == 0) {
      return NotFoundError(std::string(what) + " not found");
    }
    return OkStatus();
  });
  return st;
}

}  // namespace

// ---- Domains ----

Status SqlIdentityRepository::CreateDomain(const IdentityDomain& d) {
  return Describe(WriteOne(
                      db_, queries::kInsertDomain,
                      [&](Statement& st) {
                        st.BindStatic(1, d.id)
                            .BindStatic(2, d.name)
                            .BindStatic(3, d.description)
                            .Bind(4, int64_t{d.enabled ? 1 : 0});
                      },
                      "domain", false),
                  "domain " + d.name);
}

StatusOr<IdentityDomain> SqlIdentityRepository::GetDomain(std::string_view id) {
  return GetOne<IdentityDomain>(db_, queries::kSelectDomainById, {id}, ReadDomain,
                                "domain " + std::string(id));
}

StatusOr<IdentityDomain> SqlIdentityRepository::GetDomainByName(std::string_view name) {
  return GetOne<IdentityDomain>(db_, queries::kSelectDomainByName, {name}, ReadDomain,
                                "domain " + std::string(name));
}

StatusOr<std::vector<IdentityDomain>> SqlIdentityRepository::ListDomains() {
  return GetAll<IdentityDomain>(db_, queries::kListDomains, {}, ReadDomain);
}

// ---- Projects ----

Status SqlIdentityRepository::CreateProject(const Project& p) {
  return Describe(WriteOne(
                      db_, queries::kInsertProject, [&](Statement& st) { BindProject(st, p); },
                      "project", false),
                  "project " + p.name);
}

StatusOr<Project> SqlIdentityRepository::GetProject(std::string_view id) {
  return GetOne<Project>(db_, queries::kSelectProjectById, {id}, ReadProject,
                         "project " + std::string(id));
}

StatusOr<Project> SqlIdentityRepository::GetProjectByName(std::string_view domain_id,
                                                             std::string_view name) {
  return GetOne<Project>(db_, queries::kSelectProjectByName, {domain_id, name}, ReadProject,
                         "project " + std::string(name));
}

StatusOr<std::vector<Project>> SqlIdentityRepository::ListProjects() {
  return GetAll<Project>(db_, queries::kListProjects, {}, ReadProject);
}

Status SqlIdentityRepository::UpdateProject(const Project& p) {
  Status st = WriteOne(
      db_, queries::kUpdateProject, [&](Statement& s) { BindProject(s, p); },
      "project " + p.id, true);
  return st.code() == StatusCode::kNotFound ? st : Describe(st, "project " + p.name);
}

Status SqlIdentityRepository::DeleteProject(std::string_view id) {
  return WriteOne(
      db_, queries::kDeleteProject, [&](Statement& st) { st.BindStatic(1, id); },
      "project " + std::string(id), true);
}

// ---- Users ----

Status SqlIdentityRepository::CreateUser(const User& u) {
  return Describe(WriteOne(
                      db_, queries::kInsertUser, [&](Statement& st) { BindUser(st, u); }, "user",
                      false),
                  "user " + u.name);
}

StatusOr<User> SqlIdentityRepository::GetUser(std::string_view id) {
  return GetOne<User>(db_, queries::kSelectUserById, {id}, ReadUser, "user " + std::string(id));
}

StatusOr<User> SqlIdentityRepository::GetUserByName(std::string_view domain_id,
                                                       std::string_view name) {
  return GetOne<User>(db_, queries::kSelectUserByName, {domain_id, name}, ReadUser,
                      "user " + std::string(name));
}

StatusOr<std::vector<User>> SqlIdentityRepository::ListUsers() {
  return GetAll<User>(db_, queries::kListUsers, {}, ReadUser);
}

Status SqlIdentityRepository::UpdateUser(const User& u) {
  Status st = WriteOne(
      db_, queries::kUpdateUser, [&](Statement& s) { BindUser(s, u); }, "user " + u.id, true);
  return st.code() == StatusCode::kNotFound ? st : Describe(st, "user " + u.name);
}

Status SqlIdentityRepository::UpdateUserRevokingTokens(const User& u) {
  Status st = db_.Write([&](Connection& conn) -> Status {
    {
      ASSIGN_OR_RETURN(Statement s, conn.Prepare(queries::kUpdateUser));
      BindUser(s, u);
      RETURN_IF_ERROR(s.Run());
      if (conn.Changes() == 0) return NotFoundError("user " + u.id + " not found");
    }
    ASSIGN_OR_RETURN(Statement s, conn.Prepare(queries::kRevokeUserTokens));
    s.BindStatic(1, u.id);
    return s.Run();
  });
  return st.code() == StatusCode::kNotFound ? st : Describe(st, "user " + u.name);
}

Status SqlIdentityRepository::DeleteUser(std::string_view id) {
  return WriteOne(
      db_, queries::kDeleteUser, [&](Statement& st) { st.BindStatic(1, id); },
      "user " + std::string(id), true);
}

// ---- Roles ----

Status SqlIdentityRepository::CreateRole(const Role& r) {
  return Describe(WriteOne(
                      db_, queries::kInsertRole,
                      [&](Statement& st) {
                        st.BindStatic(1, r.id)
                            .BindStatic(2, r.name)
                            .Bind(3, r.domain_id)
                            .BindStatic(4, r.description);
                      },
                      "role", false),
                  "role " + r.name);
}

StatusOr<Role> SqlIdentityRepository::GetRole(std::string_view id) {
  return GetOne<Role>(db_, queries::kSelectRoleById, {id}, ReadRole, "role " + std::string(id));
}

StatusOr<Role> SqlIdentityRepository::GetRoleByName(std::string_view name) {
  return GetOne<Role>(db_, queries::kSelectRoleByName, {name}, ReadRole,
                      "role " + std::string(name));
}

StatusOr<std::vector<Role>> SqlIdentityRepository::ListRoles() {
  return GetAll<Role>(db_, queries::kListRoles, {}, ReadRole);
}

Status SqlIdentityRepository::DeleteRole(std::string_view id) {
  return WriteOne(
      db_, queries::kDeleteRole, [&](Statement& st) { st.BindStatic(1, id); },
      "role " + std::string(id), true);
}

// ---- Role assignments ----

Status SqlIdentityRepository::AddAssignment(const RoleAssignment& a) {
  return Describe(WriteOne(
                      db_, queries::kInsertAssignment,
                      [&](Statement& st) {
                        st.BindStatic(1, a.project_id)
                            .BindStatic(2, a.user_id)
                            .BindStatic(3, a.role_id);
                      },
                      "assignment", false),
                  "assignment");
}

Status SqlIdentityRepository::RemoveAssignment(const RoleAssignment& a) {
  return WriteOne(
      db_, queries::kDeleteAssignment,
      [&](Statement& st) {
        st.BindStatic(1, a.project_id).BindStatic(2, a.user_id).BindStatic(3, a.role_id);
      },
      "role assignment", true);
}

StatusOr<std::vector<RoleAssignment>> SqlIdentityRepository::ListAssignments(
    std::string_view project_id, std::string_view user_id, std::string_view role_id) {
  return GetAll<RoleAssignment>(
      db_, queries::kListAssignments, {project_id, user_id, role_id},
      +[](const Statement& st) { return RoleAssignment{st.Text(0), st.Text(1), st.Text(2)}; });
}

// ---- Groups ----

Status SqlIdentityRepository::CreateGroup(const Group& g) {
  return Describe(WriteOne(
                      db_, queries::kInsertGroup, [&](Statement& st) { BindGroup(st, g); },
                      "group", false),
                  "group " + g.name);
}

StatusOr<Group> SqlIdentityRepository::GetGroup(std::string_view id) {
  return GetOne<Group>(db_, queries::kSelectGroupById, {id}, ReadGroup,
                       "group " + std::string(id));
}

StatusOr<Group> SqlIdentityRepository::GetGroupByName(std::string_view domain_id,
                                                       std::string_view name) {
  return GetOne<Group>(db_, queries::kSelectGroupByName, {domain_id, name}, ReadGroup,
                       "group " + std::string(name));
}

StatusOr<std::vector<Group>> SqlIdentityRepository::ListGroups() {
  return GetAll<Group>(db_, queries::kListGroups, {}, ReadGroup);
}

Status SqlIdentityRepository::UpdateGroup(const Group& g) {
  Status st = WriteOne(
      db_, queries::kUpdateGroup, [&](Statement& s) { BindGroup(s, g); }, "group " + g.id, true);
  return st.code() == StatusCode::kNotFound ? st : Describe(st, "group " + g.name);
}

Status SqlIdentityRepository::DeleteGroup(std::string_view id) {
  return WriteOne(
      db_, queries::kDeleteGroup, [&](Statement& st) { st.BindStatic(1, id); },
      "group " + std::string(id), true);
}

Status SqlIdentityRepository::AddGroupMember(const GroupMembership& m) {
  return Describe(WriteOne(
                      db_, queries::kInsertGroupMember,
                      [&](Statement& st) { st.BindStatic(1, m.group_id).BindStatic(2, m.user_id); },
                      "group membership", false),
                  "group membership");
}

Status SqlIdentityRepository::RemoveGroupMember(const GroupMembership& m) {
  return WriteOne(
      db_, queries::kDeleteGroupMember,
      [&](Statement& st) { st.BindStatic(1, m.group_id).BindStatic(2, m.user_id); },
      "group membership", true);
}

StatusOr<std::vector<GroupMembership>> SqlIdentityRepository::ListGroupMembers(
    std::string_view group_id, std::string_view user_id) {
  return GetAll<GroupMembership>(
      db_, queries::kListGroupMembers, {group_id, user_id},
      +[](const Statement& st) { return GroupMembership{st.Text(0), st.Text(1)}; });
}

Status SqlIdentityRepository::AddGroupAssignment(const RoleAssignment& a) {
  return Describe(WriteOne(
                      db_, queries::kInsertGroupAssignment,
                      [&](Statement& st) {
                        st.BindStatic(1, a.project_id)
                            .BindStatic(2, a.group_id)
                            .BindStatic(3, a.role_id);
                      },
                      "assignment", false),
                  "assignment");
}

Status SqlIdentityRepository::RemoveGroupAssignment(const RoleAssignment& a) {
  return WriteOne(
      db_, queries::kDeleteGroupAssignment,
      [&](Statement& st) {
        st.BindStatic(1, a.project_id).BindStatic(2, a.group_id).BindStatic(3, a.role_id);
      },
      "role assignment", true);
}

StatusOr<std::vector<RoleAssignment>> SqlIdentityRepository::ListGroupAssignments(
    std::string_view project_id, std::string_view group_id, std::string_view role_id) {
  return GetAll<RoleAssignment>(
      db_, queries::kListGroupAssignments, {project_id, group_id, role_id},
      +[](const Statement& st) {
        return RoleAssignment{
            .project_id = st.Text(0), .user_id = {}, .role_id = st.Text(2), .group_id = st.Text(1)};
      });
}

// ---- Application credentials ----

Status SqlIdentityRepository::CreateApplicationCredential(const ApplicationCredential& c) {
  Status st = db_.Write([&](Connection& conn) -> Status {
    {
      ASSIGN_OR_RETURN(Statement s, conn.Prepare(queries::kInsertAppCred));
      s.BindStatic(1, c.id)
          .BindStatic(2, c.user_id)
          .BindStatic(3, c.project_id)
          .BindStatic(4, c.name)
          .BindStatic(5, c.description)
          .BindStatic(6, c.secret_hash)
          .Bind(7, c.expires_at)
          .Bind(8, int64_t{c.unrestricted ? 1 : 0})
          .Bind(9, c.created_at);
      RETURN_IF_ERROR(s.Run());
    }
    for (const std::string& role_id : c.role_ids) {
      ASSIGN_OR_RETURN(Statement s, conn.Prepare(queries::kInsertAppCredRole));
      s.BindStatic(1, c.id).BindStatic(2, role_id);
      RETURN_IF_ERROR(s.Run());
    }
    return OkStatus();
  });
  return Describe(st, "application credential " + c.name);
}

StatusOr<ApplicationCredential> SqlIdentityRepository::GetApplicationCredential(
    std::string_view id) {
  ASSIGN_OR_RETURN(ApplicationCredential c,
                   GetOne<ApplicationCredential>(db_, queries::kSelectAppCredById, {id},
                                                 ReadAppCred,
                                                 "application credential " + std::string(id)));
  ASSIGN_OR_RETURN(c.role_ids, GetAll<std::string>(db_, queries::kListAppCredRoles, {c.id},
                                                   +[](const Statement& st) { return st.Text(0); }));
  return c;
}

StatusOr<ApplicationCredential> SqlIdentityRepository::GetApplicationCredentialByName(
    std::string_view user_id, std::string_view name) {
  ASSIGN_OR_RETURN(ApplicationCredential c,
                   GetOne<ApplicationCredential>(db_, queries::kSelectAppCredByName,
                                                 {user_id, name}, ReadAppCred,
                                                 "application credential " + std::string(name)));
  ASSIGN_OR_RETURN(c.role_ids, GetAll<std::string>(db_, queries::kListAppCredRoles, {c.id},
                                                   +[](const Statement& st) { return st.Text(0); }));
  return c;
}

StatusOr<std::vector<ApplicationCredential>> SqlIdentityRepository::ListApplicationCredentials(
    std::string_view user_id) {
  ASSIGN_OR_RETURN(auto all, GetAll<ApplicationCredential>(db_, queries::kListAppCreds,
                                                           {user_id}, ReadAppCred));
  for (ApplicationCredential& c : all) {
    ASSIGN_OR_RETURN(c.role_ids,
                     GetAll<std::string>(db_, queries::kListAppCredRoles, {c.id},
                                         +[](const Statement& st) { return st.Text(0); }));
  }
  return all;
}

Status SqlIdentityRepository::DeleteApplicationCredential(std::string_view id) {
  return WriteOne(
      db_, queries::kDeleteAppCred, [&](Statement& st) { st.BindStatic(1, id); },
      "application credential " + std::string(id), true);
}

// ---- Tokens ----

Status SqlIdentityRepository::SaveToken(const Token& t) {
  return Describe(WriteOne(
                      db_, queries::kInsertToken,
                      [&](Statement& st) {
                        st.BindStatic(1, t.digest).BindStatic(2, t.user_id);
                        if (t.project_id.empty()) {
                          st.BindNull(3);
                        } else {
                          st.BindStatic(3, t.project_id);
                        }
                        st.BindStatic(4, t.audit_id)
                            .Bind(5, t.issued_at)
                            .Bind(6, t.expires_at)
                            .Bind(7, int64_t{t.revoked ? 1 : 0});
                        if (t.application_credential_id.empty()) {
                          st.BindNull(8);
                        } else {
                          st.BindStatic(8, t.application_credential_id);
                        }
                      },
                      "token", false),
                  "token");
}

StatusOr<Token> SqlIdentityRepository::GetToken(std::string_view digest) {
  return GetOne<Token>(db_, queries::kSelectToken, {digest}, ReadToken, "token");
}

Status SqlIdentityRepository::RevokeToken(std::string_view digest) {
  return WriteOne(
      db_, queries::kRevokeToken, [&](Statement& st) { st.BindStatic(1, digest); }, "token",
      true);
}

Status SqlIdentityRepository::PurgeExpiredTokens(UnixMicros now) {
  return WriteOne(
      db_, queries::kPurgeExpiredTokens, [&](Statement& st) { st.Bind(1, now); }, "token",
      false);
}

std::unique_ptr<IdentityRepository> NewIdentityRepository(Database& db) {
  return std::make_unique<SqlIdentityRepository>(db);
}

}  // namespace glimmer::db::sql
