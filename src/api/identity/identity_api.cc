#include "api/identity/identity_api.h"

#include <exception>
#include <map>
#include <span>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/identity/app_credentials_api.h"
#include "api/identity/groups_api.h"
#include "api/identity/identity_call.h"
#include "api/identity/keystone_json.h"

namespace glimmer::api::identity {
namespace {

using nlohmann::json;

bool IsServiceOrAdmin(const domain::RequestContext& ctx) {
  return ctx.IsAdmin() || ctx.HasRole("service");
}

}  // namespace

bool IsIdentityPath(std::string_view path) {
  return path.starts_with(kIdentityPrefix) &&
         (path.size() == kIdentityPrefix.size() || path[kIdentityPrefix.size()] == '/');
}

std::optional<std::string_view> BearerToken(const http::Request& req) {
  auto v = req.headers.Get("X-Auth-Token");
  if (!v || v->empty()) return std::nullopt;
  return v;
}

// One request being served.
class IdentityApi::Call : public IdentityCall {
 public:
  Call(IdentityApi& api, http::Request& req) : IdentityCall(api.service_, api.options_, req) {}

  http::Response Run() {
    try {
      auto resp = Dispatch();
      if (!resp.ok()) return ErrorResponse(resp.status(), identity_url_);
      if (req_.method == "HEAD") resp->body.clear();
      return std::move(*resp);
    } catch (const json::exception& e) {
      return KeystoneError(400, std::string("Invalid request: ") + e.what(), identity_url_);
    } catch (const std::exception&) {
      return ErrorResponse(InternalError("unexpected exception"), identity_url_);
    }
  }

 private:
  // ---- routing -------------------------------------------------------------------------------

