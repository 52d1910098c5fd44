#include "api/identity/keystone_json.h"

#include <utility>

#include "common/time.h"

namespace glimmer::api::identity {
namespace {

using nlohmann::json;

constexpr const char* kInterfaces[] = {"public", "internal", "admin"};

json Links(std::string self) { return json{{"self", std::move(self)}}; }

json DomainRef(std::string_view id, std::string_view name) {
  return json{{"id", id}, {"name", name}};
}

// Typed accessors: absent keys are fine, present keys must have the right type.
Status ExpectObject(const json& j, std::string_view what) {
  if (!j.is_object()) return InvalidArgumentError(std::string(what) + " must be an object");
  return OkStatus();
}

// Optional string: absent -> nullopt; null -> "" when `null_ok` (clears), else error.
StatusOr<std::optional<std::string>> OptString(const json& obj, std::string_view key,
                                               bool null_ok = false) {
  auto it = obj.find(key);
  if (it == obj.end()) return std::optional<std::string>();
  if (it->is_null() && null_ok) return std::optional<std::string>(std::string());
  if (!it->is_string()) {
    return InvalidArgumentError("Invalid input for field '" + std::string(key) +
                                "': expected a string");
  }
  return std::optional<std::string>(it->get<std::string>());
}

StatusOr<std::optional<bool>> OptBool(const json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end()) return std::optional<bool>();
  if (!it->is_boolean()) {
    return InvalidArgumentError("Invalid input for field '" + std::string(key) +
                                "': expected a boolean");
  }
  return std::optional<bool>(it->get<bool>());
}

StatusOr<const json*> Envelope(const json& body, std::string_view key) {
  RETURN_IF_ERROR(ExpectObject(body, "Request body"));
  auto it = body.find(key);
  if (it == body.end()) {
    return InvalidArgumentError("'" + std::string(key) + "' is a required property");
  }
  RETURN_IF_ERROR(ExpectObject(*it, key));
  return &*it;
}

// {"id": ...} or {"name": ..., "domain": {"id"|"name": ...}}
StatusOr<svc::EntityRef> ParseRef(const json& obj, std::string_view what) {
  RETURN_IF_ERROR(ExpectObject(obj, what));
  svc::EntityRef ref;
  ASSIGN_OR_RETURN(auto id, OptString(obj, "id"));
  ASSIGN_OR_RETURN(auto name, OptString(obj, "name"));
  ref.id = id.value_or("");
  ref.name = name.value_or("");
  if (auto it = obj.find("domain"); it != obj.end()) {
    RETURN_IF_ERROR(ExpectObject(*it, "domain"));
    ASSIGN_OR_RETURN(auto did, OptString(*it, "id"));
    ASSIGN_OR_RETURN(auto dname, OptString(*it, "name"));
    ref.domain_id = did.value_or("");
    ref.domain_name = dname.value_or("");
  }
  if (ref.id.empty() && ref.name.empty()) {
    return InvalidArgumentError("Expecting to find id or name in " + std::string(what));
  }
  if (ref.id.empty() && ref.domain_id.empty() && ref.domain_name.empty()) {
    return InvalidArgumentError("Expecting to find domain in " + std::string(what));
  }
  return ref;
}

}  // namespace

std::string DerivedId(std::string_view seed) {
  return svc::Sha256Hex(std::string("glimmer-catalog:") + std::string(seed)).substr(0, 32);
}

json VersionJson(std::string_view identity_url) {
  return json{{"id", "v3.14"},
              {"status", "stable"},
              {"updated", "2020-04-07T00:00:00Z"},
              {"links", json::array({{{"rel", "self"}, {"href", std::string(identity_url) + "/"}}})},
              {"media-types", json::array({{{"base", "application/json"},
                                            {"type", "application/vnd.openstack.identity-v3+json"}}})}};
}

json DomainJson(const domain::IdentityDomain& d, std::string_view identity_url) {
  return json{{"id", d.id},
              {"name", d.name},
              {"description", d.description},
              {"enabled", d.enabled},
              {"tags", json::array()},
              {"options", json::object()},
              {"links", Links(std::string(identity_url) + "/domains/" + d.id)}};
}

json ProjectJson(const domain::Project& p, std::string_view identity_url) {
  return json{{"id", p.id},
              {"name", p.name},
              {"domain_id", p.domain_id},
              {"description", p.description},
              {"enabled", p.enabled},
              {"parent_id", p.domain_id},
              {"is_domain", p.is_domain},
              {"tags", json::array()},
              {"options", json::object()},
              {"links", Links(std::string(identity_url) + "/projects/" + p.id)}};
}

