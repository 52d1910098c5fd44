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
// "/versions". With `v1`, the Images API v1 follows as "v1.1" and "v1.0", both SUPPORTED and
// linking to "<base_url>/v1/" (Glance listed them DEPRECATED; glanceclient only needs them
// listed).
std::string VersionsDocument(std::string_view base_url, bool v1 = false);

// True for "v2" and "v2.0" ... "v2.18" (no leading zeros, nothing else).
bool IsKnownVersionPrefix(std::string_view segment);

// True for the Images API v1 prefixes: "v1", "v1.0" and "v1.1".
bool IsV1Prefix(std::string_view segment);

}  // namespace glimmer::api
