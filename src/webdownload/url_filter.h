#pragma once
// URL filtering for web-download (Glance's `import_filtering_opts`, glance-api.md §8.4), with
// stricter host normalisation than Glance so encoded IP addresses cannot slip through.
//
// Rules, in order (each failure is InvalidArgument naming the rule):
//  - The URL must parse as an absolute URI (RFC 3986, Boost.URL) with a scheme and a host.
//  - User information (`user@`, `user:pass@`) is rejected, never stripped: it is the classic
//    `http://allowed.example@evil/` confusion and web-download sources need no credentials.
//  - Scheme: compared lowercase against allowed_schemes/disallowed_schemes.
//  - Host: percent-decoded, lowercased, one trailing dot removed; IPv6 literals are compared
//    without brackets in canonical (RFC 5952) form. Registered names may only contain
//    [a-z0-9._-] (internationalised names must be given in punycode). A name whose last label
//    is numeric (decimal, `0x` hex or octal) is rejected unless the whole host is a canonical
//    dotted-quad IPv4 literal: this refuses `2130706433`, `127.1`, `0x7f.1`, `0177.0.0.1`,
//    `0x7f000001`. Then compared against allowed_hosts/disallowed_hosts (entries normalised the
//    same way).
//  - Port: the explicit port, or the scheme's default (80 for http, 443 for https) when absent,
//    compared against allowed_ports/disallowed_ports. (Glance skips the check when the URL has
//    no port; using the effective port closes `disallowed_ports = 80` bypasses and gives the
//    same answer with the defaults.) For other schemes without a port the check is skipped.
//  - For each dimension, when both an allow list and a deny list are set only the allow list
//    counts; an empty allow list allows everything.
//
// Thread-safety: pure functions.

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace glimmer::webdownload {

// Mirrors server::ImportFilteringOptions (the wiring copies the fields over).
struct UrlFilterOptions {
  std::vector<std::string> allowed_schemes = {"http", "https"};
  std::vector<std::string> disallowed_schemes;
  std::vector<std::string> allowed_hosts;
  std::vector<std::string> disallowed_hosts;
  std::vector<int> allowed_ports = {80, 443};
  std::vector<int> disallowed_ports;
};

// A URL that passed ValidateUrl, with its normalised parts.
struct ValidatedUrl {
  std::string scheme;     // lowercase
  std::string host;       // normalised; IPv6 without brackets
  bool host_is_ip = false;
  bool host_is_ipv6 = false;
  int port = 0;           // effective port (explicit or scheme default); 0 if unknown
  std::string url;        // re-serialised URL (lowercase scheme, normalised host, no fragment)
};

// Returns OK or InvalidArgument("URL rejected: <rule>").
Status ValidateUrl(std::string_view url, const UrlFilterOptions& options);

// Same checks; on success returns the normalised parts the fetcher connects to.
StatusOr<ValidatedUrl> ParseAndValidateUrl(std::string_view url, const UrlFilterOptions& options);

// Whether the operator lists `host` (as normalised in ValidatedUrl::host) in allowed_hosts by
// name or address: such a host is vouched for, so its private addresses may be reached (the
// first request only; redirect targets are always checked). Metadata and reserved addresses
// still need allowed_cidrs.
bool ListedInAllowedHosts(std::string_view host, const UrlFilterOptions& options);

}  // namespace glimmer::webdownload
