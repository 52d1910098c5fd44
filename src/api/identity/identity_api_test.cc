#include "api/identity/identity_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "http/testing/string_body.h"
#include "identity/testing/test_repository.h"
#include "platform/clock.h"

namespace glimmer::api::identity {
namespace {

using nlohmann::json;
namespace svc = ::glimmer::identity;

constexpr UnixMicros kStart = 1'800'000'000LL * 1'000'000;

using http::testing::StringBody;

struct Reply {
  int status = 0;
  http::Headers headers;
  std::string raw;
  json body;
  std::string Header(std::string_view name) const {
    return std::string(headers.Get(name).value_or(""));
  }
};

class IdentityApiTest : public ::testing::Test {
 protected:
  IdentityApiTest() : clock_(kStart) {
    svc::IdentityOptions options;
    options.password_iterations = 1000;
    service_ = std::make_unique<svc::IdentityService>(store_.repo(), clock_, options);
    auto boot = service_->Bootstrap({.admin_password = "adminpw"});
    EXPECT_TRUE(boot.ok());
    boot_ = *boot;
    api_ = std::make_unique<IdentityApi>(*service_);
    admin_token_ = IssueToken("admin", "adminpw", "admin");
  }

  Reply Call(IdentityApi& api, std::string method, std::string target, std::string body = "",
             std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Request req;
    req.method = std::move(method);
    req.target = target;
    size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) {
      req.raw_query = target.substr(q + 1);
      std::string_view rest = req.raw_query;
      while (!rest.empty()) {
        size_t amp = rest.find('&');
        std::string_view kv = rest.substr(0, amp);
        size_t eq = kv.find('=');
        req.query.emplace_back(std::string(kv.substr(0, eq)),
                               eq == std::string_view::npos ? "" : std::string(kv.substr(eq + 1)));
        rest = amp == std::string_view::npos ? "" : rest.substr(amp + 1);
      }
    }
    for (auto& [k, v] : headers) req.headers.Add(k, v);
    if (!body.empty()) req.headers.Set("Content-Type", "application/json");
    StringBody reader(std::move(body));
    req.body = &reader;
    req.host = "127.0.0.1:9292";
    req.remote_address = "127.0.0.1:40000";
    http::Response resp = api.Handle(req);
    Reply out{resp.status, resp.headers, resp.body, json()};
    if (!resp.body.empty()) out.body = json::parse(resp.body, nullptr, false);
    return out;
  }
  Reply Call(std::string method, std::string target, std::string body = "",
             std::vector<std::pair<std::string, std::string>> headers = {}) {
    return Call(*api_, std::move(method), std::move(target), std::move(body), std::move(headers));
  }
  // As the admin.
  Reply Admin(std::string method, std::string target, std::string body = "") {
    return Call(std::move(method), std::move(target), std::move(body),
                {{"X-Auth-Token", admin_token_}});
  }

  static std::string PasswordBody(const std::string& user, const std::string& password,
                                  const std::string& project) {
    json auth{{"identity",
               {{"methods", {"password"}},
                {"password",
                 {{"user", {{"name", user}, {"domain", {{"name", "Default"}}}, {"password", password}}}}}}}};
    if (!project.empty()) {
      auth["scope"] = {{"project", {{"name", project}, {"domain", {{"name", "Default"}}}}}};
    }
    return json{{"auth", auth}}.dump();
  }

  std::string IssueToken(const std::string& user, const std::string& password,
                         const std::string& project) {
    Reply r = Call("POST", "/identity/v3/auth/tokens", PasswordBody(user, password, project));
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.Header("X-Subject-Token");
  }

  // Creates project + user (password "<name>pw") with `role`; returns the user id.
  std::string MakeMember(const std::string& name, const std::string& role = "member") {
    auto p = service_->CreateProject({.name = name});
    auto u = service_->CreateUser({.name = name, .password = name + "pw"});
    auto roles = service_->ListRoles({.name = role});
    EXPECT_TRUE(p.ok() && u.ok() && roles.ok() && roles->size() == 1);
    EXPECT_TRUE(service_->GrantRole(p->id, u->id, (*roles)[0].id).ok());
    return u->id;
  }

  static void ExpectKeystoneError(const Reply& r, int code) {
    EXPECT_EQ(r.status, code) << r.raw;
    ASSERT_TRUE(r.body.is_object()) << r.raw;
    EXPECT_EQ(r.body["error"]["code"], code) << r.raw;
    EXPECT_TRUE(r.body["error"]["message"].is_string());
    EXPECT_TRUE(r.body["error"]["title"].is_string());
    EXPECT_EQ(r.Header("Content-Type"), "application/json");
  }

  static std::set<std::string> Names(const json& list) {
    std::set<std::string> out;
    for (const auto& x : list) out.insert(x["name"].get<std::string>());
    return out;
  }

