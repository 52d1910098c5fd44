#pragma once
// SQL implementation of db::IdentityRepository (contract: db/identity_repository.h), on any
// sql::Database backend (SQLite, PostgreSQL).
//
// Ownership: borrows the Database, which must outlive the repository.
// Thread-safety: all methods may be called concurrently.
// Errors beyond the interface's: CreateProject/CreateUser/UpdateProject/UpdateUser return
// NotFound when domain_id names no domain (create the "default" domain first); AddAssignment
// returns NotFound when the project, user or role does not exist; SaveToken returns NotFound
// when the user (or non-empty project) does not exist. Update*/Delete*/RevokeToken return
// NotFound for an absent id. Deleting a project or user also deletes its role assignments and
// tokens; deleting a role deletes its assignments. GetToken returns expired and revoked tokens
// too: the caller checks expires_at/revoked.

#include <memory>
#include <string_view>
#include <vector>

#include "db/identity_repository.h"
#include "db/sql/database.h"

namespace glimmer::db::sql {

class SqlIdentityRepository final : public IdentityRepository {
 public:
  explicit SqlIdentityRepository(Database& db) : db_(db) {}

  Status CreateDomain(const domain::IdentityDomain& d) override;
  StatusOr<domain::IdentityDomain> GetDomain(std::string_view id) override;
  StatusOr<domain::IdentityDomain> GetDomainByName(std::string_view name) override;
  StatusOr<std::vector<domain::IdentityDomain>> ListDomains() override;

  Status CreateProject(const domain::Project& p) override;
  StatusOr<domain::Project> GetProject(std::string_view id) override;
  StatusOr<domain::Project> GetProjectByName(std::string_view domain_id,
                                             std::string_view name) override;
  StatusOr<std::vector<domain::Project>> ListProjects() override;
  Status UpdateProject(const domain::Project& p) override;
  Status DeleteProject(std::string_view id) override;

  Status CreateUser(const domain::User& u) override;
  StatusOr<domain::User> GetUser(std::string_view id) override;
  StatusOr<domain::User> GetUserByName(std::string_view domain_id,
                                       std::string_view name) override;
  StatusOr<std::vector<domain::User>> ListUsers() override;
  Status UpdateUser(const domain::User& u) override;
  Status UpdateUserRevokingTokens(const domain::User& u) override;
  Status DeleteUser(std::string_view id) override;

  Status CreateRole(const domain::Role& r) override;
  StatusOr<domain::Role> GetRole(std::string_view id) override;
  StatusOr<domain::Role> GetRoleByName(std::string_view name) override;
  StatusOr<std::vector<domain::Role>> ListRoles() override;
  Status DeleteRole(std::string_view id) override;

  Status AddAssignment(const domain::RoleAssignment& a) override;
  Status RemoveAssignment(const domain::RoleAssignment& a) override;
  StatusOr<std::vector<domain::RoleAssignment>> ListAssignments(
      std::string_view project_id, std::string_view user_id, std::string_view role_id) override;

  Status CreateGroup(const domain::Group& g) override;
  StatusOr<domain::Group> GetGroup(std::string_view id) override;
  StatusOr<domain::Group> GetGroupByName(std::string_view domain_id,
                                         std::string_view name) override;
  StatusOr<std::vector<domain::Group>> ListGroups() override;
  Status UpdateGroup(const domain::Group& g) override;
  Status DeleteGroup(std::string_view id) override;

  Status AddGroupMember(const domain::GroupMembership& m) override;
  Status RemoveGroupMember(const domain::GroupMembership& m) override;
  StatusOr<std::vector<domain::GroupMembership>> ListGroupMembers(
      std::string_view group_id, std::string_view user_id) override;

  Status AddGroupAssignment(const domain::RoleAssignment& a) override;
  Status RemoveGroupAssignment(const domain::RoleAssignment& a) override;
  StatusOr<std::vector<domain::RoleAssignment>> ListGroupAssignments(
      std::string_view project_id, std::string_view group_id, std::string_view role_id) override;

  Status CreateApplicationCredential(const domain::ApplicationCredential& c) override;
  StatusOr<domain::ApplicationCredential> GetApplicationCredential(std::string_view id) override;
  StatusOr<domain::ApplicationCredential> GetApplicationCredentialByName(
      std::string_view user_id, std::string_view name) override;
  StatusOr<std::vector<domain::ApplicationCredential>> ListApplicationCredentials(
      std::string_view user_id) override;
  Status DeleteApplicationCredential(std::string_view id) override;

  Status SaveToken(const domain::Token& t) override;
  StatusOr<domain::Token> GetToken(std::string_view digest) override;
  Status RevokeToken(std::string_view digest) override;
  Status PurgeExpiredTokens(UnixMicros now) override;

 private:
  Database& db_;
};

std::unique_ptr<IdentityRepository> NewIdentityRepository(Database& db);

}  // namespace glimmer::db::sql
