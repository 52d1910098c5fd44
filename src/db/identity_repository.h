#pragma once
// Identity repository: users, projects, domains, roles, role assignments and tokens of the
// embedded Keystone-compatible service.
//
// Thread-safety: all methods may be called concurrently.
// Errors: NotFound, AlreadyExists (duplicate name within a domain, duplicate id),
// Internal/Unavailable on database errors.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "domain/identity.h"

namespace glimmer::db {

class IdentityRepository {
 public:
  virtual ~IdentityRepository() = default;
  IdentityRepository(const IdentityRepository&) = delete;
  IdentityRepository& operator=(const IdentityRepository&) = delete;

  // Domains
  virtual Status CreateDomain(const domain::IdentityDomain& d) = 0;
  virtual StatusOr<domain::IdentityDomain> GetDomain(std::string_view id) = 0;
  virtual StatusOr<domain::IdentityDomain> GetDomainByName(std::string_view name) = 0;
  virtual StatusOr<std::vector<domain::IdentityDomain>> ListDomains() = 0;

  // Projects (name unique within a domain)
  virtual Status CreateProject(const domain::Project& p) = 0;
  virtual StatusOr<domain::Project> GetProject(std::string_view id) = 0;
  virtual StatusOr<domain::Project> GetProjectByName(std::string_view domain_id,
                                                     std::string_view name) = 0;
  virtual StatusOr<std::vector<domain::Project>> ListProjects() = 0;
  virtual Status UpdateProject(const domain::Project& p) = 0;
  virtual Status DeleteProject(std::string_view id) = 0;  // also drops its role assignments

  // Users (name unique within a domain)
  virtual Status CreateUser(const domain::User& u) = 0;
  virtual StatusOr<domain::User> GetUser(std::string_view id) = 0;
  virtual StatusOr<domain::User> GetUserByName(std::string_view domain_id,
                                               std::string_view name) = 0;
  virtual StatusOr<std::vector<domain::User>> ListUsers() = 0;
  virtual Status UpdateUser(const domain::User& u) = 0;
  // UpdateUser plus, in the same transaction, the revocation of every token issued to the user
  // so far (a password change, as Keystone does).
  virtual Status UpdateUserRevokingTokens(const domain::User& u) = 0;
  virtual Status DeleteUser(std::string_view id) = 0;  // also drops assignments and tokens

  // Roles (name unique)
  virtual Status CreateRole(const domain::Role& r) = 0;
  virtual StatusOr<domain::Role> GetRole(std::string_view id) = 0;
  virtual StatusOr<domain::Role> GetRoleByName(std::string_view name) = 0;
  virtual StatusOr<std::vector<domain::Role>> ListRoles() = 0;
  virtual Status DeleteRole(std::string_view id) = 0;

  // Role assignments (idempotent add; NotFound on removing an absent one)
  virtual Status AddAssignment(const domain::RoleAssignment& a) = 0;
  virtual Status RemoveAssignment(const domain::RoleAssignment& a) = 0;
  // Any field left empty matches everything.
  virtual StatusOr<std::vector<domain::RoleAssignment>> ListAssignments(
      std::string_view project_id, std::string_view user_id, std::string_view role_id) = 0;

  // Groups (name unique within a domain). Deleting a group drops its memberships and its role
  // assignments.
  virtual Status CreateGroup(const domain::Group& g) = 0;
  virtual StatusOr<domain::Group> GetGroup(std::string_view id) = 0;
  virtual StatusOr<domain::Group> GetGroupByName(std::string_view domain_id,
                                                 std::string_view name) = 0;
  virtual StatusOr<std::vector<domain::Group>> ListGroups() = 0;
  virtual Status UpdateGroup(const domain::Group& g) = 0;
  virtual Status DeleteGroup(std::string_view id) = 0;

  // Group membership (idempotent add; NotFound on removing an absent one). Any field left
  // empty matches everything.
  virtual Status AddGroupMember(const domain::GroupMembership& m) = 0;
  virtual Status RemoveGroupMember(const domain::GroupMembership& m) = 0;
  virtual StatusOr<std::vector<domain::GroupMembership>> ListGroupMembers(
      std::string_view group_id, std::string_view user_id) = 0;

  // Roles of groups on projects (RoleAssignment with group_id set and user_id empty; idempotent
  // add; NotFound on removing an absent one). Any field left empty matches everything.
  virtual Status AddGroupAssignment(const domain::RoleAssignment& a) = 0;
  virtual Status RemoveGroupAssignment(const domain::RoleAssignment& a) = 0;
  virtual StatusOr<std::vector<domain::RoleAssignment>> ListGroupAssignments(
      std::string_view project_id, std::string_view group_id, std::string_view role_id) = 0;

  // Application credentials (name unique per user). Create stores the record and its roles in
  // one transaction (NotFound when the user, project or a role is missing). Deleting one deletes
  // the tokens issued for it.
  virtual Status CreateApplicationCredential(const domain::ApplicationCredential& c) = 0;
  virtual StatusOr<domain::ApplicationCredential> GetApplicationCredential(
      std::string_view id) = 0;
  virtual StatusOr<domain::ApplicationCredential> GetApplicationCredentialByName(
      std::string_view user_id, std::string_view name) = 0;
  virtual StatusOr<std::vector<domain::ApplicationCredential>> ListApplicationCredentials(
      std::string_view user_id) = 0;
  virtual Status DeleteApplicationCredential(std::string_view id) = 0;

  // Tokens
  virtual Status SaveToken(const domain::Token& t) = 0;
  virtual StatusOr<domain::Token> GetToken(std::string_view digest) = 0;
  virtual Status RevokeToken(std::string_view digest) = 0;
  virtual Status PurgeExpiredTokens(UnixMicros now) = 0;

 protected:
  IdentityRepository() = default;
};

}  // namespace glimmer::db
