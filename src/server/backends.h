#pragma once
// The engines behind Glimmer's interfaces, chosen by the configuration: the metadata database
// ([database] connection: embedded SQLite or PostgreSQL) and the stores (file, rbd, s3), so that
// wiring.cc deals in interfaces only.

#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "db/sql/database.h"
#include "platform/executor.h"
#include "server/config.h"
#include "store/store.h"

namespace glimmer::server {

// Opens (and migrates) the database named by config.database_connection; empty = the SQLite
// file <data_dir>/glimmer.db. Unavailable when PostgreSQL cannot be reached.
StatusOr<std::unique_ptr<db::sql::Database>> OpenDatabase(const Config& config);
// The file of the SQLite database OpenDatabase opens; nullopt for PostgreSQL.
std::optional<std::string> SqlitePath(const Config& config);

struct StoreContext {
  std::string node_id;              // this node's name (RBD marks its uploads in progress with it)
  bool fsync = true;                // filesystem store: fsync before a write counts as committed
  platform::Executor* io = nullptr;  // S3: runs the parallel part uploads; outlives the store
};

// Opens one configured store, with the settings every type has (default, description, weight).
// Errors name the store.
StatusOr<std::unique_ptr<store::Store>> OpenStore(const Config::StoreConfig& store,
                                                  const StoreContext& context);

}  // namespace glimmer::server
