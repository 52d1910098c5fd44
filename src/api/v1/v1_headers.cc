#include "api/v1/v1_headers.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/time.h"
#include "domain/image_attributes.h"
#include "images/image_records.h"

namespace glimmer::api::v1 {
namespace {

using json = nlohmann::ordered_json;

// Glance v1's IMAGE_META_HEADERS, without the prefix.
constexpr std::string_view kCoreFields[] = {
    "id",      "name",       "disk_format", "container_format", "size",       "checksum",
    "min_ram", "min_disk",   "owner",       "is_public",        "protected",  "status",
    "store",   "location",   "copy_from",   "uri",              "created_at", "updated_at",
    "deleted_at", "deleted", "virtual_size"};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values beyond U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return false;
    }
    i += len;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Glance's int() of a header value: optional sign, decimal digits, surrounding blanks.
StatusOr<int64_t> ParseV1Int(std::string_view field, std::string_view value) {
  std::string_view v = value;
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  int64_t out = 0;
  std::string_view digits = v;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  const std::string prefix =
      "Invalid value '" + std::string(value) + "' for parameter '" + std::string(field) + "': ";
  if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size()) {
    return InvalidArgumentError(prefix + "Cannot convert image " + std::string(field) + " '" +
                                std::string(value) + "' to an integer.");
  }
  if (out < 0) return InvalidArgumentError(prefix + "Cannot be a negative value.");
  return out;
}