  ::glimmer::identity::testing::TestIdentityStore store_;
  platform::FakeClock clock_;
  std::unique_ptr<svc::IdentityService> service_;
  svc::BootstrapResult boot_;
  std::unique_ptr<IdentityApi> api_;
  std::string admin_token_;
};

TEST_F(IdentityApiTest, PathHelpers) {
  EXPECT_TRUE(IsIdentityPath("/identity"));
  EXPECT_TRUE(IsIdentityPath("/identity/v3/auth/tokens"));
  EXPECT_FALSE(IsIdentityPath("/identityx"));
  EXPECT_FALSE(IsIdentityPath("/v2/images"));
  http::Request req;
  EXPECT_FALSE(BearerToken(req).has_value());
  req.headers.Set("x-auth-token", "");
  EXPECT_FALSE(BearerToken(req).has_value());
  req.headers.Set("X-Auth-Token", "abc");
  EXPECT_EQ(BearerToken(req), "abc");
}

TEST_F(IdentityApiTest, VersionDiscovery) {
  for (const char* path : {"/identity", "/identity/"}) {
    Reply r = Call("GET", path);
    EXPECT_EQ(r.status, 300) << path;
    EXPECT_EQ(r.Header("Location"), "http://127.0.0.1:9292/identity/v3/");
    const json& v = r.body["versions"]["values"][0];
    EXPECT_EQ(v["id"], "v3.14");
    EXPECT_EQ(v["status"], "stable");
    EXPECT_EQ(v["links"][0]["rel"], "self");
    EXPECT_EQ(v["links"][0]["href"], "http://127.0.0.1:9292/identity/v3/");
    EXPECT_EQ(v["media-types"][0]["type"], "application/vnd.openstack.identity-v3+json");
  }
  for (const char* path : {"/identity/v3", "/identity/v3/"}) {
    Reply r = Call("GET", path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body["version"]["id"], "v3.14");
    EXPECT_EQ(r.body["version"]["links"][0]["href"], "http://127.0.0.1:9292/identity/v3/");
  }
  ExpectKeystoneError(Call("POST", "/identity/v3", "{}"), 405);
  ExpectKeystoneError(Call("GET", "/identity/v2.0"), 404);
  ExpectKeystoneError(Admin("GET", "/identity/v3/nothing"), 404);
}

TEST_F(IdentityApiTest, IssueTokenMatchesKeystone) {
  Reply r = Call("POST", "/identity/v3/auth/tokens", PasswordBody("admin", "adminpw", "admin"));
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_EQ(r.Header("X-Subject-Token").size(), 45u);  // "gl" + 43 base64url characters
  EXPECT_EQ(r.Header("Content-Type"), "application/json");
  const json& t = r.body["token"];
  EXPECT_EQ(t["methods"], json::array({"password"}));
  EXPECT_EQ(t["user"]["id"], boot_.admin_user_id);
  EXPECT_EQ(t["user"]["name"], "admin");
  EXPECT_EQ(t["user"]["domain"], json({{"id", "default"}, {"name", "Default"}}));
  EXPECT_TRUE(t["user"]["password_expires_at"].is_null());
  EXPECT_EQ(t["project"]["id"], boot_.admin_project_id);
  EXPECT_EQ(t["project"]["name"], "admin");
  EXPECT_EQ(t["project"]["domain"], json({{"id", "default"}, {"name", "Default"}}));
  EXPECT_EQ(t["is_domain"], false);
  EXPECT_EQ(Names(t["roles"]), (std::set<std::string>{"admin", "member", "reader"}));
  ASSERT_EQ(t["audit_ids"].size(), 1u);
  EXPECT_EQ(t["audit_ids"][0].get<std::string>().size(), 22u);
  std::regex iso(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");
  EXPECT_TRUE(std::regex_match(t["expires_at"].get<std::string>(), iso)) << t["expires_at"];
  EXPECT_TRUE(std::regex_match(t["issued_at"].get<std::string>(), iso));
  EXPECT_EQ(t["issued_at"], "2027-01-15T08:00:00.000000Z");
  EXPECT_EQ(t["expires_at"], "2027-01-15T09:00:00.000000Z");

  ASSERT_EQ(t["catalog"].size(), 2u);
  std::map<std::string, json> by_type;
  for (const auto& s : t["catalog"]) by_type[s["type"]] = s;
  ASSERT_TRUE(by_type.count("image") && by_type.count("identity"));
  EXPECT_EQ(by_type["image"]["name"], "glance");
  EXPECT_EQ(by_type["identity"]["name"], "keystone");
  EXPECT_EQ(by_type["image"]["id"].get<std::string>().size(), 32u);
  std::set<std::string> interfaces;
  for (const auto& e : by_type["image"]["endpoints"]) {
    interfaces.insert(e["interface"]);
    EXPECT_EQ(e["url"], "http://127.0.0.1:9292");
    EXPECT_EQ(e["region_id"], "RegionOne");
    EXPECT_EQ(e["region"], "RegionOne");
  }
  EXPECT_EQ(interfaces, (std::set<std::string>{"public", "internal", "admin"}));
  EXPECT_EQ(by_type["identity"]["endpoints"][0]["url"], "http://127.0.0.1:9292/identity/v3");

  Reply nocat = Call("POST", "/identity/v3/auth/tokens?nocatalog",
                     PasswordBody("admin", "adminpw", "admin"));
  ASSERT_EQ(nocat.status, 201);
  EXPECT_FALSE(nocat.body["token"].contains("catalog"));
  EXPECT_TRUE(nocat.body["token"].contains("roles"));
}

TEST_F(IdentityApiTest, ConfiguredPublicBaseUrlIsUsedInCatalogAndLinks) {
  IdentityApi api(*service_, {.public_base_url = "https://images.example.com/", .region = "R2"});
  Reply r = Call(api, "POST", "/identity/v3/auth/tokens", PasswordBody("admin", "adminpw", "admin"));
  ASSERT_EQ(r.status, 201);
  for (const auto& s : r.body["token"]["catalog"]) {
    for (const auto& e : s["endpoints"]) {
      EXPECT_EQ(e["region_id"], "R2");
      EXPECT_EQ(e["url"], s["type"] == "image" ? "https://images.example.com"
                                               : "https://images.example.com/identity/v3");
    }
  }
  EXPECT_EQ(Call(api, "GET", "/identity").Header("Location"),
            "https://images.example.com/identity/v3/");
}

TEST_F(IdentityApiTest, UnscopedAndIdBasedAuth) {
  json body{{"auth",
             {{"identity",
               {{"methods", {"password"}},
                {"password", {{"user", {{"id", boot_.admin_user_id}, {"password", "adminpw"}}}}}}},
              {"scope", "unscoped"}}}};
  Reply r = Call("POST", "/identity/v3/auth/tokens", body.dump());
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_FALSE(r.body["token"].contains("project"));
  EXPECT_FALSE(r.body["token"].contains("catalog"));
  EXPECT_FALSE(r.body["token"].contains("roles"));

  // Re-scope with the token method, project by id.
  json rescope{{"auth",
                {{"identity",
                  {{"methods", {"token"}}, {"token", {{"id", r.Header("X-Subject-Token")}}}}},
                 {"scope", {{"project", {{"id", boot_.admin_project_id}}}}}}}};
  Reply s = Call("POST", "/identity/v3/auth/tokens", rescope.dump());
  ASSERT_EQ(s.status, 201) << s.raw;
  EXPECT_EQ(s.body["token"]["project"]["id"], boot_.admin_project_id);
  EXPECT_EQ(s.body["token"]["methods"], json::array({"password", "token"}));
  EXPECT_EQ(s.body["token"]["audit_ids"].size(), 2u);
}

TEST_F(IdentityApiTest, IssueTokenErrors) {
  Reply wrong = Call("POST", "/identity/v3/auth/tokens", PasswordBody("admin", "nope", "admin"));
  ExpectKeystoneError(wrong, 401);
  EXPECT_EQ(wrong.body["error"]["title"], "Unauthorized");
  EXPECT_EQ(wrong.Header("WWW-Authenticate"), "Keystone uri=\"http://127.0.0.1:9292/identity/v3\"");
  EXPECT_EQ(wrong.Header("X-Subject-Token"), "");
  ExpectKeystoneError(Call("POST", "/identity/v3/auth/tokens",
                           PasswordBody("admin", "adminpw", "nosuchproject")),
                      401);
  ExpectKeystoneError(Call("POST", "/identity/v3/auth/tokens",
                           PasswordBody("admin", "adminpw", "service")),
                      401);  // no role there
  ExpectKeystoneError(Call("POST", "/identity/v3/auth/tokens", "{not json"), 400);
  ExpectKeystoneError(Call("POST", "/identity/v3/auth/tokens", ""), 400);
  ExpectKeystoneError(Call("POST", "/identity/v3/auth/tokens", "[]"), 400);
  ExpectKeystoneError(Call("POST", "/identity/v3/auth/tokens", R"({"auth": {}})"), 400);
  ExpectKeystoneError(
      Call("POST", "/identity/v3/auth/tokens",
           R"({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": 5}}}}})"),
      400);
  ExpectKeystoneError(
      Call("POST", "/identity/v3/auth/tokens",
           R"({"auth": {"identity": {"methods": ["password"]}}})"), 400);
  ExpectKeystoneError(
      Call("POST", "/identity/v3/auth/tokens",
           R"({"auth": {"identity": {"methods": ["totp"], "totp": {}}}})"), 401);
  json domain_scope = json::parse(PasswordBody("admin", "adminpw", ""));
  domain_scope["auth"]["scope"] = {{"domain", {{"id", "default"}}}};
  ExpectKeystoneError(Call("POST", "/identity/v3/auth/tokens", domain_scope.dump()), 400);
  ExpectKeystoneError(Call("PUT", "/identity/v3/auth/tokens", "{}"), 405);
}

