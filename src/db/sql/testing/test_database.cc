#include "db/sql/testing/test_database.h"

#include <stdlib.h>

#include <filesystem>

#include "db/postgres/database.h"
#include "db/sqlite/database.h"
#include "platform/random.h"

namespace glimmer::db::sql::testing {

TempDir::TempDir() {
  std::string templ = ::testing::TempDir() + "glimmer_db_XXXXXX";
  char* made = mkdtemp(templ.data());
  EXPECT_NE(made, nullptr);
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::vector<std::string> Engines() { return {"sqlite", "postgres"}; }

TestDatabase::TestDatabase(std::string engine) : engine_(std::move(engine)) {
  if (engine_ != "postgres") return;
  const char* dsn = getenv("GLIMMER_TEST_PG_DSN");
  if (dsn == nullptr || *dsn == '\0') {
    unavailable_ = "GLIMMER_TEST_PG_DSN is not set (scripts/services/services.sh start)";
    const char* require = getenv("GLIMMER_TEST_REQUIRE_PG");
    if (require != nullptr && std::string(require) == "1") {
      ADD_FAILURE() << "GLIMMER_TEST_REQUIRE_PG=1 but " << unavailable_;
    }
    return;
  }
  dsn_ = dsn;
  schema_ = "test_" + platform::RandomHex(8);
}

TestDatabase::~TestDatabase() {
  if (schema_.empty()) return;
  postgres::PostgresOptions opts;
  opts.dsn = dsn_;
  auto db = postgres::PostgresDatabase::Open(opts);
  if (!db.ok()) return;
  (void)(*db)->Write([&](Connection& conn) -> Status {
    ASSIGN_OR_RETURN(Statement st, conn.Prepare("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE"));
    return st.Run();
  });
}

std::unique_ptr<Database> TestDatabase::Open() {
  if (engine_ == "sqlite") {
    auto db = sqlite::SqliteDatabase::Open(dir_.File("meta.db"));
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::unique_ptr<Database>(std::move(*db)) : nullptr;
  }
  postgres::PostgresOptions opts;
  opts.dsn = dsn_;
  opts.schema = schema_;
  opts.create_schema = true;
  auto db = postgres::PostgresDatabase::Open(opts);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::unique_ptr<Database>(std::move(*db)) : nullptr;
}

}  // namespace glimmer::db::sql::testing
