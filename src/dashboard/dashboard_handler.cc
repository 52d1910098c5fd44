#include "dashboard/dashboard_handler.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include <nlohmann/json.hpp>

#include "api/errors.h"
#include "common/time.h"
#include "dashboard/request_rules.h"
#include "domain/image.h"

namespace glimmer::dashboard {
namespace {

using json = nlohmann::json;

constexpr std::string_view kPrefix = "/dashboard/";
constexpr std::string_view kApiPrefix = "/dashboard/api";

identity::EntityRef ById(std::string id) {
  identity::EntityRef ref;
  ref.id = std::move(id);
  return ref;
}

identity::EntityRef ByName(std::string name, std::string domain_name) {
  identity::EntityRef ref;
  ref.name = std::move(name);
  ref.domain_name = std::move(domain_name);
  return ref;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void AddSecurityHeaders(http::Response& resp) {
  resp.headers.Set("Content-Security-Policy", std::string(kContentSecurityPolicy));
  resp.headers.Set("X-Content-Type-Options", "nosniff");
  resp.headers.Set("Referrer-Policy", "no-referrer");
  resp.headers.Set("Cross-Origin-Opener-Policy", "same-origin");
}

http::Response Redirect(int status, std::string location) {
  http::Response r;
  r.status = status;
  r.headers.Set("Location", std::move(location));
  r.headers.Set("Content-Type", "text/plain; charset=utf-8");
  return r;
}

// The peer's IP from "ip:port" (IPv6 addresses come without brackets).
std::string_view PeerIp(std::string_view remote) {
  const size_t colon = remote.rfind(':');
  return colon == std::string_view::npos ? remote : remote.substr(0, colon);
}

// The ETag of the gzip representation: the body's, with "-gz" inside the quotes.
std::string GzipEtag(std::string_view etag) {
  if (etag.size() >= 2 && etag.back() == '"') {
    return std::string(etag.substr(0, etag.size() - 1)) + "-gz\"";
  }
  return std::string(etag) + "-gz";
}

// The image actions whose outcome the page uses to hide controls (the API still decides).
constexpr domain::ImageAction kCapabilities[] = {
    domain::ImageAction::kAddImage,        domain::ImageAction::kModifyImage,
    domain::ImageAction::kDeleteImage,     domain::ImageAction::kUploadImage,
    domain::ImageAction::kDownloadImage,   domain::ImageAction::kPublicizeImage,
    domain::ImageAction::kCommunitizeImage, domain::ImageAction::kDeactivate,
    domain::ImageAction::kReactivate,      domain::ImageAction::kAddMember,
    domain::ImageAction::kDeleteMember,    domain::ImageAction::kGetMembers,
    domain::ImageAction::kModifyMember,    domain::ImageAction::kCopyImage,
    domain::ImageAction::kTasksApiAccess,
};

}  // namespace

const Asset* FindAsset(std::span<const Asset> assets, std::string_view path) {
  if (path.empty()) path = "index.html";
  auto it = std::lower_bound(assets.begin(), assets.end(), path,
                             [](const Asset& a, std::string_view p) { return a.path < p; });
  if (it == assets.end() || it->path != path) return nullptr;
  return &*it;
}

// One request to the dashboard: everything under /dashboard/.
class DashboardHandler::Call {
 public:
  Call(DashboardHandler& h, http::Request& req) : h_(h), req_(req) {}

  http::Response Run() {
    std::string_view rel = std::string_view(req_.path).substr(kPrefix.size());
    if (rel == "api" || rel.starts_with("api/")) {
      http::Response resp = Api(rel.size() > 4 ? rel.substr(4) : std::string_view());
      resp.headers.Set("Cache-Control", "no-store");
      return resp;
    }
    return ServeAsset(rel);
  }