TEST_F(IdentityApiTest, ValidateTokenLikeKeystonemiddleware) {
  MakeMember("demo");
  std::string user_token = IssueToken("demo", "demopw", "demo");
  Reply r = Call("GET", "/identity/v3/auth/tokens", "",
                 {{"X-Auth-Token", admin_token_}, {"X-Subject-Token", user_token},
                  {"OpenStack-Identity-Access-Rules", "1"}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.Header("X-Subject-Token"), user_token);
  EXPECT_EQ(r.body["token"]["user"]["name"], "demo");
  EXPECT_EQ(r.body["token"]["project"]["name"], "demo");
  EXPECT_EQ(Names(r.body["token"]["roles"]), (std::set<std::string>{"member", "reader"}));
  EXPECT_EQ(r.body["token"]["catalog"].size(), 2u);
  EXPECT_EQ(r.body["token"]["expires_at"], "2027-01-15T09:00:00.000000Z");

  Reply head = Call("HEAD", "/identity/v3/auth/tokens", "",
                    {{"X-Auth-Token", admin_token_}, {"X-Subject-Token", user_token}});
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.raw.empty());

  Reply unknown = Call("GET", "/identity/v3/auth/tokens", "",
                       {{"X-Auth-Token", admin_token_}, {"X-Subject-Token", "garbage"}});
  ExpectKeystoneError(unknown, 404);
  EXPECT_EQ(unknown.body["error"]["message"], "Could not recognize Fernet token");
  EXPECT_EQ(Call("HEAD", "/identity/v3/auth/tokens", "",
                 {{"X-Auth-Token", admin_token_}, {"X-Subject-Token", "garbage"}})
                .status,
            404);

  // Caller must be authenticated...
  ExpectKeystoneError(Call("GET", "/identity/v3/auth/tokens", "", {{"X-Subject-Token", user_token}}),
                      401);
  ExpectKeystoneError(Call("GET", "/identity/v3/auth/tokens", "",
                           {{"X-Auth-Token", "bogus"}, {"X-Subject-Token", user_token}}),
                      401);
  // ...and be admin/service or the token's owner.
  EXPECT_EQ(Call("GET", "/identity/v3/auth/tokens", "",
                 {{"X-Auth-Token", user_token}, {"X-Subject-Token", user_token}})
                .status,
            200);
  ExpectKeystoneError(Call("GET", "/identity/v3/auth/tokens", "",
                           {{"X-Auth-Token", user_token}, {"X-Subject-Token", admin_token_}}),
                      403);
  MakeMember("glance", "service");
  std::string service_token = IssueToken("glance", "glancepw", "glance");
  EXPECT_EQ(Call("GET", "/identity/v3/auth/tokens", "",
                 {{"X-Auth-Token", service_token}, {"X-Subject-Token", user_token}})
                .status,
            200);

  // Expired tokens are unknown.
  clock_.Advance(3600LL * 1'000'000);
  ExpectKeystoneError(Call("GET", "/identity/v3/auth/tokens", "",
                           {{"X-Auth-Token", service_token}, {"X-Subject-Token", user_token}}),
                      401);  // the caller's token expired too
}

