#pragma once
// Keystone v3 application credentials: /v3/users/{user}/application_credentials[/{id}]. A user
// creates its own (from a project-scoped token; the secret is shown once); the user or an admin
// lists, shows and deletes them. Authenticating with one is the "application_credential"
// method of POST /v3/auth/tokens (identity_api.cc).

#include <span>
#include <string_view>

#include "api/identity/identity_call.h"

namespace glimmer::api::identity {

class AppCredentialsCall : public IdentityCall {
 public:
  using IdentityCall::IdentityCall;

  // Whether `seg` (the path's segments after /identity/v3) is a route of this file.
  static bool Handles(std::span<const std::string_view> seg);
  StatusOr<http::Response> Serve(std::span<const std::string_view> seg);

 private:
  // The caller when it is `user_id` itself, or an admin and `admin_ok`.
  StatusOr<domain::RequestContext> Owner(std::string_view user_id, bool admin_ok,
                                         std::string_view action);
  StatusOr<nlohmann::json> Render(const domain::ApplicationCredential& c);
  StatusOr<http::Response> List(std::string_view user_id);
  StatusOr<http::Response> Create(std::string_view user_id);
  StatusOr<http::Response> Show(std::string_view user_id, std::string_view id);
  StatusOr<http::Response> Delete(std::string_view user_id, std::string_view id);
};

}  // namespace glimmer::api::identity
