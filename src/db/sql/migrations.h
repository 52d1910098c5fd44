#pragma once
// Schema migrations, embedded at build time from a backend's migrations/NNNN_name.sql files by
// db/embed_migrations.cmake. Both backends have the same history (the same versions and names,
// each in its engine's SQL); a backend applies every migration newer than the database's schema
// version, each in its own transaction, and refuses a database newer than the last one it knows.

#include <string_view>
#include <vector>

namespace glimmer::db::sql {

struct Migration {
  int version;             // NNNN of the file name; versions are 1..N without gaps
  std::string_view name;   // the _name part
  std::string_view sql;    // full script text
};

}  // namespace glimmer::db::sql
