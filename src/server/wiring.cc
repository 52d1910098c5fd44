#include "server/wiring.h"

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <condition_variable>
#include <span>
#include <thread>

#include <spdlog/spdlog.h>

#include "api/identity/identity_api.h"
#include "api/images/images_api.h"
#include "api/router.h"
#include "dashboard/assets.h"
#include "dashboard/dashboard_handler.h"
#include "dashboard/session_store.h"
#include "db/sql/identity_repository.h"
#include "db/sql/image_repository.h"
#include "db/sql/session_repository.h"
#include "db/sql/task_repository.h"
#include "decompress/decompress.h"
#include "db/sql/metadef_repository.h"
#include "domain/policy.h"
#include "metadefs/metadef_service.h"
#include "http/server.h"
#include "identity/identity_service.h"
#include "images/image_data.h"
#include "images/image_env.h"
#include "images/image_records.h"
#include "images/image_sharing.h"
#include "images/import_coordinator.h"
#include "images/conversion_plugin.h"
#include "images/import_flow.h"
#include "platform/clock.h"
#include "platform/executor.h"
#include "platform/file.h"
#include "platform/host.h"
#include "platform/memory_budget.h"
#include "platform/random.h"
#include "policy/property_protections.h"
#include "policy/rule_policy.h"
#include "server/backends.h"
#include "staging/staging_area.h"
#include "tasks/task_runner.h"
#include "webdownload/fetcher.h"

namespace glimmer::server {
namespace {

// Start-up problems (the functions below) are reported to the operator only, on stderr and in
// the log, never to an API client: their messages may name the directory.

// Directories Glimmer creates hold what other local users must not read (the metadata
// database, staged uploads): `mode` for a new one; an existing one that grants more is
// tightened to at most `mode` (and logged), unless it is not ours to change (another owner, or
// sticky like /tmp), which is logged too. Missing parents are created as mkdir -p does.
Status SecureDir(platform::FileSystem& files, const std::string& path, uint32_t mode) {
  auto failed = [&path](const Status& st) {
    return platform::Annotate("Cannot prepare directory " + path, st);
  };
  StatusOr<platform::FileInfo> info = files.Stat(path);
  if (!info.ok()) {
    if (info.status().code() != StatusCode::kNotFound) return failed(info.status());
    (void)files.CreateDirs(std::string(platform::DirName(path)), 0777);  // errors show below
    Status created = files.CreateDir(path, mode);
    if (!created.ok() && created.code() != StatusCode::kAlreadyExists) return failed(created);
    info = files.Stat(path);
    if (!info.ok()) return failed(info.status());
  }
  if (info->type != platform::FileType::kDirectory) {
    return UnavailableError(path + " is not a directory");
  }
  const uint32_t current = info->permissions;
  if ((current & 0777 & ~mode) == 0) return OkStatus();
  if (info->owner != ::geteuid() || (current & S_ISVTX) != 0) {
    spdlog::warn("{} is open to other users (mode {:04o}) and not ours to tighten", path, current);
    return OkStatus();
  }
  const uint32_t tightened = current & (mode | ~uint32_t{0777});
  RETURN_IF_ERROR(failed(files.Chmod(path, tightened)));
  spdlog::warn("tightened the permissions of {} from {:04o} to {:04o}", path, current, tightened);
  return OkStatus();
}

// The SQLite database and its -wal, -shm and -journal files (password hashes, token digests):
// owner-only. New ones are created so (db/sqlite); older, looser ones are tightened here.
void SecureSqliteFiles(platform::FileSystem& files, const std::string& db_path) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    const std::string path = db_path + suffix;
    StatusOr<platform::FileInfo> info = files.StatNoFollow(path);
    if (!info.ok() || info->type != platform::FileType::kRegular) continue;
    const uint32_t current = info->permissions & 0777;
    if ((current & 0077) == 0) continue;
    if (info->owner != ::geteuid() || !files.Chmod(path, current & 0600).ok()) {
      spdlog::warn("{} is readable by other users (mode {:04o}) and could not be tightened", path,
                   current);
      continue;
    }
    spdlog::warn("tightened the permissions of {} from {:04o} to {:04o}", path, current,
                 current & 0600);
  }
}

