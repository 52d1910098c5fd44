#pragma once
// Test-only: an IdentityRepository that forwards every call to another one. Tests derive from
// it and override the calls they want to observe or interleave with (e.g. a revocation that
// lands between a token's database read and its insertion into the cache).

#include <string_view>
#include <vector>

#include "db/identity_repository.h"

namespace glimmer::identity::testing {

class ForwardingIdentityRepository : public db::IdentityRepository {
 public:
  explicit ForwardingIdentityRepository(db::IdentityRepository& base) : base_(base) {}

  Status CreateDomain(const domain::IdentityDomain& d) override { return base_.CreateDomain(d); }
  StatusOr<domain::IdentityDomain> GetDomain(std::string_view id) override {
    return base_.GetDomain(id);
  }
  StatusOr<domain::IdentityDomain> GetDomainByName(std::string_view name) override {
    return base_.GetDomainByName(name);
  }
  StatusOr<std::vector<domain::IdentityDomain>> ListDomains() override {
    return base_.ListDomains();
  }

  Status CreateProject(const domain::Project& p) override { return base_.CreateProject(p); }
  StatusOr<domain::Project> GetProject(std::string_view id) override {
    return base_.GetProject(id);
  }
  StatusOr<domain::Project> GetProjectByName(std::string_view domain_id,
                                             std::string_view name) override {
    return base_.GetProjectByName(domain_id, name);
  }
  StatusOr<std::vector<domain::Project>> ListProjects() override { return base_.ListProjects(); }
  Status UpdateProject(const domain::Project& p) override { return base_.UpdateProject(p); }
  Status DeleteProject(std::string_view id) override { return base_.DeleteProject(id); }

  Status CreateUser(const domain::User& u) override { return base_.CreateUser(u); }
  StatusOr<domain::User> GetUser(std::string_view id) override { return base_.GetUser(id); }
  StatusOr<domain::User> GetUserByName(std::string_view domain_id,
                                       std::string_view name) override {
    return base_.GetUserByName(domain_id, name);
  }
  StatusOr<std::vector<domain::User>> ListUsers() override { return base_.ListUsers(); }
  Status UpdateUser(const domain::User& u) override { return base_.UpdateUser(u); }
  Status UpdateUserRevokingTokens(const domain::User& u) override {
    return base_.UpdateUserRevokingTokens(u);
  }
  Status DeleteUser(std::string_view id) override { return base_.DeleteUser(id); }

  Status CreateRole(const domain::Role& r) override { return base_.CreateRole(r); }
  StatusOr<domain::Role> GetRole(std::string_view id) override { return base_.GetRole(id); }
  StatusOr<domain::Role> GetRoleByName(std::string_view name) override {
    return base_.GetRoleByName(name);
  }
  StatusOr<std::vector<domain::Role>> ListRoles() override { return base_.ListRoles(); }
  Status DeleteRole(std::string_view id) override { return base_.DeleteRole(id); }

  Status AddAssignment(const domain::RoleAssignment& a) override {
    return base_.AddAssignment(a);
  }
  Status RemoveAssignment(const domain::RoleAssignment& a) override {
    return base_.RemoveAssignment(a);
  }
  StatusOr<std::vector<domain::RoleAssignment>> ListAssignments(
      std::string_view project_id, std::string_view user_id, std::string_view role_id) override {
    return base_.ListAssignments(project_id, user_id, role_id);
  }

  Status CreateGroup(const domain::Group& g) override { return base_.CreateGroup(g); }
  StatusOr<domain::Group> GetGroup(std::string_view id) override { return base_.GetGroup(id); }
  StatusOr<domain::Group> GetGroupByName(std::string_view domain_id,
                                         std::string_view name) override {
    return base_.GetGroupByName(domain_id, name);
  }
  StatusOr<std::vector<domain::Group>> ListGroups() override { return base_.ListGroups(); }
  Status UpdateGroup(const domain::Group& g) override { return base_.UpdateGroup(g); }
  Status DeleteGroup(std::string_view id) override { return base_.DeleteGroup(id); }
  Status AddGroupMember(const domain::GroupMembership& m) override {
    return base_.AddGroupMember(m);
  }
  Status RemoveGroupMember(const domain::GroupMembership& m) override {
    return base_.RemoveGroupMember(m);
  }
  StatusOr<std::vector<domain::GroupMembership>> ListGroupMembers(
      std::string_view group_id, std::string_view user_id) override {
    return base_.ListGroupMembers(group_id, user_id);
  }
  Status AddGroupAssignment(const domain::RoleAssignment& a) override {
    return base_.AddGroupAssignment(a);
  }
  Status RemoveGroupAssignment(const domain::RoleAssignment& a) override {
    return base_.RemoveGroupAssignment(a);
  }
  StatusOr<std::vector<domain::RoleAssignment>> ListGroupAssignments(
      std::string_view project_id, std::string_view group_id, std::string_view role_id) override {
    return base_.ListGroupAssignments(project_id, group_id, role_id);
  }

  Status CreateApplicationCredential(const domain::ApplicationCredential& c) override {
    return base_.CreateApplicationCredential(c);
  }
  StatusOr<domain::ApplicationCredential> GetApplicationCredential(std::string_view id) override {
    return base_.GetApplicationCredential(id);
  }
  StatusOr<domain::ApplicationCredential> GetApplicationCredentialByName(
      std::string_view user_id, std::string_view name) override {
    return base_.GetApplicationCredentialByName(user_id, name);
  }
  StatusOr<std::vector<domain::ApplicationCredential>> ListApplicationCredentials(
      std::string_view user_id) override {
    return base_.ListApplicationCredentials(user_id);
  }
  Status DeleteApplicationCredential(std::string_view id) override {
    return base_.DeleteApplicationCredential(id);
  }

  Status SaveToken(const domain::Token& t) override { return base_.SaveToken(t); }
  StatusOr<domain::Token> GetToken(std::string_view digest) override {
    return base_.GetToken(digest);
  }
  Status RevokeToken(std::string_view digest) override { return base_.RevokeToken(digest); }
  Status PurgeExpiredTokens(UnixMicros now) override { return base_.PurgeExpiredTokens(now); }

 protected:
  db::IdentityRepository& base_;
};

}  // namespace glimmer::identity::testing
