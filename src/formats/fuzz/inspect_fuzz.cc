// libFuzzer target: detection + every parser + deep walk through the public Inspect(), and the
// streaming inspector on the same bytes (both must agree on the detected format).
#include <cstdlib>

#include "formats/fuzz/fuzz_common.h"
#include "formats/inspector.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace glimmer::formats;
  MemorySource src(fuzz::Bytes(data, size));
  auto info = Inspect(src, fuzz::FuzzLimits());
  if (!info.ok()) std::abort();  // a MemorySource never fails to read
  StreamInspector si(fuzz::FuzzLimits());
  size_t step = size / 3 + 1;
  for (size_t i = 0; i < size; i += step) si.Feed(fuzz::Bytes(data + i, std::min(step, size - i)));
  auto r = si.Finish(static_cast<int64_t>(size));
  if (r.header_checked && r.format != info->format) std::abort();
  return 0;
}