json UserJson(const domain::User& u, std::string_view identity_url) {
  json j{{"id", u.id},
         {"name", u.name},
         {"domain_id", u.domain_id},
         {"enabled", u.enabled},
         {"password_expires_at", nullptr},
         {"options", json::object()},
         {"links", Links(std::string(identity_url) + "/users/" + u.id)}};
  if (u.default_project_id) j["default_project_id"] = *u.default_project_id;
  if (u.email) j["email"] = *u.email;
  if (!u.description.empty()) j["description"] = u.description;
  return j;
}

json RoleJson(const domain::Role& r, std::string_view identity_url) {
  json j{{"id", r.id},
         {"name", r.name},
         {"domain_id", r.domain_id ? json(*r.domain_id) : json(nullptr)},
         {"description", r.description.empty() ? json(nullptr) : json(r.description)},
         {"options", json::object()},
         {"links", Links(std::string(identity_url) + "/roles/" + r.id)}};
  return j;
}

json GroupJson(const domain::Group& g, std::string_view identity_url) {
  return json{{"id", g.id},
              {"name", g.name},
              {"domain_id", g.domain_id},
              {"description", g.description},
              {"links", Links(std::string(identity_url) + "/groups/" + g.id)}};
}

json AppCredentialJson(const domain::ApplicationCredential& c,
                       const std::vector<domain::Role>& roles, std::string_view identity_url) {
  json role_list = json::array();
  for (const auto& r : roles) {
    role_list.push_back({{"id", r.id}, {"name", r.name}, {"domain_id", nullptr}});
  }
  return json{{"id", c.id},
              {"name", c.name},
              {"description", c.description.empty() ? json(nullptr) : json(c.description)},
              {"user_id", c.user_id},
              {"project_id", c.project_id},
              {"expires_at", c.expires_at ? json(FormatIsoMicros(*c.expires_at)) : json(nullptr)},
              {"unrestricted", c.unrestricted},
              {"roles", std::move(role_list)},
              {"access_rules", json::array()},
              {"links", Links(std::string(identity_url) + "/users/" + c.user_id +
                              "/application_credentials/" + c.id)}};
}

json CatalogJson(const Catalog& catalog) {
  json out = json::array();
  for (const auto& s : catalog.services) {
    json endpoints = json::array();
    for (const char* iface : kInterfaces) {
      endpoints.push_back({{"id", DerivedId(s.type + "/" + iface)},
                           {"interface", iface},
                           {"region_id", catalog.region},
                           {"region", catalog.region},
                           {"url", s.url}});
    }
    out.push_back({{"endpoints", std::move(endpoints)},
                   {"id", DerivedId(s.type)},
                   {"type", s.type},
                   {"name", s.name}});
  }
  return out;
}

json ServiceJson(const CatalogService& s, std::string_view identity_url) {
  std::string id = DerivedId(s.type);
  return json{{"id", id},
              {"type", s.type},
              {"name", s.name},
              {"enabled", true},
              {"description", s.type == "image" ? "Image Service" : "Identity Service"},
              {"links", Links(std::string(identity_url) + "/services/" + id)}};
}

json EndpointsJson(const Catalog& catalog, std::string_view identity_url,
                   std::string_view interface, std::string_view service_id,
                   std::string_view region_id) {
  json out = json::array();
  if (!region_id.empty() && region_id != catalog.region) return out;
  for (const auto& s : catalog.services) {
    std::string sid = DerivedId(s.type);
    if (!service_id.empty() && service_id != sid) continue;
    for (const char* iface : kInterfaces) {
      if (!interface.empty() && interface != iface) continue;
      std::string id = DerivedId(s.type + "/" + iface);
      out.push_back({{"id", id},
                     {"interface", iface},
                     {"region_id", catalog.region},
                     {"region", catalog.region},
                     {"url", s.url},
                     {"service_id", sid},
                     {"enabled", true},
                     {"links", Links(std::string(identity_url) + "/endpoints/" + id)}});
    }
  }
  return out;
}

json RegionJson(std::string_view region, std::string_view identity_url) {
  return json{{"id", region},
              {"description", ""},
              {"parent_region_id", nullptr},
              {"links", Links(std::string(identity_url) + "/regions/" + std::string(region))}};
}

