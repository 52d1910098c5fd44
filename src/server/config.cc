#include "server/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <sstream>
#include <utility>

namespace glimmer::server {
namespace {

constexpr std::string_view kDefaultSection = "DEFAULT";
constexpr std::string_view kEnvPrefix = "GLIMMER_";

std::string_view Trim(std::string_view s) {
  size_t b = 0;
  while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  size_t e = s.size();
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Section names are case-insensitive except that the default section is spelled DEFAULT.
std::string CanonicalSection(std::string_view section) {
  std::string lower = Lower(Trim(section));
  return lower == "default" ? std::string(kDefaultSection) : lower;
}

// Option names: case-insensitive, '-' and '_' equivalent (oslo.config uses '_' in dest names).
std::string CanonicalOption(std::string_view option) {
  std::string out = Lower(Trim(option));
  std::replace(out.begin(), out.end(), '-', '_');
  return out;
}

std::string Quote(std::string_view v) { return "'" + std::string(v) + "'"; }

StatusOr<bool> ParseBool(std::string_view text) {
  std::string v = Lower(Trim(text));
  if (v == "true" || v == "yes" || v == "1" || v == "on") return true;
  if (v == "false" || v == "no" || v == "0" || v == "off") return false;
  return InvalidArgumentError("value " + Quote(text) +
                              " is not a boolean (use true/false, yes/no, 1/0)");
}

StatusOr<int64_t> ParseInt(std::string_view text, int64_t min, int64_t max) {
  std::string_view v = Trim(text);
  if (!v.empty() && v.front() == '+') v.remove_prefix(1);
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec == std::errc::invalid_argument || ptr != v.data() + v.size()) {
    return InvalidArgumentError("value " + Quote(text) + " is not an integer");
  }
  if (ec == std::errc::result_out_of_range || out < min || out > max) {
    return InvalidArgumentError("value " + Quote(text) + " is out of range [" +
                                std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return out;
}

// oslo.config ListOpt: comma-separated, items trimmed, optional surrounding [ ].
std::vector<std::string> ParseList(std::string_view text) {
  std::string_view v = Trim(text);
  if (v.size() >= 2 && v.front() == '[' && v.back() == ']') v = v.substr(1, v.size() - 2);
  std::vector<std::string> out;
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view item = Trim(v.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

// ---- Store options: by store type, with Glance's names (glance_store) and Glimmer's defaults.
enum class StoreOptKind { kString, kInt, kBool };
// Kinds and ranges are checked when the configuration is loaded; the defaults are each store's
// own (its Options struct), so they live in one place.
struct StoreOptionDef {
  std::string_view type;  // file | rbd | s3
  std::string_view name;
  StoreOptKind kind;
  bool required = false;
  int64_t min = 0;
  int64_t max = std::numeric_limits<int64_t>::max();
};

const std::vector<StoreOptionDef>& StoreOptionDefs() {
  using K = StoreOptKind;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  static const auto* defs = new std::vector<StoreOptionDef>{
      {"file", "filesystem_store_datadir", K::kString, true},
      {"rbd", "rbd_store_pool", K::kString},
      {"rbd", "rbd_store_user", K::kString},
      {"rbd", "rbd_store_ceph_conf", K::kString},
      {"rbd", "rbd_store_chunk_size", K::kInt, false, 1, 32},  // MiB, a power of 2
      {"rbd", "rados_connect_timeout", K::kInt, false, 1, 3600},  // seconds
      {"rbd", "rbd_thin_provisioning", K::kBool},
      {"s3", "s3_store_host", K::kString, true},
      {"s3", "s3_store_access_key", K::kString, true},
      {"s3", "s3_store_secret_key", K::kString, true},
      {"s3", "s3_store_bucket", K::kString, true},
      {"s3", "s3_store_create_bucket_on_put", K::kBool},
      {"s3", "s3_store_bucket_url_format", K::kString},  // auto | path | virtual
      {"s3", "s3_store_region_name", K::kString},
      {"s3", "s3_store_large_object_size", K::kInt, false, 0, 1 << 20},        // MiB
      {"s3", "s3_store_large_object_chunk_size", K::kInt, false, 5, 5120},     // MiB
      {"s3", "s3_store_thread_pools", K::kInt, false, 1, 64},
      {"s3", "s3_store_cacert", K::kString},
      {"s3", "s3_store_incomplete_upload_ttl", K::kInt, false, 60, kMax},      // seconds
      {"s3", "s3_store_connect_timeout_ms", K::kInt, false, 100, 600000},
  };
  return *defs;
}

const StoreOptionDef* FindStoreOption(std::string_view type, std::string_view name) {
  for (const StoreOptionDef& def : StoreOptionDefs()) {
    if (def.type == type && def.name == name) return &def;
  }
  return nullptr;
}

// The store type whose option `name` is (rbd_*, s3_store_*, filesystem_store_datadir), or "".
std::string_view StoreTypeOfOption(std::string_view name) {
  for (const StoreOptionDef& def : StoreOptionDefs()) {
    if (def.name == name) return def.type;
  }
  return "";
}

bool IsStoreType(std::string_view type) { return type == "file" || type == "rbd" || type == "s3"; }

Status ValidateStoreOption(const StoreOptionDef& def, std::string_view value) {
  switch (def.kind) {
    case StoreOptKind::kInt:
      return ParseInt(value, def.min, def.max).status();
    case StoreOptKind::kBool:
      return ParseBool(value).status();
    case StoreOptKind::kString:
      if (def.required && value.empty()) return InvalidArgumentError("must not be empty");
      if (def.name == "s3_store_bucket_url_format" && value != "auto" && value != "path" &&
          value != "virtual") {
        return InvalidArgumentError("value " + Quote(value) + " is not auto, path or virtual");
      }
      if (def.name == "s3_store_host" && !value.starts_with("http://") &&
          !value.starts_with("https://")) {
        return InvalidArgumentError("value " + Quote(value) +
                                    " is not an http:// or https:// URL");
      }
      return OkStatus();
  }
  return OkStatus();
}


using Setter = std::function<Status(Config&, std::string_view)>;

Setter IntOpt(int Config::*field, int64_t min, int64_t max) {
  return [=](Config& c, std::string_view v) -> Status {
    ASSIGN_OR_RETURN(int64_t n, ParseInt(v, min, max));
    c.*field = static_cast<int>(n);
    return OkStatus();
  };
}

Setter Int64Opt(int64_t Config::*field, int64_t min, int64_t max) {
  return [=](Config& c, std::string_view v) -> Status {
    ASSIGN_OR_RETURN(c.*field, ParseInt(v, min, max));
    return OkStatus();
  };
}

// Integer that also accepts B/KB/MB/GB/TB suffixes.
Setter SizeOpt(int64_t Config::*field, int64_t min, int64_t max) {
  return [=](Config& c, std::string_view v) -> Status {
    ASSIGN_OR_RETURN(int64_t n, ParseByteSize(Trim(v)));
    if (n < min || n > max) {
      return InvalidArgumentError("value " + Quote(v) + " is out of range [" + std::to_string(min) +
                                  ", " + std::to_string(max) + "] bytes");
    }
    c.*field = n;
    return OkStatus();
  };
}

Setter BoolOpt(bool Config::*field) {
  return [=](Config& c, std::string_view v) -> Status {
    ASSIGN_OR_RETURN(c.*field, ParseBool(v));
    return OkStatus();
  };
}

Setter StrOpt(std::string Config::*field,
              std::function<Status(std::string_view)> validate = nullptr) {
  return [=](Config& c, std::string_view v) -> Status {
    std::string_view value = Trim(v);
    if (validate) RETURN_IF_ERROR(validate(value));
    c.*field = std::string(value);
    return OkStatus();
  };
}

Status ValidateTokenList(const std::vector<std::string>& items, bool allow_empty) {
  if (items.empty() && !allow_empty) return InvalidArgumentError("list must not be empty");
  for (const std::string& item : items) {
    if (!IsToken(item)) {
      return InvalidArgumentError("list item " + Quote(item) +
                                  " may only contain letters, digits, '-', '_' and '.'");
    }
  }
  return OkStatus();
}

Setter FormatListOpt(std::vector<std::string> Config::*field) {
  return [=](Config& c, std::string_view v) -> Status {
    std::vector<std::string> items = ParseList(v);
    RETURN_IF_ERROR(ValidateTokenList(items, /*allow_empty=*/false));
    c.*field = std::move(items);
    return OkStatus();
  };
}

Setter FilterListOpt(std::vector<std::string> ImportFilteringOptions::*field, bool lower) {
  return [=](Config& c, std::string_view v) -> Status {
    std::vector<std::string> items = ParseList(v);
    if (lower) {
      for (std::string& item : items) item = Lower(item);
    }
    c.import_filtering.*field = std::move(items);
    return OkStatus();
  };
}

Setter PortListOpt(std::vector<int> ImportFilteringOptions::*field) {
  return [=](Config& c, std::string_view v) -> Status {
    std::vector<int> ports;
    for (const std::string& item : ParseList(v)) {
      ASSIGN_OR_RETURN(int64_t port, ParseInt(item, 1, 65535));
      ports.push_back(static_cast<int>(port));
    }
    c.import_filtering.*field = std::move(ports);
    return OkStatus();
  };
}

Status ValidateHost(std::string_view v) {
  if (v.empty()) return InvalidArgumentError("host must not be empty");
  for (char c : v) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '/' || c == '[' || c == ']') {
      return InvalidArgumentError("value " + Quote(v) + " is not a host name or IP address");
    }
  }
  return OkStatus();
}

Status ValidateEndpoint(std::string_view v) {
  if (v.empty()) return OkStatus();
  if (!v.starts_with("http://") && !v.starts_with("https://")) {
    return InvalidArgumentError("value " + Quote(v) + " must be an http:// or https:// URL");
  }
  if (v.find_first_of(" \t?#") != std::string_view::npos) {
    return InvalidArgumentError("value " + Quote(v) + " must not contain spaces, '?' or '#'");
  }
  return OkStatus();
}

Status ValidateNonEmpty(std::string_view v) {
  if (v.empty()) return InvalidArgumentError("value must not be empty");
  return OkStatus();
}

Status ValidateLogLevel(std::string_view v) {
  static const std::set<std::string, std::less<>> kLevels = {
      "trace", "debug", "info", "warning", "warn", "error", "critical", "off"};
  if (!kLevels.contains(Lower(v))) {
    return InvalidArgumentError("value " + Quote(v) +
                                " is not one of trace, debug, info, warning, error, critical, off");
  }
  return OkStatus();
}

struct OptionDef {
  std::string_view section;
  std::string_view name;
  Setter set;
};

const std::vector<OptionDef>& Options() {
  static const auto* options = new std::vector<OptionDef>{
      // [DEFAULT]
      {kDefaultSection, "bind_host", StrOpt(&Config::bind_host, ValidateHost)},
      {kDefaultSection, "bind_port", IntOpt(&Config::bind_port, 0, 65535)},
      {kDefaultSection, "public_endpoint", StrOpt(&Config::public_endpoint, ValidateEndpoint)},
      {kDefaultSection, "image_size_cap",
       Int64Opt(&Config::image_size_cap, 1, std::numeric_limits<int64_t>::max())},
      {kDefaultSection, "user_storage_quota",
       SizeOpt(&Config::user_storage_quota, 0, std::numeric_limits<int64_t>::max())},
      {kDefaultSection, "limit_param_default", IntOpt(&Config::limit_param_default, 1, 1000000)},
      {kDefaultSection, "api_limit_max", IntOpt(&Config::api_limit_max, 1, 1000000)},
      {kDefaultSection, "image_member_quota",
       Int64Opt(&Config::image_member_quota, -1, std::numeric_limits<int32_t>::max())},
      {kDefaultSection, "image_property_quota",
       Int64Opt(&Config::image_property_quota, -1, std::numeric_limits<int32_t>::max())},
      {kDefaultSection, "image_tag_quota",
       Int64Opt(&Config::image_tag_quota, -1, std::numeric_limits<int32_t>::max())},
      {kDefaultSection, "image_location_quota",
       Int64Opt(&Config::image_location_quota, -1, std::numeric_limits<int32_t>::max())},
      {kDefaultSection, "show_image_direct_url", BoolOpt(&Config::show_image_direct_url)},
      {kDefaultSection, "show_multiple_locations", BoolOpt(&Config::show_multiple_locations)},
      {kDefaultSection, "enable_v1_api", BoolOpt(&Config::enable_v1_api)},
      {kDefaultSection, "enabled_import_methods",
       [](Config& c, std::string_view v) -> Status {
         static const std::set<std::string, std::less<>> kKnown = {"glance-direct", "web-download",
                                                                   "copy-image", "glance-download"};
         std::vector<std::string> items = ParseList(v);
         for (const std::string& item : items) {
           if (!kKnown.contains(item)) {
             return InvalidArgumentError(
                 "unknown import method " + Quote(item) +
                 " (known: glance-direct, web-download, copy-image, glance-download)");
           }
         }
         c.enabled_import_methods = std::move(items);
         return OkStatus();
       }},
      {kDefaultSection, "hashing_algorithm",
       StrOpt(&Config::hashing_algorithm,
              [](std::string_view v) -> Status {
                if (v != "sha512") {
                  return InvalidArgumentError("value " + Quote(v) +
                                              " is not supported (only sha512 is)");
                }
                return OkStatus();
              })},
      {kDefaultSection, "workers", IntOpt(&Config::workers, 0, 1024)},
      {kDefaultSection, "property_protection_file", StrOpt(&Config::property_protection_file)},
      {kDefaultSection, "property_protection_rule_format",
       [](Config& c, std::string_view v) -> Status {
         std::string format = Lower(Trim(v));
         if (format != "roles" && format != "policies") {
           return InvalidArgumentError("value " + Quote(v) + " is not one of roles, policies");
         }
         c.property_protection_rule_format = format;
         return OkStatus();
       }},
      // [oslo_policy] (its other options stay accepted-and-ignored with the section)
      {"oslo_policy", "policy_file", StrOpt(&Config::policy_file)},
      // [image_format]
      {"image_format", "disk_formats", FormatListOpt(&Config::disk_formats)},
      {"image_format", "container_formats", FormatListOpt(&Config::container_formats)},
      // [glance_store]
      {"glance_store", "default_store",
       StrOpt(&Config::default_store,
              [](std::string_view v) -> Status {
                if (!IsStoreType(v)) {
                  return InvalidArgumentError("store " + Quote(v) +
                                              " is not supported (file, rbd, s3 are)");
                }
                return OkStatus();
              })},
      // [database]
      {"database", "connection",
       StrOpt(&Config::database_connection,
              [](std::string_view v) -> Status {
                if (v.empty() || v.starts_with("sqlite:///") || v.starts_with("postgresql://") ||
                    v.starts_with("postgresql+psycopg2://") || v.starts_with("postgres://") ||
                    v.starts_with("mysql")) {
                  return OkStatus();  // mysql: warned about and ignored at load time
                }
                return InvalidArgumentError(
                    "connection " + Quote(v) +
                    " is not supported (sqlite:///PATH or postgresql://...)");
              })},
      {"database", "max_pool_size", IntOpt(&Config::database_max_pool_size, 1, 1000)},
      {"glance_store", "filesystem_store_datadir", StrOpt(&Config::filesystem_store_datadir)},
      {"glance_store", "default_backend", StrOpt(&Config::default_backend)},
      {kDefaultSection, "enabled_backends",
       [](Config& c, std::string_view v) -> Status {
         c.enabled_backends.clear();
         for (const std::string& item : ParseList(v)) {
           size_t colon = item.find(':');
           if (colon == std::string::npos) {
             return InvalidArgumentError("item " + Quote(item) + " is not name:type");
           }
           std::string name = Lower(Trim(std::string_view(item).substr(0, colon)));
           std::string type = Lower(Trim(std::string_view(item).substr(colon + 1)));
           if (!IsToken(name)) return InvalidArgumentError("bad store name " + Quote(name));
           if (!IsStoreType(type)) {
             return InvalidArgumentError("store type " + Quote(type) + " of " + Quote(name) +
                                         " is not supported (supported: file, rbd, s3)");
           }
           for (const auto& [n, t] : c.enabled_backends) {
             if (n == name) return InvalidArgumentError("store " + Quote(name) + " is listed twice");
           }
           c.enabled_backends.emplace_back(name, type);
         }
         return OkStatus();
       }},
      {kDefaultSection, "node_staging_uri",
       [](Config& c, std::string_view v) -> Status {
         std::string_view value = Trim(v);
         if (!value.starts_with("file://") || value.size() <= 7 || value[7] != '/') {
           return InvalidArgumentError("value " + Quote(value) +
                                       " must be a file:///absolute/path URI");
         }
         c.node_staging_uri = std::string(value);
         return OkStatus();
       }},
      {"image_import_opts", "image_import_plugins",
       [](Config& c, std::string_view v) -> Status {
         static const std::set<std::string, std::less<>> kKnown = {
             "image_decompression", "inject_image_metadata", "image_conversion", "no_op"};
         std::vector<std::string> items = ParseList(v);
         for (auto& item : items) {
           // Glance accepts the list as a JSON-ish ['a', 'b'] too.
           std::string cleaned;
           for (char ch : item) {
             if (ch != '[' && ch != ']' && ch != '\'' && ch != '"') cleaned += ch;
           }
           item = Trim(cleaned);
         }
         std::erase(items, std::string());
         for (const auto& item : items) {
           if (!kKnown.contains(item)) {
             return InvalidArgumentError("unknown import plugin " + Quote(item) +
                                         " (known: image_decompression, inject_image_metadata, "
                                         "image_conversion, no_op)");
           }
         }
         c.image_import_plugins = std::move(items);
         return OkStatus();
       }},
      {"inject_metadata_properties", "inject",
       [](Config& c, std::string_view v) -> Status {
         c.inject_metadata.clear();
         for (const std::string& item : ParseList(v)) {
           size_t colon = item.find(':');
           if (colon == std::string::npos || colon == 0) {
             return InvalidArgumentError("item " + Quote(item) + " is not key:value");
           }
           c.inject_metadata.emplace_back(Trim(std::string_view(item).substr(0, colon)),
                                          Trim(std::string_view(item).substr(colon + 1)));
         }
         return OkStatus();
       }},
      {"inject_metadata_properties", "ignore_user_roles",
       [](Config& c, std::string_view v) -> Status {
         c.inject_ignore_user_roles = ParseList(v);
         for (auto& r : c.inject_ignore_user_roles) r = Lower(r);
         return OkStatus();
       }},
      {"image_conversion", "output_format",
       [](Config& c, std::string_view v) -> Status {
         std::string f = Lower(Trim(v));
         if (f != "raw" && f != "qcow2") {
           return InvalidArgumentError("value " + Quote(f) + " is not one of raw, qcow2");
         }
         c.conversion_output_format = f;
         return OkStatus();
       }},
      {"glance_download_properties", "extra_properties",
       [](Config& c, std::string_view v) -> Status {
         c.glance_download_properties = ParseList(v);
         return OkStatus();
       }},
      {"glance_download_properties", "regions",
       [](Config& c, std::string_view v) -> Status {
         c.glance_download_regions.clear();
         for (const std::string& item : ParseList(v)) {
           size_t eq = item.find('=');
           std::string url = eq == std::string::npos ? "" : std::string(Trim(std::string_view(item).substr(eq + 1)));
           if (eq == std::string::npos || eq == 0 ||
               !(url.starts_with("http://") || url.starts_with("https://"))) {
             return InvalidArgumentError("item " + Quote(item) +
                                         " is not REGION=http(s)://image-endpoint");
           }
           c.glance_download_regions[std::string(Trim(std::string_view(item).substr(0, eq)))] = url;
         }
         return OkStatus();
       }},
      {"task", "task_time_to_live", Int64Opt(&Config::task_time_to_live_hours, 1, 24 * 365)},
      {"import_filtering_opts", "allow_private_addresses",
       [](Config& c, std::string_view v) -> Status {
         ASSIGN_OR_RETURN(c.import_address_policy.allow_private_addresses, ParseBool(v));
         return OkStatus();
       }},
      {"import_filtering_opts", "allowed_cidrs",
       [](Config& c, std::string_view v) -> Status {
         c.import_address_policy.allowed_cidrs = ParseList(v);
         return webdownload::ValidateAddressPolicy(c.import_address_policy);
       }},
      {"import_filtering_opts", "connect_timeout_seconds",
       Int64Opt(&Config::web_download_connect_timeout_seconds, 1, 3600)},
      {"import_filtering_opts", "stall_timeout_seconds",
       Int64Opt(&Config::web_download_stall_timeout_seconds, 1, 86400)},
      {"glimmer", "task_workers", IntOpt(&Config::task_workers, 1, 64)},
      {"glimmer", "max_virtual_size",
       SizeOpt(&Config::max_virtual_size, 1 << 20, std::numeric_limits<int64_t>::max())},
      {"glimmer", "task_time_limit_seconds",
       Int64Opt(&Config::task_time_limit_seconds, 60, 30 * 86400)},
      {"glimmer", "task_lease_seconds", Int64Opt(&Config::task_lease_seconds, 3, 3600)},
      {"glimmer", "node_id", StrOpt(&Config::node_id)},
      // [import_filtering_opts]
      {"import_filtering_opts", "allowed_schemes",
       FilterListOpt(&ImportFilteringOptions::allowed_schemes, true)},
      {"import_filtering_opts", "disallowed_schemes",
       FilterListOpt(&ImportFilteringOptions::disallowed_schemes, true)},
      {"import_filtering_opts", "allowed_hosts",
       FilterListOpt(&ImportFilteringOptions::allowed_hosts, false)},
      {"import_filtering_opts", "disallowed_hosts",
       FilterListOpt(&ImportFilteringOptions::disallowed_hosts, false)},
      {"import_filtering_opts", "allowed_ports",
       PortListOpt(&ImportFilteringOptions::allowed_ports)},
      {"import_filtering_opts", "disallowed_ports",
       PortListOpt(&ImportFilteringOptions::disallowed_ports)},
      // [glimmer]
      // [quota] (Glimmer-only: per-project limits with Glance's unified-limit names; -1 = none)
      {"quota", "image_count_total",
       Int64Opt(&Config::quota_image_count_total, -1, std::numeric_limits<int64_t>::max())},
      {"quota", "image_size_total",
       Int64Opt(&Config::quota_image_size_total_mib, -1, std::numeric_limits<int32_t>::max())},
      {"quota", "image_count_uploading",
       Int64Opt(&Config::quota_image_count_uploading, -1, std::numeric_limits<int64_t>::max())},
      {"quota", "image_stage_total",
       Int64Opt(&Config::quota_image_stage_total_mib, -1, std::numeric_limits<int32_t>::max())},
      {"glimmer", "data_dir", StrOpt(&Config::data_dir, ValidateNonEmpty)},
      {"glimmer", "admin_password", StrOpt(&Config::admin_password)},
      {"glimmer", "token_expiration", Int64Opt(&Config::token_expiration, 10, 31536000)},
      {"glimmer", "token_cache_seconds", Int64Opt(&Config::token_cache_seconds, 0, 3600)},
      {"glimmer", "login_throttle_user_failures",
       IntOpt(&Config::login_throttle_user_failures, 0, 1000000)},
      {"glimmer", "login_throttle_address_failures",
       IntOpt(&Config::login_throttle_address_failures, 0, 1000000)},
      {"glimmer", "login_throttle_window_seconds",
       Int64Opt(&Config::login_throttle_window_seconds, 1, 86400)},
      {"glimmer", "login_throttle_max_delay_seconds",
       Int64Opt(&Config::login_throttle_max_delay_seconds, 1, 3600)},
      {"glimmer", "login_throttle_max_entries",
       Int64Opt(&Config::login_throttle_max_entries, 1, 10000000)},
      {"glimmer", "password_hash_iterations",
       IntOpt(&Config::password_hash_iterations, 1000, 10000000)},
      {"glimmer", "fsync_uploads", BoolOpt(&Config::fsync_uploads)},
      // HTTP limits (Glance's eventlet options where Glance has one).
      {kDefaultSection, "max_header_line", SizeOpt(&Config::max_header_line, 256, 1 << 20)},
      {kDefaultSection, "client_socket_timeout",
       Int64Opt(&Config::idle_timeout_seconds, 1, 86400)},
      {kDefaultSection, "http_keepalive", BoolOpt(&Config::http_keepalive)},
      {kDefaultSection, "backlog", IntOpt(&Config::backlog, 1, 65535)},
      {"glimmer", "max_header_bytes", SizeOpt(&Config::max_header_bytes, 1024, 1 << 20)},
      {"glimmer", "max_request_line", SizeOpt(&Config::max_request_line, 256, 1 << 20)},
      {"glimmer", "max_header_count", IntOpt(&Config::max_header_count, 8, 10000)},
      {"glimmer", "max_chunk_extension_bytes",
       SizeOpt(&Config::max_chunk_extension_bytes, 0, 1 << 20)},
      {"glimmer", "max_connections", Int64Opt(&Config::max_connections, 16, 1000000)},
      {"glimmer", "idle_timeout_seconds", Int64Opt(&Config::idle_timeout_seconds, 1, 86400)},
      {"glimmer", "header_timeout_seconds", Int64Opt(&Config::header_timeout_seconds, 1, 3600)},
      {"glimmer", "body_timeout_seconds", Int64Opt(&Config::body_timeout_seconds, 1, 86400)},
      {"glimmer", "min_body_rate_bytes", Int64Opt(&Config::min_body_rate_bytes, 0, 1 << 30)},
      {"glimmer", "min_body_rate_window_seconds",
       Int64Opt(&Config::min_body_rate_window_seconds, 1, 3600)},
      {"glimmer", "upload_buffer_budget_mib",
       Int64Opt(&Config::upload_buffer_budget_mib, 4, 1 << 20)},
      // oslo.middleware's healthcheck app (the disable_by_file backend).
      {"healthcheck", "disable_by_file_path", StrOpt(&Config::healthcheck_disable_file)},
      {"glimmer", "handler_threads", IntOpt(&Config::handler_threads, 0, 4096)},
      {"glimmer", "io_threads", IntOpt(&Config::io_threads, 1, 256)},
      {"glimmer", "max_json_body_bytes",
       SizeOpt(&Config::max_json_body_bytes, 1024, int64_t{1} << 30)},
      {"glimmer", "log_level",
       [](Config& c, std::string_view v) -> Status {
         std::string level = Lower(Trim(v));
         RETURN_IF_ERROR(ValidateLogLevel(level));
         c.log_level = level == "warn" ? "warning" : level;
         return OkStatus();
       }},
      {"glimmer", "access_log", BoolOpt(&Config::access_log)},
      {"dashboard", "enabled", BoolOpt(&Config::dashboard_enabled)},
      {"dashboard", "secure_cookie",
       [](Config& c, std::string_view v) -> Status {
         std::string mode = Lower(Trim(v));
         if (mode == "auto") {
           c.dashboard_secure_cookie = mode;
           return OkStatus();
         }
         ASSIGN_OR_RETURN(bool on, ParseBool(mode));
         c.dashboard_secure_cookie = on ? "true" : "false";
         return OkStatus();
       }},
      {"dashboard", "trusted_proxies",
       [](Config& c, std::string_view v) -> Status {
         std::vector<std::string> items = ParseList(v);
         for (const std::string& item : items) RETURN_IF_ERROR(ValidateHost(item));
         c.dashboard_trusted_proxies = std::move(items);
         return OkStatus();
       }},
  };
  return *options;
}

// Sections of glance-api.conf that Glimmer does not use at all: any option is accepted (with one
// warning per section) so an operator can start from an existing glance-api.conf.
const std::set<std::string, std::less<>>& IgnoredSections() {
  static const auto* sections =
      new std::set<std::string, std::less<>>{"audit_middleware_notifications",
                                             "barbican",
                                             "barbican_service_user",
                                             "cinder",
                                             "cors",
                                             "glance_download_properties",
                                             "image_conversion",
                                             "image_import_opts",
                                             "inject_metadata_properties",
                                             "key_manager",
                                             "keystone_authtoken",
                                             "os_glance_staging_store",
                                             "os_glance_tasks_store",
                                             "oslo_concurrency",
                                             "oslo_limit",
                                             "oslo_messaging_amqp",
                                             "oslo_messaging_kafka",
                                             "oslo_messaging_notifications",
                                             "oslo_messaging_rabbit",
                                             "oslo_middleware",
                                             "oslo_policy",
                                             "oslo_reports",
                                             "paste_deploy",
                                             "profiler",
                                             "store_type_location_strategy",
                                             "task",
                                             "taskflow_executor",
                                             "vault",
                                             "wsgi"};
  return *sections;
}

// Options of sections Glimmer does implement that exist in Glance but are not implemented.
const std::map<std::string, std::set<std::string, std::less<>>, std::less<>>& IgnoredOptions() {
  static const auto* options = new std::map<std::string, std::set<std::string, std::less<>>,
                                            std::less<>>{
      {std::string(kDefaultSection),
       {// Glance API / common options.
        "allow_anonymous_access", "delayed_delete", "digest_algorithm", "do_secure_hash",
        "http_retries", "image_cache_dir", "image_cache_driver",
        "image_cache_max_size", "image_cache_sqlite_db", "image_cache_stall_time",
        "max_request_id_length", "metadata_encryption_key",
        "pydev_worker_debug_host",
        "pydev_worker_debug_port", "scrub_pool_size", "scrub_time", "use_keystone_limits",
        "worker_self_reference_url", "disabled_notifications", "default_publisher_id",
        "location_strategy", "show_image_direct_url_for_admins",
        // Options of older glance-api.conf files (eventlet server, v1, registry).
        "tcp_keepidle", "cert_file", "key_file", "ca_file",
        "secure_proxy_ssl_header",
        "enable_v2_api", "enable_v1_registry", "enable_v2_registry", "data_api", "registry_host",
        "registry_port", "owner_is_tenant", "admin_role", "allow_additional_image_properties",
        "use_user_token", "image_location_quota_enabled", "executor_thread_pool_size",
        // oslo.log.
        "debug", "verbose", "log_config_append", "log_date_format", "log_dir", "log_file",
        "log_rotate_interval", "log_rotate_interval_type", "log_rotation_type",
        "logging_context_format_string", "logging_debug_format_suffix",
        "logging_default_format_string", "logging_exception_prefix", "logging_user_identity_format",
        "max_logfile_count", "max_logfile_size_mb", "default_log_levels", "instance_format",
        "instance_uuid_format", "publish_errors", "rate_limit_burst", "rate_limit_except_level",
        "rate_limit_interval", "syslog_log_facility", "use_eventlog", "use_journal", "use_json",
        "use_stderr", "use_syslog", "watch_log_file", "fatal_deprecations",
        // oslo.messaging.
        "transport_url", "control_exchange", "rpc_response_timeout", "rpc_conn_pool_size",
        "rpc_ping_enabled", "conn_pool_min_size", "conn_pool_ttl"}},
      {"healthcheck",
       {"detailed", "backends", "path", "allowed_source_ranges", "ignore_proxied_requests",
        "disable_by_file_paths", "enable_by_file_paths"}},
      {"image_format",
       {"vmdk_allowed_types", "require_image_format_match", "gpt_safety_checks_nonfatal"}},
      {"glance_store",
       {"stores", "default_swift_reference", "filesystem_store_chunk_size",
        "filesystem_store_datadirs", "filesystem_store_file_perm", "filesystem_store_metadata_file",
        "filesystem_thin_provisioning", "http_proxy_information", "https_ca_certificates_file",
        "https_insecure", "rootwrap_config", "s3_store_object_buffer_dir",
        }},
      // oslo.db's tuning knobs of other drivers.
      {"database",
       {"backend", "connection_debug", "connection_parameters", "connection_recycle_time",
        "connection_trace", "db_inc_retry_interval", "db_max_retries", "db_max_retry_interval",
        "db_retry_interval", "idle_timeout", "max_overflow", "max_retries", "min_pool_size",
        "mysql_enable_ndb", "mysql_sql_mode", "mysql_wsrep_sync_wait", "pool_timeout",
        "retry_interval", "slave_connection", "sqlite_synchronous", "use_db_reconnect",
        "asyncio_connection", "asyncio_slave_connection"}},
  };
  return *options;
}

// glance_store option families of stores Glimmer does not have (cinder_*, swift_*, vmware_*) are
// ignored wholesale.
bool IsIgnoredStoreOption(std::string_view option) {
  for (std::string_view prefix : {"cinder_", "swift_", "vmware_"}) {
    if (option.starts_with(prefix)) return true;
  }
  return false;
}

const OptionDef* FindOption(std::string_view section, std::string_view option) {
  for (const OptionDef& def : Options()) {
    if (def.section == section && def.name == option) return &def;
  }
  return nullptr;
}

bool IsKnownSection(std::string_view section) {
  for (const OptionDef& def : Options()) {
    if (def.section == section) return true;
  }
  return false;
}

enum class Disposition { kApplied, kIgnoredOption, kIgnoredSection };

// Shared by the INI loader, the environment and ApplyOverride. Error messages start with
// "[section] option: ". `extra_ignored_sections` are multi-store backend sections.
StatusOr<Disposition> Apply(Config& config, std::string_view raw_section,
                            std::string_view raw_option, std::string_view value,
                            const std::set<std::string, std::less<>>& extra_ignored_sections) {
  std::string section = CanonicalSection(raw_section);
  std::string option = CanonicalOption(raw_option);
  const std::string where = "[" + section + "] " + option + ": ";
  if (const OptionDef* def = FindOption(section, option)) {
    Status st = def->set(config, value);
    if (!st.ok()) return InvalidArgumentError(where + st.message());
    return Disposition::kApplied;
  }
  for (const auto& [name, type] : config.enabled_backends) {
    if (section == name) {
      const StoreOptionDef* def = FindStoreOption(type, option);
      if (option == "weight") {
        Status st = ParseInt(value, std::numeric_limits<int64_t>::min(),
                             std::numeric_limits<int64_t>::max())
                        .status();
        if (!st.ok()) return InvalidArgumentError(where + st.message());
      } else if (def == nullptr && option != "store_description") {
        if (StoreTypeOfOption(option).empty()) return Disposition::kIgnoredOption;
        return InvalidArgumentError(where + "not an option of a " + type + " store");
      }
      if (def != nullptr) {
        Status st = ValidateStoreOption(*def, Trim(value));
        if (!st.ok()) return InvalidArgumentError(where + st.message());
      }
      config.backend_options[name][option] = std::string(Trim(value));
      return Disposition::kApplied;
    }
  }
  if (section == "glance_store") {
    // The single store's options ([glance_store] rbd_store_pool, s3_store_host, ...).
    if (std::string_view type = StoreTypeOfOption(option); !type.empty()) {
      Status st = ValidateStoreOption(*FindStoreOption(type, option), Trim(value));
      if (!st.ok()) return InvalidArgumentError(where + st.message());
      config.glance_store_options[option] = std::string(Trim(value));
      return Disposition::kApplied;
    }
  }
  if (IgnoredSections().contains(section) || extra_ignored_sections.contains(section)) {
    return Disposition::kIgnoredSection;
  }
  if (!IsKnownSection(section)) {
    return InvalidArgumentError("[" + section + "]: unknown section");
  }
  auto it = IgnoredOptions().find(section);
  if ((it != IgnoredOptions().end() && it->second.contains(option)) ||
      (section == "glance_store" && IsIgnoredStoreOption(option))) {
    return Disposition::kIgnoredOption;
  }
  return InvalidArgumentError(where + "unknown option");
}

std::string IgnoredOptionWarning(std::string_view section, std::string_view option,
                                 std::string_view origin) {
  return std::string(origin) + "[" + CanonicalSection(section) + "] " + CanonicalOption(option) +
         ": Glance option not implemented by Glimmer; ignored";
}

struct IniEntry {
  std::string section;
  std::string option;
  std::string value;
  int line;
};

std::string Unquote(std::string_view v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    return std::string(v.substr(1, v.size() - 2));
  }
  return std::string(v);
}

// oslo.config's INI dialect: [section] headers, "key = value" or "key: value", whole-line '#'
// and ';' comments (no inline comments), indented lines continue the previous value.
StatusOr<std::vector<IniEntry>> ParseIni(std::string_view text, const std::string& path) {
  std::vector<IniEntry> entries;
  std::string section;
  int line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t eol = text.find('\n', pos);
    std::string_view raw = text.substr(pos, eol == std::string_view::npos ? eol : eol - pos);
    pos = eol == std::string_view::npos ? text.size() + 1 : eol + 1;
    ++line_no;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    std::string_view line = Trim(raw);
    const std::string at = path + ":" + std::to_string(line_no) + ": ";
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (std::isspace(static_cast<unsigned char>(raw.front())) && !entries.empty() &&
        entries.back().line > 0 && entries.back().section == section) {
      // Continuation of the previous value.
      entries.back().value += "\n";
      entries.back().value += line;
      continue;
    }
    if (line.front() == '[') {
      if (line.back() != ']' || line.size() < 3) {
        return InvalidArgumentError(at + "malformed section header " + Quote(line));
      }
      section = std::string(Trim(line.substr(1, line.size() - 2)));
      if (section.empty()) return InvalidArgumentError(at + "empty section name");
      continue;
    }
    size_t sep = line.find_first_of("=:");
    if (sep == std::string_view::npos) {
      return InvalidArgumentError(at + "expected 'option = value', got " + Quote(line));
    }
    std::string_view key = Trim(line.substr(0, sep));
    if (key.empty()) return InvalidArgumentError(at + "missing option name");
    if (section.empty()) {
      return InvalidArgumentError(at + "option " + Quote(key) + " appears before any [section]");
    }
    entries.push_back({section, std::string(key), Unquote(Trim(line.substr(sep + 1))), line_no});
  }
  return entries;
}

// GLIMMER_LISTEN: "host:port" or "[v6addr]:port".
Status ApplyListen(Config& config, std::string_view value) {
  std::string_view v = Trim(value);
  std::string_view host;
  std::string_view port;
  if (v.starts_with("[")) {
    size_t close = v.find(']');
    if (close == std::string_view::npos || close + 1 >= v.size() || v[close + 1] != ':') {
      return InvalidArgumentError("value " + Quote(value) + " is not [address]:port");
    }
    host = v.substr(1, close - 1);
    port = v.substr(close + 2);
  } else {
    size_t colon = v.rfind(':');
    if (colon == std::string_view::npos || v.find(':') != colon) {
      return InvalidArgumentError("value " + Quote(value) +
                                  " is not host:port (write IPv6 addresses as [addr]:port)");
    }
    host = v.substr(0, colon);
    port = v.substr(colon + 1);
  }
  Config updated = config;
  RETURN_IF_ERROR(FindOption(kDefaultSection, "bind_host")->set(updated, host));
  RETURN_IF_ERROR(FindOption(kDefaultSection, "bind_port")->set(updated, port));
  config = std::move(updated);
  return OkStatus();
}

Status ApplyEnvironment(Config& config, const std::map<std::string, std::string>& env) {
  static const std::map<std::string, std::pair<std::string_view, std::string_view>, std::less<>>
      kAliases = {{"GLIMMER_DATA_DIR", {"glimmer", "data_dir"}},
                  {"GLIMMER_ADMIN_PASSWORD", {"glimmer", "admin_password"}},
                  {"GLIMMER_LOG_LEVEL", {"glimmer", "log_level"}}};
  // Short aliases first, so the long forms win when both are set.
  for (const auto& [name, value] : env) {
    if (!name.starts_with(kEnvPrefix) || name.find("__") != std::string::npos) continue;
    const std::string origin = "environment variable " + name + ": ";
    if (name == "GLIMMER_LISTEN") {
      Status st = ApplyListen(config, value);
      if (!st.ok()) return InvalidArgumentError(origin + st.message());
      continue;
    }
    auto alias = kAliases.find(name);
    if (alias == kAliases.end()) {
      config.warnings.push_back(origin + "not a Glimmer setting; ignored");
      continue;
    }
    StatusOr<Disposition> done =
        Apply(config, alias->second.first, alias->second.second, value, {});
    if (!done.ok()) return InvalidArgumentError(origin + done.status().message());
  }
  for (const auto& [name, value] : env) {
    if (!name.starts_with(kEnvPrefix)) continue;
    size_t sep = name.find("__", kEnvPrefix.size());
    if (sep == std::string::npos) continue;
    const std::string origin = "environment variable " + name + ": ";
    std::string section(name.substr(kEnvPrefix.size(), sep - kEnvPrefix.size()));
    std::string option = name.substr(sep + 2);
    if (section.empty() || option.empty()) {
      return InvalidArgumentError(origin + "expected GLIMMER_<SECTION>__<OPTION>");
    }
    StatusOr<Disposition> done = Apply(config, section, option, value, {});
    if (!done.ok()) return InvalidArgumentError(origin + done.status().message());
    if (*done != Disposition::kApplied) {
      config.warnings.push_back(IgnoredOptionWarning(section, option, origin));
    }
  }
  return OkStatus();
}

Status ApplyIniFile(Config& config, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open configuration file " + path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return InvalidArgumentError("cannot read configuration file " + path);
  ASSIGN_OR_RETURN(std::vector<IniEntry> entries, ParseIni(buffer.str(), path));

  // Multi-store backend sections are named by [DEFAULT] enabled_backends ("name:type, ...").
  std::set<std::string, std::less<>> backend_sections;
  for (const IniEntry& e : entries) {
    if (CanonicalSection(e.section) == kDefaultSection &&
        CanonicalOption(e.option) == "enabled_backends") {
      for (const std::string& item : ParseList(e.value)) {
        backend_sections.insert(Lower(Trim(std::string_view(item).substr(0, item.find(':')))));
      }
    }
  }

  std::map<std::string, int> ignored_section_counts;
  for (const IniEntry& e : entries) {
    StatusOr<Disposition> done = Apply(config, e.section, e.option, e.value, backend_sections);
    if (!done.ok()) {
      return InvalidArgumentError(path + ":" + std::to_string(e.line) + ": " +
                                  done.status().message());
    }
    if (*done == Disposition::kIgnoredOption) {
      config.warnings.push_back(IgnoredOptionWarning(e.section, e.option, path + ": "));
    } else if (*done == Disposition::kIgnoredSection) {
      ++ignored_section_counts[CanonicalSection(e.section)];
    }
  }
  for (const auto& [section, count] : ignored_section_counts) {
    config.warnings.push_back(path + ": [" + section + "]: section not used by Glimmer; " +
                              std::to_string(count) + " option(s) ignored");
  }
  return OkStatus();
}

}  // namespace

std::string Config::StagingDir() const {
  if (!node_staging_uri.empty()) return node_staging_uri.substr(7);
  std::string dir = data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + "/staging";
}

std::vector<Config::StoreConfig> Config::Stores() const {
  std::vector<StoreConfig> out;
  if (enabled_backends.empty()) {
    StoreConfig single{default_store, default_store, true, {}};
    for (const auto& [name, value] : glance_store_options) {
      if (StoreTypeOfOption(name) == default_store) single.options[name] = value;
    }
    if (default_store == "file") single.options["filesystem_store_datadir"] = ImageDir();
    out.push_back(std::move(single));
    return out;
  }
  for (const auto& [name, type] : enabled_backends) {
    StoreConfig store{name, type, name == default_backend, {}};
    if (auto it = backend_options.find(name); it != backend_options.end()) {
      store.options = it->second;
    }
    out.push_back(std::move(store));
  }
  return out;
}

std::string Config::ImageDir() const {
  if (!filesystem_store_datadir.empty()) return filesystem_store_datadir;
  std::string dir = data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + "/images";
}

StatusOr<int64_t> ParseByteSize(std::string_view text) {
  std::string_view v = text;
  int64_t factor = 1;
  static constexpr std::pair<std::string_view, int64_t> kUnits[] = {{"KB", int64_t{1} << 10},
                                                                    {"MB", int64_t{1} << 20},
                                                                    {"GB", int64_t{1} << 30},
                                                                    {"TB", int64_t{1} << 40},
                                                                    {"B", 1}};
  for (const auto& [suffix, multiple] : kUnits) {
    if (v.ends_with(suffix)) {
      v.remove_suffix(suffix.size());
      factor = multiple;
      break;
    }
  }
  if (v.empty() || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return InvalidArgumentError("value " + Quote(text) +
                                " is not a size (digits optionally followed by B, KB, MB, GB "
                                "or TB, no spaces)");
  }
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || n > std::numeric_limits<int64_t>::max() / factor) {
    return InvalidArgumentError("value " + Quote(text) + " is too large");
  }
  return n * factor;
}

