#include "catalog/catalog.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <set>

#include <yaml-cpp/yaml.h>

#include "domain/image_attributes.h"
#include "platform/file.h"

namespace glimmer::catalog {
namespace {

using domain::kMaxFieldLength;

// Properties that have their own catalog field.
const std::map<std::string, std::string, std::less<>> kDedicatedFields = {
    {"os_distro", "os_distro"},
    {"os_version", "os_version"},
    {"os_admin_user", "login_user"},
    {"description", "description"}};

const std::set<std::string, std::less<>> kEntryKeys = {
    "name",      "os_distro", "os_version", "login_user", "description", "disk_format",
    "container_format", "min_disk", "min_ram", "properties", "tags", "source"};
const std::set<std::string, std::less<>> kSourceKeys = {"file", "url", "sha256", "sha512"};

// Thrown inside the parser only; converted to a Status at the ParseCatalog boundary.
struct CatalogError {
  std::string message;
};

int LineOf(const YAML::Node& node) {
  auto mark = node.Mark();
  return mark.line >= 0 ? mark.line + 1 : 0;
}

std::string AtLine(const YAML::Node& node) {
  int line = LineOf(node);
  return line > 0 ? " (line " + std::to_string(line) + ")" : "";
}

std::string KindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "empty";
    case YAML::NodeType::Scalar:
      return "a scalar";
    default:
      return "undefined";
  }
}

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

class Parser {
 public:
  Parser(std::string_view origin, const ParseOptions& options)
      : origin_(origin), options_(options) {}

  Catalog Parse(const YAML::Node& root) {
    if (!root.IsMap()) {
      Fail("top level" + AtLine(root) + ": expected a mapping with an 'images' list, got " +
           KindName(root));
    }
    YAML::Node images;
    for (const auto& [key, value] : CheckedMap(root, "top level", {"images"})) {
      if (key == "images") images = value;
    }
    if (!images.IsDefined()) Fail("top level: missing required key 'images'");
    if (!images.IsSequence()) {
      Fail("images" + AtLine(images) + ": expected a list of images, got " + KindName(images));
    }
    Catalog catalog;
    std::map<std::string, size_t> seen;
    for (size_t i = 0; i < images.size(); ++i) {
      Entry entry = ParseEntry(images[i], i);
      auto [it, fresh] = seen.emplace(entry.name, i);
      if (!fresh) {
        Fail("images[" + std::to_string(i) + "] '" + entry.name + "'" + AtLine(images[i]) +
             ": duplicate name (also images[" + std::to_string(it->second) + "])");
      }
      catalog.entries.push_back(std::move(entry));
    }
    return catalog;
  }

 private:
  [[noreturn]] void Fail(const std::string& what) const {
    throw CatalogError{origin_ + ": " + what};
  }

