#pragma once
// The dashboard's server side (docs/design/dashboard.md §3): an http::Handler in front of the API
// Router that serves
//   GET /  (Accept: text/html)            302 to /dashboard/; any other "/" request goes on to
//                                         the Router unchanged (the 300 versions document)
//   /dashboard                            301 to /dashboard/
//   /dashboard/, /dashboard/assets/*      the embedded assets (client routes get index.html)
//   /dashboard/api/session[/project]      sign-in, session document, rescoping, sign-out
//   /dashboard/api/v2/…, /dashboard/api/identity/v3/…
//                                         the proxy edge: the session's token is added and the
//                                         unchanged Router serves the request, streaming its
//                                         body as it does for any client
// and passes every other request to the Router untouched.
//
// Security (design §3.3, §3.4): the token never leaves the server (an HttpOnly, SameSite=Strict
// cookie names the session); unsafe /dashboard/api calls need X-Glimmer-CSRF and a same-origin
// Origin / Sec-Fetch-Site; /identity/v3/auth/tokens is refused at the edge; every /dashboard/
// response carries the CSP, nosniff, Referrer-Policy and COOP headers.
//
// Ownership: borrows the identity service, the policy and the session store, which must outlive
// the handler. Thread-safety: Handle() may be called concurrently.

#include <span>
#include <string>
#include <vector>

#include "dashboard/assets.h"
#include "dashboard/session_store.h"
#include "domain/policy.h"
#include "http/message.h"
#include "identity/identity_service.h"

namespace glimmer::dashboard {

inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'";

enum class SecureCookie { kAuto, kAlways, kNever };

struct DashboardOptions {
  // Base URL clients reach the server at (the [DEFAULT] public_endpoint); empty = the request's.
  std::string public_endpoint;
  // kAuto: Secure when the request came over TLS, or from a trusted proxy with
  // X-Forwarded-Proto: https.
  SecureCookie secure_cookie = SecureCookie::kAuto;
  // Peer addresses (IPs, exact) whose X-Forwarded-Proto is believed.
  std::vector<std::string> trusted_proxies;
  std::string region = "RegionOne";
  // The embedded files (EmbeddedAssets() in the binary; tests give their own).
  std::span<const Asset> assets;
  size_t max_json_body_bytes = 64 * 1024;
};

class DashboardHandler {
 public:
  // `api` is the Router's Handle: every request that is not the dashboard's goes there.
  DashboardHandler(identity::IdentityService& identity, const domain::Policy& policy,
                   SessionStore& sessions, http::Handler api, DashboardOptions options);
  DashboardHandler(const DashboardHandler&) = delete;
  DashboardHandler& operator=(const DashboardHandler&) = delete;

  http::Response Handle(http::Request& req);

 private:
  class Call;
  identity::IdentityService& identity_;
  const domain::Policy& policy_;
  SessionStore& sessions_;
  http::Handler api_;
  const DashboardOptions options_;
};

// The asset for a path relative to /dashboard/ ("" = index.html), in a table sorted by path;
// null when absent.
const Asset* FindAsset(std::span<const Asset> assets, std::string_view path);

}  // namespace glimmer::dashboard