json TokenJson(const svc::TokenInfo& info, const Catalog& catalog, bool with_catalog) {
  json token{{"methods", info.methods},
             {"user",
              {{"domain", DomainRef(info.user_domain.id, info.user_domain.name)},
               {"id", info.user.id},
               {"name", info.user.name},
               {"password_expires_at", nullptr}}},
             {"audit_ids", info.audit_ids},
             {"expires_at", FormatIsoMicros(info.expires_at)},
             {"issued_at", FormatIsoMicros(info.issued_at)}};
  if (info.project) {
    const auto& dom = info.project_domain;
    token["project"] = {{"domain", DomainRef(dom ? dom->id : info.project->domain_id,
                                             dom ? dom->name : std::string())},
                        {"id", info.project->id},
                        {"name", info.project->name}};
    token["is_domain"] = false;
    json roles = json::array();
    for (const auto& r : info.roles) roles.push_back({{"id", r.id}, {"name", r.name}});
    token["roles"] = std::move(roles);
    if (with_catalog) token["catalog"] = CatalogJson(catalog);
  }
  if (info.application_credential) {
    token["application_credential"] = {{"id", info.application_credential->id},
                                       {"name", info.application_credential->name},
                                       {"restricted", !info.application_credential->unrestricted}};
  }
  return json{{"token", std::move(token)}};
}

json ListJson(std::string_view key, json items, std::string_view self_url) {
  return json{{std::string(key), std::move(items)},
              {"links", {{"self", self_url}, {"previous", nullptr}, {"next", nullptr}}}};
}

StatusOr<svc::AuthRequest> ParseAuthRequest(const json& body) {
  ASSIGN_OR_RETURN(const json* auth, Envelope(body, "auth"));
  auto identity_it = auth->find("identity");
  if (identity_it == auth->end()) return InvalidArgumentError("'identity' is a required property");
  const json& identity = *identity_it;
  RETURN_IF_ERROR(ExpectObject(identity, "identity"));
  auto methods_it = identity.find("methods");
  if (methods_it == identity.end() || !methods_it->is_array() || methods_it->empty()) {
    return InvalidArgumentError("'methods' is a required property");
  }
  svc::AuthRequest req;
  for (const auto& m : *methods_it) {
    if (!m.is_string()) return InvalidArgumentError("Invalid input for field 'methods'");
    std::string method = m.get<std::string>();
    auto it = identity.find(method);
    if (method != "password" && method != "token" && method != "application_credential") {
      return UnauthenticatedError("Attempted to authenticate with an unsupported method.");
    }
    if (it == identity.end()) {
      return InvalidArgumentError("'" + method + "' is a required property");
    }
    RETURN_IF_ERROR(ExpectObject(*it, method));
    if (method == "password") {
      auto user_it = it->find("user");
      if (user_it == it->end()) return InvalidArgumentError("'user' is a required property");
      ASSIGN_OR_RETURN(svc::EntityRef user, ParseRef(*user_it, "user"));
      ASSIGN_OR_RETURN(auto password, OptString(*user_it, "password"));
      if (!password) return InvalidArgumentError("'password' is a required property");
      req.password = svc::PasswordCredentials{std::move(user), std::move(*password)};
    } else if (method == "application_credential") {
      svc::AppCredentialAuth cred;
      ASSIGN_OR_RETURN(auto id, OptString(*it, "id"));
      ASSIGN_OR_RETURN(auto name, OptString(*it, "name"));
      ASSIGN_OR_RETURN(auto secret, OptString(*it, "secret"));
      if (!secret) return InvalidArgumentError("'secret' is a required property");
      if (!id && !name) return InvalidArgumentError("'id' or 'name' is a required property");
      cred.id = id.value_or("");
      cred.name = name.value_or("");
      cred.secret = std::move(*secret);
      if (!id) {
        auto user_it = it->find("user");
        if (user_it == it->end()) return InvalidArgumentError("'user' is a required property");
        ASSIGN_OR_RETURN(cred.user, ParseRef(*user_it, "user"));
      }
      req.application_credential = std::move(cred);
    } else {
      ASSIGN_OR_RETURN(auto id, OptString(*it, "id"));
      if (!id || id->empty()) return InvalidArgumentError("'id' is a required property");
      req.token = std::move(*id);
    }
  }
  if (auto scope_it = auth->find("scope"); scope_it != auth->end()) {
    const json& scope = *scope_it;
    if (scope.is_string() && scope.get<std::string>() == "unscoped") {
      req.unscoped = true;
    } else {
      RETURN_IF_ERROR(ExpectObject(scope, "scope"));
      if (auto p = scope.find("project"); p != scope.end()) {
        ASSIGN_OR_RETURN(req.project, ParseRef(*p, "project"));
      } else if (scope.contains("domain") || scope.contains("system") ||
                 scope.contains("OS-TRUST:trust")) {
        return InvalidArgumentError("Only project-scoped and unscoped tokens are supported");
      } else if (!scope.empty()) {
        return InvalidArgumentError("Invalid scope");
      }
    }
  }
  return req;
}

