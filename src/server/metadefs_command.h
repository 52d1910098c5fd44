#pragma once
// `glimmer metadefs load`: loads metadata-definition namespace files in Glance's format (what
// `glance-manage db load_metadefs` reads, e.g. Debian's /usr/share/glance-common/metadefs) into
// the database of a (possibly running) Glimmer. docs/design/api-surface.md §3.4.
//
//   glimmer metadefs load [--config FILE] [--data-dir DIR] PATH
//
// PATH is a directory (its *.json files, not recursive, in name order) or one file. Each file is
// one namespace (the API's namespace body; `owner` defaults to "admin", unknown resource types
// are created protected). A namespace that already exists is skipped. A file that does not
// parse or validate fails the command (exit 1) naming the file; each file is loaded in one
// transaction, so nothing of a failed file is written. (Glance logs such a file and goes on.)

#include <iosfwd>
#include <map>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace glimmer::server {

struct MetadefsLoadFlags {
  std::optional<std::string> config_file;
  std::string data_dir;
  std::string path;
};

// Adds `metadefs` with its `load` subcommand; returns `load` (check ->parsed()).
CLI::App* AddMetadefsCommand(CLI::App& app, MetadefsLoadFlags& flags);

// One line per file and a summary on `out`, errors on `err`. Exit code: 0 success, 1 a file
// failed or the database could not be used, 2 configuration errors.
int RunMetadefsLoad(const MetadefsLoadFlags& flags,
                    const std::map<std::string, std::string>& env, std::ostream& out,
                    std::ostream& err);

}  // namespace glimmer::server
