// libFuzzer target: full conversion to raw (decoders included) into a sink that only checks
// bounds, with one worker thread.
#include <cstdlib>

#include "formats/convert.h"
#include "formats/fuzz/fuzz_common.h"
#include "platform/executor.h"

namespace {

class CheckingSink final : public glimmer::formats::Sink {
 public:
  glimmer::Status SetSize(int64_t size) override {
    size_ = size;
    return glimmer::OkStatus();
  }
  glimmer::Status WriteAt(int64_t offset, std::span<const std::byte> data) override {
    if (offset < 0 || offset + static_cast<int64_t>(data.size()) > size_) std::abort();
    return glimmer::OkStatus();
  }
  glimmer::Status Finish() override { return glimmer::OkStatus(); }

 private:
  int64_t size_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace glimmer::formats;
  static glimmer::platform::Executor* exec = new glimmer::platform::Executor("fuzz", 1);
  MemorySource src(fuzz::Bytes(data, size));
  CheckingSink sink;
  ConvertOptions opts;
  opts.limits = fuzz::FuzzLimits();
  opts.limits.max_virtual_size = int64_t{64} << 20;
  opts.executor = exec;
  (void)ConvertToRaw(src, sink, opts);
  return 0;
}