 private:
  // ---- Request facts ----
  bool FromTrustedProxy() const {
    const std::string_view ip = PeerIp(req_.remote_address);
    const auto& trusted = h_.options_.trusted_proxies;
    return std::find(trusted.begin(), trusted.end(), ip) != trusted.end();
  }
  bool OverTls() const {
    if (req_.scheme == "https") return true;
    if (!FromTrustedProxy()) return false;
    std::string proto = Lower(req_.headers.Get("X-Forwarded-Proto").value_or(""));
    proto = proto.substr(0, proto.find(','));
    proto.erase(std::remove(proto.begin(), proto.end(), ' '), proto.end());
    return proto == "https";
  }
  bool SecureCookie() const {
    switch (h_.options_.secure_cookie) {
      case SecureCookie::kAlways: return true;
      case SecureCookie::kNever: return false;
      case SecureCookie::kAuto: return OverTls();
    }
    return false;
  }
  std::string BaseUrl() const {
    if (!h_.options_.public_endpoint.empty()) return h_.options_.public_endpoint;
    return std::string(OverTls() ? "https" : req_.scheme) + "://" + req_.host;
  }
  std::vector<std::string> OwnOrigins() const {
    std::vector<std::string> out;
    if (!h_.options_.public_endpoint.empty()) out.push_back(OriginOf(h_.options_.public_endpoint));
    out.push_back(Lower(std::string(OverTls() ? "https" : req_.scheme) + "://" + req_.host));
    return out;
  }

  // ---- Responses ----
  // Glance's error shape, always as JSON (the page asks for JSON; errors never carry HTML).
  http::Response Error(int status, std::string_view message) const {
    http::Request shape;
    shape.method = req_.method;
    shape.headers.Set("Accept", "application/json");
    return api::ErrorResponse(status, message, shape);
  }
  http::Response SignedOut(std::string_view message) const {
    http::Response r = Error(401, message);
    r.headers.Add("Set-Cookie", ClearedSessionCookie(SecureCookie()));
    return r;
  }
  static http::Response Json(int status, const json& body) {
    http::Response r;
    r.status = status;
    r.headers.Set("Content-Type", "application/json");
    r.body = body.dump();
    return r;
  }

  // ---- Assets (design §3.4) ----
  http::Response ServeAsset(std::string_view rel) {
    if (!IsSafeMethod(req_.method)) {
      http::Response r = Error(405, "The dashboard's files are read-only.");
      r.headers.Set("Allow", "GET, HEAD");
      return r;
    }
    const dashboard::Asset* asset = FindAsset(h_.options_.assets, rel);
    if (asset == nullptr) {
      // A client route (/dashboard/images/x) gets the page; a file name that is not embedded,
      // or anything under assets/, is a 404.
      const std::string_view last = rel.substr(rel.rfind('/') + 1);
      if (rel.starts_with("assets/") || last.find('.') != std::string_view::npos) {
        http::Response r;
        r.status = 404;
        r.headers.Set("Content-Type", "text/plain; charset=utf-8");
        r.body = "404 Not Found\n";
        return r;
      }
      asset = FindAsset(h_.options_.assets, "index.html");
      if (asset == nullptr) return Error(404, "The dashboard is not built into this binary.");
    }
    const bool gzip = !asset->gzip_body.empty() &&
                      AcceptsGzip(req_.headers.Get("Accept-Encoding").value_or(""));
    const std::string etag = gzip ? GzipEtag(asset->etag) : std::string(asset->etag);
    http::Response r;
    r.headers.Set("ETag", etag);
    r.headers.Set("Cache-Control", asset->immutable ? "public, max-age=31536000, immutable"
                                                    : "no-cache");
    if (!asset->gzip_body.empty()) r.headers.Set("Vary", "Accept-Encoding");
    if (auto inm = req_.headers.Get("If-None-Match"); inm && EtagMatches(*inm, etag)) {
      r.status = 304;
      return r;
    }
    r.status = 200;
    r.headers.Set("Content-Type", std::string(asset->content_type));
    if (gzip) r.headers.Set("Content-Encoding", "gzip");
    r.body = std::string(gzip ? asset->gzip_body : asset->body);
    return r;
  }

  // ---- /dashboard/api/… ----
  http::Response Api(std::string_view sub) {
    if (sub == "session") {
      if (req_.method == "POST") return SignIn();
      if (req_.method == "GET" || req_.method == "HEAD") return WithSession(&Call::Document);
      if (req_.method == "DELETE") return WithSession(&Call::SignOut);
      http::Response r = Error(405, "");
      r.headers.Set("Allow", "GET, HEAD, POST, DELETE");
      return r;
    }
    if (sub == "session/project") {
      if (req_.method == "PUT") return WithSession(&Call::Rescope);
      http::Response r = Error(405, "");
      r.headers.Set("Allow", "PUT");
      return r;
    }
    const std::string first = Lower(sub.substr(0, sub.find('/')));
    if (first.starts_with("v2") || first == "identity") return WithSession(&Call::Proxy);
    return Error(404, "No such dashboard API.");
  }

  using Step = http::Response (Call::*)(const Session&, const domain::RequestContext&);