// A value for `source`: single-quoted, a ' inside written as '\''.
std::string ShellQuote(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// <data_dir>/openrc-admin: what `source` needs for the openstack/glance CLIs. Written to a new
// owner-only file (O_EXCL, 0600 from its creation: never readable by others, not even
// briefly), then renamed over the old one.
Status WriteOpenrc(const Config& config, uint16_t port, const std::string& password,
                   const std::string& project_id) {
  std::string host = config.bind_host == "0.0.0.0" || config.bind_host == "::" ? "127.0.0.1"
                                                                                 : config.bind_host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  std::string base = config.public_endpoint.empty()
                         ? "http://" + host + ":" + std::to_string(port)
                         : config.public_endpoint;
  const std::string path = config.data_dir + "/openrc-admin";
  const std::string text =
      "# Glimmer admin credentials (generated). Use: source " + path + "\n" +
      "export OS_AUTH_URL=" + ShellQuote(base + "/identity/v3") + "\n" +
      "export OS_AUTH_TYPE=password\n"
      "export OS_IDENTITY_API_VERSION=3\n"
      "export OS_IMAGE_API_VERSION=2\n"
      "export OS_USERNAME=admin\n"
      "export OS_PASSWORD=" + ShellQuote(password) + "\n" +
      "export OS_PROJECT_NAME=admin\n"
      "export OS_PROJECT_ID=" + ShellQuote(project_id) + "\n" +
      "export OS_USER_DOMAIN_NAME=Default\n"
      "export OS_PROJECT_DOMAIN_NAME=Default\n"
      "export OS_REGION_NAME=RegionOne\n"
      "export OS_INTERFACE=public\n";
  // The directory is ours alone: a path.tmp left by a crash is removed first.
  return platform::Annotate(
      "Cannot write " + path,
      platform::WriteFileAtomically(platform::FileSystem::Default(), path, text, 0600));
}

// A generated admin password is shown once, on the operator's terminal only: it must never reach
// a log file or journald (DATA_DIR/openrc-admin, mode 0600, keeps it).
void ShowGeneratedPassword(const std::string& password, const std::string& openrc) {
  const int fd = ::isatty(STDERR_FILENO) ? STDERR_FILENO
                 : ::isatty(STDOUT_FILENO) ? STDOUT_FILENO
                                           : -1;
  if (fd < 0) {
    spdlog::warn("a password was generated for the admin user; it is in {} (mode 0600) and is "
                 "not logged",
                 openrc);
    return;
  }
  spdlog::default_logger()->flush();
  const std::string text = "\nGenerated admin password (shown once, not logged): " + password +
                           "\nIt is also in " + openrc + " (mode 0600).\n\n";
  (void)platform::WriteFully(fd, std::as_bytes(std::span(text.data(), text.size())), "terminal");
  spdlog::warn("a password was generated for the admin user and shown on the terminal; it is "
               "in {} (mode 0600)",
               openrc);
}

// The image_decompression import plugin (Glance's, plus zstd and xz): a compressed staged file
// is replaced by its single decompressed member, unless the image is declared `compressed`.
images::StagedPlugin DecompressPlugin(int64_t max_output) {
  return [max_output](const std::string& path, domain::Image& image,
                      tasks::TaskContext& ctx) -> Status {
    if (image.container_format == "compressed") return OkStatus();
    const std::string out = path + ".decompressed";
    decompress::Options opts;
    opts.max_output_bytes = images::PluginOutputLimit(ctx, max_output);  // the quota left too
    auto result = decompress::DecompressFile(path, out, opts, [&ctx](int64_t done) {
      ctx.Progress("Decompressed " + std::to_string(done >> 20) + " MiB");
      return ctx.Cancelled().ok();
    });
    platform::FileSystem& files = platform::FileSystem::Default();
    if (!result.ok()) {
      (void)files.RemoveFile(out);
      RETURN_IF_ERROR(ctx.Cancelled());
      return result.status();
    }
    if (result->codec == decompress::Codec::kNone) return OkStatus();
    RETURN_IF_ERROR(platform::Annotate("cannot replace the staged file",
                                       files.Rename(out, path, platform::RenameMode::kReplace)));
    spdlog::info("image {}: decompressed {} staged data: {} -> {} bytes", image.id,
                 decompress::CodecName(result->codec), result->input_bytes, result->output_bytes);
    return OkStatus();
  };
}

class CoreImpl final : public Core {
 public:
  Status Open(const Config& config, CoreOptions options = {});
  identity::IdentityService& identity() override { return *identity_; }
  images::ImageRecords& image_records() override { return *records_; }
  images::ImageData& image_data() override { return *data_; }
  images::ImageSharing& image_sharing() { return *sharing_; }
  images::ImportCoordinator& imports() { return *imports_; }
  const std::string& admin_project_id() const override { return admin_project_id_; }
  // Set when this start generated (or was given) the admin password.
  const std::string& admin_password() const { return admin_password_; }
  bool generated_password() const { return generated_; }
  tasks::TaskRunner& task_runner() { return *runner_; }
  const domain::Policy& policy() const { return *policy_; }
  db::SessionRepository& dashboard_sessions() { return *session_repo_; }
  db::MetadefRepository& metadef_repository() override { return *metadef_repo_; }
  metadefs::MetadefService& metadefs() { return *metadefs_; }

  platform::Executor& hash_pool() { return *hash_pool_; }

 private:
  // Declaration order is construction order; destruction runs in reverse.
  std::unique_ptr<platform::Executor> hash_pool_;
  std::unique_ptr<platform::MemoryBudget> upload_budget_;  // all uploads' buffers
  std::unique_ptr<platform::Executor> store_io_pool_;  // S3 part uploads (only with an S3 store)
  std::unique_ptr<platform::Executor> password_pool_;  // PBKDF2 of logins and password changes
  std::unique_ptr<db::sql::Database> db_;
  std::unique_ptr<db::ImageRepository> image_repo_;
  std::unique_ptr<db::IdentityRepository> identity_repo_;
  std::unique_ptr<db::SessionRepository> session_repo_;  // the dashboard's sessions
  std::unique_ptr<identity::IdentityService> identity_;
  std::vector<std::unique_ptr<store::Store>> stores_;
  std::unique_ptr<db::TaskRepository> task_repo_;
  std::unique_ptr<staging::StagingArea> staging_;
  std::unique_ptr<webdownload::HttpFetcher> fetcher_;
  std::unique_ptr<policy::RulePolicy> policy_;
  std::unique_ptr<policy::PropertyProtections> property_protections_;
  std::unique_ptr<images::ImageEnv> image_env_;  // shared by the image components below
  std::unique_ptr<images::ImageRecords> records_;
  std::unique_ptr<images::ImageData> data_;
  std::unique_ptr<images::ImageSharing> sharing_;
  std::unique_ptr<images::ImportCoordinator> imports_;
  std::unique_ptr<images::ImportHandler> import_handler_;
  std::unique_ptr<db::MetadefRepository> metadef_repo_;
  std::unique_ptr<metadefs::MetadefService> metadefs_;
  std::unique_ptr<tasks::TaskRunner> runner_;  // runs import_handler_: destroyed first
  std::string admin_project_id_;
  std::string admin_password_;
  bool generated_ = false;
};

Status CoreImpl::Open(const Config& config, CoreOptions options) {
  platform::FileSystem& files = platform::FileSystem::Default();
  RETURN_IF_ERROR(SecureDir(files, config.data_dir, 0750));  // images/ inside: the store's (0750)
  int cores = static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
  // Two digests per upload run concurrently; size the pool for several parallel uploads.
  hash_pool_ = std::make_unique<platform::Executor>("hash", std::max(4, 2 * cores));

  const std::string node_id = config.node_id.empty()
                                  ? platform::HostName() + ":" + std::to_string(config.bind_port)
                                  : config.node_id;
  if (auto sqlite = SqlitePath(config)) SecureSqliteFiles(files, *sqlite);
  ASSIGN_OR_RETURN(db_, OpenDatabase(config));
  spdlog::info("metadata database: {} (schema version {})", db_->engine(),
               db_->schema_version());
  image_repo_ = db::sql::NewImageRepository(*db_);
  identity_repo_ = db::sql::NewIdentityRepository(*db_);
  session_repo_ = db::sql::NewSessionRepository(*db_);
  metadef_repo_ = db::sql::NewMetadefRepository(*db_);

  identity::IdentityOptions iopts;
  iopts.token_ttl = config.token_expiration * 1'000'000;
  iopts.token_cache_max_age = config.token_cache_seconds * 1'000'000;
  iopts.password_iterations = config.password_hash_iterations;
  // As many as the cores: a burst of logins uses the CPU, not the request workers.
  password_pool_ = std::make_unique<platform::Executor>("password", cores);
  iopts.password_pool = password_pool_.get();
  iopts.login_throttle.user_threshold = config.login_throttle_user_failures;
  iopts.login_throttle.address_threshold = config.login_throttle_address_failures;
  iopts.login_throttle.window = config.login_throttle_window_seconds * 1'000'000;
  iopts.login_throttle.max_delay = config.login_throttle_max_delay_seconds * 1'000'000;
  iopts.login_throttle.max_entries = static_cast<size_t>(config.login_throttle_max_entries);
  identity_ = std::make_unique<identity::IdentityService>(*identity_repo_,
                                                           platform::Clock::Real(), iopts);

  // Bootstrap: the first start creates the admin user, with the configured password or a
  // generated one. Later starts with a configured password apply it to the admin user if that
  // user is enabled; a disabled admin user and its role assignments are left as they are.
  bool first_start = !identity_repo_->GetUserByName("default", "admin").ok();
  if (first_start && !options.bootstrap) {
    return FailedPreconditionError("no Glimmer installation in this database");
  }
  admin_password_ = config.admin_password;
  if (admin_password_.empty() && first_start) {
    admin_password_ = platform::RandomUrlSafe(18);
    generated_ = true;
  }
  if (!admin_password_.empty()) {
    identity::BootstrapOptions b;
    b.admin_password = admin_password_;
    b.reset_admin_password = true;
    ASSIGN_OR_RETURN(auto result, identity_->Bootstrap(b));
    admin_project_id_ = result.admin_project_id;
    if (result.admin_disabled) {
      spdlog::warn("the admin user is disabled: [glimmer] admin_password was not applied to it "
                   "(an admin can enable it again through the identity API)");
    }
  } else if (auto p = identity_repo_->GetProjectByName("default", "admin"); p.ok()) {
    admin_project_id_ = p->id;
  }

  // One policy engine: Glance's default rules, overridden by [oslo_policy] policy_file.
  ASSIGN_OR_RETURN(policy_, policy::RulePolicy::FromFile(config.policy_file));
  for (const auto& w : policy_->warnings()) spdlog::warn("policy: {}", w);
  metadefs_ = std::make_unique<metadefs::MetadefService>(*metadef_repo_, *policy_,
                                                         platform::Clock::Real());
  if (!config.property_protection_file.empty()) {
    ASSIGN_OR_RETURN(auto format,
                     policy::ParsePropertyRuleFormat(config.property_protection_rule_format));
    ASSIGN_OR_RETURN(property_protections_,
                     policy::LoadPropertyProtections(config.property_protection_file, format,
                                                     policy_.get()));
  }

  // Stores: the enabled_backends in their configured order (the order of /v2/info/stores,
  // OpenStack-image-store-ids and all_stores imports), or the single [glance_store] one.
  images::StoreSet store_set;
  store_set.multistore = !config.enabled_backends.empty();
  const std::vector<Config::StoreConfig> store_configs = config.Stores();
  int s3_threads = 0;  // parts in flight of every S3 store (s3_store_thread_pools, 10)
  for (const auto& sc : store_configs) {
    if (sc.type != "s3") continue;
    auto it = sc.options.find("s3_store_thread_pools");
    s3_threads += it == sc.options.end() ? 10 : std::stoi(it->second);
  }
  if (s3_threads > 0) {
    store_io_pool_ = std::make_unique<platform::Executor>("store-io", std::min(64, s3_threads));
  }
  StoreContext store_context{node_id, config.fsync_uploads, store_io_pool_.get()};
  for (const Config::StoreConfig& sc : store_configs) {
    ASSIGN_OR_RETURN(auto opened, OpenStore(sc, store_context));
    spdlog::info("store '{}' ({}){}", opened->info().id, opened->info().type,
                 opened->info().is_default ? ", default" : "");
    stores_.push_back(std::move(opened));
  }
  for (auto& s : stores_) store_set.stores.push_back(s.get());
  images::ServiceOptions sopts;
  sopts.image_size_cap = config.image_size_cap;
  sopts.image_property_quota = static_cast<int>(config.image_property_quota);
  sopts.image_tag_quota = static_cast<int>(config.image_tag_quota);
  sopts.image_member_quota = static_cast<int>(config.image_member_quota);
  sopts.property_protections = property_protections_.get();
  sopts.max_virtual_size = config.max_virtual_size;
  upload_budget_ = std::make_unique<platform::MemoryBudget>(
      static_cast<size_t>(config.upload_buffer_budget_mib) << 20);
  sopts.upload_budget = upload_budget_.get();
  sopts.node_id = node_id;
  constexpr int64_t kMiB = 1 << 20;
  auto mib = [](int64_t v) { return v < 0 ? v : v * kMiB; };
  sopts.quotas.image_count_total = config.quota_image_count_total;
  sopts.quotas.image_size_total = mib(config.quota_image_size_total_mib);
  if (sopts.quotas.image_size_total < 0 && config.user_storage_quota > 0) {
    sopts.quotas.image_size_total = config.user_storage_quota;  // Glance's legacy option
  }
  sopts.quotas.image_count_uploading = config.quota_image_count_uploading;
  sopts.quotas.image_stage_total = mib(config.quota_image_stage_total_mib);
  image_env_ = std::make_unique<images::ImageEnv>(images::ImageEnv{
      *image_repo_, std::move(store_set), *policy_, *hash_pool_, platform::Clock::Real(), sopts});

  // Interoperable import: tasks in the database, node-local staging, the task runner.
  task_repo_ = db::sql::NewTaskRepository(*db_);
  RETURN_IF_ERROR(SecureDir(files, config.StagingDir(), 0700));  // users' data before any check
  ASSIGN_OR_RETURN(staging_, staging::StagingArea::Open(config.StagingDir()));
  fetcher_ = std::make_unique<webdownload::HttpFetcher>();
  tasks::RunnerOptions ropts;
  ropts.node_id = node_id;
  ropts.workers = config.task_workers;
  ropts.time_limit = std::chrono::seconds(config.task_time_limit_seconds);
  ropts.lease = std::chrono::seconds(config.task_lease_seconds);
  ropts.heartbeat = ropts.lease / 6;
  ropts.task_time_to_live = std::chrono::hours(config.task_time_to_live_hours);
  runner_ = std::make_unique<tasks::TaskRunner>(*task_repo_, platform::Clock::Real(), ropts);
  images::ImportOptions import_options;
  import_options.enabled_methods = config.enabled_import_methods;
  import_options.plugins = config.image_import_plugins;
  import_options.inject = config.inject_metadata;
  import_options.inject_ignore_user_roles = config.inject_ignore_user_roles;
  import_options.fetch.url_filter = config.import_filtering;
  import_options.fetch.address_policy = config.import_address_policy;
  import_options.fetch.connect_timeout_ms = config.web_download_connect_timeout_seconds * 1000;
  import_options.fetch.low_speed_time_s = config.web_download_stall_timeout_seconds;
  import_options.fetch.max_bytes = config.image_size_cap;
  import_options.task_time_to_live_seconds = config.task_time_to_live_hours * 3600;
  import_options.glance_download_regions = config.glance_download_regions;
  import_options.glance_download_properties = config.glance_download_properties;
  records_ = std::make_unique<images::ImageRecords>(*image_env_, staging_.get());
  data_ = std::make_unique<images::ImageData>(*image_env_);
  sharing_ = std::make_unique<images::ImageSharing>(*image_env_);
  imports_ = std::make_unique<images::ImportCoordinator>(
      *image_env_, *task_repo_, *staging_, std::move(import_options),
      [this] { runner_->Wake(); });
  import_handler_ =
      std::make_unique<images::ImportHandler>(*image_env_, *data_, *imports_, *fetcher_, files);
  import_handler_->AddPlugin("image_decompression", DecompressPlugin(config.image_size_cap));
  import_handler_->AddPlugin("image_conversion",
                             images::MakeConversionPlugin(config.conversion_output_format,
                                                          hash_pool_.get(),
                                                          config.max_virtual_size, files));
  runner_->Register(std::string(images::kImportTaskType), import_handler_.get());
  if (!options.recover) return OkStatus();
  // Crash recovery: uploads first (and the stores' incomplete writes), then stages and imports.
  RETURN_IF_ERROR(data_->RecoverAfterCrash());
  return imports_->RecoverAfterCrash();
}

class EmbeddedService final : public Service {
 public:
  Status Start(const Config& config);
  uint16_t port() const override { return server_->port(); }
  void Shutdown(std::chrono::milliseconds grace) override {
    // Running imports are interrupted first (they resume at the next start), then the HTTP
    // server drains.
    if (core_) core_->task_runner().Stop();
    if (server_) server_->Shutdown(grace);
  }
  ~EmbeddedService() override {
    Shutdown(std::chrono::milliseconds(0));
    {
      std::lock_guard lock(janitor_mu_);
      janitor_stop_ = true;
    }
    janitor_cv_.notify_all();
    if (janitor_.joinable()) janitor_.join();
  }

 private:
  std::unique_ptr<CoreImpl> core_;
  std::unique_ptr<platform::Executor> handler_pool_;
  std::unique_ptr<platform::Executor> stream_pool_;
  std::unique_ptr<api::identity::IdentityApi> identity_api_;
  std::unique_ptr<api::images::ImagesApi> images_api_;
  std::unique_ptr<api::metadefs::MetadefsApi> metadefs_api_;
  std::unique_ptr<api::v1::ImagesV1Api> images_v1_api_;
  std::unique_ptr<api::Router> router_;
  std::unique_ptr<dashboard::SessionStore> dashboard_sessions_;
  std::unique_ptr<dashboard::DashboardHandler> dashboard_;  // null with [dashboard] enabled=false
  std::unique_ptr<http::Server> server_;
  // Housekeeping: drops expired tokens from the database once an hour.
  std::mutex janitor_mu_;
  std::condition_variable janitor_cv_;
  bool janitor_stop_ = false;  // guarded by janitor_mu_
  std::thread janitor_;
};

Status EmbeddedService::Start(const Config& config) {
  core_ = std::make_unique<CoreImpl>();
  RETURN_IF_ERROR(core_->Open(config));
  const int cores = static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
  handler_pool_ = std::make_unique<platform::Executor>(
      "handler", config.handler_threads > 0 ? config.handler_threads : std::max(4, 2 * cores));
  // Blocking steps of downloads (sendfile calls, RBD/S3 reads): a slow disk or store slows the
  // downloads, never the API calls on the handler pool.
  stream_pool_ = std::make_unique<platform::Executor>("stream", std::max(4, 2 * cores));

  api::identity::IdentityApiOptions idopts;
  idopts.public_base_url = config.public_endpoint;
  identity_api_ = std::make_unique<api::identity::IdentityApi>(core_->identity(), idopts);
  api::images::ImagesApiOptions aopts;
  aopts.render.show_multiple_locations = config.show_multiple_locations;
  aopts.render.show_image_direct_url = config.show_image_direct_url;
  aopts.render.multistore = !config.enabled_backends.empty();
  aopts.limits.limit_param_default = config.limit_param_default;
  aopts.limits.api_limit_max = config.api_limit_max;
  aopts.schemas.disk_formats = config.disk_formats;
  aopts.schemas.container_formats = config.container_formats;
  aopts.max_json_body_bytes = static_cast<size_t>(config.max_json_body_bytes);
  images_api_ = std::make_unique<api::images::ImagesApi>(
      api::images::ImageComponents{core_->image_records(), core_->image_data(),
                                   core_->image_sharing(), core_->imports()},
      aopts);
  api::metadefs::MetadefsApiOptions mopts;
  mopts.limits = aopts.limits;
  mopts.max_json_body_bytes = aopts.max_json_body_bytes;
  metadefs_api_ = std::make_unique<api::metadefs::MetadefsApi>(core_->metadefs(), mopts);
  api::v1::ImagesV1ApiOptions v1opts;
  v1opts.limits = aopts.limits;
  v1opts.disk_formats = config.disk_formats;
  v1opts.container_formats = config.container_formats;
  v1opts.max_json_body_bytes = aopts.max_json_body_bytes;
  images_v1_api_ = std::make_unique<api::v1::ImagesV1Api>(
      api::images::ImageComponents{core_->image_records(), core_->image_data(),
                                   core_->image_sharing(), core_->imports()},
      v1opts);
  router_ = std::make_unique<api::Router>(
      core_->identity(), *identity_api_, *images_api_, *metadefs_api_, *images_v1_api_,
      api::RouterOptions{config.public_endpoint, config.healthcheck_disable_file,
                         config.enable_v1_api});

  // The dashboard (docs/design/dashboard.md): in front of the Router, which it calls for every
  // request that is not its own and, with the session's token, for its API edge.
  http::Handler handler = [this](http::Request& req) { return router_->Handle(req); };
  if (config.dashboard_enabled) {
    dashboard::SessionStoreOptions sopts;
    sopts.cache_max_age = config.token_cache_seconds * 1'000'000;
    dashboard_sessions_ = std::make_unique<dashboard::SessionStore>(
        core_->dashboard_sessions(), platform::Clock::Real(), sopts);
    dashboard::DashboardOptions dopts;
    dopts.public_endpoint = config.public_endpoint;
    using dashboard::SecureCookie;
    dopts.secure_cookie = config.dashboard_secure_cookie == "true"    ? SecureCookie::kAlways
                          : config.dashboard_secure_cookie == "false" ? SecureCookie::kNever
                                                                      : SecureCookie::kAuto;
    dopts.trusted_proxies = config.dashboard_trusted_proxies;
    dopts.assets = dashboard::EmbeddedAssets();
    dashboard_ = std::make_unique<dashboard::DashboardHandler>(
        core_->identity(), core_->policy(), *dashboard_sessions_, handler, std::move(dopts));
    handler = [this](http::Request& req) { return dashboard_->Handle(req); };
  }

  http::ServerOptions hopts;
  hopts.host = config.bind_host;
  hopts.port = static_cast<uint16_t>(config.bind_port);
  hopts.backlog = config.backlog;
  hopts.max_connections = static_cast<size_t>(config.max_connections);
  hopts.max_request_line = static_cast<size_t>(config.max_request_line);
  hopts.max_header_line = static_cast<size_t>(config.max_header_line);
  hopts.max_header_count = static_cast<size_t>(config.max_header_count);
  hopts.max_header_bytes = static_cast<size_t>(config.max_header_bytes);
  hopts.max_chunk_extension = static_cast<size_t>(config.max_chunk_extension_bytes);
  hopts.idle_timeout = std::chrono::seconds(config.idle_timeout_seconds);
  hopts.header_timeout = std::chrono::seconds(config.header_timeout_seconds);
  hopts.body_timeout = std::chrono::seconds(config.body_timeout_seconds);
  hopts.min_body_rate = static_cast<uint64_t>(config.min_body_rate_bytes);
  hopts.min_body_rate_window = std::chrono::seconds(config.min_body_rate_window_seconds);
  hopts.keep_alive = config.http_keepalive;
  hopts.io_threads = config.io_threads;
  hopts.access_log = config.access_log;
  hopts.inline_handler = [this](const http::Request& req) { return router_->HandleInline(req); };
  server_ = std::make_unique<http::Server>(hopts, std::move(handler), *handler_pool_,
                                           stream_pool_.get());
  // openrc-admin is in place before the first request is answered, so that whoever sees the
  // server up can use it at once (with port 0 the port is only known once listening).
  const bool write_openrc = !core_->admin_password().empty();
  auto write = [&](uint16_t port) {
    return WriteOpenrc(config, port, core_->admin_password(), core_->admin_project_id());
  };
  if (write_openrc && config.bind_port != 0) {
    RETURN_IF_ERROR(write(static_cast<uint16_t>(config.bind_port)));
  }
  RETURN_IF_ERROR(server_->Start());
  if (write_openrc && config.bind_port == 0) RETURN_IF_ERROR(write(server_->port()));
  core_->task_runner().Start();
  janitor_ = platform::StartThread("janitor", [this] {
    std::unique_lock lock(janitor_mu_);
    while (!janitor_cv_.wait_for(lock, std::chrono::hours(1), [this] { return janitor_stop_; })) {
      Status st = core_->identity().PurgeExpiredTokens();
      if (!st.ok()) spdlog::warn("token purge failed: {}", st.ToString());
      if (dashboard_sessions_) {
        auto purged = dashboard_sessions_->PurgeExpired();
        if (!purged.ok()) {
          spdlog::warn("dashboard session purge failed: {}", purged.status().ToString());
        }
      }
    }
  });
  if (core_->generated_password()) {
    ShowGeneratedPassword(core_->admin_password(), config.data_dir + "/openrc-admin");
  }
  return OkStatus();
}

}  // namespace

StatusOr<std::unique_ptr<Core>> OpenCore(const Config& config, CoreOptions options) {
  auto core = std::make_unique<CoreImpl>();
  RETURN_IF_ERROR(core->Open(config, options));
  return std::unique_ptr<Core>(std::move(core));
}

StatusOr<std::unique_ptr<Service>> StartService(const Config& config) {
  auto service = std::make_unique<EmbeddedService>();
  RETURN_IF_ERROR(service->Start(config));
  return std::unique_ptr<Service>(std::move(service));
}

}  // namespace glimmer::server
