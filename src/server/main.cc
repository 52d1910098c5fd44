// glimmer: the image service binary.
//   glimmer serve [--listen HOST:PORT] [--data-dir DIR] [--config FILE]
//   glimmer catalog load [--config FILE] [--data-dir DIR] [--provider-project NAME] [--dry-run]
//                        CATALOG   (docs/catalog.md)
//   glimmer metadefs load [--config FILE] [--data-dir DIR] PATH   (Glance metadef files)
// Settings come from (lowest to highest precedence) built-in defaults, the INI file, GLIMMER_*
// environment variables and command-line flags. See docs/configuration.md.

#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "server/catalog_command.h"
#include "server/metadefs_command.h"
#include "server/config.h"
#include "server/wiring.h"

extern char** environ;

namespace {

std::map<std::string, std::string> Environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

int Serve(const std::optional<std::string>& config_file, const std::string& listen,
          const std::string& data_dir) {
  // Block the stop signals in every thread; the main thread waits for them below.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto config = glimmer::server::LoadConfig(config_file, Environment());
  if (!config.ok()) {
    std::cerr << "glimmer: configuration error: " << config.status().message() << "\n";
    return 2;
  }
  if (!listen.empty()) {
    auto colon = listen.rfind(':');
    glimmer::Status st = glimmer::InvalidArgumentError("must be HOST:PORT");
    if (colon != std::string::npos) {
      std::string host = listen.substr(0, colon);
      if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
      }
      st = glimmer::server::ApplyOverride(*config, "DEFAULT", "bind_host", host);
      if (st.ok()) {
        st = glimmer::server::ApplyOverride(*config, "DEFAULT", "bind_port",
                                            listen.substr(colon + 1));
      }
    }
    if (!st.ok()) {
      std::cerr << "glimmer: --listen: " << st.message() << "\n";
      return 2;
    }
  }
  if (!data_dir.empty()) {
    auto st = glimmer::server::ApplyOverride(*config, "glimmer", "data_dir", data_dir);
    if (!st.ok()) {
      std::cerr << "glimmer: --data-dir: " << st.message() << "\n";
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::from_str(config->log_level));
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %l %v");
  for (const auto& w : config->warnings) spdlog::warn("config: {}", w);

  auto service = glimmer::server::StartService(*config);
  if (!service.ok()) {
    std::cerr << "glimmer: cannot start: " << service.status().ToString() << "\n";
    return 1;
  }
  spdlog::info("Glimmer is serving the Images API {} on http://{}:{} (identity at /identity/v3)",
               config->enable_v1_api ? "v2 and v1" : "v2", config->bind_host,
               (*service)->port());
  spdlog::info("Point the openstack CLI at it with: source {}/openrc-admin", config->data_dir);

  int sig = 0;
  sigwait(&stop, &sig);
  spdlog::info("signal {} received: finishing in-flight requests", sig);
  (*service)->Shutdown(std::chrono::seconds(30));
  service->reset();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Glimmer: an OpenStack Glance-compatible image service"};
  app.require_subcommand(1);
  std::optional<std::string> config_file;
  std::string listen, data_dir;
  auto* serve = app.add_subcommand("serve", "Run the image service (embedded default: SQLite, "
                                            "filesystem store, embedded identity)");
  serve->add_option("--config", config_file, "INI configuration file (glance-api.conf style)")
      ->check(CLI::ExistingFile);
  serve->add_option("--listen", listen, "Address to listen on, HOST:PORT (default 127.0.0.1:9292)");
  serve->add_option("--data-dir", data_dir, "Data directory (created if missing; default ./data)");
  glimmer::server::CatalogLoadFlags catalog_flags;
  auto* catalog_load = glimmer::server::AddCatalogCommand(app, catalog_flags);
  glimmer::server::MetadefsLoadFlags metadefs_flags;
  auto* metadefs_load = glimmer::server::AddMetadefsCommand(app, metadefs_flags);
  auto* version = app.add_subcommand("version", "Print the version");
  CLI11_PARSE(app, argc, argv);
  if (version->parsed()) {
    std::cout << "glimmer 0.1.0 (Images API v2.0-v2.18)\n";
    return 0;
  }
  if (catalog_load->parsed()) {
    return glimmer::server::RunCatalogLoad(catalog_flags, Environment(), std::cout, std::cerr);
  }
  if (metadefs_load->parsed()) {
    return glimmer::server::RunMetadefsLoad(metadefs_flags, Environment(), std::cout, std::cerr);
  }
  return Serve(config_file, listen, data_dir);
}