  StatusOr<http::Response> Dispatch() {
    auto seg = Split(std::string_view(req_.path).substr(kIdentityPrefix.size()));
    if (seg.empty()) {
      if (!Is("GET")) return MethodNotAllowed();
      http::Response resp =
          JsonResponse(300, json{{"versions", {{"values", json::array({VersionJson(identity_url_)})}}}});
      resp.headers.Set("Location", identity_url_ + "/");
      return resp;
    }
    if (seg[0] != "v3") return NotFoundResponse();
    if (seg.size() == 1) {
      if (!Is("GET")) return MethodNotAllowed();
      return JsonResponse(200, json{{"version", VersionJson(identity_url_)}});
    }
    std::string_view collection = seg[1];
    size_t n = seg.size();
    const std::span<const std::string_view> resource(seg.begin() + 1, seg.end());
    if (GroupsCall::Handles(resource)) return GroupsCall(svc_, options_, req_).Serve(resource);
    if (AppCredentialsCall::Handles(resource)) {
      return AppCredentialsCall(svc_, options_, req_).Serve(resource);
    }
    if (collection == "auth" && n == 3) {
      if (seg[2] == "tokens") {
        if (req_.method == "POST") return IssueToken();
        if (req_.method == "GET" || req_.method == "HEAD") return ShowToken();
        if (req_.method == "DELETE") return RevokeToken();
        return MethodNotAllowed();
      }
      if (!Is("GET")) return MethodNotAllowed();
      if (seg[2] == "catalog") return AuthCatalog();
      if (seg[2] == "projects") return AuthProjects();
      if (seg[2] == "domains") return AuthEmpty("domains");
      if (seg[2] == "system") return AuthEmpty("system");
      return NotFoundResponse();
    }
    if (collection == "projects") {
      if (n == 2) {
        if (Is("GET")) return ListProjects();
        if (req_.method == "POST") return CreateProject();
        return MethodNotAllowed();
      }
      std::string id(seg[2]);
      if (n == 3) {
        if (Is("GET")) return ShowProject(id);
        if (req_.method == "PATCH") return UpdateProject(id);
        if (req_.method == "DELETE") return DeleteProject(id);
        return MethodNotAllowed();
      }
      if (n >= 6 && seg[3] == "users" && seg[5] == "roles") {
        std::string user_id(seg[4]);
        if (n == 6) {
          if (Is("GET")) return ListGrants(id, user_id);
          return MethodNotAllowed();
        }
        if (n == 7) {
          std::string role_id(seg[6]);
          if (req_.method == "PUT") return Grant(id, user_id, role_id);
          if (req_.method == "HEAD" || req_.method == "GET") return CheckGrant(id, user_id, role_id);
          if (req_.method == "DELETE") return RevokeGrant(id, user_id, role_id);
          return MethodNotAllowed();
        }
      }
      return NotFoundResponse();
    }
    if (collection == "users") {
      if (n == 2) {
        if (Is("GET")) return ListUsers();
        if (req_.method == "POST") return CreateUser();
        return MethodNotAllowed();
      }
      std::string id(seg[2]);
      if (n == 3) {
        if (Is("GET")) return ShowUser(id);
        if (req_.method == "PATCH") return UpdateUser(id);
        if (req_.method == "DELETE") return DeleteUser(id);
        return MethodNotAllowed();
      }
      if (n == 4 && seg[3] == "projects") {
        if (Is("GET")) return UserProjects(id);
        return MethodNotAllowed();
      }
      if (n == 4 && seg[3] == "password") {
        if (req_.method == "POST") return ChangePassword(id);
        return MethodNotAllowed();
      }
      return NotFoundResponse();
    }
    if (collection == "roles") {
      if (n == 2) {
        if (Is("GET")) return ListRoles();
        if (req_.method == "POST") return CreateRole();
        return MethodNotAllowed();
      }
      if (n == 3) {
        std::string id(seg[2]);
        if (Is("GET")) return ShowRole(id);
        if (req_.method == "DELETE") return DeleteRole(id);
        return MethodNotAllowed();
      }
      return NotFoundResponse();
    }
    if (collection == "role_assignments" && n == 2) {
      if (Is("GET")) return ListAssignments();
      return MethodNotAllowed();
    }
    if (collection == "domains" && n <= 3) {
      if (!Is("GET")) {
        return n == 2 && req_.method == "POST"
                   ? StatusOr<http::Response>(UnimplementedError("Only the default domain is supported"))
                   : MethodNotAllowed();
      }
      return n == 2 ? ListDomains() : ShowDomain(std::string(seg[2]));
    }
    if ((collection == "services" || collection == "endpoints" || collection == "regions") &&
        n <= 3) {
      if (!Is("GET")) {
        if (req_.method == "POST" || req_.method == "PATCH" || req_.method == "DELETE") {
          return UnimplementedError("The service catalog is derived from the server "
                                    "configuration and is read-only");
        }
        return MethodNotAllowed();
      }
      RETURN_IF_ERROR(Caller().status());
      if (collection == "services") return n == 2 ? ListServices() : ShowService(seg[2]);
      if (collection == "endpoints") return n == 2 ? ListEndpoints() : ShowEndpoint(seg[2]);
      return n == 2 ? ListRegions() : ShowRegion(seg[2]);
    }
    return NotFoundResponse();
  }

  // ---- tokens --------------------------------------------------------------------------------

  StatusOr<http::Response> IssueToken() {
    ASSIGN_OR_RETURN(json body, Body());
    ASSIGN_OR_RETURN(svc::AuthRequest auth, ParseAuthRequest(body));
    svc::LoginAttempt attempt{.remote_address = req_.remote_address};
    auto issued = svc_.Authenticate(auth, &attempt);
    if (!issued.ok()) return LoginRefused(issued.status(), attempt);
    http::Response resp =
        JsonResponse(201, TokenJson(issued->info, catalog_, !req_.QueryValue("nocatalog")));
    resp.headers.Set("X-Subject-Token", issued->bearer);
    return resp;
  }

