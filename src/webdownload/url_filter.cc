#include "webdownload/url_filter.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace glimmer::webdownload {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Status Rejected(std::string_view rule) {
  return InvalidArgumentError("URL rejected: " + std::string(rule));
}

bool IsDecimal(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A label that an inet_aton-style parser would read as a number: decimal, octal (leading 0,
// also decimal-looking) or 0x-prefixed hex (including a bare "0x").
bool IsNumericLabel(std::string_view s) {
  if (IsDecimal(s)) return true;
  if (s.size() >= 2 && s[0] == '0' && s[1] == 'x') {
    return std::all_of(s.begin() + 2, s.end(),
                       [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
  }
  return false;
}

// True for exactly four decimal octets 0..255 without leading zeros.
bool IsCanonicalDottedQuad(std::string_view s) {
  int parts = 0;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (!IsDecimal(label) || label.size() > 3 || (label.size() > 1 && label[0] == '0')) {
      return false;
    }
    int value = 0;
    std::from_chars(label.data(), label.data() + label.size(), value);
    if (value > 255) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts == 4;
}

std::string StripTrailingDot(std::string s) {
  if (s.size() > 1 && s.back() == '.') s.pop_back();
  return s;
}

struct NormalizedHost {
  std::string host;
  bool is_ip = false;
  bool is_ipv6 = false;
};

StatusOr<NormalizedHost> NormalizeHost(const boost::urls::url_view& u) {
  switch (u.host_type()) {
    case boost::urls::host_type::ipv4:
      return NormalizedHost{u.host_ipv4_address().to_string(), true, false};
    case boost::urls::host_type::ipv6:
      return NormalizedHost{u.host_ipv6_address().to_string(), true, true};
    case boost::urls::host_type::ipvfuture:
      return Rejected("IPvFuture host literals are not supported");
    case boost::urls::host_type::none:
      return Rejected("missing host");
    case boost::urls::host_type::name:
      break;
  }
  std::string host = StripTrailingDot(Lower(u.host()));  // host() is percent-decoded
  if (host.empty() || host == ".") return Rejected("missing host");
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (!ok) return Rejected("host '" + host + "' contains characters not allowed in a host name");
  }
  if (host.find("..") != std::string::npos || host.front() == '.') {
    return Rejected("host '" + host + "' has an empty label");
  }
  if (IsCanonicalDottedQuad(host)) return NormalizedHost{host, true, false};
  std::string_view last = host;
  if (size_t dot = last.rfind('.'); dot != std::string_view::npos) last = last.substr(dot + 1);
  if (IsNumericLabel(last)) {
    return Rejected("host '" + host +
                    "' is a numeric or shorthand IP address form; use a canonical dotted-quad "
                    "IPv4 or a bracketed IPv6 literal");
  }
  return NormalizedHost{host, false, false};
}

// Normalises a configured host entry the same way as a URL host.
std::string NormalizeHostEntry(std::string_view entry) {
  std::string s = StripTrailingDot(Lower(entry));
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (s.find(':') != std::string::npos) {
    auto parsed = boost::urls::parse_uri("http://[" + s + "]/");
    if (parsed && parsed->host_type() == boost::urls::host_type::ipv6) {
      return parsed->host_ipv6_address().to_string();
    }
  }
  return s;
}

template <typename T>
bool Contains(const std::vector<T>& list, const T& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

StatusOr<ValidatedUrl> ParseAndValidateUrl(std::string_view url, const UrlFilterOptions& options) {
  if (url.empty()) return Rejected("empty URL");
  auto parsed = boost::urls::parse_uri(boost::urls::string_view(url.data(), url.size()));
  if (!parsed) return Rejected("not a valid absolute URI (" + parsed.error().message() + ")");
  const boost::urls::url_view& u = *parsed;

  ValidatedUrl out;
  out.scheme = Lower(u.scheme());
  if (out.scheme.empty()) return Rejected("missing scheme");
  if (!u.has_authority()) return Rejected("missing host");
  // Boost.URL 1.81 ends the authority early on inputs like "1.2.3.4.5" or "1.2.3.4x" and
  // leaves the rest as a path not starting with '/'; RFC 3986 forbids that (path-abempty).
  if (!u.encoded_path().empty() && u.encoded_path().front() != '/') {
    return Rejected("not a valid absolute URI (malformed authority)");
  }
  if (u.has_userinfo()) {
    return Rejected("user information ('user@') is not allowed in the URL");
  }

  // Scheme.
  {
    std::vector<std::string> allowed, denied;
    for (const auto& s : options.allowed_schemes) allowed.push_back(Lower(s));
    for (const auto& s : options.disallowed_schemes) denied.push_back(Lower(s));
    if (!allowed.empty()) denied.clear();
    if ((!allowed.empty() && !Contains(allowed, out.scheme)) || Contains(denied, out.scheme)) {
      return Rejected("scheme '" + out.scheme + "' is not allowed");
    }
  }

  // Host.
  ASSIGN_OR_RETURN(NormalizedHost host, NormalizeHost(u));
  out.host = host.host;
  out.host_is_ip = host.is_ip;
  out.host_is_ipv6 = host.is_ipv6;
  {
    std::vector<std::string> allowed, denied;
    for (const auto& h : options.allowed_hosts) allowed.push_back(NormalizeHostEntry(h));
    for (const auto& h : options.disallowed_hosts) denied.push_back(NormalizeHostEntry(h));
    if (!allowed.empty()) denied.clear();
    if (!allowed.empty() && !Contains(allowed, out.host)) {
      return Rejected("host '" + out.host + "' is not in allowed_hosts");
    }
    if (Contains(denied, out.host)) {
      return Rejected("host '" + out.host + "' is in disallowed_hosts");
    }
  }

  // Port.
  if (u.has_port() && !u.port().empty()) {
    std::string_view p = u.port();
    int port = 0;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (!IsDecimal(p) || ec != std::errc() || ptr != p.data() + p.size() || port <= 0 ||
        port > 65535) {
      return Rejected("invalid port '" + std::string(p) + "'");
    }
    out.port = port;
  } else if (out.scheme == "http") {
    out.port = 80;
  } else if (out.scheme == "https") {
    out.port = 443;
  }
  if (out.port != 0) {
    std::vector<int> denied = options.disallowed_ports;
    if (!options.allowed_ports.empty()) denied.clear();
    if ((!options.allowed_ports.empty() && !Contains(options.allowed_ports, out.port)) ||
        Contains(denied, out.port)) {
      return Rejected("port " + std::to_string(out.port) + " is not allowed");
    }
  }

  // Re-serialise from the checked parts so the fetcher never re-interprets the raw input.
  out.url = out.scheme + "://" + (out.host_is_ipv6 ? "[" + out.host + "]" : out.host);
  if (u.has_port() && !u.port().empty()) out.url += ":" + std::to_string(out.port);
  std::string_view path = u.encoded_path();
  out.url += path.empty() ? std::string("/") : std::string(path);
  if (u.has_query()) out.url += "?" + std::string(u.encoded_query());
  return out;
}

bool ListedInAllowedHosts(std::string_view host, const UrlFilterOptions& options) {
  return std::any_of(options.allowed_hosts.begin(), options.allowed_hosts.end(),
                     [&](const std::string& h) { return NormalizeHostEntry(h) == host; });
}

Status ValidateUrl(std::string_view url, const UrlFilterOptions& options) {
  auto result = ParseAndValidateUrl(url, options);
  return result.ok() ? OkStatus() : result.status();
}

}  // namespace glimmer::webdownload
