#include "server/metadefs_command.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "api/metadefs/metadef_json.h"
#include "db/metadef_repository.h"
#include "platform/clock.h"
#include "server/catalog_command.h"
#include "server/wiring.h"

namespace glimmer::server {
namespace {

constexpr size_t kMaxFileBytes = 16 << 20;

StatusOr<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open " + path.string());
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxFileBytes) return InvalidArgumentError("file larger than 16 MiB");
  }
  return text;
}

// A namespace file → the tree to insert (timestamps `now`).
StatusOr<domain::MetadefNamespaceTree> ParseFile(const std::string& text, UnixMicros now) {
  ASSIGN_OR_RETURN(auto body, api::metadefs::ParseBody(text));
  ASSIGN_OR_RETURN(auto parsed, api::metadefs::ParseNamespace(body));
  domain::MetadefNamespaceTree tree = std::move(parsed.contents);
  const auto& f = parsed.fields;
  tree.ns.name = f.name;
  tree.ns.display_name = f.display_name;
  tree.ns.description = f.description;
  tree.ns.visibility = f.visibility;  // absent stays absent: not public (Glance)
  tree.ns.is_protected = f.is_protected.value_or(false);
  tree.ns.owner = f.owner.value_or("admin");
  tree.ns.created_at = tree.ns.updated_at = now;
  for (auto& a : tree.associations) a.created_at = a.updated_at = now;
  for (auto& p : tree.properties) p.created_at = p.updated_at = now;
  for (auto& o : tree.objects) o.created_at = o.updated_at = now;
  for (auto& t : tree.tags) t.created_at = t.updated_at = now;
  return tree;
}

}  // namespace

CLI::App* AddMetadefsCommand(CLI::App& app, MetadefsLoadFlags& flags) {
  auto* metadefs = app.add_subcommand("metadefs", "Manage metadata definitions (/v2/metadefs)");
  metadefs->require_subcommand(1);
  auto* load = metadefs->add_subcommand(
      "load", "Load namespace files in Glance's format (glance-manage db load_metadefs); "
              "existing namespaces are skipped");
  load->add_option("--config", flags.config_file, "INI configuration file (as for serve)")
      ->check(CLI::ExistingFile);
  load->add_option("--data-dir", flags.data_dir, "Data directory of the Glimmer to load into");
  load->add_option("PATH", flags.path, "Directory of *.json namespace files, or one file")
      ->required()
      ->check(CLI::ExistingPath);
  return load;
}

int RunMetadefsLoad(const MetadefsLoadFlags& flags,
                    const std::map<std::string, std::string>& env, std::ostream& out,
                    std::ostream& err) {
  auto config = LoadCommandConfig(flags.config_file, env, flags.data_dir);
  if (!config.ok()) {
    err << "glimmer: configuration error: " << config.status().message() << "\n";
    return 2;
  }
  spdlog::set_default_logger(spdlog::stderr_logger_mt("glimmer-metadefs"));
  spdlog::set_level(spdlog::level::from_str(config->log_level));

  std::vector<std::filesystem::path> files;
  std::error_code ec;
  if (std::filesystem::is_directory(flags.path, ec)) {
    for (const auto& e : std::filesystem::directory_iterator(flags.path, ec)) {
      if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
  } else {
    files.emplace_back(flags.path);
  }

  if (config->database_connection.empty() &&
      !std::filesystem::exists(config->data_dir + "/glimmer.db", ec)) {
    err << "glimmer: no Glimmer database in " << config->data_dir
        << " (run `glimmer serve` on it once first, or pass the right --data-dir)\n";
    return 1;
  }
  auto core = OpenCore(*config, CoreOptions{.recover = false, .bootstrap = false});
  if (!core.ok()) {
    err << "glimmer: cannot open " << config->data_dir << ": " << core.status().ToString() << "\n";
    return 1;
  }
  db::MetadefRepository& repo = (*core)->metadef_repository();
  int loaded = 0, skipped = 0;
  for (const auto& file : files) {
    auto text = ReadFile(file);
    auto tree = text.ok() ? ParseFile(*text, platform::Clock::Real().Now())
                          : StatusOr<domain::MetadefNamespaceTree>(text.status());
    if (!tree.ok()) {
      err << "glimmer: " << file.string() << ": " << tree.status().message() << "\n";
      return 1;
    }
    Status st = repo.CreateNamespace(*tree, /*protect_new_resource_types=*/true);
    if (st.code() == StatusCode::kAlreadyExists && repo.GetNamespace(tree->ns.name).ok()) {
      out << "skipped " << tree->ns.name << " (exists)\n";
      ++skipped;
      continue;
    }
    if (!st.ok()) {
      err << "glimmer: " << file.string() << ": " << st.message() << "\n";
      return 1;
    }
    out << "loaded  " << tree->ns.name << " (" << tree->properties.size() << " properties, "
        << tree->objects.size() << " objects, " << tree->tags.size() << " tags)\n";
    ++loaded;
  }
  out << loaded << " namespaces loaded, " << skipped << " skipped\n";
  return 0;
}

}  // namespace glimmer::server
