// The dashboard handler against an in-memory identity service and session repository, with a
// fake Router that records what reaches it.
#include "dashboard/dashboard_handler.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <mutex>

#include <nlohmann/json.hpp>

#include "dashboard/request_rules.h"
#include "dashboard/session_crypto.h"
#include "http/testing/string_body.h"
#include "identity/testing/test_repository.h"
#include "platform/clock.h"

namespace glimmer::dashboard {
namespace {

using json = nlohmann::json;
constexpr UnixMicros kStart = 1'800'000'000LL * 1'000'000;

using http::testing::StringBody;

class MemorySessions final : public db::SessionRepository {
 public:
  Status Create(const db::DashboardSessionRecord& r) override {
    std::lock_guard l(mu_);
    if (!rows_.emplace(r.id_digest, r).second) return AlreadyExistsError("dup");
    return OkStatus();
  }
  StatusOr<db::DashboardSessionRecord> Get(std::string_view d) override {
    std::lock_guard l(mu_);
    auto it = rows_.find(std::string(d));
    if (it == rows_.end()) return NotFoundError("none");
    return it->second;
  }
  Status Delete(std::string_view d) override {
    std::lock_guard l(mu_);
    rows_.erase(std::string(d));
    return OkStatus();
  }
  StatusOr<int> PurgeExpired(UnixMicros now) override {
    std::lock_guard l(mu_);
    int n = 0;
    for (auto it = rows_.begin(); it != rows_.end();) {
      if (it->second.expires_at <= now) {
        it = rows_.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    return n;
  }
  size_t size() {
    std::lock_guard l(mu_);
    return rows_.size();
  }
  std::map<std::string, db::DashboardSessionRecord> rows() {
    std::lock_guard l(mu_);
    return rows_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, db::DashboardSessionRecord> rows_;
};

class AllowMembers final : public domain::Policy {
 public:
  bool Allowed(domain::ImageAction action, const domain::RequestContext& ctx,
               const domain::ImageTarget&) const override {
    if (action == domain::ImageAction::kPublicizeImage) return ctx.IsAdmin();
    return ctx.IsMember();
  }
};

const Asset kAssets[] = {
    {"assets/app-ABC.js", "text/javascript; charset=utf-8", "console.log(1)", "GZJS", "\"e1\"",
     true},
    {"assets/app-DEF.css", "text/css; charset=utf-8", "body{}", "", "\"e2\"", true},
    {"index.html", "text/html; charset=utf-8", "<!doctype html>", "GZHTML", "\"e3\"", false},
};

struct Reply {
  int status = 0;
  http::Headers headers;
  std::string body;
  json Json() const { return json::parse(body, nullptr, false); }
  std::string Header(std::string_view n) const { return std::string(headers.Get(n).value_or("")); }
};

class DashboardHandlerTest : public ::testing::Test {
 protected:
  DashboardHandlerTest() : clock_(kStart) {
    identity::IdentityOptions options;
    options.password_iterations = 1000;
    options.token_cache_max_age = 0;
    identity_ =
        std::make_unique<identity::IdentityService>(identity_store_.repo(), clock_, options);
    auto boot = identity_->Bootstrap({.admin_password = "adminpw"});
    EXPECT_TRUE(boot.ok());
    store_ = std::make_unique<SessionStore>(sessions_, clock_, SessionStoreOptions{0, 100});
    DashboardOptions dopts;
    dopts.assets = kAssets;
    dopts.trusted_proxies = {"10.0.0.1"};
    handler_ = std::make_unique<DashboardHandler>(
        *identity_, policy_, *store_,
        [this](http::Request& req) {
          seen_ = req;
          seen_.body = nullptr;
          http::Response r;
          r.status = 299;
          r.headers.Set("X-Subject-Token", "leak");
          r.body = "from router";
          return r;
        },
        std::move(dopts));
  }

  Reply Call(std::string method, std::string path,
             std::vector<std::pair<std::string, std::string>> headers = {}, std::string body = "",
             std::string remote = "127.0.0.1:40000") {
    http::Request req;
    req.method = std::move(method);
    req.target = path;
    req.path = path.substr(0, path.find('?'));
    std::string_view rest = std::string_view(req.path).substr(1);
    while (true) {
      size_t slash = rest.find('/');
      req.segments.emplace_back(rest.substr(0, slash));
      if (slash == std::string_view::npos) break;
      rest.remove_prefix(slash + 1);
    }
    if (req.path == "/") req.segments.clear();
    for (auto& [k, v] : headers) req.headers.Add(k, v);
    StringBody reader(std::move(body));
    req.body = &reader;
    req.host = "127.0.0.1:9292";
    req.remote_address = std::move(remote);
    http::Response resp = handler_->Handle(req);
    return Reply{resp.status, resp.headers, resp.body};
  }

  // Signs in as admin; returns the cookie value and fills csrf_.
  std::string SignIn() {
    Reply r = Call("POST", "/dashboard/api/session", {{"Content-Type", "application/json"}},
                   R"({"user":"admin","password":"adminpw","project":"admin"})");
    EXPECT_EQ(r.status, 201) << r.body;
    const std::string set = r.Header("Set-Cookie");
    const size_t eq = set.find('=');
    csrf_ = r.Json().value("csrf_token", "");
    return set.substr(eq + 1, set.find(';') - eq - 1);
  }

  static std::string Cookie(const std::string& value) { return "glimmer_session=" + value; }

  platform::FakeClock clock_;
  identity::testing::TestIdentityStore identity_store_;
  std::unique_ptr<identity::IdentityService> identity_;
  MemorySessions sessions_;
  std::unique_ptr<SessionStore> store_;
  AllowMembers policy_;
  std::unique_ptr<DashboardHandler> handler_;
  http::Request seen_;
  std::string csrf_;
};

void ExpectSecurityHeaders(const Reply& r) {
  EXPECT_EQ(r.Header("Content-Security-Policy"), kContentSecurityPolicy);
  EXPECT_EQ(r.Header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r.Header("Referrer-Policy"), "no-referrer");
  EXPECT_EQ(r.Header("Cross-Origin-Opener-Policy"), "same-origin");
}

TEST(FindAsset, ExactPathsOnly) {
  EXPECT_EQ(FindAsset(kAssets, "")->path, "index.html");
  EXPECT_EQ(FindAsset(kAssets, "index.html")->path, "index.html");
  EXPECT_EQ(FindAsset(kAssets, "assets/app-DEF.css")->body, "body{}");
  EXPECT_EQ(FindAsset(kAssets, "assets/app-XYZ.js"), nullptr);
  EXPECT_EQ(FindAsset(kAssets, "assets/../index.html"), nullptr);
  EXPECT_EQ(FindAsset(kAssets, "assets/"), nullptr);
  EXPECT_EQ(FindAsset({}, "index.html"), nullptr);
}

TEST_F(DashboardHandlerTest, RootRedirectsBrowsersOnly) {
  Reply html = Call("GET", "/", {{"Accept", "text/html,*/*;q=0.8"}});
  EXPECT_EQ(html.status, 302);
  EXPECT_EQ(html.Header("Location"), "/dashboard/");
  EXPECT_EQ(Call("GET", "/", {{"Accept", "application/json"}}).status, 299);
  EXPECT_EQ(Call("GET", "/", {{"Accept", "*/*"}}).status, 299);
  EXPECT_EQ(Call("GET", "/").status, 299);
  EXPECT_EQ(Call("GET", "/v2/images", {{"Accept", "text/html"}}).status, 299);
  Reply bare = Call("GET", "/dashboard");
  EXPECT_EQ(bare.status, 301);
  EXPECT_EQ(bare.Header("Location"), "/dashboard/");
}

TEST_F(DashboardHandlerTest, ServesAssetsWithCachingHeaders) {
  Reply index = Call("GET", "/dashboard/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<!doctype html>");
  EXPECT_EQ(index.Header("Cache-Control"), "no-cache");
  EXPECT_EQ(index.Header("ETag"), "\"e3\"");
  EXPECT_EQ(index.Header("Vary"), "Accept-Encoding");
  ExpectSecurityHeaders(index);
  EXPECT_EQ(Call("GET", "/dashboard/", {{"If-None-Match", "\"e3\""}}).status, 304);

  Reply js = Call("GET", "/dashboard/assets/app-ABC.js", {{"Accept-Encoding", "gzip, br"}});
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "GZJS");
  EXPECT_EQ(js.Header("Content-Encoding"), "gzip");
  EXPECT_EQ(js.Header("ETag"), "\"e1-gz\"");
  EXPECT_EQ(js.Header("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(js.Header("Content-Type"), "text/javascript; charset=utf-8");
  Reply plain = Call("GET", "/dashboard/assets/app-ABC.js");
  EXPECT_EQ(plain.body, "console.log(1)");
  EXPECT_EQ(plain.Header("Content-Encoding"), "");
  Reply css = Call("GET", "/dashboard/assets/app-DEF.css", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(css.body, "body{}");  // no gzip twin
  EXPECT_EQ(css.Header("Vary"), "");
}

TEST_F(DashboardHandlerTest, UnknownAssetsAre404AndClientRoutesGetTheIndex) {
  Reply missing = Call("GET", "/dashboard/assets/app-OLD.js");
  EXPECT_EQ(missing.status, 404);
  ExpectSecurityHeaders(missing);
  EXPECT_EQ(Call("GET", "/dashboard/favicon.ico").status, 404);
  Reply route = Call("GET", "/dashboard/images/abc");
  EXPECT_EQ(route.status, 200);
  EXPECT_EQ(route.body, "<!doctype html>");
  Reply post = Call("POST", "/dashboard/index.html");
  EXPECT_EQ(post.status, 405);
  ExpectSecurityHeaders(post);
  Reply api = Call("GET", "/dashboard/api/nothing");
  EXPECT_EQ(api.status, 404);
  ExpectSecurityHeaders(api);
}

TEST_F(DashboardHandlerTest, SignInSetsTheCookieAndReturnsTheDocument) {
  Reply r = Call("POST", "/dashboard/api/session", {{"Content-Type", "application/json"}},
                 R"({"user":"admin","password":"adminpw","project":"admin"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string cookie = r.Header("Set-Cookie");
  EXPECT_TRUE(cookie.starts_with("glimmer_session=")) << cookie;
  EXPECT_NE(cookie.find("; Path=/dashboard/; HttpOnly; SameSite=Strict"), std::string::npos);
  EXPECT_NE(cookie.find("Max-Age=3600"), std::string::npos);
  EXPECT_EQ(cookie.find("Secure"), std::string::npos);
  EXPECT_EQ(r.Header("Cache-Control"), "no-store");
  ExpectSecurityHeaders(r);
  json doc = r.Json();
  EXPECT_EQ(doc["user"]["name"], "admin");
  EXPECT_EQ(doc["user"]["domain"]["name"], "Default");
  EXPECT_EQ(doc["project"]["name"], "admin");
  EXPECT_FALSE(doc["projects"].empty());
  EXPECT_EQ(doc["capabilities"]["publicize_image"], true);
  EXPECT_EQ(doc["endpoints"]["identity"], "http://127.0.0.1:9292/identity/v3");
  EXPECT_EQ(doc["csrf_token"].get<std::string>().size(), 43u);
  // The database holds a digest and sealed bytes only.
  ASSERT_EQ(sessions_.size(), 1u);
  const auto row = sessions_.rows().begin()->second;
  const std::string value = cookie.substr(16, cookie.find(';') - 16);
  EXPECT_EQ(row.id_digest, Sha256Hex(*Base64UrlDecode(value)));
  EXPECT_EQ(row.csrf_digest, Sha256Hex(doc["csrf_token"].get<std::string>()));
}

TEST_F(DashboardHandlerTest, SecureCookieBehindATrustedProxyOnly) {
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Type", "application/json"}, {"X-Forwarded-Proto", "https"}};
  const std::string body = R"({"user":"admin","password":"adminpw"})";
  Reply trusted = Call("POST", "/dashboard/api/session", headers, body, "10.0.0.1:5000");
  ASSERT_EQ(trusted.status, 201);
  EXPECT_NE(trusted.Header("Set-Cookie").find("; Secure"), std::string::npos);
  Reply untrusted = Call("POST", "/dashboard/api/session", headers, body, "10.0.0.2:5000");
  ASSERT_EQ(untrusted.status, 201);
  EXPECT_EQ(untrusted.Header("Set-Cookie").find("Secure"), std::string::npos);
}

TEST_F(DashboardHandlerTest, SignInRefusals) {
  EXPECT_EQ(Call("POST", "/dashboard/api/session", {{"Content-Type", "text/plain"}},
                 R"({"user":"admin","password":"adminpw"})").status, 415);
  EXPECT_EQ(Call("POST", "/dashboard/api/session",
                 {{"Content-Type", "application/json"}, {"Origin", "http://evil.example"}},
                 R"({"user":"admin","password":"adminpw"})").status, 403);
  EXPECT_EQ(Call("POST", "/dashboard/api/session",
                 {{"Content-Type", "application/json"}, {"Sec-Fetch-Site", "cross-site"}},
                 R"({"user":"admin","password":"adminpw"})").status, 403);
  Reply wrong = Call("POST", "/dashboard/api/session", {{"Content-Type", "application/json"}},
                     R"({"user":"admin","password":"nope"})");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.Header("Set-Cookie"), "");
  EXPECT_EQ(sessions_.size(), 0u);
}

TEST_F(DashboardHandlerTest, ProxyInjectsTheBearerAndStripsClientCredentials) {
  const std::string cookie = SignIn();
  Reply r = Call("GET", "/dashboard/api/v2/images?limit=1",
                 {{"Cookie", Cookie(cookie)}, {"X-Auth-Token", "client-token"}});
  EXPECT_EQ(r.status, 299);
  EXPECT_EQ(r.Header("X-Subject-Token"), "");
  EXPECT_EQ(r.Header("Cache-Control"), "no-store");
  ExpectSecurityHeaders(r);
  EXPECT_EQ(seen_.path, "/v2/images");
  EXPECT_EQ(seen_.target, "/v2/images?limit=1");
  EXPECT_EQ(seen_.segments, (std::vector<std::string>{"v2", "images"}));
  EXPECT_FALSE(seen_.headers.Has("Cookie"));
  const std::string bearer(seen_.headers.Get("X-Auth-Token").value_or(""));
  EXPECT_NE(bearer, "client-token");
  EXPECT_TRUE(identity_->ValidateToken(bearer).ok());
}

TEST_F(DashboardHandlerTest, AuthTokensIsRefusedAtTheEdge) {
  const std::string cookie = SignIn();
  for (const char* path : {"/dashboard/api/identity/v3/auth/tokens",
                           "/dashboard/api/identity/v3/auth/tokens/",
                           "/dashboard/api/identity//v3/AUTH/tokens",
                           "/dashboard/api/v2/../identity/v3/auth/tokens",
                           "/dashboard/api/v2/./images"}) {
    seen_ = http::Request();
    Reply r = Call("GET", path, {{"Cookie", Cookie(cookie)}});
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(seen_.path, "") << path;
  }
  EXPECT_EQ(Call("GET", "/dashboard/api/identity/v3/auth/projects", {{"Cookie", Cookie(cookie)}})
                .status,
            299);
}

TEST_F(DashboardHandlerTest, CsrfRefusalsReachNothing) {
  const std::string cookie = SignIn();
  const std::string c = Cookie(cookie);
  struct Case {
    std::vector<std::pair<std::string, std::string>> headers;
  };
  std::vector<Case> cases = {
      {{{"Cookie", c}}},
      {{{"Cookie", c}, {"X-Glimmer-CSRF", "wrong"}}},
      {{{"Cookie", c}, {"X-Glimmer-CSRF", csrf_}, {"Origin", "http://localhost:9292"}}},
      {{{"Cookie", c}, {"X-Glimmer-CSRF", csrf_}, {"Sec-Fetch-Site", "cross-site"}}},
  };
  for (const Case& k : cases) {
    seen_ = http::Request();
    Reply r = Call("POST", "/dashboard/api/v2/images", k.headers, "{}");
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_EQ(seen_.path, "");
  }
  seen_ = http::Request();
  Reply ok = Call("POST", "/dashboard/api/v2/images",
                  {{"Cookie", c}, {"X-Glimmer-CSRF", csrf_}, {"Origin", "http://127.0.0.1:9292"},
                   {"Sec-Fetch-Site", "same-origin"}},
                  "{}");
  EXPECT_EQ(ok.status, 299);
  EXPECT_EQ(seen_.path, "/v2/images");
  EXPECT_FALSE(seen_.headers.Has(kCsrfHeader));
}

TEST_F(DashboardHandlerTest, SignOutEndsTheSessionAndTheToken) {
  const std::string cookie = SignIn();
  Reply doc = Call("GET", "/dashboard/api/session", {{"Cookie", Cookie(cookie)}});
  ASSERT_EQ(doc.status, 200);
  Call("GET", "/dashboard/api/v2/images", {{"Cookie", Cookie(cookie)}});
  const std::string bearer(seen_.headers.Get("X-Auth-Token").value_or(""));
  Reply out = Call("DELETE", "/dashboard/api/session",
                   {{"Cookie", Cookie(cookie)}, {"X-Glimmer-CSRF", csrf_}});
  EXPECT_EQ(out.status, 204);
  EXPECT_NE(out.Header("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(sessions_.size(), 0u);
  EXPECT_FALSE(identity_->ValidateToken(bearer).ok());
  Reply again = Call("GET", "/dashboard/api/session", {{"Cookie", Cookie(cookie)}});
  EXPECT_EQ(again.status, 401);
  EXPECT_NE(again.Header("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(again.Json()["code"], "401 Unauthorized");
}

TEST_F(DashboardHandlerTest, RevokedTokenEndsTheSession) {
  const std::string cookie = SignIn();
  Call("GET", "/dashboard/api/v2/images", {{"Cookie", Cookie(cookie)}});
  const std::string bearer(seen_.headers.Get("X-Auth-Token").value_or(""));
  ASSERT_TRUE(identity_->RevokeToken(bearer).ok());
  EXPECT_EQ(Call("GET", "/dashboard/api/v2/images", {{"Cookie", Cookie(cookie)}}).status, 401);
  EXPECT_EQ(sessions_.size(), 0u);
}

TEST_F(DashboardHandlerTest, ExpiredSessionIs401) {
  const std::string cookie = SignIn();
  clock_.Advance(3601LL * 1'000'000);
  EXPECT_EQ(Call("GET", "/dashboard/api/session", {{"Cookie", Cookie(cookie)}}).status, 401);
  EXPECT_EQ(sessions_.size(), 0u);
}

TEST_F(DashboardHandlerTest, RescopeRotatesCookieAndCsrf) {
  auto project = identity_->CreateProject(domain::Project{.name = "other"});
  ASSERT_TRUE(project.ok());
  auto admin = identity_store_.repo().GetUserByName("default", "admin");
  auto role = identity_->ListRoles({.name = "member"});
  ASSERT_TRUE(admin.ok() && role.ok() && !role->empty());
  ASSERT_TRUE(identity_->GrantRole(project->id, admin->id, (*role)[0].id).ok());
  const std::string cookie = SignIn();
  const std::string old_csrf = csrf_;
  Reply r = Call("PUT", "/dashboard/api/session/project",
                 {{"Cookie", Cookie(cookie)}, {"X-Glimmer-CSRF", csrf_},
                  {"Content-Type", "application/json"}},
                 json{{"project_id", project->id}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["project"]["name"], "other");
  EXPECT_NE(r.Json()["csrf_token"], old_csrf);
  const std::string set = r.Header("Set-Cookie");
  const std::string fresh = set.substr(16, set.find(';') - 16);
  EXPECT_NE(fresh, cookie);
  EXPECT_EQ(Call("GET", "/dashboard/api/session", {{"Cookie", Cookie(cookie)}}).status, 401);
  EXPECT_EQ(Call("GET", "/dashboard/api/session", {{"Cookie", Cookie(fresh)}}).status, 200);
  EXPECT_EQ(sessions_.size(), 1u);
}

TEST_F(DashboardHandlerTest, GarbageCookiesAre401) {
  for (const char* v : {"x", "!!!", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}) {
    const std::string cookie = std::string("glimmer_session=") + v;
    EXPECT_EQ(Call("GET", "/dashboard/api/session", {{"Cookie", cookie}}).status, 401);
  }
}

}  // namespace
}  // namespace glimmer::dashboard