  // The pairs of a mapping, in order; rejects non-scalar keys, duplicates and unknown keys.
  std::vector<std::pair<std::string, YAML::Node>> CheckedMap(
      const YAML::Node& map, const std::string& where, const std::set<std::string, std::less<>>& known) {
    std::vector<std::pair<std::string, YAML::Node>> out;
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!it->first.IsScalar()) Fail(where + AtLine(it->first) + ": keys must be strings");
      std::string key = it->first.Scalar();
      if (!known.empty() && !known.count(key)) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        Fail(where + AtLine(it->first) + ": unknown key '" + key + "' (expected one of: " + list +
             ")");
      }
      if (!seen.insert(key).second) Fail(where + AtLine(it->first) + ": duplicate key '" + key + "'");
      out.emplace_back(key, it->second);
    }
    return out;
  }

  std::string Text(const YAML::Node& node, const std::string& where, const std::string& field) {
    if (!node.IsScalar()) {
      Fail(where + AtLine(node) + ": '" + field + "' must be a string, got " + KindName(node));
    }
    std::string s = node.Scalar();
    if (s.size() > kMaxFieldLength) {
      Fail(where + AtLine(node) + ": '" + field + "' is longer than " +
           std::to_string(kMaxFieldLength) + " characters");
    }
    return s;
  }

  int64_t NonNegative(const YAML::Node& node, const std::string& where, const std::string& field) {
    std::string s = node.IsScalar() ? node.Scalar() : "";
    int64_t v = -1;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (!node.IsScalar() || s.empty() || ec != std::errc() || end != s.data() + s.size() || v < 0) {
      Fail(where + AtLine(node) + ": '" + field + "' must be a non-negative integer" +
           (node.IsScalar() ? ", got '" + s + "'" : ", got " + KindName(node)));
    }
    return v;
  }

  std::string Format(const YAML::Node& node, const std::string& where, const std::string& field,
                     const std::vector<std::string>& allowed) {
    std::string v = Text(node, where, field);
    if (v.empty()) Fail(where + AtLine(node) + ": '" + field + "' must not be empty");
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      Fail(where + AtLine(node) + ": '" + field + "' is '" + v + "', expected one of: " + list);
    }
    return v;
  }

  Entry ParseEntry(const YAML::Node& node, size_t index) {
    std::string where = "images[" + std::to_string(index) + "]";
    if (!node.IsMap()) Fail(where + AtLine(node) + ": expected a mapping, got " + KindName(node));
    // Name first, so that every later message names the entry.
    Entry e;
    if (node["name"]) {
      e.name = Text(node["name"], where, "name");
      if (e.name.empty()) Fail(where + AtLine(node) + ": 'name' must not be empty");
      where += " '" + e.name + "'";
    } else {
      Fail(where + AtLine(node) + ": missing required key 'name'");
    }
    bool has_source = false, has_disk_format = false;
    for (const auto& [key, value] : CheckedMap(node, where, kEntryKeys)) {
      if (key == "name") continue;
      if (key == "os_distro") e.os_distro = Text(value, where, key);
      if (key == "os_version") e.os_version = Text(value, where, key);
      if (key == "login_user") e.login_user = Text(value, where, key);
      if (key == "description") e.description = Text(value, where, key);
      if (key == "disk_format") {
        e.disk_format = Format(value, where, key, options_.disk_formats);
        has_disk_format = true;
      }
      if (key == "container_format") {
        e.container_format = Format(value, where, key, options_.container_formats);
      }
      if (key == "min_disk") e.min_disk = NonNegative(value, where, key);
      if (key == "min_ram") e.min_ram = NonNegative(value, where, key);
      if (key == "properties") ParseProperties(value, where, e);
      if (key == "tags") ParseTags(value, where, e);
      if (key == "source") {
        e.source = ParseSource(value, where + ": source");
        has_source = true;
      }
    }
    if (!has_disk_format) Fail(where + AtLine(node) + ": missing required key 'disk_format'");
    if (!has_source) Fail(where + AtLine(node) + ": missing required key 'source'");
    if (!options_.container_formats.empty() &&
        std::find(options_.container_formats.begin(), options_.container_formats.end(),
                  e.container_format) == options_.container_formats.end()) {
      Fail(where + ": default container_format 'bare' is not enabled; set container_format");
    }
    return e;
  }

  void ParseProperties(const YAML::Node& node, const std::string& where, Entry& e) {
    if (!node.IsMap()) {
      Fail(where + AtLine(node) + ": 'properties' must be a mapping, got " + KindName(node));
    }
    for (const auto& [key, value] : CheckedMap(node, where + ": properties", {})) {
      std::string field = "properties." + key;
      if (key.empty() || key.size() > kMaxFieldLength) {
        Fail(where + AtLine(node) + ": property names must be 1 to 255 characters long");
      }
      if (auto d = kDedicatedFields.find(key); d != kDedicatedFields.end()) {
        Fail(where + AtLine(value) + ": '" + field + "': use the entry's '" + d->second +
             "' field instead");
      }
      // Glance's base, read-only and reserved attributes and the service's own properties.
      if (!domain::IsCustomProperty(key)) {
        Fail(where + AtLine(value) + ": '" + field + "' is a reserved image attribute");
      }
      e.properties[key] = Text(value, where, field);
    }
  }

  void ParseTags(const YAML::Node& node, const std::string& where, Entry& e) {
    if (!node.IsSequence()) {
      Fail(where + AtLine(node) + ": 'tags' must be a list of strings, got " + KindName(node));
    }
    std::set<std::string> tags;
    for (size_t i = 0; i < node.size(); ++i) {
      std::string t = Text(node[i], where, "tags[" + std::to_string(i) + "]");
      if (t.empty()) Fail(where + AtLine(node[i]) + ": tags must not be empty");
      if (!tags.insert(t).second) Fail(where + AtLine(node[i]) + ": duplicate tag '" + t + "'");
    }
    e.tags.assign(tags.begin(), tags.end());
  }

  Source ParseSource(const YAML::Node& node, const std::string& where) {
    if (!node.IsMap()) {
      Fail(where + AtLine(node) + ": expected a mapping with 'file' or 'url', got " +
           KindName(node));
    }
    Source s;
    for (const auto& [key, value] : CheckedMap(node, where, kSourceKeys)) {
      if (!value.IsScalar() || value.Scalar().empty()) {
        Fail(where + AtLine(value) + ": '" + key + "' must be a non-empty string");
      }
      std::string v = value.Scalar();
      if (key == "file") {
        std::filesystem::path p(v);
        if (p.is_relative()) p = std::filesystem::path(options_.base_dir) / p;
        s.file = p.lexically_normal().string();
      } else if (key == "url") {
        if (v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0) {
          Fail(where + AtLine(value) + ": 'url' must start with http:// or https://, got '" + v +
               "'");
        }
        if (v.find_first_of(" \t\r\n") != std::string::npos) {
          Fail(where + AtLine(value) + ": 'url' must not contain whitespace");
        }
        s.url = v;
      } else {
        std::string lower = v;
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        size_t want = key == "sha256" ? 64 : 128;
        if (lower.size() != want || !IsLowerHex(lower)) {
          Fail(where + AtLine(value) + ": '" + key + "' must be " + std::to_string(want) +
               " hexadecimal digits");
        }
        (key == "sha256" ? s.sha256 : s.sha512) = lower;
      }
    }
    if (s.file.empty() == s.url.empty()) {
      Fail(where + AtLine(node) + ": exactly one of 'file' or 'url' is required");
    }
    return s;
  }

  std::string origin_;
  const ParseOptions& options_;
};

}  // namespace