  // A password attempt the login throttle refused is a 429 with Retry-After; anything else is
  // answered as usual.
  StatusOr<http::Response> LoginRefused(const Status& status,
                                        const svc::LoginAttempt& attempt) const {
    if (status.code() != StatusCode::kResourceExhausted || attempt.retry_after_seconds <= 0) {
      return status;
    }
    http::Response resp = KeystoneError(429, status.message(), identity_url_);
    resp.headers.Set("Retry-After", std::to_string(attempt.retry_after_seconds));
    return resp;
  }

  // Loads the X-Subject-Token and checks the caller may see it (admin, service, or its owner).
  StatusOr<svc::TokenInfo> SubjectToken(std::string_view action) {
    ASSIGN_OR_RETURN(auto ctx, Caller());
    auto subject = req_.headers.Get("X-Subject-Token");
    if (!subject || subject->empty()) return NotFoundError("Could not recognize Fernet token");
    auto info = svc_.DescribeToken(*subject);
    if (!info.ok()) {
      if (info.status().code() == StatusCode::kNotFound) {
        return NotFoundError("Could not recognize Fernet token");
      }
      return info.status();
    }
    if (!IsServiceOrAdmin(ctx) && ctx.user_id != info->user.id) return Forbidden(action);
    return info;
  }

  StatusOr<http::Response> ShowToken() {
    ASSIGN_OR_RETURN(svc::TokenInfo info, SubjectToken("identity:validate_token"));
    http::Response resp =
        JsonResponse(200, TokenJson(info, catalog_, !req_.QueryValue("nocatalog")));
    resp.headers.Set("X-Subject-Token", std::string(*req_.headers.Get("X-Subject-Token")));
    return resp;
  }

  StatusOr<http::Response> RevokeToken() {
    RETURN_IF_ERROR(SubjectToken("identity:revoke_token").status());
    Status s = svc_.RevokeToken(*req_.headers.Get("X-Subject-Token"));
    if (s.code() == StatusCode::kNotFound) return NotFoundError("Could not recognize Fernet token");
    RETURN_IF_ERROR(s);
    return NoContent();
  }

  StatusOr<http::Response> AuthCatalog() {
    RETURN_IF_ERROR(Caller().status());
    return JsonResponse(200, ListJson("catalog", CatalogJson(catalog_), SelfUrl()));
  }

  StatusOr<http::Response> AuthProjects() {
    ASSIGN_OR_RETURN(auto ctx, Caller());
    ASSIGN_OR_RETURN(auto projects, svc_.ListUserProjects(ctx.user_id));
    json items = json::array();
    for (const auto& p : projects) {
      if (p.enabled) items.push_back(ProjectJson(p, identity_url_));
    }
    return JsonResponse(200, ListJson("projects", std::move(items), SelfUrl()));
  }

  StatusOr<http::Response> AuthEmpty(std::string_view key) {
    RETURN_IF_ERROR(Caller().status());
    return JsonResponse(200, ListJson(key, json::array(), SelfUrl()));
  }

  // ---- projects ------------------------------------------------------------------------------

  StatusOr<http::Response> ListProjects() {
    RETURN_IF_ERROR(Admin("identity:list_projects").status());
    ASSIGN_OR_RETURN(auto projects, svc_.ListProjects(FilterFrom(req_)));
    json items = json::array();
    for (const auto& p : projects) items.push_back(ProjectJson(p, identity_url_));
    return JsonResponse(200, ListJson("projects", std::move(items), SelfUrl()));
  }

  StatusOr<http::Response> CreateProject() {
    RETURN_IF_ERROR(Admin("identity:create_project").status());
    ASSIGN_OR_RETURN(json body, Body());
    ASSIGN_OR_RETURN(domain::Project p, ParseProjectCreate(body));
    ASSIGN_OR_RETURN(p, svc_.CreateProject(std::move(p)));
    return JsonResponse(201, json{{"project", ProjectJson(p, identity_url_)}});
  }

