#include "api/identity/groups_api.h"

#include <utility>

namespace glimmer::api::identity {

using nlohmann::json;

bool GroupsCall::Handles(std::span<const std::string_view> seg) {
  if (seg.empty()) return false;
  if (seg[0] == "groups") return true;
  if (seg[0] == "users") return seg.size() == 3 && seg[2] == "groups";
  if (seg[0] == "projects") return seg.size() >= 5 && seg[2] == "groups" && seg[4] == "roles";
  return false;
}

StatusOr<http::Response> GroupsCall::Serve(std::span<const std::string_view> seg) {
  const size_t n = seg.size();
  if (seg[0] == "users") {
    if (!Is("GET")) return MethodNotAllowed();
    return UserGroups(seg[1]);
  }
  if (seg[0] == "projects") {
    if (n == 5) {
      if (!Is("GET")) return MethodNotAllowed();
      return GroupRoles(seg[1], seg[3]);
    }
    if (n == 6) return GroupRole(seg[1], seg[3], seg[5]);
    return NotFoundResponse();
  }
  if (n == 1) {
    if (Is("GET")) return ListGroups();
    if (req_.method == "POST") return CreateGroup();
    return MethodNotAllowed();
  }
  if (n == 2) {
    if (Is("GET")) return ShowGroup(seg[1]);
    if (req_.method == "PATCH") return UpdateGroup(seg[1]);
    if (req_.method == "DELETE") return DeleteGroup(seg[1]);
    return MethodNotAllowed();
  }
  if (seg[2] != "users") return NotFoundResponse();
  if (n == 3) {
    if (!Is("GET")) return MethodNotAllowed();
    return GroupUsers(seg[1]);
  }
  if (n == 4) return Membership(seg[1], seg[3]);
  return NotFoundResponse();
}

StatusOr<http::Response> GroupsCall::ListGroups() {
  RETURN_IF_ERROR(Admin("identity:list_groups").status());
  ASSIGN_OR_RETURN(auto groups, svc_.ListGroups(FilterFrom(req_)));
  json items = json::array();
  for (const auto& g : groups) items.push_back(GroupJson(g, identity_url_));
  return JsonResponse(200, ListJson("groups", std::move(items), SelfUrl()));
}

StatusOr<http::Response> GroupsCall::CreateGroup() {
  RETURN_IF_ERROR(Admin("identity:create_group").status());
  ASSIGN_OR_RETURN(json body, Body());
  ASSIGN_OR_RETURN(domain::Group g, ParseGroupCreate(body));
  ASSIGN_OR_RETURN(g, svc_.CreateGroup(std::move(g)));
  return JsonResponse(201, json{{"group", GroupJson(g, identity_url_)}});
}

StatusOr<http::Response> GroupsCall::ShowGroup(std::string_view id) {
  RETURN_IF_ERROR(Admin("identity:get_group").status());
  ASSIGN_OR_RETURN(domain::Group g, svc_.GetGroup(id));
  return JsonResponse(200, json{{"group", GroupJson(g, identity_url_)}});
}

StatusOr<http::Response> GroupsCall::UpdateGroup(std::string_view id) {
  RETURN_IF_ERROR(Admin("identity:update_group").status());
  ASSIGN_OR_RETURN(json body, Body());
  ASSIGN_OR_RETURN(svc::GroupPatch patch, ParseGroupPatch(body));
  ASSIGN_OR_RETURN(domain::Group g, svc_.UpdateGroup(id, patch));
  return JsonResponse(200, json{{"group", GroupJson(g, identity_url_)}});
}

StatusOr<http::Response> GroupsCall::DeleteGroup(std::string_view id) {
  RETURN_IF_ERROR(Admin("identity:delete_group").status());
  RETURN_IF_ERROR(svc_.DeleteGroup(id));
  return NoContent();
}

StatusOr<http::Response> GroupsCall::GroupUsers(std::string_view group_id) {
  RETURN_IF_ERROR(Admin("identity:list_users_in_group").status());
  ASSIGN_OR_RETURN(auto users, svc_.ListGroupUsers(group_id));
  const svc::ListFilter filter = FilterFrom(req_);
  json items = json::array();
  for (const auto& u : users) {
    if (filter.name && *filter.name != u.name) continue;
    if (filter.domain_id && *filter.domain_id != u.domain_id) continue;
    if (filter.enabled && *filter.enabled != u.enabled) continue;
    items.push_back(UserJson(u, identity_url_));
  }
  return JsonResponse(200, ListJson("users", std::move(items), SelfUrl()));
}

// PUT adds, HEAD checks, DELETE removes: 204 each (Keystone has no GET here).
StatusOr<http::Response> GroupsCall::Membership(std::string_view group_id,
                                                std::string_view user_id) {
  if (req_.method == "PUT") {
    RETURN_IF_ERROR(Admin("identity:add_user_to_group").status());
    RETURN_IF_ERROR(svc_.AddUserToGroup(group_id, user_id));
  } else if (req_.method == "HEAD") {
    RETURN_IF_ERROR(Admin("identity:check_user_in_group").status());
    RETURN_IF_ERROR(svc_.CheckUserInGroup(group_id, user_id));
  } else if (req_.method == "DELETE") {
    RETURN_IF_ERROR(Admin("identity:remove_user_from_group").status());
    RETURN_IF_ERROR(svc_.RemoveUserFromGroup(group_id, user_id));
  } else {
    return MethodNotAllowed();
  }
  return NoContent();
}

StatusOr<http::Response> GroupsCall::UserGroups(std::string_view user_id) {
  ASSIGN_OR_RETURN(auto ctx, Caller());
  if (!ctx.IsAdmin() && ctx.user_id != user_id) return Forbidden("identity:list_groups_for_user");
  ASSIGN_OR_RETURN(auto groups, svc_.ListUserGroups(user_id));
  json items = json::array();
  for (const auto& g : groups) items.push_back(GroupJson(g, identity_url_));
  return JsonResponse(200, ListJson("groups", std::move(items), SelfUrl()));
}

StatusOr<http::Response> GroupsCall::GroupRoles(std::string_view project_id,
                                                std::string_view group_id) {
  RETURN_IF_ERROR(Admin("identity:list_grants").status());
  RETURN_IF_ERROR(svc_.GetProject(project_id).status());
  RETURN_IF_ERROR(svc_.GetGroup(group_id).status());
  ASSIGN_OR_RETURN(auto assignments,
                   svc_.ListAssignments({.project_id = std::string(project_id),
                                         .group_id = std::string(group_id)}));
  json items = json::array();
  for (const auto& a : assignments) {
    auto role = svc_.GetRole(a.role_id);
    if (role.ok()) items.push_back(RoleJson(*role, identity_url_));
  }
  return JsonResponse(200, ListJson("roles", std::move(items), SelfUrl()));
}

StatusOr<http::Response> GroupsCall::GroupRole(std::string_view project_id,
                                               std::string_view group_id,
                                               std::string_view role_id) {
  if (req_.method == "PUT") {
    RETURN_IF_ERROR(Admin("identity:create_grant").status());
    RETURN_IF_ERROR(svc_.GrantGroupRole(project_id, group_id, role_id));
  } else if (req_.method == "HEAD" || req_.method == "GET") {
    RETURN_IF_ERROR(Admin("identity:check_grant").status());
    RETURN_IF_ERROR(svc_.CheckGroupRole(project_id, group_id, role_id));
  } else if (req_.method == "DELETE") {
    RETURN_IF_ERROR(Admin("identity:revoke_grant").status());
    RETURN_IF_ERROR(svc_.RevokeGroupRole(project_id, group_id, role_id));
  } else {
    return MethodNotAllowed();
  }
  return NoContent();
}

}  // namespace glimmer::api::identity