std::map<std::string, std::string> Entry::ImageProperties() const {
  std::map<std::string, std::string> out = properties;
  if (!os_distro.empty()) out["os_distro"] = os_distro;
  if (!os_version.empty()) out["os_version"] = os_version;
  if (!login_user.empty()) out[std::string(kLoginUserProperty)] = login_user;
  if (!description.empty()) out["description"] = description;
  return out;
}

StatusOr<Catalog> ParseCatalog(std::string_view text, std::string_view origin,
                               const ParseOptions& options) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (root.IsNull() || !root.IsDefined()) {
      return InvalidArgumentError(std::string(origin) + ": the catalog is empty");
    }
    return Parser(origin, options).Parse(root);
  } catch (const CatalogError& e) {
    return InvalidArgumentError(e.message);
  } catch (const YAML::Exception& e) {
    std::string where = e.mark.is_null() ? "" : " (line " + std::to_string(e.mark.line + 1) + ")";
    return InvalidArgumentError(std::string(origin) + where + ": not valid YAML/JSON: " + e.msg);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string(origin) + ": " + e.what());
  }
}

StatusOr<Catalog> LoadCatalogFile(const std::string& path, ParseOptions options) {
  // A catalog is a hand-written YAML/JSON file: 64 MiB is far more than any needs.
  StatusOr<std::string> text =
      platform::ReadFileToString(platform::FileSystem::Default(), path, int64_t{64} << 20);
  // The operator's own path, for the operator (`glimmer catalog load`): no API client sees it.
  if (!text.ok()) return platform::Annotate("Cannot read catalog file " + path, text.status());
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(path, ec);
  if (ec) p = path;
  options.base_dir = p.parent_path().string();
  return ParseCatalog(*text, path, options);
}

}  // namespace glimmer::catalog
