// IdentityService: groups, their members, and the roles groups hold on projects.

#include <set>
#include <utility>

#include "identity/identity_service.h"
#include "identity/internal/names.h"
#include "platform/random.h"

namespace glimmer::identity {

using internal::IsNotFound;
using internal::kIdBytes;
using internal::ValidateName;

namespace {

Status DuplicateGroup(const domain::Group& g) {
  return AlreadyExistsError("Duplicate entry found with name " + g.name + " at domain ID " +
                            g.domain_id + ".");
}

}  // namespace

StatusOr<domain::Group> IdentityService::CreateGroup(domain::Group group) {
  RETURN_IF_ERROR(ValidateName(group.name, "Group"));
  if (group.domain_id.empty()) group.domain_id = std::string(kDefaultDomainId);
  RETURN_IF_ERROR(repo_.GetDomain(group.domain_id).status());
  if (group.id.empty()) group.id = platform::RandomHex(kIdBytes);
  Status s = repo_.CreateGroup(group);
  if (s.code() == StatusCode::kAlreadyExists) return DuplicateGroup(group);
  RETURN_IF_ERROR(s);
  return group;
}

StatusOr<domain::Group> IdentityService::GetGroup(std::string_view id) {
  return repo_.GetGroup(id);
}

StatusOr<std::vector<domain::Group>> IdentityService::ListGroups(const ListFilter& filter) {
  ASSIGN_OR_RETURN(auto all, repo_.ListGroups());
  std::vector<domain::Group> out;
  for (auto& g : all) {
    if (filter.name && *filter.name != g.name) continue;
    if (filter.domain_id && *filter.domain_id != g.domain_id) continue;
    out.push_back(std::move(g));
  }
  return out;
}

StatusOr<domain::Group> IdentityService::UpdateGroup(std::string_view id,
                                                     const GroupPatch& patch) {
  ASSIGN_OR_RETURN(domain::Group g, repo_.GetGroup(id));
  if (patch.name) {
    RETURN_IF_ERROR(ValidateName(*patch.name, "Group"));
    g.name = *patch.name;
  }
  if (patch.description) g.description = *patch.description;
  Status s = repo_.UpdateGroup(g);
  if (s.code() == StatusCode::kAlreadyExists) return DuplicateGroup(g);
  RETURN_IF_ERROR(s);
  return g;
}

Status IdentityService::DeleteGroup(std::string_view id) {
  RETURN_IF_ERROR(repo_.DeleteGroup(id));
  cache_.Clear();  // its members lose the roles it held
  return OkStatus();
}

Status IdentityService::AddUserToGroup(std::string_view group_id, std::string_view user_id) {
  RETURN_IF_ERROR(repo_.GetGroup(group_id).status());
  RETURN_IF_ERROR(repo_.GetUser(user_id).status());
  return repo_.AddGroupMember({std::string(group_id), std::string(user_id)});
}

Status IdentityService::RemoveUserFromGroup(std::string_view group_id,
                                            std::string_view user_id) {
  RETURN_IF_ERROR(CheckUserInGroup(group_id, user_id));
  RETURN_IF_ERROR(repo_.RemoveGroupMember({std::string(group_id), std::string(user_id)}));
  cache_.Clear();
  return OkStatus();
}

Status IdentityService::CheckUserInGroup(std::string_view group_id, std::string_view user_id) {
  RETURN_IF_ERROR(repo_.GetGroup(group_id).status());
  RETURN_IF_ERROR(repo_.GetUser(user_id).status());
  ASSIGN_OR_RETURN(auto rows, repo_.ListGroupMembers(group_id, user_id));
  if (rows.empty()) {
    return NotFoundError("User '" + std::string(user_id) + "' not found in group '" +
                         std::string(group_id) + "'");
  }
  return OkStatus();
}

StatusOr<std::vector<domain::User>> IdentityService::ListGroupUsers(std::string_view group_id) {
  RETURN_IF_ERROR(repo_.GetGroup(group_id).status());
  ASSIGN_OR_RETURN(auto rows, repo_.ListGroupMembers(group_id, ""));
  std::vector<domain::User> out;
  for (const auto& m : rows) {
    auto u = GetUser(m.user_id);  // without its password hash
    if (u.ok()) {
      out.push_back(std::move(*u));
    } else if (!IsNotFound(u.status())) {
      return u.status();
    }
  }
  return out;
}

StatusOr<std::vector<domain::Group>> IdentityService::ListUserGroups(std::string_view user_id) {
  RETURN_IF_ERROR(repo_.GetUser(user_id).status());
  ASSIGN_OR_RETURN(auto rows, repo_.ListGroupMembers("", user_id));
  std::vector<domain::Group> out;
  for (const auto& m : rows) {
    auto g = repo_.GetGroup(m.group_id);
    if (g.ok()) {
      out.push_back(std::move(*g));
    } else if (!IsNotFound(g.status())) {
      return g.status();
    }
  }
  return out;
}

Status IdentityService::GrantGroupRole(std::string_view project_id, std::string_view group_id,
                                       std::string_view role_id) {
  RETURN_IF_ERROR(repo_.GetProject(project_id).status());
  RETURN_IF_ERROR(repo_.GetGroup(group_id).status());
  RETURN_IF_ERROR(repo_.GetRole(role_id).status());
  return repo_.AddGroupAssignment({.project_id = std::string(project_id),
                                   .user_id = {},
                                   .role_id = std::string(role_id),
                                   .group_id = std::string(group_id)});
}

Status IdentityService::RevokeGroupRole(std::string_view project_id, std::string_view group_id,
                                        std::string_view role_id) {
  RETURN_IF_ERROR(CheckGroupRole(project_id, group_id, role_id));
  RETURN_IF_ERROR(repo_.RemoveGroupAssignment({.project_id = std::string(project_id),
                                               .user_id = {},
                                               .role_id = std::string(role_id),
                                               .group_id = std::string(group_id)}));
  cache_.Clear();
  return OkStatus();
}

Status IdentityService::CheckGroupRole(std::string_view project_id, std::string_view group_id,
                                       std::string_view role_id) {
  if (project_id.empty() || group_id.empty() || role_id.empty()) {
    return NotFoundError("Could not find role assignment");
  }
  ASSIGN_OR_RETURN(auto found, repo_.ListGroupAssignments(project_id, group_id, role_id));
  if (found.empty()) {
    return NotFoundError("Could not find role assignment with role: " + std::string(role_id) +
                         ", user or group: " + std::string(group_id) +
                         ", project, domain, or system: " + std::string(project_id) + ".");
  }
  return OkStatus();
}

StatusOr<std::vector<domain::RoleAssignment>> IdentityService::UserAssignments(
    std::string_view project_id, std::string_view user_id) {
  ASSIGN_OR_RETURN(auto out, repo_.ListAssignments(project_id, user_id, ""));
  ASSIGN_OR_RETURN(auto memberships, repo_.ListGroupMembers("", user_id));
  for (const auto& m : memberships) {
    ASSIGN_OR_RETURN(auto rows, repo_.ListGroupAssignments(project_id, m.group_id, ""));
    out.insert(out.end(), rows.begin(), rows.end());
  }
  return out;
}

}  // namespace glimmer::identity