TEST_F(IdentityApiTest, RevokeToken) {
  MakeMember("demo");
  std::string user_token = IssueToken("demo", "demopw", "demo");
  EXPECT_EQ(Call("DELETE", "/identity/v3/auth/tokens", "",
                 {{"X-Auth-Token", admin_token_}, {"X-Subject-Token", user_token}})
                .status,
            204);
  ExpectKeystoneError(Call("GET", "/identity/v3/auth/tokens", "",
                           {{"X-Auth-Token", admin_token_}, {"X-Subject-Token", user_token}}),
                      404);
  EXPECT_FALSE(service_->ValidateToken(user_token).ok());
  ExpectKeystoneError(Call("GET", "/identity/v3/auth/catalog", "", {{"X-Auth-Token", user_token}}),
                      401);
  ExpectKeystoneError(Call("DELETE", "/identity/v3/auth/tokens", "",
                           {{"X-Auth-Token", admin_token_}, {"X-Subject-Token", user_token}}),
                      404);
  // A user may revoke its own token.
  std::string own = IssueToken("demo", "demopw", "demo");
  EXPECT_EQ(Call("DELETE", "/identity/v3/auth/tokens", "",
                 {{"X-Auth-Token", own}, {"X-Subject-Token", own}})
                .status,
            204);
}