  StatusOr<http::Response> ShowProject(const std::string& id) {
    ASSIGN_OR_RETURN(auto ctx, Caller());
    if (!ctx.IsAdmin() && ctx.project_id != id) return Forbidden("identity:get_project");
    ASSIGN_OR_RETURN(domain::Project p, svc_.GetProject(id));
    return JsonResponse(200, json{{"project", ProjectJson(p, identity_url_)}});
  }

  StatusOr<http::Response> UpdateProject(const std::string& id) {
    RETURN_IF_ERROR(Admin("identity:update_project").status());
    ASSIGN_OR_RETURN(json body, Body());
    ASSIGN_OR_RETURN(svc::ProjectPatch patch, ParseProjectPatch(body));
    ASSIGN_OR_RETURN(domain::Project p, svc_.UpdateProject(id, patch));
    return JsonResponse(200, json{{"project", ProjectJson(p, identity_url_)}});
  }

  StatusOr<http::Response> DeleteProject(const std::string& id) {
    RETURN_IF_ERROR(Admin("identity:delete_project").status());
    RETURN_IF_ERROR(svc_.DeleteProject(id));
    return NoContent();
  }

  // ---- users ---------------------------------------------------------------------------------

  StatusOr<http::Response> ListUsers() {
    RETURN_IF_ERROR(Admin("identity:list_users").status());
    ASSIGN_OR_RETURN(auto users, svc_.ListUsers(FilterFrom(req_)));
    json items = json::array();
    for (const auto& u : users) items.push_back(UserJson(u, identity_url_));
    return JsonResponse(200, ListJson("users", std::move(items), SelfUrl()));
  }

  StatusOr<http::Response> CreateUser() {
    RETURN_IF_ERROR(Admin("identity:create_user").status());
    ASSIGN_OR_RETURN(json body, Body());
    ASSIGN_OR_RETURN(svc::UserSpec spec, ParseUserCreate(body));
    ASSIGN_OR_RETURN(domain::User u, svc_.CreateUser(spec));
    return JsonResponse(201, json{{"user", UserJson(u, identity_url_)}});
  }

  StatusOr<http::Response> ShowUser(const std::string& id) {
    ASSIGN_OR_RETURN(auto ctx, Caller());
    if (!ctx.IsAdmin() && ctx.user_id != id) return Forbidden("identity:get_user");
    ASSIGN_OR_RETURN(domain::User u, svc_.GetUser(id));
    return JsonResponse(200, json{{"user", UserJson(u, identity_url_)}});
  }

  StatusOr<http::Response> UpdateUser(const std::string& id) {
    RETURN_IF_ERROR(Admin("identity:update_user").status());
    ASSIGN_OR_RETURN(json body, Body());
    ASSIGN_OR_RETURN(svc::UserPatch patch, ParseUserPatch(body));
    ASSIGN_OR_RETURN(domain::User u, svc_.UpdateUser(id, patch));
    return JsonResponse(200, json{{"user", UserJson(u, identity_url_)}});
  }

  StatusOr<http::Response> DeleteUser(const std::string& id) {
    RETURN_IF_ERROR(Admin("identity:delete_user").status());
    RETURN_IF_ERROR(svc_.DeleteUser(id));
    return NoContent();
  }

  StatusOr<http::Response> UserProjects(const std::string& id) {
    ASSIGN_OR_RETURN(auto ctx, Caller());
    if (!ctx.IsAdmin() && ctx.user_id != id) return Forbidden("identity:list_user_projects");
    ASSIGN_OR_RETURN(auto projects, svc_.ListUserProjects(id));
    svc::ListFilter filter = FilterFrom(req_);
    json items = json::array();
    for (const auto& p : projects) {
      if (filter.name && *filter.name != p.name) continue;
      if (filter.domain_id && *filter.domain_id != p.domain_id) continue;
      if (filter.enabled && *filter.enabled != p.enabled) continue;
      items.push_back(ProjectJson(p, identity_url_));
    }
    return JsonResponse(200, ListJson("projects", std::move(items), SelfUrl()));
  }

