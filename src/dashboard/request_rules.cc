#include "dashboard/request_rules.h"

#include <algorithm>
#include <cctype>

#include "dashboard/session_crypto.h"

namespace glimmer::dashboard {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IEquals(std::string_view a, std::string_view b) { return Lower(a) == Lower(b); }

// Calls fn(item) for each comma-separated, trimmed, non-empty item.
template <typename Fn>
void ForEachItem(std::string_view list, char sep, Fn fn) {
  while (!list.empty()) {
    const size_t cut = list.find(sep);
    std::string_view item = Trim(list.substr(0, cut));
    if (!item.empty()) fn(item);
    if (cut == std::string_view::npos) break;
    list.remove_prefix(cut + 1);
  }
}

// q-value of a media-range/coding item ("gzip;q=0.5"): 1 without one, 0 for q=0[.000].
bool QualityAboveZero(std::string_view params) {
  bool positive = true;
  ForEachItem(params, ';', [&](std::string_view p) {
    const size_t eq = p.find('=');
    if (eq == std::string_view::npos || !IEquals(Trim(p.substr(0, eq)), "q")) return;
    std::string_view v = Trim(p.substr(eq + 1));
    positive = std::any_of(v.begin(), v.end(), [](char c) { return c >= '1' && c <= '9'; });
  });
  return positive;
}

std::string CookieAttributes(bool secure) {
  return std::string("; Path=/dashboard/; HttpOnly; SameSite=Strict") + (secure ? "; Secure" : "");
}

}  // namespace

std::optional<std::string> FindCookie(const http::Headers& headers, std::string_view name) {
  for (const auto& [field, value] : headers.fields()) {
    if (!IEquals(field, "Cookie")) continue;
    std::optional<std::string> found;
    ForEachItem(value, ';', [&](std::string_view pair) {
      if (found) return;
      const size_t eq = pair.find('=');
      if (eq == std::string_view::npos || Trim(pair.substr(0, eq)) != name) return;
      std::string_view v = Trim(pair.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      if (!v.empty()) found = std::string(v);
    });
    if (found) return found;
  }
  return std::nullopt;
}

std::string SessionCookie(std::string_view value, int64_t max_age_seconds, bool secure) {
  return std::string(kCookieName) + "=" + std::string(value) + CookieAttributes(secure) +
         "; Max-Age=" + std::to_string(std::max<int64_t>(max_age_seconds, 0));
}

std::string ClearedSessionCookie(bool secure) {
  return std::string(kCookieName) + "=" + CookieAttributes(secure) + "; Max-Age=0";
}

bool IsSafeMethod(std::string_view method) { return method == "GET" || method == "HEAD"; }

std::string OriginOf(std::string_view url) {
  std::string lower = Lower(url);
  size_t start = 0;
  if (lower.starts_with("http://")) {
    start = 7;
  } else if (lower.starts_with("https://")) {
    start = 8;
  } else {
    return {};
  }
  const size_t end = lower.find_first_of("/?#", start);
  return lower.substr(0, end);
}

CsrfVerdict CheckCsrf(const CsrfInput& in) {
  const bool safe = IsSafeMethod(in.method);
  if (in.sec_fetch_site) {
    const std::string site = Lower(Trim(*in.sec_fetch_site));
    if (site != "same-origin" && !(safe && site == "none")) return CsrfVerdict::kCrossSite;
  }
  if (safe) return CsrfVerdict::kAllow;
  if (in.origin) {
    const std::string origin = Lower(Trim(*in.origin));
    const bool own = std::any_of(in.own_origins.begin(), in.own_origins.end(),
                                 [&](const std::string& o) { return Lower(o) == origin; });
    if (!own) return CsrfVerdict::kForeignOrigin;
  }
  if (!in.csrf_header || in.csrf_header->empty()) return CsrfVerdict::kMissingToken;
  // Digests have a fixed length, so the comparison's time says nothing about the token.
  if (in.csrf_digest.empty() ||
      !ConstantTimeEquals(Sha256Hex(Trim(*in.csrf_header)), in.csrf_digest)) {
    return CsrfVerdict::kWrongToken;
  }
  return CsrfVerdict::kAllow;
}

std::string_view Describe(CsrfVerdict verdict) {
  switch (verdict) {
    case CsrfVerdict::kAllow: return "allowed";
    case CsrfVerdict::kCrossSite: return "Cross-site request refused.";
    case CsrfVerdict::kForeignOrigin: return "Cross-origin request refused.";
    case CsrfVerdict::kMissingToken: return "The X-Glimmer-CSRF header is missing.";
    case CsrfVerdict::kWrongToken: return "The X-Glimmer-CSRF header does not match the session.";
  }
  return "refused";
}

bool AcceptsGzip(std::string_view accept_encoding) {
  std::optional<bool> explicit_gzip;  // an explicit gzip entry decides; else "*"
  bool wildcard = false;
  ForEachItem(accept_encoding, ',', [&](std::string_view item) {
    const size_t semi = item.find(';');
    const std::string coding = Lower(Trim(item.substr(0, semi)));
    const bool positive =
        semi == std::string_view::npos || QualityAboveZero(item.substr(semi + 1));
    if (coding == "gzip" || coding == "x-gzip") {
      explicit_gzip = explicit_gzip.value_or(false) || positive;
    } else if (coding == "*") {
      wildcard = wildcard || positive;
    }
  });
  return explicit_gzip.value_or(wildcard);
}

bool EtagMatches(std::string_view if_none_match, std::string_view etag) {
  if (Trim(if_none_match) == "*") return true;
  bool match = false;
  ForEachItem(if_none_match, ',', [&](std::string_view tag) {
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) match = true;
  });
  return match;
}

bool WantsHtml(std::string_view accept) {
  bool html = false;
  ForEachItem(accept, ',', [&](std::string_view item) {
    const size_t semi = item.find(';');
    if (Lower(Trim(item.substr(0, semi))) != "text/html") return;
    html = semi == std::string_view::npos || QualityAboveZero(item.substr(semi + 1));
  });
  return html;
}

}  // namespace glimmer::dashboard