TEST_F(IdentityApiTest, AuthCatalogAndProjects) {
  Reply cat = Admin("GET", "/identity/v3/auth/catalog");
  ASSERT_EQ(cat.status, 200);
  EXPECT_EQ(cat.body["catalog"].size(), 2u);
  EXPECT_EQ(cat.body["links"]["self"], "http://127.0.0.1:9292/identity/v3/auth/catalog");
  Reply projects = Admin("GET", "/identity/v3/auth/projects");
  ASSERT_EQ(projects.status, 200);
  EXPECT_EQ(Names(projects.body["projects"]), (std::set<std::string>{"admin"}));
  ExpectKeystoneError(Call("GET", "/identity/v3/auth/projects"), 401);
  EXPECT_EQ(Call("GET", "/identity/v3/auth/projects")
                .Header("WWW-Authenticate"),
            "Keystone uri=\"http://127.0.0.1:9292/identity/v3\"");
}

TEST_F(IdentityApiTest, ProjectsCrud) {
  Reply created = Admin("POST", "/identity/v3/projects",
                        R"({"project": {"name": "demo", "domain_id": "default",
                            "description": "Demo", "enabled": true}})");
  ASSERT_EQ(created.status, 201) << created.raw;
  const json& p = created.body["project"];
  std::string id = p["id"];
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(p["name"], "demo");
  EXPECT_EQ(p["domain_id"], "default");
  EXPECT_EQ(p["parent_id"], "default");
  EXPECT_EQ(p["description"], "Demo");
  EXPECT_EQ(p["enabled"], true);
  EXPECT_EQ(p["is_domain"], false);
  EXPECT_EQ(p["links"]["self"], "http://127.0.0.1:9292/identity/v3/projects/" + id);

  ExpectKeystoneError(Admin("POST", "/identity/v3/projects", R"({"project": {"name": "demo"}})"),
                      409);
  ExpectKeystoneError(Admin("POST", "/identity/v3/projects", R"({"project": {}})"), 400);
  ExpectKeystoneError(Admin("POST", "/identity/v3/projects", R"({"project": {"name": 1}})"), 400);
  ExpectKeystoneError(Admin("POST", "/identity/v3/projects", "nope"), 400);

  // openstack project show demo: GET by name -> 404, then list by name.
  ExpectKeystoneError(Admin("GET", "/identity/v3/projects/demo"), 404);
  Reply by_name = Admin("GET", "/identity/v3/projects?name=demo&domain_id=default");
  ASSERT_EQ(by_name.status, 200);
  ASSERT_EQ(by_name.body["projects"].size(), 1u);
  EXPECT_EQ(by_name.body["projects"][0]["id"], id);
  EXPECT_EQ(by_name.body["links"]["self"],
            "http://127.0.0.1:9292/identity/v3/projects?name=demo&domain_id=default");
  EXPECT_EQ(Admin("GET", "/identity/v3/projects").body["projects"].size(), 3u);

  Reply shown = Admin("GET", "/identity/v3/projects/" + id);
  EXPECT_EQ(shown.status, 200);
  EXPECT_EQ(shown.body["project"]["name"], "demo");

  Reply patched = Admin("PATCH", "/identity/v3/projects/" + id,
                        R"({"project": {"description": "changed", "enabled": false}})");
  ASSERT_EQ(patched.status, 200) << patched.raw;
  EXPECT_EQ(patched.body["project"]["description"], "changed");
  EXPECT_EQ(patched.body["project"]["enabled"], false);
  EXPECT_EQ(Admin("GET", "/identity/v3/projects?enabled=false").body["projects"].size(), 1u);
  ExpectKeystoneError(Admin("PATCH", "/identity/v3/projects/" + id,
                            R"({"project": {"name": "admin"}})"),
                      409);

  EXPECT_EQ(Admin("DELETE", "/identity/v3/projects/" + id).status, 204);
  ExpectKeystoneError(Admin("GET", "/identity/v3/projects/" + id), 404);
  ExpectKeystoneError(Admin("DELETE", "/identity/v3/projects/" + id), 404);
}

