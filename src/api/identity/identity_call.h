#pragma once
// One request to the identity API: what every handler needs (the caller behind the token, the
// JSON body, this API's URLs and catalog) and Keystone's response shapes. IdentityApi's handlers
// (identity_api.cc) and the groups handlers (groups_api.cc) derive from IdentityCall.
//
// Not thread-safe: one object per request.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/identity/identity_api.h"
#include "api/identity/keystone_json.h"
#include "api/responses.h"
#include "common/status.h"
#include "domain/context.h"
#include "http/message.h"

namespace glimmer::api::identity {

inline constexpr std::string_view kAuthRequired =
    "The request you have made requires authentication.";

// A 204 without a body.
inline http::Response NoContent() { return EmptyResponse(204); }
// Keystone's error body {"error": {"code", "message", "title"}}; a 401 names the identity URL
// in WWW-Authenticate.
http::Response KeystoneError(int code, std::string message, std::string_view identity_url);
http::Response ErrorResponse(const Status& status, std::string_view identity_url);
// 403 as Keystone words it, naming the policy rule.
Status Forbidden(std::string_view action);

// The non-empty segments of a path.
std::vector<std::string_view> Split(std::string_view path);
// Keystone's query booleans: presence means true unless the value spells false.
std::optional<bool> QueryBool(const http::Request& req, std::string_view key);
// ?name=, ?domain_id=, ?enabled=
svc::ListFilter FilterFrom(const http::Request& req);

class IdentityCall {
 public:
  IdentityCall(svc::IdentityService& service, const IdentityApiOptions& options,
               http::Request& req);

 protected:
  // The request's method is `m` (GET also matches HEAD).
  bool Is(std::string_view m) const;
  StatusOr<http::Response> MethodNotAllowed() const;
  StatusOr<http::Response> NotFoundResponse() const;
  // The caller (the X-Auth-Token, validated once per request); Unauthenticated without one.
  StatusOr<domain::RequestContext> Caller();
  // The caller when it is an admin, else Forbidden(action).
  StatusOr<domain::RequestContext> Admin(std::string_view action);
  // The JSON body (bounded by max_body_bytes); InvalidArgument when empty or not JSON.
  StatusOr<nlohmann::json> Body();
  // This request's own URL, for a list's links.self.
  std::string SelfUrl() const;

  svc::IdentityService& svc_;
  const IdentityApiOptions& options_;
  http::Request& req_;
  std::string base_url_;
  std::string identity_url_;  // .../identity/v3
  Catalog catalog_;

 private:
  std::optional<domain::RequestContext> caller_;
};

}  // namespace glimmer::api::identity