  // Design §3.3 steps 1-3, then the token's validity, then `step`.
  http::Response WithSession(Step step) {
    std::optional<std::string> cookie = FindCookie(req_.headers, kCookieName);
    if (!cookie) return SignedOut("Not signed in.");
    StatusOr<Session> session = h_.sessions_.Open(*cookie);
    if (!session.ok()) {
      if (session.status().code() == StatusCode::kUnauthenticated) {
        return SignedOut("The session has ended; sign in again.");
      }
      return api::ErrorFromStatus(session.status(), JsonShape());
    }
    CsrfInput csrf{req_.method,
                   req_.headers.Get("Sec-Fetch-Site"),
                   req_.headers.Get("Origin"),
                   req_.headers.Get(kCsrfHeader),
                   session->csrf_digest,
                   OwnOrigins()};
    const CsrfVerdict verdict = CheckCsrf(csrf);
    if (verdict != CsrfVerdict::kAllow) return Error(403, Describe(verdict));
    StatusOr<domain::RequestContext> ctx = h_.identity_.ValidateToken(session->bearer);
    if (!ctx.ok()) {
      if (ctx.status().code() == StatusCode::kUnauthenticated) {
        (void)h_.sessions_.Remove(session->id_digest);  // revoked or expired: the session ends
        return SignedOut("The session has ended; sign in again.");
      }
      return api::ErrorFromStatus(ctx.status(), JsonShape());
    }
    return (this->*step)(*session, *ctx);
  }

  StatusOr<json> JsonBody() {
    const std::string type = Lower(req_.headers.Get("Content-Type").value_or(""));
    if (!type.starts_with("application/json")) {
      return Status(StatusCode::kUnsupportedMedia, "Content-Type must be application/json.");
    }
    StatusOr<std::string> text = http::ReadAll(*req_.body, h_.options_.max_json_body_bytes);
    if (!text.ok()) {
      if (text.status().code() == StatusCode::kResourceExhausted) {
        return Status(StatusCode::kResourceExhausted, "The request body is too large.");
      }
      return text.status();
    }
    json body = json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (!body.is_object()) return InvalidArgumentError("The body must be a JSON object.");
    return body;
  }

  static std::string Field(const json& body, const char* name) {
    auto it = body.find(name);
    return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
  }

  // POST /dashboard/api/session {domain, project, user, password}.
  http::Response SignIn() {
    // Login CSRF: no cookie exists yet, so the Origin / Sec-Fetch-Site checks stand alone (a
    // cross-site page cannot send application/json without a CORS preflight, which fails).
    if (auto site = req_.headers.Get("Sec-Fetch-Site"); site && Lower(*site) != "same-origin") {
      return Error(403, Describe(CsrfVerdict::kCrossSite));
    }
    if (auto origin = req_.headers.Get("Origin")) {
      const auto own = OwnOrigins();
      if (std::find(own.begin(), own.end(), Lower(*origin)) == own.end()) {
        return Error(403, Describe(CsrfVerdict::kForeignOrigin));
      }
    }
    StatusOr<json> body = JsonBody();
    if (!body.ok()) return api::ErrorFromStatus(body.status(), JsonShape());
    std::string domain = Field(*body, "domain");
    if (domain.empty()) domain = "Default";
    const std::string user = Field(*body, "user");
    const std::string password = Field(*body, "password");
    const std::string project = Field(*body, "project");
    if (user.empty() || password.empty()) return Error(400, "User name and password are required.");

    identity::AuthRequest auth;
    auth.password = identity::PasswordCredentials{ByName(user, domain), password};
    if (!project.empty()) auth.project = ByName(project, domain);
    identity::LoginAttempt attempt{.remote_address = req_.remote_address};
    StatusOr<identity::IssuedToken> issued = h_.identity_.Authenticate(auth, &attempt);
    if (!issued.ok()) {
      const StatusCode code = issued.status().code();
      if (code == StatusCode::kResourceExhausted && attempt.retry_after_seconds > 0) {
        http::Response r = Error(429, "Too many failed sign-in attempts; wait and try again.");
        r.headers.Set("Retry-After", std::to_string(attempt.retry_after_seconds));
        return r;
      }
      if (code == StatusCode::kUnauthenticated) {
        return Error(401, "The domain, project, user name or password is wrong.");
      }
      if (code == StatusCode::kInvalidArgument) return Error(400, issued.status().message());
      return api::ErrorFromStatus(issued.status(), JsonShape());
    }
    if (!issued->info.project) {
      // No project asked for and no default one: the first project the user has a role on.
      StatusOr<identity::IssuedToken> scoped = ScopeToFirstProject(*issued);
      (void)h_.identity_.RevokeToken(issued->bearer);
      if (!scoped.ok()) return Error(403, "You have no role on any project.");
      issued = std::move(scoped);
    }
    // Signing in again replaces the browser's previous session.
    if (auto old_cookie = FindCookie(req_.headers, kCookieName)) {
      if (auto old = h_.sessions_.Open(*old_cookie); old.ok()) EndSession(*old);
    }
    return StartSession(*issued, 201);
  }

