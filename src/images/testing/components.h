#pragma once
// Test helper: every image component over one ImageEnv, built the way the wiring builds them.

#include <functional>
#include <memory>
#include <utility>

#include "db/task_repository.h"
#include "images/image_data.h"
#include "images/image_env.h"
#include "images/image_records.h"
#include "images/image_sharing.h"
#include "images/import.h"
#include "images/import_coordinator.h"
#include "staging/staging_area.h"

namespace glimmer::images::testkit {

struct Components {
  // `imports` is built only when `tasks` and `staging` are given.
  explicit Components(ImageEnv e, staging::StagingArea* staging = nullptr,
                      db::TaskRepository* tasks = nullptr, ImportOptions import_options = {})
      : env(std::move(e)), records(env, staging), data(env), sharing(env) {
    if (tasks && staging) {
      imports =
          std::make_unique<ImportCoordinator>(env, *tasks, *staging, std::move(import_options));
    }
  }
  Components(const Components&) = delete;
  Components& operator=(const Components&) = delete;

  ImageEnv env;
  ImageRecords records;
  ImageData data;
  ImageSharing sharing;
  std::unique_ptr<ImportCoordinator> imports;
};

}  // namespace glimmer::images::testkit
