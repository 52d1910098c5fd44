#pragma once
// Keystone v3 groups: /v3/groups[/{id}[/users[/{user}]]], /v3/users/{id}/groups and the roles
// groups hold on projects, /v3/projects/{p}/groups/{g}/roles[/{role}]. Management is for admins;
// a user may list its own groups.

#include <span>
#include <string_view>

#include "api/identity/identity_call.h"

namespace glimmer::api::identity {

class GroupsCall : public IdentityCall {
 public:
  using IdentityCall::IdentityCall;

  // Whether `seg` (the path's segments after /identity/v3, e.g. {"groups", id}) is a route
  // of this file.
  static bool Handles(std::span<const std::string_view> seg);
  // Serves a route Handles() accepted.
  StatusOr<http::Response> Serve(std::span<const std::string_view> seg);

 private:
  StatusOr<http::Response> ListGroups();
  StatusOr<http::Response> CreateGroup();
  StatusOr<http::Response> ShowGroup(std::string_view id);
  StatusOr<http::Response> UpdateGroup(std::string_view id);
  StatusOr<http::Response> DeleteGroup(std::string_view id);
  StatusOr<http::Response> GroupUsers(std::string_view group_id);
  StatusOr<http::Response> Membership(std::string_view group_id, std::string_view user_id);
  StatusOr<http::Response> UserGroups(std::string_view user_id);
  StatusOr<http::Response> GroupRoles(std::string_view project_id, std::string_view group_id);
  StatusOr<http::Response> GroupRole(std::string_view project_id, std::string_view group_id,
                                     std::string_view role_id);
};

}  // namespace glimmer::api::identity
