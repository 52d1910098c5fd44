#pragma once
// Glimmer's configuration: every setting the service has, with Glance's defaults, loaded from an
// oslo.config-style INI file (a glance-api.conf can be carried over), then environment variables,
// then command-line overrides. docs/configuration.md lists every option.
//
// Precedence (lowest to highest): built-in defaults < INI file < environment < ApplyOverride()
// calls made by the caller afterwards (CLI flags).
//
// Config is a plain value; it is built once at startup and then shared read-only.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "webdownload/address_policy.h"
#include "webdownload/url_filter.h"

namespace glimmer::server {

// [import_filtering_opts]: URL filtering for web-download (SSRF defence). When both the allow-
// and the deny-list of one dimension are set, only the allow-list is used (as Glance does).
// [import_filtering_opts]: the web-download URL filter's own options (Glance's names/defaults).
using ImportFilteringOptions = webdownload::UrlFilterOptions;

struct Config {
  // ---- [DEFAULT] (Glance names and defaults) ----
  std::string bind_host = "127.0.0.1";
  int bind_port = 9292;  // 0 = any free port (tests)
  // Base URL for links in the versions document; empty = derived from the request.
  std::string public_endpoint;
  int64_t image_size_cap = 1099511627776;  // bytes (1 TiB)
  int64_t user_storage_quota = 0;          // bytes per project; 0 = unlimited
  int limit_param_default = 25;
  int api_limit_max = 1000;
  // Per-image quotas; a negative value means unlimited.
  int64_t image_member_quota = 128;
  int64_t image_property_quota = 128;
  int64_t image_tag_quota = 128;
  int64_t image_location_quota = 10;
  bool show_image_direct_url = false;
  bool show_multiple_locations = false;
  // The Images API v1 at /v1 (and its entries in the versions document); off: /v1 answers as
  // an unknown version does.
  bool enable_v1_api = true;
  std::vector<std::string> enabled_import_methods = {"glance-direct", "web-download", "copy-image"};
  std::string hashing_algorithm = "sha512";  // only sha512 is accepted
  int workers = 0;  // accepted for glance-api.conf compatibility; Glimmer is one process
  // Property protections (Glance's format, see policy/property_protections.h); empty = none.
  std::string property_protection_file;
  std::string property_protection_rule_format = "roles";  // "roles" | "policies"

  // ---- [oslo_policy] ----
  // Operator policy file (YAML or JSON, oslo.policy rule language) overriding Glance's default
  // rules; empty = built-in defaults only. Other [oslo_policy] options are accepted and ignored.
  std::string policy_file;

  // ---- [image_format] ----
  std::vector<std::string> disk_formats = {"ami", "ari",   "aki", "vhd", "vhdx", "vmdk",
                                           "raw", "qcow2", "vdi", "iso", "ploop"};
  std::vector<std::string> container_formats = {"ami", "ari", "aki",    "bare",
                                                "ovf", "ova", "docker", "compressed"};

  // ---- [database] (oslo.db's names) ----
  // Empty: the embedded SQLite file <data_dir>/glimmer.db. "sqlite:///PATH" (SQLAlchemy's form:
  // sqlite:///relative.db, sqlite:////absolute.db) or "postgresql://user:password@host:port/db?..." (any libpq URI or key=value
  // string after "postgresql://"; "postgresql+psycopg2://" is accepted as in oslo.db).
  std::string database_connection;
  int database_max_pool_size = 10;  // connections per node (PostgreSQL)

  // ---- [glance_store] ----
  std::string default_store = "file";  // the single store's type: file, rbd or s3
  // Image files directory as configured; empty = "<data_dir>/images" (use ImageDir()).
  std::string filesystem_store_datadir;
  // The single store's rbd_* / s3_store_* options (without enabled_backends), by name.
  std::map<std::string, std::string> glance_store_options;

  // ---- Multi-store ([DEFAULT] enabled_backends = "name:type, ...", one section per backend,
  // [glance_store] default_backend). Empty: one filesystem store named "file". ----
  std::vector<std::pair<std::string, std::string>> enabled_backends;  // (name, type)
  // Each backend section's options, e.g. backend_options["fast"]["filesystem_store_datadir"],
  // validated for the backend's type (see docs/configuration.md); every type also takes
  // store_description and weight (an integer).
  std::map<std::string, std::map<std::string, std::string>> backend_options;
  std::string default_backend;

