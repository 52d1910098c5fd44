#pragma once
// The provider catalog file: the images a provider publishes to every project, as the operator
// writes them in YAML or JSON (JSON is YAML). Format: docs/catalog.md.
//
// Parsing is strict: unknown keys, missing required fields, bad values and duplicate names are
// errors whose message names the file, the entry (index and name) and the field.
//
// Thread-safety: plain values and pure functions.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace glimmer::catalog {

// Where an entry's bytes come from. Exactly one of `file` / `url` is set.
struct Source {
  std::string file;  // absolute path (relative paths are resolved against the catalog's folder)
  std::string url;   // http:// or https://
  std::string sha256;  // expected digest of the source bytes (lowercase hex), "" = not checked
  std::string sha512;

  // "file /path" or "url https://..." for messages.
  std::string Describe() const { return file.empty() ? "url " + url : "file " + file; }
};

struct Entry {
  std::string name;
  std::string os_distro;    // "" = not set
  std::string os_version;
  std::string login_user;   // image property os_admin_user
  std::string description;
  std::string disk_format;
  std::string container_format = "bare";
  int64_t min_disk = 0;  // GiB
  int64_t min_ram = 0;   // MiB
  std::map<std::string, std::string> properties;  // extra custom properties
  std::vector<std::string> tags;                  // sorted, unique
  Source source;

  // Every custom property the image must carry: `properties` plus os_distro, os_version,
  // os_admin_user and description when set.
  std::map<std::string, std::string> ImageProperties() const;
};

struct Catalog {
  std::vector<Entry> entries;  // in file order; names are unique
};

// The image property that carries the login user (Glance's documented common property).
inline constexpr std::string_view kLoginUserProperty = "os_admin_user";

struct ParseOptions {
  // Folder that relative `source.file` paths are resolved against.
  std::string base_dir = ".";
  // Accepted formats; empty = any non-empty value.
  std::vector<std::string> disk_formats;
  std::vector<std::string> container_formats;
};

// Parses catalog text. `origin` names the text in messages (usually the file path).
// Errors: InvalidArgument with "<origin>: <where>: <what>".
StatusOr<Catalog> ParseCatalog(std::string_view text, std::string_view origin,
                               const ParseOptions& options);

// Reads and parses a catalog file; base_dir is the file's folder (options.base_dir ignored).
// Errors: NotFound when the file cannot be read; InvalidArgument as ParseCatalog.
StatusOr<Catalog> LoadCatalogFile(const std::string& path, ParseOptions options);

}  // namespace glimmer::catalog
