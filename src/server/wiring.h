#pragma once
// Builds the running service from a Config: opens the database, stores and services, wires the
// API and starts the HTTP server. The only place that knows every concrete backend.

#include <chrono>
#include <cstdint>
#include <memory>

#include "common/status.h"
#include "server/config.h"

namespace glimmer::server {

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