  // Self-service: authenticated by the original password (Keystone needs no token here).
  StatusOr<http::Response> ChangePassword(const std::string& id) {
    ASSIGN_OR_RETURN(json body, Body());
    ASSIGN_OR_RETURN(PasswordChange change, ParsePasswordChange(body));
    svc::LoginAttempt attempt{.remote_address = req_.remote_address};
    Status s = svc_.ChangePassword(id, change.original_password, change.password, &attempt);
    if (s.code() == StatusCode::kResourceExhausted) return LoginRefused(s, attempt);
    if (s.code() == StatusCode::kNotFound) {
      return UnauthenticatedError(std::string(kAuthRequired));  // don't reveal user ids
    }
    RETURN_IF_ERROR(s);
    return NoContent();
  }

  // ---- roles and assignments -----------------------------------------------------------------

  StatusOr<http::Response> ListRoles() {
    RETURN_IF_ERROR(Admin("identity:list_roles").status());
    svc::ListFilter filter;
    if (auto v = req_.QueryValue("name")) filter.name = std::string(*v);
    if (auto v = req_.QueryValue("domain_id")) filter.domain_id = std::string(*v);
    ASSIGN_OR_RETURN(auto roles, svc_.ListRoles(filter));
    json items = json::array();
    for (const auto& r : roles) items.push_back(RoleJson(r, identity_url_));
    return JsonResponse(200, ListJson("roles", std::move(items), SelfUrl()));
  }

  StatusOr<http::Response> CreateRole() {
    RETURN_IF_ERROR(Admin("identity:create_role").status());
    ASSIGN_OR_RETURN(json body, Body());
    ASSIGN_OR_RETURN(domain::Role r, ParseRoleCreate(body));
    ASSIGN_OR_RETURN(r, svc_.CreateRole(std::move(r.name), std::move(r.description)));
    return JsonResponse(201, json{{"role", RoleJson(r, identity_url_)}});
  }

  StatusOr<http::Response> ShowRole(const std::string& id) {
    RETURN_IF_ERROR(Admin("identity:get_role").status());
    ASSIGN_OR_RETURN(domain::Role r, svc_.GetRole(id));
    return JsonResponse(200, json{{"role", RoleJson(r, identity_url_)}});
  }

  StatusOr<http::Response> DeleteRole(const std::string& id) {
    RETURN_IF_ERROR(Admin("identity:delete_role").status());
    RETURN_IF_ERROR(svc_.DeleteRole(id));
    return NoContent();
  }

  StatusOr<http::Response> ListGrants(const std::string& project_id, const std::string& user_id) {
    RETURN_IF_ERROR(Admin("identity:list_grants").status());
    RETURN_IF_ERROR(svc_.GetProject(project_id).status());
    RETURN_IF_ERROR(svc_.GetUser(user_id).status());
    svc::AssignmentFilter filter;
    filter.project_id = project_id;
    filter.user_id = user_id;
    ASSIGN_OR_RETURN(auto assignments, svc_.ListAssignments(filter));
    json items = json::array();
    for (const auto& a : assignments) {
      auto role = svc_.GetRole(a.role_id);
      if (role.ok()) items.push_back(RoleJson(*role, identity_url_));
    }
    return JsonResponse(200, ListJson("roles", std::move(items), SelfUrl()));
  }

  StatusOr<http::Response> Grant(const std::string& p, const std::string& u, const std::string& r) {
    RETURN_IF_ERROR(Admin("identity:create_grant").status());
    RETURN_IF_ERROR(svc_.GrantRole(p, u, r));
    return NoContent();
  }

  StatusOr<http::Response> CheckGrant(const std::string& p, const std::string& u,
                                      const std::string& r) {
    RETURN_IF_ERROR(Admin("identity:check_grant").status());
    RETURN_IF_ERROR(svc_.CheckRole(p, u, r));
    return NoContent();
  }

  StatusOr<http::Response> RevokeGrant(const std::string& p, const std::string& u,
                                       const std::string& r) {
    RETURN_IF_ERROR(Admin("identity:revoke_grant").status());
    RETURN_IF_ERROR(svc_.RevokeRole(p, u, r));
    return NoContent();
  }