bool Contains(const std::vector<std::string>& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

std::string PyBool(bool b) { return b ? "True" : "False"; }

// Header names are tokens: a property key is encoded like a value, plus every character that
// may not appear in a token.
std::string EncodeHeaderName(std::string_view key) {
  static constexpr std::string_view kTokenExtra = "!#$&'*+-.^_`|~";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : key) {
    if (std::isalnum(c) || kTokenExtra.find(static_cast<char>(c)) != std::string_view::npos) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// The value of the attribute behind v1 header `field` for `image`; nullopt: no header.
std::optional<std::string> FieldValue(const domain::Image& image, std::string_view field) {
  if (field == "id") return image.id;
  if (field == "name") return image.name;
  if (field == "status") return std::string(domain::ToString(image.status));
  if (field == "protected") return PyBool(image.is_protected);
  if (field == "checksum") return image.checksum;
  if (field == "owner") return image.owner;
  if (field == "size" && image.size) return std::to_string(*image.size);
  if (field == "virtual_size" && image.virtual_size) return std::to_string(*image.virtual_size);
  if (field == "container_format") return image.container_format;
  if (field == "disk_format") return image.disk_format;
  if (field == "created_at") return V1Timestamp(image.created_at);
  if (field == "updated_at") return V1Timestamp(image.updated_at);
  if (field == "min_ram") return std::to_string(image.min_ram);
  if (field == "min_disk") return std::to_string(image.min_disk);
  if (field == "deleted") return PyBool(false);  // deleted images are never shown
  return std::nullopt;                           // location (never shown), deleted_at (None)
}

template <typename T>
json OrNull(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

}  // namespace

StatusOr<std::string> PercentDecode(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '%') {
      out.push_back(value[i]);
      continue;
    }
    if (i + 2 >= value.size()) return InvalidArgumentError("Malformed percent-encoding");
    const int hi = HexValue(value[i + 1]);
    const int lo = HexValue(value[i + 2]);
    if (hi < 0 || lo < 0) return InvalidArgumentError("Malformed percent-encoding");
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  if (!IsValidUtf8(out)) return InvalidArgumentError("Not valid UTF-8 once percent-decoded");
  return out;
}

std::string EncodeHeaderValue(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    if (c < 0x20 || c >= 0x7F || c == '%') {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

bool BoolFromString(std::string_view value) {
  std::string v = Lower(value);
  while (!v.empty() && v.front() == ' ') v.erase(v.begin());
  while (!v.empty() && v.back() == ' ') v.pop_back();
  return v == "1" || v == "t" || v == "true" || v == "on" || v == "y" || v == "yes";
}

StatusOr<V1Meta> ParseV1Headers(const http::Headers& headers, const FormatLists& formats) {
  V1Meta meta;
  std::set<std::string> seen;
  domain::ImageChanges& c = meta.changes;
  for (const auto& [raw_name, raw_value] : headers.fields()) {
    std::string name = Lower(raw_name);
    if (name == "x-glance-api-copy-from") {
      ASSIGN_OR_RETURN(std::string v, PercentDecode(raw_value));
      meta.copy_from = std::move(v);
      continue;
    }
    if (!name.starts_with(kMetaPrefix)) continue;
    if (!seen.insert(name).second) {
      return InvalidArgumentError("Header " + name + " is given more than once");
    }
    auto decoded = PercentDecode(raw_value);
    if (!decoded.ok()) {
      return InvalidArgumentError("Invalid value for header " + name + ": " +
                                  decoded.status().message());
    }
    std::string value = std::move(*decoded);
    if (name.starts_with(kPropertyPrefix)) {
      auto key_decoded = PercentDecode(std::string_view(name).substr(kPropertyPrefix.size()));
      if (!key_decoded.ok()) return InvalidArgumentError("Bad header: " + name);
      std::string key = Lower(*key_decoded);
      std::replace(key.begin(), key.end(), '-', '_');
      if (key.empty() || key.size() > domain::kMaxFieldLength) {
        return InvalidArgumentError("Bad header: " + name);
      }
      if (domain::FindAttribute(key)) {
        return InvalidArgumentError("Bad header: " + name + " (" + key +
                                    " is an image attribute, not a property)");
      }
      RETURN_IF_ERROR(domain::CheckSettable(key, /*creating=*/true));
      if (value.size() > 65535) {
        return InvalidArgumentError("Value of property " + key + " is too long");
      }
      if (!meta.property_keys.insert(key).second) {
        return InvalidArgumentError("Property " + key + " is given more than once");
      }
      c.properties.emplace_back(key, std::move(value));
      continue;
    }
    std::string field = name.substr(kMetaPrefix.size());
    std::replace(field.begin(), field.end(), '-', '_');
    if (std::find(std::begin(kCoreFields), std::end(kCoreFields), field) ==
        std::end(kCoreFields)) {
      return InvalidArgumentError("Bad header: " + name);
    }
    const bool none = value.empty();
    auto nullable = [&]() -> std::optional<std::string> {
      return none ? std::nullopt : std::optional<std::string>(value);
    };
    if (field == "id") {
      if (none) continue;
      if (!glimmer::images::IsUuid(value)) return InvalidArgumentError("Invalid image id format");
      meta.id = Lower(value);
      c.id = meta.id;
    } else if (field == "name") {
      if (value.size() > domain::kMaxFieldLength) {
        return InvalidArgumentError("Image name too long: " + std::to_string(value.size()));
      }
      c.name = nullable();
    } else if (field == "disk_format") {
      if (!none && !Contains(formats.disk_formats, value)) {
        return InvalidArgumentError("Invalid disk format '" + value + "' for image.");
      }
      c.disk_format = nullable();
    } else if (field == "container_format") {
      if (!none && !Contains(formats.container_formats, value)) {
        return InvalidArgumentError("Invalid container format '" + value + "' for image.");
      }
      c.container_format = nullable();
    } else if (field == "owner") {
      if (value.size() > domain::kMaxFieldLength) {
        return InvalidArgumentError("Owner too long: " + std::to_string(value.size()));
      }
      c.owner = nullable();
    } else if (field == "size" || field == "min_ram" || field == "min_disk") {
      if (none) continue;
      ASSIGN_OR_RETURN(int64_t n, ParseV1Int(field, value));
      if (field == "size") meta.size = n;
      if (field == "min_ram") c.min_ram = n;
      if (field == "min_disk") c.min_disk = n;
    } else if (field == "virtual_size") {
      if (!none && value != "None") RETURN_IF_ERROR(ParseV1Int(field, value).status());
    } else if (field == "checksum") {
      if (value.size() > 32) {
        return InvalidArgumentError("Invalid checksum '" + value +
                                    "': can't exceed 32 characters");
      }
      if (!none) meta.checksum = Lower(value);
    } else if (field == "is_public") {
      meta.is_public = BoolFromString(value);
    } else if (field == "protected") {
      c.is_protected = BoolFromString(value);
    } else if (field == "status") {
      if (!none) meta.status = value;
    } else if (field == "store") {
      if (!none) meta.store = value;
    } else if (field == "location" || field == "uri") {
      if (!none) meta.location = value;
    } else if (field == "copy_from") {
      if (!none) meta.copy_from = value;
    }
    // created_at, updated_at, deleted_at, deleted: Glance's clients echo them; never set.
  }
  return meta;
}

std::string V1Timestamp(UnixMicros t) {
  std::string s = FormatIsoMicros(t);
  if (s.ends_with('Z')) s.pop_back();
  return s;
}

void WriteV1Headers(const domain::Image& image, http::Headers& out) {
  for (const domain::AttributeSpec& a : domain::ImageAttributes()) {
    if (a.v1_header.empty()) continue;
    std::optional<std::string> value = FieldValue(image, a.name);
    if (value) out.Set(std::string(a.v1_header), EncodeHeaderValue(*value));
  }
  out.Set("x-image-meta-is_public", PyBool(image.visibility == domain::Visibility::kPublic));
  for (const auto& [k, v] : image.properties) {
    if (domain::IsHiddenProperty(k)) continue;
    out.Set(std::string(kPropertyPrefix) + EncodeHeaderName(Lower(k)), EncodeHeaderValue(v));
  }
}

json ImageToV1Json(const domain::Image& image) {
  json j;
  j["id"] = image.id;
  j["name"] = OrNull(image.name);
  j["status"] = std::string(domain::ToString(image.status));
  j["is_public"] = image.visibility == domain::Visibility::kPublic;
  j["protected"] = image.is_protected;
  j["size"] = OrNull(image.size);
  j["checksum"] = OrNull(image.checksum);
  j["container_format"] = OrNull(image.container_format);
  j["disk_format"] = OrNull(image.disk_format);
  j["min_disk"] = image.min_disk;
  j["min_ram"] = image.min_ram;
  j["owner"] = OrNull(image.owner);
  j["created_at"] = V1Timestamp(image.created_at);
  j["updated_at"] = V1Timestamp(image.updated_at);
  j["deleted_at"] = nullptr;
  j["deleted"] = false;
  j["virtual_size"] = OrNull(image.virtual_size);
  json props = json::object();
  for (const auto& [k, v] : image.properties) {
    if (!domain::IsHiddenProperty(k)) props[k] = v;
  }
  j["properties"] = std::move(props);
  return j;
}

json ImageToV1BriefJson(const domain::Image& image) {
  json j;
  j["id"] = image.id;
  j["name"] = OrNull(image.name);
  j["disk_format"] = OrNull(image.disk_format);
  j["container_format"] = OrNull(image.container_format);
  j["checksum"] = OrNull(image.checksum);
  j["size"] = OrNull(image.size);
  return j;
}

}  // namespace glimmer::api::v1
