#include "images/format_check.h"

#include <spdlog/spdlog.h>

#include "formats/inspect.h"
#include "formats/source.h"
#include "images/format_acceptance.h"

namespace glimmer::images {
namespace {

// A store reader as the formats library's random-access source.
class StoreSource final : public formats::Source {
 public:
  explicit StoreSource(store::Reader& r) : r_(r) {}
  int64_t size() const override { return r_.size(); }
  StatusOr<size_t> ReadAt(int64_t offset, std::span<std::byte> out) override {
    return r_.ReadAt(offset, out);
  }

 private:
  store::Reader& r_;
};

}  // namespace

StatusOr<std::optional<int64_t>> CheckStoredFormat(store::Reader& data,
                                                   const domain::Image& image,
                                                   const FormatCheckOptions& options) {
  auto inspect = [&]() -> StatusOr<formats::Inspection> {
    StoreSource src(data);
    formats::Limits limits;
    limits.max_virtual_size = options.max_virtual_size;
    return formats::Inspect(src, limits);
  };
  ASSIGN_OR_RETURN(AcceptedFormat accepted, AcceptFormat(image.disk_format, image.container_format,
                                                         inspect, FormatUse::kUpload));
  if (!accepted.raw_holds.empty()) {
    spdlog::warn("image {}: declared raw but the data is {}; accepted as Glance does", image.id,
                 accepted.raw_holds);
  }
  return accepted.virtual_size;
}

}  // namespace glimmer::images