Status ApplyOverride(Config& config, std::string_view section, std::string_view option,
                     std::string_view value) {
  ASSIGN_OR_RETURN(Disposition done, Apply(config, section, option, value, {}));
  if (done != Disposition::kApplied) {
    config.warnings.push_back(IgnoredOptionWarning(section, option, ""));
  }
  return OkStatus();
}

StatusOr<Config> LoadConfig(const std::optional<std::string>& ini_path,
                            const std::map<std::string, std::string>& env) {
  Config config;
  if (ini_path.has_value()) RETURN_IF_ERROR(ApplyIniFile(config, *ini_path));
  RETURN_IF_ERROR(ApplyEnvironment(config, env));
  if (!config.default_backend.empty()) {
    bool known = false;
    for (const auto& [name, type] : config.enabled_backends) known |= name == config.default_backend;
    if (!known) {
      return InvalidArgumentError("[glance_store] default_backend: " +
                                  Quote(config.default_backend) +
                                  " is not one of [DEFAULT] enabled_backends");
    }
  } else if (!config.enabled_backends.empty()) {
    return InvalidArgumentError("[glance_store] default_backend must name one of [DEFAULT] "
                                "enabled_backends");
  }
  for (const Config::StoreConfig& store : config.Stores()) {
    const std::string section = config.enabled_backends.empty() ? "glance_store" : store.name;
    for (const StoreOptionDef& def : StoreOptionDefs()) {
      if (def.type != store.type || !def.required) continue;
      auto it = store.options.find(std::string(def.name));
      if (it == store.options.end() || it->second.empty()) {
        return InvalidArgumentError("[" + section + "] " + std::string(def.name) +
                                    " must be set for the " + store.type + " store " +
                                    Quote(store.name));
      }
    }
  }
  if (config.database_connection.starts_with("mysql")) {
    config.warnings.push_back(
        "[database] connection: MySQL is not supported by Glimmer; the embedded SQLite "
        "database is used (set postgresql://... to share metadata between nodes)");
    config.database_connection.clear();
  }
  return config;
}

}  // namespace glimmer::server
