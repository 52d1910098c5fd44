#pragma once
// The Keystone v3 HTTP API of the embedded identity service, mounted under "/identity" on the
// image API's listener (so OS_AUTH_URL=http://HOST:PORT/identity/v3). Bodies and status codes
// follow Keystone closely enough for the unmodified openstack/glance CLIs and keystonemiddleware:
// discovery (300/200), POST/GET/HEAD/DELETE /v3/auth/tokens with X-Subject-Token, the service
// catalog (identity + image endpoints derived from the public base URL), admin management of
// projects, users, roles, role assignments and domains, groups (groups_api.h) and application
// credentials (app_credentials_api.h). Errors use Keystone's body
// {"error": {"code", "message", "title"}}; 401s carry WWW-Authenticate: Keystone uri="...".
//
// Ownership: borrows the IdentityService, which must outlive the API object.
// Thread-safety: Handle() may be called concurrently.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.h"
#include "identity/identity_service.h"

namespace glimmer::api::identity {

inline constexpr std::string_view kIdentityPrefix = "/identity";

struct IdentityApiOptions {
  // Absolute base URL clients reach this server at, without trailing slash, e.g.
  // "https://images.example.com". Empty: derived from each request (Request::BaseUrl()).
  std::string public_base_url;
  std::string region = "RegionOne";
  size_t max_body_bytes = 64 * 1024;
};

// Whether `path` belongs to the identity API ("/identity" or "/identity/...").
bool IsIdentityPath(std::string_view path);

// The caller's token: the X-Auth-Token header, if present and non-empty.
std::optional<std::string_view> BearerToken(const http::Request& req);

class IdentityApi {
 public:
  explicit IdentityApi(::glimmer::identity::IdentityService& service,
                       IdentityApiOptions options = {});
  IdentityApi(const IdentityApi&) = delete;
  IdentityApi& operator=(const IdentityApi&) = delete;

  // Serves any request whose path satisfies IsIdentityPath(). Never throws.
  http::Response Handle(http::Request& req);

 private:
  class Call;
  ::glimmer::identity::IdentityService& service_;
  const IdentityApiOptions options_;
};

}  // namespace glimmer::api::identity
