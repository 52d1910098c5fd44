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

  // Tokens
  virtual Status SaveToken(const domain::Token& t) = 0;
  virtual StatusOr<domain::Token> GetToken(std::string_view digest) = 0;
  virtual Status RevokeToken(std::string_view digest) = 0;
  virtual Status PurgeExpiredTokens(UnixMicros now) = 0;

 protected:
  IdentityRepository() = default;
};

}  // namespace glimmer::db
