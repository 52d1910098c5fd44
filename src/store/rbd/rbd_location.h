#pragma once
// Glance's rbd location URIs, parsed as untrusted text (they come back from the database).
//
//   rbd://<fsid>/<pool>/<image>/<snapshot>   what Glance (and Glimmer) write; each component is
//                                            percent-encoded (Python's quote(safe=''))
//   rbd://<image>                            Glance's legacy short form (no snapshot)
//
// Rules, applied after percent-decoding each component: no empty component and exactly 1 or 4
// of them; only printable ASCII in the URI and well-formed %XX escapes; fsid a UUID (compared
// lowercase); pool without '/', '@' or control characters, at most 255 bytes; image and snapshot
// names of [A-Za-z0-9._-], not starting with '.', at most 96 bytes (RBD's limit). Checking that
// fsid and pool are the store's own is the store's job.
//
// Thread-safety: pure functions.

#include <string>
#include <string_view>

#include "common/status.h"

namespace glimmer::store::rbd {

inline constexpr std::string_view kRbdScheme = "rbd://";
inline constexpr size_t kMaxRbdNameLength = 96;  // RBD_MAX_IMAGE_NAME_SIZE

struct RbdLocation {
  std::string fsid;  // lowercase; empty for the short form
  std::string pool;  // empty for the short form
  std::string image;
  std::string snapshot;  // empty for the short form
  bool short_form() const { return fsid.empty(); }
};

// InvalidArgument (naming the rule broken) for anything but the two forms above.
StatusOr<RbdLocation> ParseRbdLocation(std::string_view uri);

// rbd://<fsid>/<pool>/<image>/<snapshot>, percent-encoded as Glance does.
std::string FormatRbdLocation(std::string_view fsid, std::string_view pool, std::string_view image,
                              std::string_view snapshot);

// Whether `name` is acceptable as an image or snapshot name (see the rules above).
bool IsValidRbdName(std::string_view name);

// Python's urllib.parse.quote(s, safe=''): everything but [A-Za-z0-9_.~-] becomes %XX.
std::string PercentEncode(std::string_view s);

}  // namespace glimmer::store::rbd
