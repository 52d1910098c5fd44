#include "db/sql/database.h"

namespace glimmer::db::sql {

Status Statement::Run() {
  while (true) {
    StatusOr<bool> row = Step();
    if (!row.ok() || !*row) {
      Reset();
      return row.status();
    }
  }
}

}  // namespace glimmer::db::sql
