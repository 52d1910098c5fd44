#pragma once
// Keystone v3 JSON shapes: rendering of identity records and tokens, parsing of request
// bodies. The only code of the identity API that touches JSON. All functions are thread-safe.
// Parsers return InvalidArgument for malformed or mistyped input (Keystone answers 400).

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "domain/identity.h"
#include "identity/identity_service.h"

namespace glimmer::api::identity {

namespace svc = ::glimmer::identity;

// One service of the derived catalog, with public/internal/admin endpoints at `url`.
struct CatalogService {
  std::string type;  // "identity", "image"
  std::string name;  // "keystone", "glance"
  std::string url;
};

struct Catalog {
  std::string region;
  std::vector<CatalogService> services;
};

// Stable 32-hex id derived from `seed` (catalog services and endpoints have no stored ids).
std::string DerivedId(std::string_view seed);

// `identity_url` is "<base>/identity/v3" (no trailing slash); links are built from it.
nlohmann::json VersionJson(std::string_view identity_url);
nlohmann::json DomainJson(const domain::IdentityDomain& d, std::string_view identity_url);
nlohmann::json ProjectJson(const domain::Project& p, std::string_view identity_url);
nlohmann::json UserJson(const domain::User& u, std::string_view identity_url);
nlohmann::json RoleJson(const domain::Role& r, std::string_view identity_url);
nlohmann::json GroupJson(const domain::Group& g, std::string_view identity_url);
// `roles`: the records of c.role_ids.
nlohmann::json AppCredentialJson(const domain::ApplicationCredential& c,
                                 const std::vector<domain::Role>& roles,
                                 std::string_view identity_url);
nlohmann::json CatalogJson(const Catalog& catalog);
nlohmann::json ServiceJson(const CatalogService& s, std::string_view identity_url);
// Endpoints of all services, optionally filtered (empty = any).
nlohmann::json EndpointsJson(const Catalog& catalog, std::string_view identity_url,
                             std::string_view interface, std::string_view service_id,
                             std::string_view region_id);
nlohmann::json RegionJson(std::string_view region, std::string_view identity_url);
// {"token": {...}}; the catalog is included for scoped tokens when `with_catalog`.
nlohmann::json TokenJson(const svc::TokenInfo& info, const Catalog& catalog, bool with_catalog);
// {"<key>": [...], "links": {"self": self_url, "previous": null, "next": null}}
nlohmann::json ListJson(std::string_view key, nlohmann::json items, std::string_view self_url);

// Body of POST /v3/auth/tokens.
StatusOr<svc::AuthRequest> ParseAuthRequest(const nlohmann::json& body);
// {"project": {...}} of POST /v3/projects.
StatusOr<domain::Project> ParseProjectCreate(const nlohmann::json& body);
StatusOr<svc::ProjectPatch> ParseProjectPatch(const nlohmann::json& body);
StatusOr<svc::UserSpec> ParseUserCreate(const nlohmann::json& body);
StatusOr<svc::UserPatch> ParseUserPatch(const nlohmann::json& body);
// {"role": {"name", "description"}}; domain-specific roles are refused.
StatusOr<domain::Role> ParseRoleCreate(const nlohmann::json& body);
StatusOr<domain::Group> ParseGroupCreate(const nlohmann::json& body);
StatusOr<svc::GroupPatch> ParseGroupPatch(const nlohmann::json& body);
StatusOr<svc::AppCredentialSpec> ParseAppCredentialCreate(const nlohmann::json& body);
// {"user": {"password", "original_password"}} of POST /v3/users/{id}/password.
struct PasswordChange {
  std::string original_password;
  std::string password;
};
StatusOr<PasswordChange> ParsePasswordChange(const nlohmann::json& body);

}  // namespace glimmer::api::identity
