#pragma once
// Glance's version discovery document and the URL version prefixes Glimmer accepts.
// Pure functions; thread-safe.

#include <string>
#include <string_view>

namespace glimmer::api {

// Newest advertised minor version of the Images API v2 (v2.18 is CURRENT).
inline constexpr int kNewestMinorVersion = 18;

// {"versions": [{"id": "v2.18", "status": "CURRENT", "links": [{"rel": "self", "href":
// "<base>/v2/"}]}, {"id": "v2.17", "status": "SUPPORTED", ...}, ... "v2.0"]}: every version
// from v2.18 down to v2.0, newest first, all linking to the same "<base_url>/v2/". A trailing
// '/' on base_url is ignored. Served with 300 at "/" (and unknown versions) and 200 at
// "/versions".
std::string VersionsDocument(std::string_view base_url);

// True for "v2" and "v2.0" ... "v2.18" (no leading zeros, nothing else).
bool IsKnownVersionPrefix(std::string_view segment);

}  // namespace glimmer::api