TEST_F(IdentityApiTest, NonAdminsAreForbiddenFromManagement) {
  std::string uid = MakeMember("demo");
  std::string token = IssueToken("demo", "demopw", "demo");
  auto as_user = [&](std::string method, std::string target, std::string body = "") {
    return Call(std::move(method), std::move(target), std::move(body), {{"X-Auth-Token", token}});
  };
  Reply list = as_user("GET", "/identity/v3/projects");
  ExpectKeystoneError(list, 403);
  EXPECT_EQ(list.body["error"]["title"], "Forbidden");
  ExpectKeystoneError(as_user("POST", "/identity/v3/projects", R"({"project": {"name": "x"}})"),
                      403);
  ExpectKeystoneError(as_user("GET", "/identity/v3/users"), 403);
  ExpectKeystoneError(as_user("GET", "/identity/v3/users/" + boot_.admin_user_id), 403);
  ExpectKeystoneError(as_user("GET", "/identity/v3/roles"), 403);
  ExpectKeystoneError(as_user("GET", "/identity/v3/projects/" + boot_.admin_project_id), 403);
  ExpectKeystoneError(as_user("GET", "/identity/v3/role_assignments"), 403);
  // But a user may read itself, its project and its own projects and assignments.
  Reply me = as_user("GET", "/identity/v3/users/" + uid);
  EXPECT_EQ(me.status, 200);
  EXPECT_EQ(me.body["user"]["name"], "demo");
  auto ctx = service_->ValidateToken(token);
  ASSERT_TRUE(ctx.ok());
  EXPECT_EQ(as_user("GET", "/identity/v3/projects/" + ctx->project_id).status, 200);
  Reply mine = as_user("GET", "/identity/v3/users/" + uid + "/projects");
  ASSERT_EQ(mine.status, 200);
  EXPECT_EQ(Names(mine.body["projects"]), (std::set<std::string>{"demo"}));
  EXPECT_EQ(as_user("GET", "/identity/v3/role_assignments?user.id=" + uid).status, 200);
  ExpectKeystoneError(Call("GET", "/identity/v3/users"), 401);
}

TEST_F(IdentityApiTest, UsersCrudAndPasswords) {
  Reply created = Admin("POST", "/identity/v3/users",
                        R"({"user": {"name": "bob", "domain_id": "default", "password": "pw1",
                            "email": "bob@example.com", "enabled": true,
                            "description": "Bob"}})");
  ASSERT_EQ(created.status, 201) << created.raw;
  const json& u = created.body["user"];
  std::string id = u["id"];
  EXPECT_EQ(u["name"], "bob");
  EXPECT_EQ(u["domain_id"], "default");
  EXPECT_EQ(u["email"], "bob@example.com");
  EXPECT_EQ(u["description"], "Bob");
  EXPECT_EQ(u["enabled"], true);
  EXPECT_TRUE(u["password_expires_at"].is_null());
  EXPECT_FALSE(u.contains("password"));
  EXPECT_EQ(created.raw.find("pbkdf2"), std::string::npos);
  EXPECT_EQ(u["links"]["self"], "http://127.0.0.1:9292/identity/v3/users/" + id);
  ExpectKeystoneError(Admin("POST", "/identity/v3/users", R"({"user": {"name": "bob"}})"), 409);
  ExpectKeystoneError(Admin("POST", "/identity/v3/users", R"({"user": {"password": "x"}})"), 400);

  ExpectKeystoneError(Admin("GET", "/identity/v3/users/bob"), 404);
  Reply by_name = Admin("GET", "/identity/v3/users?name=bob");
  ASSERT_EQ(by_name.body["users"].size(), 1u);
  EXPECT_EQ(by_name.body["users"][0]["id"], id);
  EXPECT_EQ(Admin("GET", "/identity/v3/users").body["users"].size(), 2u);

  // Give bob a project, then change his password as admin.
  auto demo = service_->CreateProject({.name = "demo"});
  auto member = service_->ListRoles({.name = "member"});
  ASSERT_TRUE(demo.ok() && member.ok());
  EXPECT_EQ(Admin("PUT", "/identity/v3/projects/" + demo->id + "/users/" + id + "/roles/" +
                             (*member)[0].id).status,
            204);
  Reply patched = Admin("PATCH", "/identity/v3/users/" + id,
                        R"({"user": {"password": "pw2", "default_project_id": ")" + demo->id +
                            R"("}})");
  ASSERT_EQ(patched.status, 200) << patched.raw;
  EXPECT_EQ(patched.body["user"]["default_project_id"], demo->id);
  ExpectKeystoneError(Call("POST", "/identity/v3/auth/tokens", PasswordBody("bob", "pw1", "demo")),
                      401);
  EXPECT_FALSE(IssueToken("bob", "pw2", "demo").empty());

  // Self-service change (no token needed, original password required).
  ExpectKeystoneError(Call("POST", "/identity/v3/users/" + id + "/password",
                           R"({"user": {"original_password": "bad", "password": "pw3"}})"),
                      401);
  EXPECT_EQ(Call("POST", "/identity/v3/users/" + id + "/password",
                 R"({"user": {"original_password": "pw2", "password": "pw3"}})")
                .status,
            204);
  EXPECT_FALSE(IssueToken("bob", "pw3", "demo").empty());

  // Disabling blocks authentication and invalidates existing tokens.
  std::string token = IssueToken("bob", "pw3", "demo");
  EXPECT_EQ(Admin("PATCH", "/identity/v3/users/" + id, R"({"user": {"enabled": false}})").status,
            200);
  ExpectKeystoneError(Call("POST", "/identity/v3/auth/tokens", PasswordBody("bob", "pw3", "demo")),
                      401);
  ExpectKeystoneError(Call("GET", "/identity/v3/auth/catalog", "", {{"X-Auth-Token", token}}), 401);

  EXPECT_EQ(Admin("GET", "/identity/v3/users/" + id + "/projects").body["projects"].size(), 1u);
  EXPECT_EQ(Admin("GET", "/identity/v3/users/" + id + "/groups").body["groups"].size(), 0u);
  EXPECT_EQ(Admin("DELETE", "/identity/v3/users/" + id).status, 204);
  ExpectKeystoneError(Admin("GET", "/identity/v3/users/" + id), 404);
}

