#include "store/rbd/rbd_location.h"

#include <optional>
#include <vector>

#include "store/names.h"

namespace glimmer::store::rbd {
namespace {

constexpr size_t kMaxPoolNameLength = 255;

bool IsUnreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = HexValue(s[i + 1]);
    const int lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (HexValue(s[i]) < 0) {
      return false;
    }
  }
  return true;
}

bool IsValidPoolName(std::string_view pool) {
  if (pool.empty() || pool.size() > kMaxPoolNameLength) return false;
  for (char c : pool) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '/' || c == '@') return false;
  }
  return true;
}

Status Invalid(std::string_view why) {
  return InvalidArgumentError("invalid rbd location: " + std::string(why));
}

}  // namespace

bool IsValidRbdName(std::string_view name) { return IsSafeDataName(name, kMaxRbdNameLength); }

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (IsUnreserved(c)) {
      out += c;
    } else {
      const auto u = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    }
  }
  return out;
}

std::string FormatRbdLocation(std::string_view fsid, std::string_view pool, std::string_view image,
                              std::string_view snapshot) {
  std::string out(kRbdScheme);
  out += PercentEncode(fsid);
  out += '/';
  out += PercentEncode(pool);
  out += '/';
  out += PercentEncode(image);
  out += '/';
  out += PercentEncode(snapshot);
  return out;
}

StatusOr<RbdLocation> ParseRbdLocation(std::string_view uri) {
  if (!uri.starts_with(kRbdScheme)) return Invalid("scheme is not rbd://");
  if (uri.size() > 1024) return Invalid("too long");
  for (char c : uri) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return Invalid("characters outside printable ASCII");
  }
  const std::string_view rest = uri.substr(kRbdScheme.size());
  std::vector<std::string_view> pieces;
  size_t pos = 0;
  while (true) {
    const size_t slash = rest.find('/', pos);
    pieces.push_back(rest.substr(pos, slash == std::string_view::npos ? slash : slash - pos));
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
    if (pieces.size() > 4) break;
  }
  if (pieces.size() != 1 && pieces.size() != 4) {
    return Invalid("must have exactly 1 or 4 components");
  }
  std::vector<std::string> decoded;
  for (std::string_view piece : pieces) {
    if (piece.empty()) return Invalid("empty component");
    std::optional<std::string> d = PercentDecode(piece);
    if (!d.has_value()) return Invalid("malformed percent-escape");
    if (d->empty()) return Invalid("empty component");
    decoded.push_back(std::move(*d));
  }
  RbdLocation location;
  if (decoded.size() == 1) {
    // Glance reads the legacy short form verbatim (no unquoting): so must the name be valid
    // as written.
    if (!IsValidRbdName(pieces[0])) return Invalid("bad image name");
    location.image = std::move(decoded[0]);
    return location;
  }
  if (!IsUuid(decoded[0])) return Invalid("fsid is not a UUID");
  if (!IsValidPoolName(decoded[1])) return Invalid("bad pool name");
  if (!IsValidRbdName(decoded[2])) return Invalid("bad image name");
  if (!IsValidRbdName(decoded[3])) return Invalid("bad snapshot name");
  location.fsid = std::move(decoded[0]);
  for (char& c : location.fsid) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  location.pool = std::move(decoded[1]);
  location.image = std::move(decoded[2]);
  location.snapshot = std::move(decoded[3]);
  return location;
}

}  // namespace glimmer::store::rbd
