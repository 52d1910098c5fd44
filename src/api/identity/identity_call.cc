#include "api/identity/identity_call.h"

#include <cctype>
#include <utility>

namespace glimmer::api::identity {
namespace {

using nlohmann::json;

std::string_view Title(int code) {
  switch (code) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Request Entity Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
  }
}

int HttpCode(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kCancelled: return 400;  // the client closed before its body ended
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAborted: return 409;
    case StatusCode::kResourceExhausted: return 413;
    case StatusCode::kUnsupportedMedia: return 415;
    case StatusCode::kUnimplemented: return 501;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDeadlineExceeded: return 408;  // the client was too slow
    default: return 500;
  }
}

}  // namespace

http::Response KeystoneError(int code, std::string message, std::string_view identity_url) {
  http::Response resp = JsonResponse(
      code, json{{"error", {{"code", code}, {"message", std::move(message)}, {"title", Title(code)}}}});
  if (code == 401) {
    resp.headers.Set("WWW-Authenticate", "Keystone uri=\"" + std::string(identity_url) + "\"");
  }
  return resp;
}

http::Response ErrorResponse(const Status& status, std::string_view identity_url) {
  int code = HttpCode(status.code());
  std::string message = status.message();
  if (code == 500) {
    message = "An unexpected error prevented the server from fulfilling your request.";
  } else if (code == 401 && message.empty()) {
    message = std::string(kAuthRequired);
  }
  return KeystoneError(code, std::move(message), identity_url);
}

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// Keystone's query booleans: presence means true unless the value spells false.
std::optional<bool> QueryBool(const http::Request& req, std::string_view key) {
  auto v = req.QueryValue(key);
  if (!v) return std::nullopt;
  std::string s(*v);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return !(s == "0" || s == "false" || s == "no" || s == "off");
}

svc::ListFilter FilterFrom(const http::Request& req) {
  svc::ListFilter f;
  if (auto v = req.QueryValue("name")) f.name = std::string(*v);
  if (auto v = req.QueryValue("domain_id")) f.domain_id = std::string(*v);
  f.enabled = QueryBool(req, "enabled");
  return f;
}

Status Forbidden(std::string_view action) {
  return PermissionDeniedError("You are not authorized to perform the requested action: " +
                               std::string(action) + ".");
}

IdentityCall::IdentityCall(svc::IdentityService& service, const IdentityApiOptions& options,
                           http::Request& req)
    : svc_(service),
      options_(options),
      req_(req),
      base_url_(options.public_base_url.empty() ? req.BaseUrl() : options.public_base_url) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  identity_url_ = base_url_ + std::string(kIdentityPrefix) + "/v3";
  catalog_.region = options.region;
  catalog_.services = {{"identity", "keystone", identity_url_}, {"image", "glance", base_url_}};
}

bool IdentityCall::Is(std::string_view m) const {
  return req_.method == m || (m == "GET" && req_.method == "HEAD");
}

StatusOr<http::Response> IdentityCall::MethodNotAllowed() const {
  return KeystoneError(405, "The method is not allowed for the requested URL.", identity_url_);
}

StatusOr<http::Response> IdentityCall::NotFoundResponse() const {
  return KeystoneError(404, "The resource could not be found.", identity_url_);
}

StatusOr<domain::RequestContext> IdentityCall::Caller() {
  if (caller_) return *caller_;
  auto token = BearerToken(req_);
  if (!token) return UnauthenticatedError(std::string(kAuthRequired));
  ASSIGN_OR_RETURN(caller_, svc_.ValidateToken(*token));
  return *caller_;
}

StatusOr<domain::RequestContext> IdentityCall::Admin(std::string_view action) {
  ASSIGN_OR_RETURN(auto ctx, Caller());
  if (!ctx.IsAdmin()) return Forbidden(action);
  return ctx;
}

StatusOr<json> IdentityCall::Body() {
  if (!req_.body) return InvalidArgumentError("The request body is empty");
  ASSIGN_OR_RETURN(std::string text, http::ReadAll(*req_.body, options_.max_body_bytes));
  if (text.empty()) return InvalidArgumentError("The request body is empty");
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError("The request body is not valid JSON");
  return j;
}

std::string IdentityCall::SelfUrl() const {
  std::string rest = req_.path.substr(kIdentityPrefix.size() + 3);  // after "/identity/v3"
  while (rest.size() > 1 && rest.back() == '/') rest.pop_back();
  std::string url = identity_url_ + rest;
  if (!req_.raw_query.empty()) url += "?" + req_.raw_query;
  return url;
}

}  // namespace glimmer::api::identity
