#include "server/catalog_command.h"

#include <filesystem>
#include <iostream>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "catalog/catalog.h"
#include "catalog/fetch.h"
#include "catalog/loader.h"
#include "server/wiring.h"

namespace glimmer::server {

StatusOr<Config> LoadCommandConfig(const std::optional<std::string>& config_file,
                                   const std::map<std::string, std::string>& env,
                                   const std::string& data_dir) {
  ASSIGN_OR_RETURN(Config config, LoadConfig(config_file, env));
  if (!data_dir.empty()) {
    Status st = ApplyOverride(config, "glimmer", "data_dir", data_dir);
    if (!st.ok()) return InvalidArgumentError("--data-dir: " + st.message());
  }
  return config;
}

CLI::App* AddCatalogCommand(CLI::App& app, CatalogLoadFlags& flags) {
  auto* catalog = app.add_subcommand("catalog", "Manage the provider's public image catalog");
  catalog->require_subcommand(1);
  auto* load = catalog->add_subcommand(
      "load", "Register or refresh the images listed in a catalog file (YAML or JSON) as public "
              "images of the provider project (docs/catalog.md)");
  load->add_option("--config", flags.config_file, "INI configuration file (as for serve)")
      ->check(CLI::ExistingFile);
  load->add_option("--data-dir", flags.data_dir, "Data directory of the Glimmer to load into");
  load->add_option("--provider-project", flags.provider_project,
                   "Project that owns the catalog images (created if missing)")
      ->capture_default_str();
  load->add_flag("--dry-run", flags.dry_run,
                 "Show what would change without writing anything (sources are still fetched)");
  load->add_option("CATALOG", flags.catalog_path, "Catalog file (YAML or JSON)")->required();
  return load;
}

int RunCatalogLoad(const CatalogLoadFlags& flags, const std::map<std::string, std::string>& env,
                   std::ostream& out, std::ostream& err) {
  auto config = LoadCommandConfig(flags.config_file, env, flags.data_dir);
  if (!config.ok()) {
    err << "glimmer: configuration error: " << config.status().message() << "\n";
    return 2;
  }
  // Progress goes to stdout; the services' log lines go to stderr.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("glimmer-catalog"));
  spdlog::set_level(spdlog::level::from_str(config->log_level));
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %l %v");

  catalog::ParseOptions parse;
  parse.disk_formats = config->disk_formats;
  parse.container_formats = config->container_formats;
  auto cat = catalog::LoadCatalogFile(flags.catalog_path, parse);
  if (!cat.ok()) {
    err << "glimmer: catalog error: " << cat.status().message() << "\n";
    return 2;
  }
  // Opening a data dir that was never served would bootstrap a fresh identity with a password
  // nobody sees; insist on an existing installation instead (a shared PostgreSQL database is
  // one: its bootstrap happened when the first node started).
  std::error_code ec;
  if (config->database_connection.empty() &&
      !std::filesystem::exists(config->data_dir + "/glimmer.db", ec)) {
    err << "glimmer: no Glimmer database in " << config->data_dir
        << " (run `glimmer serve` on it once first, or pass the right --data-dir)\n";
    return 2;
  }
  // A server may be running: no recovery, and no bootstrap of an empty shared database.
  auto core = OpenCore(*config, CoreOptions{.recover = false, .bootstrap = false});
  if (core.status().code() == StatusCode::kFailedPrecondition) {
    err << "glimmer: no Glimmer database in " << config->data_dir << " ("
        << core.status().message() << "; run `glimmer serve` on it once first, or pass the "
        << "right --data-dir or [database] connection)\n";
    return 2;
  }
  if (!core.ok()) {
    err << "glimmer: cannot open " << config->data_dir << ": " << core.status().ToString() << "\n";
    return 1;
  }

  catalog::FetchOptions fopts;
  fopts.scratch_dir = config->data_dir + "/catalog-tmp";
  catalog::SourceFetcher fetcher(fopts);
  catalog::CatalogLoader loader((*core)->identity(), (*core)->image_records(),
                                (*core)->image_data(), fetcher);
  catalog::LoadOptions lopts;
  lopts.provider_project_name = flags.provider_project;
  lopts.dry_run = flags.dry_run;

  const std::string prefix = flags.dry_run ? "(dry run) " : "";
  auto print = [&](const catalog::EntryResult& r) {
    out << prefix << catalog::ToString(r.kind) << ": " << r.name;
    switch (r.kind) {
      case catalog::EntryResult::Kind::kReplaced:
        out << " (" << r.old_image_id << " -> " << (r.image_id.empty() ? "new" : r.image_id)
            << "; " << r.detail << ")";
        break;
      case catalog::EntryResult::Kind::kUpdated:
        out << " (" << r.image_id << "; " << r.detail << ")";
        break;
      case catalog::EntryResult::Kind::kFailed:
        out << ": " << r.detail;
        break;
      default:
        if (!r.image_id.empty()) out << " (" << r.image_id << ")";
    }
    out << "\n";
    out.flush();
  };
  auto report = loader.Load(*cat, lopts, print);
  if (!report.ok()) {
    err << "glimmer: catalog load failed: " << report.status().ToString() << "\n";
    return 1;
  }
  for (const auto& image : report->not_in_catalog) {
    out << prefix << "not in catalog (left as is): " << image.name.value_or("") << " ("
        << image.id << ")\n";
  }
  std::map<catalog::EntryResult::Kind, int> counts;
  for (const auto& e : report->entries) ++counts[e.kind];
  using K = catalog::EntryResult::Kind;
  out << prefix << "catalog " << flags.catalog_path << ": " << counts[K::kCreated] << " created, "
      << counts[K::kUpdated] << " updated, " << counts[K::kUnchanged] << " unchanged, "
      << counts[K::kReplaced] << " replaced, " << counts[K::kFailed] << " failed; provider project '"
      << flags.provider_project << "' ("
      << (report->provider_project_id.empty() ? "not created yet" : report->provider_project_id)
      << (report->created_provider_project ? ", created" : "") << ")\n";
  if (!report->ok()) {
    err << "glimmer: " << counts[K::kFailed] << " catalog entr"
        << (counts[K::kFailed] == 1 ? "y" : "ies") << " failed\n";
    return 1;
  }
  return 0;
}

}  // namespace glimmer::server
