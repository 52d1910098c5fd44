#pragma once
// `glimmer catalog load`: registers the provider's image catalog (docs/catalog.md) in-process,
// through the same services as the API, on the data dir of a (possibly running) Glimmer.
//
//   glimmer catalog load [--config FILE] [--data-dir DIR] [--provider-project NAME]
//                        [--dry-run] CATALOG

#include <iosfwd>
#include <map>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "common/status.h"
#include "server/config.h"

namespace glimmer::server {

struct CatalogLoadFlags {
  std::optional<std::string> config_file;
  std::string data_dir;
  std::string provider_project = "provider";
  bool dry_run = false;
  std::string catalog_path;
};

// The configuration a management command acts on, exactly as `serve` builds it: defaults, INI
// file, GLIMMER_* environment, then the --data-dir flag (when non-empty).
// Errors: as LoadConfig / ApplyOverride (the message says which).
StatusOr<Config> LoadCommandConfig(const std::optional<std::string>& config_file,
                                   const std::map<std::string, std::string>& env,
                                   const std::string& data_dir);

// Adds `catalog` with its `load` subcommand to `app`, storing the flags in `flags` (which must
// outlive parsing). Returns the `load` subcommand (check ->parsed()).
CLI::App* AddCatalogCommand(CLI::App& app, CatalogLoadFlags& flags);

// Runs `catalog load`: one line per entry and a summary on `out`, errors on `err`.
// Returns the process exit code: 0 success, 1 when any entry failed or the load could not run,
// 2 for configuration or catalog file errors.
int RunCatalogLoad(const CatalogLoadFlags& flags, const std::map<std::string, std::string>& env,
                   std::ostream& out, std::ostream& err);

}  // namespace glimmer::server
