#pragma once
// JSON of the tasks API (glance-api.md §2.8) and of the import request (§8.1).

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "domain/task.h"
#include "images/import.h"

namespace glimmer::api::images {

// A task as GET /v2/tasks/{id} and /v2/images/{id}/tasks render it. `summary`: the list form
// of GET /v2/tasks (no input, result or message).
nlohmann::ordered_json TaskToJson(const domain::Task& task, bool summary = false);

// Parses and checks the body of POST /v2/images/{id}/import (400 on any shape error).
StatusOr<glimmer::images::ImportRequest> ParseImportBody(std::string_view body);

}  // namespace glimmer::api::images
