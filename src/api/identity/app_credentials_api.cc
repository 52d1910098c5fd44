#include "api/identity/app_credentials_api.h"

#include <utility>
#include <vector>

namespace glimmer::api::identity {

using nlohmann::json;

bool AppCredentialsCall::Handles(std::span<const std::string_view> seg) {
  return seg.size() >= 3 && seg.size() <= 4 && seg[0] == "users" &&
         seg[2] == "application_credentials";
}

StatusOr<http::Response> AppCredentialsCall::Serve(std::span<const std::string_view> seg) {
  if (seg.size() == 3) {
    if (Is("GET")) return List(seg[1]);
    if (req_.method == "POST") return Create(seg[1]);
    return MethodNotAllowed();
  }
  if (Is("GET")) return Show(seg[1], seg[3]);
  if (req_.method == "DELETE") return Delete(seg[1], seg[3]);
  return MethodNotAllowed();
}

StatusOr<domain::RequestContext> AppCredentialsCall::Owner(std::string_view user_id,
                                                           bool admin_ok,
                                                           std::string_view action) {
  ASSIGN_OR_RETURN(auto ctx, Caller());
  if (ctx.user_id != user_id && !(admin_ok && ctx.IsAdmin())) return Forbidden(action);
  return ctx;
}

StatusOr<json> AppCredentialsCall::Render(const domain::ApplicationCredential& c) {
  std::vector<domain::Role> roles;
  for (const std::string& id : c.role_ids) {
    auto role = svc_.GetRole(id);
    if (role.ok()) {
      roles.push_back(std::move(*role));
    } else if (role.status().code() != StatusCode::kNotFound) {
      return role.status();
    }
  }
  return AppCredentialJson(c, roles, identity_url_);
}

StatusOr<http::Response> AppCredentialsCall::List(std::string_view user_id) {
  RETURN_IF_ERROR(Owner(user_id, true, "identity:list_application_credentials").status());
  std::optional<std::string> name;
  if (auto v = req_.QueryValue("name")) name = std::string(*v);
  ASSIGN_OR_RETURN(auto creds, svc_.ListApplicationCredentials(user_id, name));
  json items = json::array();
  for (const auto& c : creds) {
    ASSIGN_OR_RETURN(json item, Render(c));
    items.push_back(std::move(item));
  }
  return JsonResponse(200, ListJson("application_credentials", std::move(items), SelfUrl()));
}

StatusOr<http::Response> AppCredentialsCall::Create(std::string_view user_id) {
  RETURN_IF_ERROR(Owner(user_id, false, "identity:create_application_credential").status());
  ASSIGN_OR_RETURN(json body, Body());
  ASSIGN_OR_RETURN(svc::AppCredentialSpec spec, ParseAppCredentialCreate(body));
  ASSIGN_OR_RETURN(svc::CreatedAppCredential created,
                   svc_.CreateApplicationCredential(*BearerToken(req_), user_id,
                                                    std::move(spec)));
  ASSIGN_OR_RETURN(json item, Render(created.credential));
  item["secret"] = std::move(created.secret);  // shown this once only
  return JsonResponse(201, json{{"application_credential", std::move(item)}});
}

StatusOr<http::Response> AppCredentialsCall::Show(std::string_view user_id, std::string_view id) {
  RETURN_IF_ERROR(Owner(user_id, true, "identity:get_application_credential").status());
  ASSIGN_OR_RETURN(auto c, svc_.GetApplicationCredential(user_id, id));
  ASSIGN_OR_RETURN(json item, Render(c));
  return JsonResponse(200, json{{"application_credential", std::move(item)}});
}

StatusOr<http::Response> AppCredentialsCall::Delete(std::string_view user_id,
                                                    std::string_view id) {
  RETURN_IF_ERROR(Owner(user_id, true, "identity:delete_application_credential").status());
  RETURN_IF_ERROR(svc_.DeleteApplicationCredential(*BearerToken(req_), user_id, id));
  return NoContent();
}

}  // namespace glimmer::api::identity