  StatusOr<http::Response> ListAssignments() {
    ASSIGN_OR_RETURN(auto ctx, Caller());
    svc::AssignmentFilter filter;
    if (auto v = req_.QueryValue("user.id")) filter.user_id = std::string(*v);
    if (auto v = req_.QueryValue("scope.project.id")) filter.project_id = std::string(*v);
    if (auto v = req_.QueryValue("role.id")) filter.role_id = std::string(*v);
    if (auto v = req_.QueryValue("group.id")) filter.group_id = std::string(*v);
    filter.effective = QueryBool(req_, "effective").value_or(false);
    bool names = QueryBool(req_, "include_names").value_or(false);
    if (!ctx.IsAdmin() && (filter.user_id.empty() || filter.user_id != ctx.user_id)) {
      return Forbidden("identity:list_role_assignments");
    }
    json items = json::array();
    // Only assignments on projects exist: domain and system filters match nothing.
    bool other_kind = req_.QueryValue("scope.domain.id") ||
                      req_.QueryValue("scope.system") ||
                      req_.QueryValue("scope.OS-INHERIT:inherited_to");
    if (!other_kind) {
      ASSIGN_OR_RETURN(auto assignments, svc_.ListAssignments(filter));
      for (const auto& a : assignments) {
        ASSIGN_OR_RETURN(json item, AssignmentJson(a, names));
        items.push_back(std::move(item));
      }
    }
    return JsonResponse(200, ListJson("role_assignments", std::move(items), SelfUrl()));
  }

  // A user's or a group's role on a project, as Keystone lists it.
  StatusOr<json> AssignmentJson(const domain::RoleAssignment& a, bool names) {
    const bool group = !a.group_id.empty();
    json role{{"id", a.role_id}};
    json actor{{"id", group ? a.group_id : a.user_id}};
    json project{{"id", a.project_id}};
    if (names) {
      ASSIGN_OR_RETURN(const domain::Role* r, Cached(roles_, a.role_id, &svc::IdentityService::GetRole));
      std::string actor_domain;
      if (group) {
        ASSIGN_OR_RETURN(const domain::Group* g,
                         Cached(groups_, a.group_id, &svc::IdentityService::GetGroup));
        actor["name"] = g->name;
        actor_domain = g->domain_id;
      } else {
        ASSIGN_OR_RETURN(const domain::User* u,
                         Cached(users_, a.user_id, &svc::IdentityService::GetUser));
        actor["name"] = u->name;
        actor_domain = u->domain_id;
      }
      ASSIGN_OR_RETURN(const domain::Project* p,
                       Cached(projects_, a.project_id, &svc::IdentityService::GetProject));
      ASSIGN_OR_RETURN(const domain::IdentityDomain* ad,
                       Cached(domains_, actor_domain, &svc::IdentityService::GetDomain));
      ASSIGN_OR_RETURN(const domain::IdentityDomain* pd,
                       Cached(domains_, p->domain_id, &svc::IdentityService::GetDomain));
      role["name"] = r->name;
      actor["domain"] = {{"id", ad->id}, {"name", ad->name}};
      project["name"] = p->name;
      project["domain"] = {{"id", pd->id}, {"name", pd->name}};
    }
    const std::string kind = group ? "group" : "user";
    return json{{"role", std::move(role)},
                {kind, std::move(actor)},
                {"scope", {{"project", std::move(project)}}},
                {"links",
                 {{"assignment", identity_url_ + "/projects/" + a.project_id + "/" + kind +
                                     "s/" + (group ? a.group_id : a.user_id) + "/roles/" +
                                     a.role_id}}}};
  }

  template <typename T>
  StatusOr<const T*> Cached(std::map<std::string, T>& cache, const std::string& id,
                            StatusOr<T> (svc::IdentityService::*get)(std::string_view)) {
    auto it = cache.find(id);
    if (it == cache.end()) {
      ASSIGN_OR_RETURN(T value, (svc_.*get)(id));
      it = cache.emplace(id, std::move(value)).first;
    }
    return &it->second;
  }

