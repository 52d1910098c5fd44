#include "images/conversion_plugin.h"

#include <cstdio>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "formats/convert.h"
#include "formats/inspect.h"
#include "formats/source.h"

namespace glimmer::images {

StagedPlugin MakeConversionPlugin(std::string output_format, platform::Executor* pool,
                                  int64_t max_virtual_size) {
  return [output_format, pool, max_virtual_size](const std::string& path, domain::Image& image,
                                                 tasks::TaskContext& ctx) -> Status {
    formats::Limits limits;
    limits.max_virtual_size = max_virtual_size;
    ASSIGN_OR_RETURN(auto src, formats::FileSource::Open(path));
    ASSIGN_OR_RETURN(formats::Inspection in, formats::Inspect(*src, limits));
    if (!in.safe()) {
      return UnsupportedMediaError("Image failed safety checks: " + in.verdict.check + ": " +
                                   in.verdict.message);
    }
    std::string detected = in.format == "gpt" ? "raw" : in.format;
    const std::string declared = image.disk_format.value_or("");
    if (declared == "iso" && (detected == "iso" || in.format == "gpt")) return OkStatus();
    if (detected != declared) {
      return UnsupportedMediaError("Image format mismatch: disk_format is " + declared +
                                   " but the staged data is " + in.format);
    }
    if (detected == output_format) {
      image.container_format = "bare";
      if (in.virtual_size >= 0) image.virtual_size = in.virtual_size;
      return OkStatus();
    }
    const std::string out_path = path + ".converted";
    auto cleanup = [&] { std::remove(out_path.c_str()); };
    ASSIGN_OR_RETURN(auto sink, formats::FileSink::Create(out_path, /*sync=*/true));
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
    src.reset();
    // Re-inspect the result before it replaces the staged data.
    ASSIGN_OR_RETURN(auto out_src, formats::FileSource::Open(out_path));
    auto out = formats::Inspect(*out_src, limits);
    if (!out.ok() || !out->safe() || out->format != output_format) {
      cleanup();
      return InternalError("the converted image did not pass inspection");
    }
    std::error_code ec;
    std::filesystem::rename(out_path, path, ec);
    if (ec) {
      cleanup();
      return UnavailableError("cannot replace the staged file: " + ec.message());
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
