#pragma once
// The import flow (glance-api.md §8.3), run by the task runner for tasks of type
// api_image_import: fetch the source into staging (web-download) or take the staged data
// (glance-direct) or an existing copy (copy-image); run the import plugins; write to each target
// store through the normal data path (hashing, inspection); activate; release the lock.
//
// Every failure ends the same way: data written by this task removed, the image back to queued
// (copy-image: stays active), os_glance_failed_import updated, staged data removed, the lock
// released, the task failed with a message naming what went wrong. A run interrupted by a
// shutdown (or a lost lease) changes nothing and is resumed from the start.
//
// Thread-safety: Run/Abandon may be called concurrently for different tasks.

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "images/image_data.h"
#include "images/image_env.h"
#include "images/import_coordinator.h"
#include "platform/file.h"
#include "tasks/task_runner.h"
#include "webdownload/fetcher.h"

namespace glimmer::images {

// A plugin step over the staged file of an image (image_conversion is provided this way by the
// formats component). It may rewrite the staged file in place and change the image's fields.
// Files it writes hold image data: mode 0600, like the staged file. Its output must not exceed
// PluginOutputLimit(ctx, ...) bytes (ResourceExhausted).
using StagedPlugin =
    std::function<Status(const std::string& staged_path, domain::Image& image,
                         tasks::TaskContext& ctx)>;

// The context plugins run with: the task's context plus the most they may write.
class PluginContext : public tasks::TaskContext {
 public:
  // The largest output (decompressed or converted data) the import can still store:
  // image_size_cap, and what the project's image_size_total and image_stage_total leave.
  virtual int64_t max_output_bytes() const = 0;
};

// For a plugin: the output limit of `ctx` when the import flow runs it (a PluginContext), else
// `fallback` (a plugin's own configured limit, e.g. image_size_cap); never more than
// `fallback`.
int64_t PluginOutputLimit(const tasks::TaskContext& ctx, int64_t fallback);

class ImportHandler final : public tasks::Handler {
 public:
  // All borrowed. `files`: where staged files are read.
  ImportHandler(const ImageEnv& env, ImageData& data, ImportCoordinator& imports,
                const webdownload::HttpFetcher& fetcher,
                platform::FileSystem& files = platform::FileSystem::Default());

  // Registers a plugin implementation under a name usable in image_import_plugins.
  void AddPlugin(std::string name, StagedPlugin plugin);

  tasks::Outcome Run(tasks::TaskContext& ctx) override;
  void Abandon(const domain::Task& task, std::string_view reason) override;
  // An import is no longer wanted once its image is deleted or its import lock is no longer
  // the task's (released or taken over): the run stops writing and is failed.
  Status StillWanted(const domain::Task& task) override;
  // Uploads and stages of dead nodes go back to queued (ImageData::ReclaimUploadsOf,
  // ImportCoordinator::ReclaimStagesOf).
  void NodesSilent(const std::vector<std::string>& nodes) override;

 private:
  class Flow;
  const ImageEnv& env_;
  ImageData& data_;
  ImportCoordinator& imports_;
  const webdownload::HttpFetcher& fetcher_;
  platform::FileSystem& files_;
  std::map<std::string, StagedPlugin> plugins_;
};

}  // namespace glimmer::images