  // ---- domains and the derived catalog -------------------------------------------------------

  StatusOr<http::Response> ListDomains() {
    ASSIGN_OR_RETURN(auto ctx, Caller());
    svc::ListFilter filter;
    if (auto v = req_.QueryValue("name")) filter.name = std::string(*v);
    filter.enabled = QueryBool(req_, "enabled");
    ASSIGN_OR_RETURN(auto domains, svc_.ListDomains(filter));
    json items = json::array();
    for (const auto& d : domains) items.push_back(DomainJson(d, identity_url_));
    return JsonResponse(200, ListJson("domains", std::move(items), SelfUrl()));
  }

  StatusOr<http::Response> ShowDomain(const std::string& id) {
    RETURN_IF_ERROR(Caller().status());
    ASSIGN_OR_RETURN(domain::IdentityDomain d, svc_.GetDomain(id));
    return JsonResponse(200, json{{"domain", DomainJson(d, identity_url_)}});
  }

  StatusOr<http::Response> ListServices() {
    auto type = req_.QueryValue("type");
    auto name = req_.QueryValue("name");
    json items = json::array();
    for (const auto& s : catalog_.services) {
      if ((type && *type != s.type) || (name && *name != s.name)) continue;
      items.push_back(ServiceJson(s, identity_url_));
    }
    return JsonResponse(200, ListJson("services", std::move(items), SelfUrl()));
  }

  StatusOr<http::Response> ShowService(std::string_view id) {
    for (const auto& s : catalog_.services) {
      if (DerivedId(s.type) == id) {
        return JsonResponse(200, json{{"service", ServiceJson(s, identity_url_)}});
      }
    }
    return NotFoundError("Could not find service: " + std::string(id) + ".");
  }

  StatusOr<http::Response> ListEndpoints() {
    json items = EndpointsJson(catalog_, identity_url_, req_.QueryValue("interface").value_or(""),
                               req_.QueryValue("service_id").value_or(""),
                               req_.QueryValue("region_id").value_or(""));
    return JsonResponse(200, ListJson("endpoints", std::move(items), SelfUrl()));
  }

  StatusOr<http::Response> ShowEndpoint(std::string_view id) {
    for (auto& e : EndpointsJson(catalog_, identity_url_, "", "", "")) {
      if (e["id"] == id) return JsonResponse(200, json{{"endpoint", e}});
    }
    return NotFoundError("Could not find endpoint: " + std::string(id) + ".");
  }

  StatusOr<http::Response> ListRegions() {
    return JsonResponse(200, ListJson("regions", json::array({RegionJson(catalog_.region, identity_url_)}),
                                      SelfUrl()));
  }

  StatusOr<http::Response> ShowRegion(std::string_view id) {
    if (id != catalog_.region) return NotFoundError("Could not find region: " + std::string(id) + ".");
    return JsonResponse(200, json{{"region", RegionJson(catalog_.region, identity_url_)}});
  }

  std::map<std::string, domain::Role> roles_;
  std::map<std::string, domain::User> users_;
  std::map<std::string, domain::Group> groups_;
  std::map<std::string, domain::Project> projects_;
  std::map<std::string, domain::IdentityDomain> domains_;
};

IdentityApi::IdentityApi(svc::IdentityService& service, IdentityApiOptions options)
    : service_(service), options_(std::move(options)) {}

http::Response IdentityApi::Handle(http::Request& req) {
  if (!IsIdentityPath(req.path)) {
    return KeystoneError(404, "The resource could not be found.",
                         (options_.public_base_url.empty() ? req.BaseUrl()
                                                           : options_.public_base_url) +
                             std::string(kIdentityPrefix) + "/v3");
  }
  return Call(*this, req).Run();
}

}  // namespace glimmer::api::identity
