#pragma once
// Per-project quotas (glance-api.md §10.1, Glance's unified-limit names). A negative limit means
// unlimited. Sizes are bytes here; the API reports them in MiB as Glance does.

#include <cstdint>

namespace glimmer::domain {

struct QuotaLimits {
  int64_t image_count_total = -1;      // non-deleted images owned
  int64_t image_size_total = -1;       // bytes of stored (active/deactivated) image data
  int64_t image_count_uploading = -1;  // images in saving/uploading/importing
  int64_t image_stage_total = -1;      // bytes of staged data

  bool Unlimited() const {
    return image_count_total < 0 && image_size_total < 0 && image_count_uploading < 0 &&
           image_stage_total < 0;
  }
};

struct ProjectUsage {
  int64_t image_count_total = 0;
  int64_t image_size_total = 0;
  int64_t image_count_uploading = 0;
  int64_t image_stage_total = 0;
};

}  // namespace glimmer::domain
