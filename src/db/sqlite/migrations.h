#pragma once
// Schema migrations embedded at build time from migrations/NNNN_name.sql (see CMakeLists.txt).
// Database::Open applies every migration newer than PRAGMA user_version, each in its own
// transaction, and refuses a database whose user_version is newer than the last one known here.

#include <string_view>
#include <vector>

namespace glimmer::db::sqlite {

struct Migration {
  int version;             // NNNN of the file name; versions are 1..N without gaps
  std::string_view name;   // the _name part
  std::string_view sql;    // full script text
};

// In version order. Defined in the generated migrations_embedded.cc.
const std::vector<Migration>& EmbeddedMigrations();

}  // namespace glimmer::db::sqlite
