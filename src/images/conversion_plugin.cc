#include "images/conversion_plugin.h"

#include <limits>

#include <spdlog/spdlog.h>

#include "formats/convert.h"
#include "formats/inspect.h"
#include "formats/source.h"
#include "images/format_acceptance.h"
#include "platform/file.h"

namespace glimmer::images {
namespace {

// Forwards to a sink, refusing any output beyond `limit` bytes (the converted image is stored
// dense: a small qcow2 may declare terabytes). Stateless checks: safe for concurrent writes.
class LimitedSink final : public formats::Sink {
 public:
  LimitedSink(formats::Sink& inner, int64_t limit) : inner_(inner), limit_(limit) {}
  Status SetSize(int64_t size) override {
    if (size > limit_) return TooLarge(size);
    return inner_.SetSize(size);
  }
  Status WriteAt(int64_t offset, std::span<const std::byte> data) override {
    const int64_t end = offset + static_cast<int64_t>(data.size());
    if (offset < 0 || end > limit_) return TooLarge(end);
    return inner_.WriteAt(offset, data);
  }
  Status Finish() override { return inner_.Finish(); }
  bool SupportsConcurrentWrites() const override { return inner_.SupportsConcurrentWrites(); }

 private:
  Status TooLarge(int64_t size) const {
    return ResourceExhaustedError("the converted image (at least " + std::to_string(size) +
                                  " bytes) is larger than the limit of " +
                                  std::to_string(limit_) + " bytes");
  }
  formats::Sink& inner_;
  const int64_t limit_;
};

}  // namespace

StagedPlugin MakeConversionPlugin(std::string output_format, platform::Executor* pool,
                                  int64_t max_virtual_size, platform::FileSystem& files) {
  return [output_format, pool, max_virtual_size, &files](
             const std::string& path, domain::Image& image, tasks::TaskContext& ctx) -> Status {
    formats::Limits limits;
    limits.max_virtual_size = max_virtual_size;
    ASSIGN_OR_RETURN(auto src, formats::FileSource::Open(path, files));
    ASSIGN_OR_RETURN(AcceptedFormat accepted,
                     AcceptFormat(
                         image.disk_format, image.container_format,
                         [&] { return formats::Inspect(*src, limits); },
                         FormatUse::kConversionInput));
    const std::string& declared = accepted.format;
    if (declared == "iso") return OkStatus();  // ISO images are not converted
    if (declared == output_format) {
      image.container_format = "bare";
      if (accepted.virtual_size) image.virtual_size = *accepted.virtual_size;
      return OkStatus();
    }
    // What the import may still store (image_size_cap, the project's quota left).
    const int64_t max_output = PluginOutputLimit(ctx, std::numeric_limits<int64_t>::max());
    const int64_t virtual_size = accepted.virtual_size.value_or(-1);
    if (output_format == "raw" && virtual_size > max_output) {
      return ResourceExhaustedError("the converted raw image would be " +
                                    std::to_string(virtual_size) +
                                    " bytes, larger than the limit of " +
                                    std::to_string(max_output) + " bytes");
    }
    const std::string out_path = path + ".converted";
    auto cleanup = [&] { (void)files.RemoveFile(out_path); };
    cleanup();  // a leftover of a crash would keep its mode
    ASSIGN_OR_RETURN(auto file_sink,
                     formats::FileSink::Create(out_path, /*sync=*/true, /*mode=*/0600, files));
    auto sink = std::make_unique<LimitedSink>(*file_sink, max_output);
    formats::ConvertOptions opts;
    opts.limits = limits;
    opts.format = declared;
    opts.executor = pool;
    int64_t next = 0;
    opts.progress = [&](int64_t done, int64_t total) {
      if (done >= next) {
        ctx.Progress("Converting to " + output_format + ": " + std::to_string(done >> 20) +
                     " of " + std::to_string(total >> 20) + " MiB");
        next = done + (256 << 20);
      }
    };
    Status st = output_format == "qcow2"
                    ? formats::ConvertToQcow2(*src, *sink, opts, formats::Qcow2WriteOptions{})
                    : formats::ConvertToRaw(*src, *sink, opts);
    if (st.ok()) st = ctx.Cancelled();
    if (!st.ok()) {
      cleanup();
      return st;
    }
    sink.reset();
    file_sink.reset();
    src.reset();
    // Re-inspect the result before it replaces the staged data.
    ASSIGN_OR_RETURN(auto out_src, formats::FileSource::Open(out_path, files));
    auto out = formats::Inspect(*out_src, limits);
    if (!out.ok() || !out->safe() || out->format != output_format) {
      cleanup();
      return InternalError("the converted image did not pass inspection");
    }
    Status replaced = files.Rename(out_path, path, platform::RenameMode::kReplace);
    if (!replaced.ok()) {
      cleanup();
      return platform::Annotate("cannot replace the staged file", replaced);
    }
    spdlog::info("image {}: converted {} -> {} ({} bytes virtual)", image.id, declared,
                 output_format, out->virtual_size);
    image.disk_format = output_format;
    image.container_format = "bare";
    image.virtual_size = out->virtual_size;
    return OkStatus();
  };
}

}  // namespace glimmer::images