  // ---- Interoperable import ----
  std::string node_staging_uri;  // [DEFAULT] file:///dir; empty = <data_dir>/staging
  std::vector<std::string> image_import_plugins;  // [image_import_opts]
  // [inject_metadata_properties] inject = "key:value, ..." and ignore_user_roles.
  std::vector<std::pair<std::string, std::string>> inject_metadata;
  std::vector<std::string> inject_ignore_user_roles = {"admin"};
  std::string conversion_output_format = "raw";  // [image_conversion] output_format
  int64_t task_time_to_live_hours = 48;           // [task] task_time_to_live
  // [glance_download_properties]: Glance's extra_properties (prefixes copied from the remote
  // image) and Glimmer's regions ("RegionTwo=https://glance.two:9292, ...").
  std::vector<std::string> glance_download_properties = {"hw_", "trait:", "os_distro",
                                                         "os_secure_boot", "os_type"};
  std::map<std::string, std::string> glance_download_regions;

  // ---- [import_filtering_opts] ----
  ImportFilteringOptions import_filtering;
  // Glimmer's additions: the resolved address of a web-download host (and of every redirect)
  // must be public unless allowed here; time limits of one download.
  webdownload::AddressPolicyOptions import_address_policy;
  int64_t web_download_connect_timeout_seconds = 10;
  int64_t web_download_stall_timeout_seconds = 30;  // no progress for this long = failure

  // ---- [quota] (Glimmer-only; Glance's unified-limit names; -1 = unlimited) ----
  int64_t quota_image_count_total = -1;      // images per project
  int64_t quota_image_size_total_mib = -1;   // stored image data per project, MiB
  int64_t quota_image_count_uploading = -1;  // concurrent uploads/imports per project
  int64_t quota_image_stage_total_mib = -1;  // staged data per project, MiB

  // ---- [dashboard] (Glimmer-only; docs/design/dashboard.md) ----
  bool dashboard_enabled = true;  // serve /dashboard/ and redirect browsers from /
  // Secure attribute of the session cookie: "auto" (when the request came over TLS or from a
  // trusted proxy with X-Forwarded-Proto: https), "true" or "false".
  std::string dashboard_secure_cookie = "auto";
  // Peer IP addresses whose X-Forwarded-Proto header the dashboard believes (none by default).
  std::vector<std::string> dashboard_trusted_proxies;

  // ---- [glimmer] (Glimmer-only) ----
  std::string data_dir = "./data";
  // ---- [DEFAULT] eventlet-era HTTP options of Glance that Glimmer applies ----
  int64_t max_header_line = 16384;  // one header field line
  bool http_keepalive = true;
  int backlog = 4096;
  // ---- [healthcheck] (oslo.middleware): /healthcheck answers 503 while this file exists ----
  std::string healthcheck_disable_file;
  std::string admin_password;  // empty = the bootstrap generates one (shown once, never logged)
  int64_t token_expiration = 3600;        // seconds
  // A validated token is trusted from memory this long; a revocation made on another node is
  // seen here within it (keystonemiddleware's token_cache_time plays the same part). 0: none.
  int64_t token_cache_seconds = 30;
  // Password guessing (identity/login_throttle.h): after this many failed logins of one user,
  // or from one client address (0 = not counted), each less than the window after the previous
  // one, further attempts are refused (429) for 1 s, doubling with each further failure up to
  // the maximum delay; at most max_entries users and addresses are tracked. Per node.
  int login_throttle_user_failures = 5;
  int login_throttle_address_failures = 20;
  int64_t login_throttle_window_seconds = 900;
  int64_t login_throttle_max_delay_seconds = 30;
  int64_t login_throttle_max_entries = 10000;
  int password_hash_iterations = 100000;  // PBKDF2-HMAC-SHA256
  bool fsync_uploads = true;
  // HTTP limits (http/server.h): the whole header block, the request line, the number of
  // header fields, the chunk extensions of one chunk; open connections; the keep-alive idle time
  // ([DEFAULT] client_socket_timeout sets it too), the time to send a header, the longest stall
  // of a body, and the minimum body rate (bytes/s over a window; 0 = none).
  int64_t max_header_bytes = 65536;
  int64_t max_request_line = 16384;
  int max_header_count = 100;
  int64_t max_chunk_extension_bytes = 1024;
  int64_t max_connections = 10000;
  int64_t idle_timeout_seconds = 60;
  int64_t header_timeout_seconds = 30;
  int64_t body_timeout_seconds = 300;
  int64_t min_body_rate_bytes = 1024;
  int64_t min_body_rate_window_seconds = 30;
  // All uploads' buffers together (hashing pipeline, 3 x 4 MiB per upload at most): beyond,
  // uploads wait for memory instead of growing it.
  int64_t upload_buffer_budget_mib = 256;
  // Worker threads for handlers' fibers: database calls, hashing, format checks. Clients that
  // wait do not hold them, so this bounds concurrent work, not concurrent requests; few threads
  // switch least (GET /v2/images/{id} at 64 connections on 2 cores: 23k req/s with 2 threads,
  // 18k with 4, 13k with 16). 0 = twice the cores, at least 4.
  int handler_threads = 0;
  int io_threads = 2;
  int64_t max_json_body_bytes = 1 << 20;
  std::string log_level = "info";  // trace|debug|info|warning|error|critical|off
  bool access_log = true;
  // Task runner: tasks run at once on this node, the time limit of one run, the node's name in
  // task claims (empty: <hostname>:<port>).
  // Images declaring a larger virtual size are refused (a 450 KiB qcow2 can declare 16 TiB).
  int64_t max_virtual_size = int64_t{1} << 44;
  int task_workers = 2;
  int64_t task_time_limit_seconds = 4 * 3600;
  // A node that stops renewing its task leases (it died) loses its tasks to the other nodes
  // after this long; leases are renewed every sixth of it.
  int64_t task_lease_seconds = 30;
  std::string node_id;