  StatusOr<identity::IssuedToken> ScopeToFirstProject(const identity::IssuedToken& unscoped) {
    ASSIGN_OR_RETURN(auto projects, h_.identity_.ListUserProjects(unscoped.info.user.id));
    std::sort(projects.begin(), projects.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    for (const domain::Project& p : projects) {
      if (!p.enabled) continue;
      identity::AuthRequest auth;
      auth.token = unscoped.bearer;
      auth.project = ById(p.id);
      auto scoped = h_.identity_.Authenticate(auth);
      if (scoped.ok()) return scoped;
    }
    return UnauthenticatedError("no project");
  }

  // A session for `issued`: Set-Cookie and the session document.
  http::Response StartSession(const identity::IssuedToken& issued, int status) {
    StatusOr<NewSession> made =
        h_.sessions_.Create(issued.bearer, issued.info.user.id,
                            issued.info.project ? issued.info.project->id : "",
                            issued.info.expires_at);
    if (!made.ok()) {
      (void)h_.identity_.RevokeToken(issued.bearer);
      return api::ErrorFromStatus(made.status(), JsonShape());
    }
    http::Response r = Json(status, DocumentJson(made->session, issued.info));
    const UnixMicros left = issued.info.expires_at - NowFromToken(issued.info);
    r.headers.Add("Set-Cookie",
                  SessionCookie(made->cookie_value, left / 1'000'000, SecureCookie()));
    return r;
  }

  // Seconds to expiry are counted from the token's issue time, which is "now" for a fresh token.
  static UnixMicros NowFromToken(const identity::TokenInfo& info) { return info.issued_at; }

  void EndSession(const Session& s) {
    (void)h_.identity_.RevokeToken(s.bearer);
    (void)h_.sessions_.Remove(s.id_digest);
  }

  // GET /dashboard/api/session.
  http::Response Document(const Session& s, const domain::RequestContext&) {
    StatusOr<identity::TokenInfo> info = h_.identity_.DescribeToken(s.bearer);
    if (!info.ok()) {
      (void)h_.sessions_.Remove(s.id_digest);
      return SignedOut("The session has ended; sign in again.");
    }
    return Json(200, DocumentJson(s, *info));
  }

  // DELETE /dashboard/api/session.
  http::Response SignOut(const Session& s, const domain::RequestContext&) {
    EndSession(s);
    http::Response r;
    r.status = 204;
    r.headers.Add("Set-Cookie", ClearedSessionCookie(SecureCookie()));
    return r;
  }

  // PUT /dashboard/api/session/project {project_id}: a new token (token method), a new cookie
  // and CSRF token; the old token is revoked and the old session removed.
  http::Response Rescope(const Session& s, const domain::RequestContext&) {
    StatusOr<json> body = JsonBody();
    if (!body.ok()) return api::ErrorFromStatus(body.status(), JsonShape());
    const std::string project_id = Field(*body, "project_id");
    if (project_id.empty()) return Error(400, "project_id is required.");
    identity::AuthRequest auth;
    auth.token = s.bearer;
    auth.project = ById(project_id);
    StatusOr<identity::IssuedToken> issued = h_.identity_.Authenticate(auth);
    if (!issued.ok()) {
      if (issued.status().code() == StatusCode::kUnauthenticated) {
        return Error(403, "You have no role on that project.");
      }
      return api::ErrorFromStatus(issued.status(), JsonShape());
    }
    http::Response r = StartSession(*issued, 200);
    if (r.status == 200) EndSession(s);
    return r;
  }

  // The proxy edge (design §3.3 step 4): /dashboard/api/{v2,identity}/… → the Router.
  http::Response Proxy(const Session& s, const domain::RequestContext&) {
    req_.path.erase(0, kApiPrefix.size());
    if (req_.target.starts_with(kApiPrefix)) req_.target.erase(0, kApiPrefix.size());
    if (req_.segments.size() >= 2) {
      req_.segments.erase(req_.segments.begin(), req_.segments.begin() + 2);  // dashboard, api
    }
    std::vector<std::string> parts;
    for (const auto& seg : req_.segments) {
      if (!seg.empty()) parts.push_back(Lower(seg));
    }
    // Dot segments are not resolved by the Router; refusing them keeps the checks below exact.
    if (std::any_of(parts.begin(), parts.end(),
                    [](const std::string& p) { return p == "." || p == ".."; })) {
      return Error(404, "No such dashboard API.");
    }
    // Tokens are issued and shown only through the session endpoints.
    if (parts.size() >= 4 && parts[0] == "identity" && parts[2] == "auth" &&
        parts[3] == "tokens") {
      return Error(404, "Tokens are not available through the dashboard.");
    }
    req_.headers.Remove("X-Auth-Token");
    req_.headers.Remove("X-Subject-Token");
    req_.headers.Remove("Cookie");
    req_.headers.Remove(kCsrfHeader);
    req_.headers.Set("X-Auth-Token", s.bearer);
    http::Response resp = h_.api_(req_);
    resp.headers.Remove("X-Subject-Token");
    return resp;
  }

  json DocumentJson(const Session& s, const identity::TokenInfo& info) {
    json doc;
    doc["user"] = {{"id", info.user.id},
                   {"name", info.user.name},
                   {"domain", {{"id", info.user_domain.id}, {"name", info.user_domain.name}}}};
    if (info.project) {
      json domain = json::object();
      if (info.project_domain) {
        domain = {{"id", info.project_domain->id}, {"name", info.project_domain->name}};
      }
      doc["project"] = {{"id", info.project->id}, {"name", info.project->name}, {"domain", domain}};
    } else {
      doc["project"] = nullptr;
    }
    json projects = json::array();
    if (auto list = h_.identity_.ListUserProjects(info.user.id); list.ok()) {
      std::sort(list->begin(), list->end(),
                [](const auto& a, const auto& b) { return a.name < b.name; });
      for (const domain::Project& p : *list) {
        if (!p.enabled) continue;
        projects.push_back({{"id", p.id}, {"name", p.name}, {"domain_id", p.domain_id}});
      }
    }
    doc["projects"] = std::move(projects);
    const domain::RequestContext ctx = info.ToContext();
    doc["roles"] = ctx.roles;
    doc["expires_at"] = FormatIsoSeconds(info.expires_at);
    doc["csrf_token"] = s.csrf_token;
    domain::Image probe;  // an image of the current project, for the policy's owner rules
    probe.owner = ctx.project_id;
    probe.visibility = domain::Visibility::kPrivate;
    probe.status = domain::ImageStatus::kActive;
    domain::ImageTarget target{&probe, false, ctx.project_id, ctx.project_id};
    json caps = json::object();
    for (domain::ImageAction action : kCapabilities) {
      const domain::ImageTarget& t = target;
      caps[std::string(domain::ToString(action))] = h_.policy_.Allowed(action, ctx, t);
    }
    doc["capabilities"] = std::move(caps);
    const std::string base = BaseUrl();
    doc["endpoints"] = {{"identity", base + "/identity/v3"},
                        {"image", base},
                        {"region", h_.options_.region},
                        {"interface", "public"}};
    return doc;
  }

  http::Request JsonShape() const {
    http::Request shape;
    shape.method = req_.method;
    shape.headers.Set("Accept", "application/json");
    return shape;
  }

  DashboardHandler& h_;
  http::Request& req_;
};

DashboardHandler::DashboardHandler(identity::IdentityService& identity,
                                   const domain::Policy& policy, SessionStore& sessions,
                                   http::Handler api, DashboardOptions options)
    : identity_(identity),
      policy_(policy),
      sessions_(sessions),
      api_(std::move(api)),
      options_(std::move(options)) {}

http::Response DashboardHandler::Handle(http::Request& req) {
  if (req.path == "/" && IsSafeMethod(req.method) &&
      WantsHtml(req.headers.Get("Accept").value_or(""))) {
    http::Response r = Redirect(302, "/dashboard/");
    r.headers.Set("Vary", "Accept");
    return r;
  }
  if (req.path == "/dashboard") {
    http::Response r = Redirect(301, "/dashboard/");
    AddSecurityHeaders(r);
    return r;
  }
  if (!req.path.starts_with(kPrefix)) return api_(req);
  http::Response resp = Call(*this, req).Run();
  AddSecurityHeaders(resp);
  return resp;
}

}  // namespace glimmer::dashboard