StatusOr<domain::Project> ParseProjectCreate(const json& body) {
  ASSIGN_OR_RETURN(const json* obj, Envelope(body, "project"));
  domain::Project p;
  ASSIGN_OR_RETURN(auto name, OptString(*obj, "name"));
  if (!name) return InvalidArgumentError("'name' is a required property");
  p.name = std::move(*name);
  ASSIGN_OR_RETURN(auto domain_id, OptString(*obj, "domain_id", /*null_ok=*/true));
  if (domain_id && !domain_id->empty()) p.domain_id = *domain_id;
  ASSIGN_OR_RETURN(auto description, OptString(*obj, "description", true));
  p.description = description.value_or("");
  ASSIGN_OR_RETURN(auto enabled, OptBool(*obj, "enabled"));
  p.enabled = enabled.value_or(true);
  ASSIGN_OR_RETURN(auto is_domain, OptBool(*obj, "is_domain"));
  if (is_domain.value_or(false)) return InvalidArgumentError("Projects acting as domains are not supported");
  ASSIGN_OR_RETURN(auto parent_id, OptString(*obj, "parent_id", true));
  if (parent_id && !parent_id->empty() && *parent_id != p.domain_id) {
    return InvalidArgumentError("Project hierarchies are not supported");
  }
  return p;
}

StatusOr<svc::ProjectPatch> ParseProjectPatch(const json& body) {
  ASSIGN_OR_RETURN(const json* obj, Envelope(body, "project"));
  svc::ProjectPatch patch;
  ASSIGN_OR_RETURN(patch.name, OptString(*obj, "name"));
  ASSIGN_OR_RETURN(patch.description, OptString(*obj, "description", true));
  ASSIGN_OR_RETURN(patch.enabled, OptBool(*obj, "enabled"));
  ASSIGN_OR_RETURN(auto domain_id, OptString(*obj, "domain_id", true));
  if (domain_id) return InvalidArgumentError("Update of `domain_id` is not allowed.");
  return patch;
}

StatusOr<domain::Group> ParseGroupCreate(const json& body) {
  ASSIGN_OR_RETURN(const json* obj, Envelope(body, "group"));
  domain::Group g;
  ASSIGN_OR_RETURN(auto name, OptString(*obj, "name"));
  if (!name) return InvalidArgumentError("'name' is a required property");
  g.name = std::move(*name);
  ASSIGN_OR_RETURN(auto domain_id, OptString(*obj, "domain_id", /*null_ok=*/true));
  if (domain_id && !domain_id->empty()) g.domain_id = *domain_id;
  ASSIGN_OR_RETURN(auto description, OptString(*obj, "description", true));
  g.description = description.value_or("");
  return g;
}

StatusOr<svc::GroupPatch> ParseGroupPatch(const json& body) {
  ASSIGN_OR_RETURN(const json* obj, Envelope(body, "group"));
  svc::GroupPatch patch;
  ASSIGN_OR_RETURN(patch.name, OptString(*obj, "name"));
  ASSIGN_OR_RETURN(patch.description, OptString(*obj, "description", true));
  ASSIGN_OR_RETURN(auto domain_id, OptString(*obj, "domain_id", true));
  if (domain_id) return InvalidArgumentError("Update of `domain_id` is not allowed.");
  return patch;
}

StatusOr<svc::AppCredentialSpec> ParseAppCredentialCreate(const json& body) {
  ASSIGN_OR_RETURN(const json* obj, Envelope(body, "application_credential"));
  svc::AppCredentialSpec spec;
  ASSIGN_OR_RETURN(auto name, OptString(*obj, "name"));
  if (!name) return InvalidArgumentError("'name' is a required property");
  spec.name = std::move(*name);
  ASSIGN_OR_RETURN(auto description, OptString(*obj, "description", /*null_ok=*/true));
  spec.description = description.value_or("");
  ASSIGN_OR_RETURN(auto secret, OptString(*obj, "secret", true));
  if (secret && !secret->empty()) spec.secret = std::move(secret);
  ASSIGN_OR_RETURN(auto expires_at, OptString(*obj, "expires_at", true));
  if (expires_at && !expires_at->empty()) {
    auto t = ParseIso8601(*expires_at);
    if (!t) return InvalidArgumentError("Invalid input for field 'expires_at': not a date-time");
    spec.expires_at = *t;
  }
  ASSIGN_OR_RETURN(auto unrestricted, OptBool(*obj, "unrestricted"));
  spec.unrestricted = unrestricted.value_or(false);
  if (auto roles = obj->find("roles"); roles != obj->end() && !roles->is_null()) {
    if (!roles->is_array()) return InvalidArgumentError("Invalid input for field 'roles'");
    for (const json& r : *roles) {  // roles are global: an id or a name
      RETURN_IF_ERROR(ExpectObject(r, "roles"));
      ASSIGN_OR_RETURN(auto id, OptString(r, "id"));
      ASSIGN_OR_RETURN(auto role_name, OptString(r, "name"));
      if (!id && !role_name) return InvalidArgumentError("A role needs an 'id' or a 'name'");
      spec.roles.push_back({.id = id.value_or(""), .name = role_name.value_or("")});
    }
  }
  // Access rules restrict which service APIs a credential may call; enforcing them is the
  // called service's job (keystonemiddleware), which this one does not do: refuse them rather
  // than hand out a credential broader than asked for.
  if (auto rules = obj->find("access_rules");
      rules != obj->end() && !rules->is_null() && !(rules->is_array() && rules->empty())) {
    return InvalidArgumentError("Access rules are not supported by this identity service");
  }
  return spec;
}