  // Human-readable notes about accepted-but-ignored settings (Glance options Glimmer does not
  // implement, unused GLIMMER_* variables). The caller logs them at startup.
  std::vector<std::string> warnings;

  // The effective image directory: filesystem_store_datadir, or "<data_dir>/images".
  std::string ImageDir() const;
  // The stores to open, in configuration order (the order of /v2/info/stores): the
  // enabled_backends, or the single [glance_store] one (named after its type). Options are the section's text, checked at load time for the
  // store type (names, kinds, ranges, required ones); unset options take the store's defaults.
  struct StoreConfig {
    std::string name;
    std::string type;  // file | rbd | s3
    bool is_default = false;  // default_backend (or the single store)
    std::map<std::string, std::string> options;
  };
  std::vector<StoreConfig> Stores() const;
  // The effective staging directory (node_staging_uri without file://, or <data_dir>/staging).
  std::string StagingDir() const;
};

// Builds the configuration: defaults, then `ini_path` (if given), then `env` (the process
// environment as a map; only GLIMMER_* entries are looked at).
//
// Environment: GLIMMER_<SECTION>__<OPTION> (upper case, double underscore, e.g.
// GLIMMER_DEFAULT__BIND_PORT, GLIMMER_GLANCE_STORE__DEFAULT_STORE) sets any option; the short
// aliases GLIMMER_DATA_DIR, GLIMMER_LISTEN (host:port, IPv6 as [addr]:port),
// GLIMMER_ADMIN_PASSWORD and GLIMMER_LOG_LEVEL are applied before the long forms.
//
// Errors: NotFound when `ini_path` cannot be opened; InvalidArgument for syntax errors, unknown
// sections/options and bad values, with a message naming the file, line, section and option (or
// the environment variable). Options and sections that glance-api.conf has but Glimmer does not
// implement are accepted and reported in Config::warnings.
StatusOr<Config> LoadConfig(const std::optional<std::string>& ini_path,
                            const std::map<std::string, std::string>& env);

// Parses and validates `value` for [section] option and stores it in `config`, exactly as the INI
// loader does (section names are case-insensitive; "-" and "_" are equivalent in option names).
// Glance options that Glimmer ignores are accepted with a warning appended to config.warnings.
// Errors: InvalidArgument for an unknown section/option or a bad value (the message names them).
Status ApplyOverride(Config& config, std::string_view section, std::string_view option,
                     std::string_view value);

// "<n>", "<n>B", "<n>KB", "<n>MB", "<n>GB", "<n>TB" (binary multiples, no spaces, as Glance's
// user_storage_quota) → bytes. InvalidArgument on malformed input or overflow.
StatusOr<int64_t> ParseByteSize(std::string_view text);

}  // namespace glimmer::server
