#include "server/backends.h"

#include <cctype>
#include <charconv>
#include <utility>

#include "db/postgres/database.h"
#include "db/sqlite/database.h"
#include "store/filesystem/filesystem_store.h"
#include "store/rbd/rbd_store.h"
#include "store/s3/s3_store.h"

namespace glimmer::server {
namespace {

const std::string* Find(const Config::StoreConfig& store, const char* name) {
  auto it = store.options.find(name);
  return it == store.options.end() ? nullptr : &it->second;
}

// Values were checked when the configuration was loaded (kinds and ranges).
int64_t AsInt(const std::string& v) {
  int64_t n = 0;
  std::from_chars(v.data(), v.data() + v.size(), n);
  return n;
}
bool AsBool(std::string v) {
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v == "true" || v == "yes" || v == "1" || v == "on";
}

Status Named(const Config::StoreConfig& store, const Status& st) {
  return Status(st.code(), "store '" + store.name + "' (" + store.type + "): " + st.message());
}

// The settings every store type has, applied through each store's setters.
template <typename S>
std::unique_ptr<store::Store> WithCommonSettings(std::unique_ptr<S> s,
                                                 const Config::StoreConfig& store) {
  s->set_is_default(store.is_default);
  if (auto* v = Find(store, "store_description")) s->set_description(*v);
  if (auto* v = Find(store, "weight")) s->set_weight(AsInt(*v));
  return s;
}

StatusOr<std::unique_ptr<store::Store>> OpenRbd(const Config::StoreConfig& store,
                                                const StoreContext& context) {
  store::rbd::RbdStoreOptions o;
  o.store_id = store.name;
  o.node_id = context.node_id;
  if (auto* v = Find(store, "rbd_store_ceph_conf")) o.conf_file = *v;
  if (auto* v = Find(store, "rbd_store_user")) o.user = *v;
  if (auto* v = Find(store, "rbd_store_pool")) o.pool = *v;
  if (auto* v = Find(store, "rbd_store_chunk_size")) o.chunk_size_mib = static_cast<int>(AsInt(*v));
  if (auto* v = Find(store, "rbd_thin_provisioning")) o.thin_provisioning = AsBool(*v);
  if (auto* v = Find(store, "rados_connect_timeout")) {
    o.connect_timeout_seconds = static_cast<int>(AsInt(*v));
  }
  ASSIGN_OR_RETURN(auto rbd, store::rbd::RbdStore::Create(std::move(o)));
  return WithCommonSettings(std::move(rbd), store);
}

StatusOr<std::unique_ptr<store::Store>> OpenS3(const Config::StoreConfig& store,
                                               const StoreContext& context) {
  ASSIGN_OR_RETURN(store::s3::S3StoreOptions o,
                   store::s3::S3StoreOptions::FromConfig(store.name, store.options));
  ASSIGN_OR_RETURN(auto s3, store::s3::S3Store::Create(std::move(o), *context.io));
  return WithCommonSettings(std::move(s3), store);
}

StatusOr<std::unique_ptr<store::Store>> OpenFile(const Config::StoreConfig& store,
                                                 const StoreContext& context) {
  ASSIGN_OR_RETURN(auto fs,
                   store::filesystem::FilesystemStore::Create(
                       store.name, *Find(store, "filesystem_store_datadir"), context.fsync));
  return WithCommonSettings(std::move(fs), store);
}

}  // namespace

std::optional<std::string> SqlitePath(const Config& config) {
  const std::string& url = config.database_connection;
  if (url.empty()) return config.data_dir + "/glimmer.db";
  // SQLAlchemy's form: sqlite:///relative.db, sqlite:////absolute.db.
  if (url.starts_with("sqlite:///")) return url.substr(10);
  return std::nullopt;
}

StatusOr<std::unique_ptr<db::sql::Database>> OpenDatabase(const Config& config) {
  const std::string& url = config.database_connection;
  if (auto path = SqlitePath(config)) {
    ASSIGN_OR_RETURN(auto db, db::sqlite::SqliteDatabase::Open(*path));
    return std::unique_ptr<db::sql::Database>(std::move(db));
  }
  db::postgres::PostgresOptions o;
  // oslo.db's "postgresql+psycopg2://" names a Python driver; libpq takes "postgresql://".
  if (url.starts_with("postgresql+")) {
    o.dsn = "postgresql://" + url.substr(url.find("://") + 3);
  } else {
    o.dsn = url;
  }
  o.max_connections = config.database_max_pool_size;
  ASSIGN_OR_RETURN(auto db, db::postgres::PostgresDatabase::Open(o));
  return std::unique_ptr<db::sql::Database>(std::move(db));
}

StatusOr<std::unique_ptr<store::Store>> OpenStore(const Config::StoreConfig& store,
                                                  const StoreContext& context) {
  StatusOr<std::unique_ptr<store::Store>> opened = store.type == "rbd" ? OpenRbd(store, context)
                                                   : store.type == "s3" ? OpenS3(store, context)
                                                                        : OpenFile(store, context);
  if (!opened.ok()) return Named(store, opened.status());
  return opened;
}

}  // namespace glimmer::server
