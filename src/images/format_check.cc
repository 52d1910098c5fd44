#include "images/format_check.h"

#include <spdlog/spdlog.h>

#include "formats/inspect.h"
#include "formats/source.h"

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

bool NotInspectable(const std::string& f) {
  return f == "ami" || f == "aki" || f == "ari" || f == "ploop";
}

}  // namespace

StatusOr<std::optional<int64_t>> CheckStoredFormat(store::Reader& data,
                                                   const domain::Image& image,
                                                   const FormatCheckOptions& options) {
  if (image.container_format != "bare" || !image.disk_format) return std::optional<int64_t>();
  const std::string& declared = *image.disk_format;
  StoreSource src(data);
  formats::Limits limits;
  limits.max_virtual_size = options.max_virtual_size;
  ASSIGN_OR_RETURN(formats::Inspection in, formats::Inspect(src, limits));
  std::string detected = in.format;
  if (declared == "iso" && detected == "gpt") detected = "iso";
  if (!in.safe()) {
    return UnsupportedMediaError("Image failed safety checks: " + in.verdict.check + ": " +
                                 in.verdict.message);
  }
  if (detected == declared) {
    if (in.virtual_size >= 0) return std::optional<int64_t>(in.virtual_size);
    return std::optional<int64_t>();
  }
  if (detected == "raw" && NotInspectable(declared)) return std::optional<int64_t>();
  if (declared == "raw") {
    spdlog::warn("image {}: declared raw but the data is {}; accepted as Glance does", image.id,
                 detected);
    return std::optional<int64_t>(data.size());
  }
  return UnsupportedMediaError("Image disk_format is " + declared +
                               " but the data is detected as " + detected);
}

}  // namespace glimmer::images