TEST_F(IdentityApiTest, RolesAndAssignments) {
  Reply member = Admin("GET", "/identity/v3/roles?name=member");
  ASSERT_EQ(member.status, 200);
  ASSERT_EQ(member.body["roles"].size(), 1u);
  std::string member_id = member.body["roles"][0]["id"];
  EXPECT_TRUE(member.body["roles"][0]["domain_id"].is_null());
  EXPECT_EQ(Names(Admin("GET", "/identity/v3/roles").body["roles"]),
            (std::set<std::string>{"admin", "member", "reader", "service"}));

  Reply created = Admin("POST", "/identity/v3/roles", R"({"role": {"name": "creator"}})");
  ASSERT_EQ(created.status, 201) << created.raw;
  std::string role_id = created.body["role"]["id"];
  EXPECT_EQ(created.body["role"]["links"]["self"],
            "http://127.0.0.1:9292/identity/v3/roles/" + role_id);
  ExpectKeystoneError(Admin("POST", "/identity/v3/roles", R"({"role": {"name": "creator"}})"),
                      409);
  EXPECT_EQ(Admin("GET", "/identity/v3/roles/" + role_id).body["role"]["name"], "creator");
  ExpectKeystoneError(Admin("GET", "/identity/v3/roles/creator"), 404);

  std::string uid = MakeMember("demo", "reader");
  auto demo = service_->ListProjects({.name = "demo"});
  std::string pid = (*demo)[0].id;
  std::string grant = "/identity/v3/projects/" + pid + "/users/" + uid + "/roles/";
  ExpectKeystoneError(Admin("HEAD", grant + role_id), 404);
  EXPECT_EQ(Admin("PUT", grant + role_id).status, 204);
  EXPECT_EQ(Admin("HEAD", grant + role_id).status, 204);
  ExpectKeystoneError(Admin("PUT", grant + "nosuchrole"), 404);
  Reply grants = Admin("GET", "/identity/v3/projects/" + pid + "/users/" + uid + "/roles");
  ASSERT_EQ(grants.status, 200);
  EXPECT_EQ(Names(grants.body["roles"]), (std::set<std::string>{"creator", "reader"}));

  Reply ra = Admin("GET", "/identity/v3/role_assignments?user.id=" + uid +
                              "&scope.project.id=" + pid + "&include_names=True");
  ASSERT_EQ(ra.status, 200) << ra.raw;
  ASSERT_EQ(ra.body["role_assignments"].size(), 2u);
  for (const auto& a : ra.body["role_assignments"]) {
    EXPECT_EQ(a["user"]["id"], uid);
    EXPECT_EQ(a["user"]["name"], "demo");
    EXPECT_EQ(a["user"]["domain"]["name"], "Default");
    EXPECT_EQ(a["scope"]["project"]["id"], pid);
    EXPECT_EQ(a["scope"]["project"]["name"], "demo");
    EXPECT_EQ(a["scope"]["project"]["domain"]["id"], "default");
    EXPECT_TRUE(a["role"]["name"].is_string());
    EXPECT_EQ(a["links"]["assignment"], "http://127.0.0.1:9292/identity/v3/projects/" + pid +
                                            "/users/" + uid + "/roles/" +
                                            a["role"]["id"].get<std::string>());
  }
  Reply plain = Admin("GET", "/identity/v3/role_assignments?role.id=" + role_id);
  ASSERT_EQ(plain.body["role_assignments"].size(), 1u);
  EXPECT_FALSE(plain.body["role_assignments"][0]["user"].contains("name"));
  EXPECT_EQ(Admin("GET", "/identity/v3/role_assignments?group.id=x").body["role_assignments"].size(),
            0u);

  // Effective assignments include implied roles (admin => member => reader).
  Reply eff = Admin("GET", "/identity/v3/role_assignments?user.id=" + boot_.admin_user_id +
                               "&effective=True&include_names=True");
  std::set<std::string> names;
  for (const auto& a : eff.body["role_assignments"]) names.insert(a["role"]["name"]);
  EXPECT_EQ(names, (std::set<std::string>{"admin", "member", "reader"}));

  EXPECT_EQ(Admin("DELETE", grant + role_id).status, 204);
  ExpectKeystoneError(Admin("DELETE", grant + role_id), 404);
  EXPECT_EQ(Admin("DELETE", "/identity/v3/roles/" + role_id).status, 204);
  ExpectKeystoneError(Admin("GET", "/identity/v3/roles/" + role_id), 404);
  ExpectKeystoneError(Admin("PATCH", "/identity/v3/roles/" + member_id, "{}"), 405);
}

