#include "api/router.h"

#include <filesystem>
#include <system_error>

#include "api/errors.h"
#include "api/versions.h"

namespace glimmer::api {

Router::Router(glimmer::identity::IdentityService& identity, identity::IdentityApi& identity_api,
               images::ImagesApi& images_api, metadefs::MetadefsApi& metadefs_api,
               v1::ImagesV1Api& images_v1_api, RouterOptions options)
    : identity_(identity),
      identity_api_(identity_api),
      images_api_(images_api),
      metadefs_api_(metadefs_api),
      images_v1_api_(images_v1_api),
      options_(std::move(options)) {}

http::Response Router::Versions(const http::Request& req, int status) const {
  http::Response r;
  r.status = status;
  r.headers.Set("Content-Type", "application/json");
  r.body = VersionsDocument(
      options_.public_endpoint.empty() ? req.BaseUrl() : options_.public_endpoint,
      options_.enable_v1_api);
  return r;
}

std::optional<http::Response> Router::HandleInline(const http::Request& req) const {
  if (req.path != "/healthcheck") return std::nullopt;
  std::error_code ec;
  const bool disabled = !options_.healthcheck_disable_file.empty() &&
                        std::filesystem::exists(options_.healthcheck_disable_file, ec);
  const std::string reason = disabled ? "DISABLED BY FILE" : "OK";
  http::Response r;
  r.status = disabled ? 503 : (req.method == "HEAD" ? 204 : 200);
  std::string accept(req.headers.Get("Accept").value_or(""));
  if (accept.find("application/json") != std::string::npos) {
    r.headers.Set("Content-Type", "application/json");
    r.body = "{\"detailed\": false, \"reasons\": [\"" + reason + "\"]}";
  } else {
    r.headers.Set("Content-Type", "text/plain; charset=UTF-8");
    r.body = reason;
  }
  if (req.method == "HEAD") r.body.clear();
  return r;
}

http::Response Router::Handle(http::Request& req) {
  if (identity::IsIdentityPath(req.path)) return identity_api_.Handle(req);
  std::vector<std::string> segments;
  for (const auto& s : req.segments) {
    if (!s.empty()) segments.push_back(s);
  }
  if (segments.empty()) return Versions(req, 300);
  if (segments.size() == 1 && segments[0] == "versions") {
    if (req.method != "GET" && req.method != "HEAD") return MethodNotAllowedResponse("GET", req);
    return Versions(req, 200);
  }
  if (auto health = HandleInline(req)) return std::move(*health);
  const bool v1 = options_.enable_v1_api && IsV1Prefix(segments[0]);
  if (!v1 && !IsKnownVersionPrefix(segments[0])) return Versions(req, 300);

  std::string auth_uri = (options_.public_endpoint.empty() ? req.BaseUrl()
                                                           : options_.public_endpoint) +
                         "/identity/v3";
  auto token = identity::BearerToken(req);
  if (!token) return UnauthorizedResponse(auth_uri, req, "The request you have made requires "
                                                         "authentication.");
  auto ctx = identity_.ValidateToken(*token);
  if (!ctx.ok()) {
    if (ctx.status().code() == StatusCode::kUnauthenticated) {
      return UnauthorizedResponse(auth_uri, req,
                                  "The request you have made requires authentication.");
    }
    return ErrorFromStatus(ctx.status(), req, auth_uri);
  }
  ctx->request_id = req.request_id;
  ctx->auth_token = std::string(*token);
  // Glance routes no path with a trailing slash below the version ("/v2/images/" is not the
  // list, and "DELETE /v2/images/" is not a delete with an empty id).
  if (segments.size() >= 2 && req.path.ends_with('/')) {
    return ErrorResponse(404, "The resource could not be found.", req);
  }
  segments.erase(segments.begin());
  if (v1) return images_v1_api_.Handle(req, *ctx, segments);
  if (!segments.empty() && segments[0] == "metadefs") return metadefs_api_.Handle(req, *ctx, segments);
  return images_api_.Handle(req, *ctx, segments);
}

}  // namespace glimmer::api
