#pragma once
// The dashboard edge's request rules as pure functions, so they can be tested without a server:
// the session cookie (parsing and Set-Cookie values), the CSRF decision (design §3.3), and the
// asset negotiation pieces (Accept-Encoding, If-None-Match, Accept: text/html).
//
// All functions are pure and thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace glimmer::dashboard {

inline constexpr std::string_view kCookieName = "glimmer_session";
inline constexpr std::string_view kCsrfHeader = "X-Glimmer-CSRF";

// ---- Cookies ----

// The value of cookie `name` among every Cookie header of `headers` (RFC 6265 §5.4 "name=value"
// pairs separated by ';'), the first one if repeated; nullopt when absent or empty.
std::optional<std::string> FindCookie(const http::Headers& headers, std::string_view name);

// Set-Cookie for a live session: Path=/dashboard/; HttpOnly; SameSite=Strict; Max-Age; Secure.
std::string SessionCookie(std::string_view value, int64_t max_age_seconds, bool secure);
// Set-Cookie that removes the session cookie (empty value, Max-Age=0).
std::string ClearedSessionCookie(bool secure);

// ---- CSRF (design §3.3, steps 2 and 3) ----

enum class CsrfVerdict {
  kAllow,
  kCrossSite,      // Sec-Fetch-Site is neither same-origin nor (for GET/HEAD) none
  kForeignOrigin,  // an Origin header that is not this server's
  kMissingToken,   // an unsafe method without X-Glimmer-CSRF
  kWrongToken,     // X-Glimmer-CSRF does not match the session's
};

struct CsrfInput {
  std::string_view method;
  std::optional<std::string_view> sec_fetch_site;
  std::optional<std::string_view> origin;
  std::optional<std::string_view> csrf_header;
  std::string_view csrf_digest;  // lowercase hex SHA-256 of the session's CSRF token
  // This server's origins ("http://127.0.0.1:9292"), compared case-insensitively.
  std::vector<std::string> own_origins;
};

bool IsSafeMethod(std::string_view method);  // GET, HEAD
CsrfVerdict CheckCsrf(const CsrfInput& in);
std::string_view Describe(CsrfVerdict verdict);

// Origin of an absolute URL ("https://Host:443/x" -> "https://host:443"), lowercased; empty if
// `url` is not http(s)://.
std::string OriginOf(std::string_view url);

// ---- Negotiation ----

// Whether an Accept-Encoding value accepts gzip (gzip or *, with a q-value above 0).
bool AcceptsGzip(std::string_view accept_encoding);
// Whether an If-None-Match value ("*", or a list of entity tags, weak or strong) matches `etag`.
bool EtagMatches(std::string_view if_none_match, std::string_view etag);
// Whether an Accept value names text/html (a browser's navigation).
bool WantsHtml(std::string_view accept);

}  // namespace glimmer::dashboard