TEST_F(IdentityApiTest, RepeatedFailuresGet429WithRetryAfter) {
  svc::IdentityOptions options;
  options.password_iterations = 1000;
  options.login_throttle.user_threshold = 2;
  svc::IdentityService service(store_.repo(), clock_, options);
  IdentityApi api(service);
  std::string uid = MakeMember("demo");
  auto login = [&](const std::string& pw) {
    return Call(api, "POST", "/identity/v3/auth/tokens", PasswordBody("demo", pw, "demo"));
  };
  ExpectKeystoneError(login("wrong"), 401);
  ExpectKeystoneError(login("wrong"), 401);
  Reply r = login("demopw");
  ExpectKeystoneError(r, 429);
  EXPECT_EQ(r.body["error"]["title"], "Too Many Requests");
  EXPECT_EQ(r.Header("Retry-After"), "1");
  // The password-change endpoint shares the count and the answer.
  r = Call(api, "POST", "/identity/v3/users/" + uid + "/password",
           R"({"user": {"original_password": "demopw", "password": "new"}})");
  ExpectKeystoneError(r, 429);
  EXPECT_EQ(r.Header("Retry-After"), "1");
  clock_.Advance(1'000'000);
  EXPECT_EQ(login("demopw").status, 201);
}

TEST_F(IdentityApiTest, DomainsAndReadOnlyCatalog) {
  Reply domains = Admin("GET", "/identity/v3/domains");
  ASSERT_EQ(domains.status, 200);
  ASSERT_EQ(domains.body["domains"].size(), 1u);
  EXPECT_EQ(domains.body["domains"][0]["id"], "default");
  EXPECT_EQ(Admin("GET", "/identity/v3/domains?name=Default").body["domains"].size(), 1u);
  EXPECT_EQ(Admin("GET", "/identity/v3/domains?name=Other").body["domains"].size(), 0u);
  Reply d = Admin("GET", "/identity/v3/domains/default");
  EXPECT_EQ(d.body["domain"]["name"], "Default");
  EXPECT_EQ(d.body["domain"]["links"]["self"], "http://127.0.0.1:9292/identity/v3/domains/default");
  ExpectKeystoneError(Admin("GET", "/identity/v3/domains/Default"), 404);
  ExpectKeystoneError(Call("GET", "/identity/v3/domains"), 401);

  Reply services = Admin("GET", "/identity/v3/services");
  ASSERT_EQ(services.body["services"].size(), 2u);
  Reply image = Admin("GET", "/identity/v3/services?type=image");
  ASSERT_EQ(image.body["services"].size(), 1u);
  std::string sid = image.body["services"][0]["id"];
  EXPECT_EQ(Admin("GET", "/identity/v3/services/" + sid).body["service"]["name"], "glance");
  Reply endpoints = Admin("GET", "/identity/v3/endpoints?interface=public&service_id=" + sid);
  ASSERT_EQ(endpoints.body["endpoints"].size(), 1u);
  EXPECT_EQ(endpoints.body["endpoints"][0]["url"], "http://127.0.0.1:9292");
  std::string eid = endpoints.body["endpoints"][0]["id"];
  EXPECT_EQ(Admin("GET", "/identity/v3/endpoints/" + eid).body["endpoint"]["service_id"], sid);
  EXPECT_EQ(Admin("GET", "/identity/v3/endpoints").body["endpoints"].size(), 6u);
  EXPECT_EQ(Admin("GET", "/identity/v3/regions").body["regions"][0]["id"], "RegionOne");
  EXPECT_EQ(Admin("GET", "/identity/v3/regions/RegionOne").status, 200);
  ExpectKeystoneError(Admin("GET", "/identity/v3/regions/Elsewhere"), 404);
  ExpectKeystoneError(Admin("POST", "/identity/v3/services", R"({"service": {"type": "x"}})"), 501);
  ExpectKeystoneError(Call("GET", "/identity/v3/services"), 401);
}

}  // namespace
}  // namespace glimmer::api::identity