StatusOr<svc::UserSpec> ParseUserCreate(const json& body) {
  ASSIGN_OR_RETURN(const json* obj, Envelope(body, "user"));
  svc::UserSpec spec;
  ASSIGN_OR_RETURN(auto name, OptString(*obj, "name"));
  if (!name) return InvalidArgumentError("'name' is a required property");
  spec.name = std::move(*name);
  ASSIGN_OR_RETURN(auto domain_id, OptString(*obj, "domain_id", true));
  if (domain_id && !domain_id->empty()) spec.domain_id = *domain_id;
  ASSIGN_OR_RETURN(auto password, OptString(*obj, "password", true));
  if (password && !password->empty()) spec.password = std::move(password);
  ASSIGN_OR_RETURN(auto project, OptString(*obj, "default_project_id", true));
  if (project && !project->empty()) spec.default_project_id = std::move(project);
  ASSIGN_OR_RETURN(auto email, OptString(*obj, "email", true));
  if (email && !email->empty()) spec.email = std::move(email);
  ASSIGN_OR_RETURN(auto description, OptString(*obj, "description", true));
  spec.description = description.value_or("");
  ASSIGN_OR_RETURN(auto enabled, OptBool(*obj, "enabled"));
  spec.enabled = enabled.value_or(true);
  return spec;
}

StatusOr<svc::UserPatch> ParseUserPatch(const json& body) {
  ASSIGN_OR_RETURN(const json* obj, Envelope(body, "user"));
  svc::UserPatch patch;
  ASSIGN_OR_RETURN(patch.name, OptString(*obj, "name"));
  ASSIGN_OR_RETURN(patch.password, OptString(*obj, "password"));
  ASSIGN_OR_RETURN(patch.default_project_id, OptString(*obj, "default_project_id", true));
  ASSIGN_OR_RETURN(patch.email, OptString(*obj, "email", true));
  ASSIGN_OR_RETURN(patch.description, OptString(*obj, "description", true));
  ASSIGN_OR_RETURN(patch.enabled, OptBool(*obj, "enabled"));
  ASSIGN_OR_RETURN(auto domain_id, OptString(*obj, "domain_id", true));
  if (domain_id) return InvalidArgumentError("Update of `domain_id` is not allowed.");
  return patch;
}

StatusOr<domain::Role> ParseRoleCreate(const json& body) {
  ASSIGN_OR_RETURN(const json* obj, Envelope(body, "role"));
  domain::Role r;
  ASSIGN_OR_RETURN(auto name, OptString(*obj, "name"));
  if (!name) return InvalidArgumentError("'name' is a required property");
  r.name = std::move(*name);
  ASSIGN_OR_RETURN(auto description, OptString(*obj, "description", true));
  r.description = description.value_or("");
  ASSIGN_OR_RETURN(auto domain_id, OptString(*obj, "domain_id", true));
  if (domain_id && !domain_id->empty()) {
    return InvalidArgumentError("Domain-specific roles are not supported");
  }
  return r;
}

StatusOr<PasswordChange> ParsePasswordChange(const json& body) {
  ASSIGN_OR_RETURN(const json* obj, Envelope(body, "user"));
  ASSIGN_OR_RETURN(auto original, OptString(*obj, "original_password"));
  ASSIGN_OR_RETURN(auto password, OptString(*obj, "password"));
  if (!original) return InvalidArgumentError("'original_password' is a required property");
  if (!password) return InvalidArgumentError("'password' is a required property");
  return PasswordChange{std::move(*original), std::move(*password)};
}

}  // namespace glimmer::api::identity
