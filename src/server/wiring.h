#pragma once
// Builds the running service from a Config: opens the database, stores and services, wires the
// API and starts the HTTP server. The only place that knows every concrete backend.

#include <chrono>
#include <cstdint>
#include <memory>

#include "common/status.h"
#include "server/config.h"

namespace glimmer::identity {
class IdentityService;
}
namespace glimmer::db {
class MetadefRepository;
}
namespace glimmer::images {
class ImageData;
class ImageRecords;
}

namespace glimmer::server {

// The service's components without the HTTP front: database, stores, identity and image
// services. Used by `glimmer serve` and by management commands that act in-process (they go
// through the same services, so the same rules and data path apply).
class Core {
 public:
  virtual ~Core() = default;
  virtual identity::IdentityService& identity() = 0;
  virtual images::ImageRecords& image_records() = 0;
  virtual images::ImageData& image_data() = 0;
  // The metadata definitions (management commands load them straight into the repository).
  virtual db::MetadefRepository& metadef_repository() = 0;
  // The admin project's id (after bootstrap).
  virtual const std::string& admin_project_id() const = 0;
};

struct CoreOptions {
  // Recover interrupted uploads and remove incomplete store writes. Only the serving process
  // may do this: a management command running next to a live server must not.
  bool recover = true;
  // Bootstrap the identity data (admin user, projects, roles) of a database that has none.
  // Without it, such a database is FailedPrecondition: a management command must not create
  // an installation whose admin password nobody sees.
  bool bootstrap = true;
};

// Opens the database (running migrations), the stores and the services of `config`, bootstraps
// the identity data on first start, and (optionally) recovers interrupted uploads. Does not listen.
StatusOr<std::unique_ptr<Core>> OpenCore(const Config& config, CoreOptions options = {});

class Service {
 public:
  virtual ~Service() = default;
  // The port actually bound (useful with port 0).
  virtual uint16_t port() const = 0;
  // Stops accepting, lets in-flight requests finish for up to `grace`, rolls back the rest.
  virtual void Shutdown(std::chrono::milliseconds grace) = 0;
};

// Starts the service on the embedded default (SQLite + filesystem store + embedded identity).
// On first start, bootstraps the admin user and writes <data_dir>/openrc-admin.
StatusOr<std::unique_ptr<Service>> StartService(const Config& config);

}  // namespace glimmer::server
